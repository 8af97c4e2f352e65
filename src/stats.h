/* stats.h - `custos stats`: read the SOC counters, top senders and the
 * latest incidents from Redis (keys written by store.c, documented in
 * doc/redis-schema.md) and print them as a table or JSON.
 *
 * Errors: -1 with err (Redis not configured or not reachable). */
#ifndef CUSTOS_STATS_H
#define CUSTOS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "conf.h"

/* Prints the hour and day of now (UTC), the top senders of the day and
 * the last `incidents` incidents. */
int	stats_print(const struct conf *, time_t now, bool json,
	    size_t incidents, FILE *out, char *err, size_t errlen);

#endif
