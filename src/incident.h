/* incident.h - incident ids: short, unique across gateway nodes without
 * coordination, and safe to read aloud on the phone.
 *
 * 60 random bits in Crockford base32 (no I, L, O, U), grouped 4-4-4:
 * "7K2M-Q9XD-3F0A".  At a billion incidents the chance of any collision
 * stays below one in two thousand.  Parsing accepts lower case and the
 * letters people confuse (O for 0, I and L for 1) and dashes or not.
 *
 * Thread-safe (getrandom(2)). */
#ifndef CUSTOS_INCIDENT_H
#define CUSTOS_INCIDENT_H

#include <stddef.h>

#define INCIDENT_ID_SIZE	15	/* 14 characters and the NUL */

/* Writes a new id into out.  Returns 0, or -1 if no randomness. */
int	incident_new(char out[INCIDENT_ID_SIZE]);
/* Canonicalises what someone typed or read out.  Returns 0 or -1. */
int	incident_parse(const char *in, char out[INCIDENT_ID_SIZE]);

#endif
