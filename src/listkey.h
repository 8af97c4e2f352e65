/* listkey.h - the secret key of the customer-list fingerprints.
 *
 * Strong values are stored and looked up as SipHash-2-4 fingerprints
 * under this key, so the compiled table alone does not let anyone test
 * guesses of phone numbers against it.  The key lives in its own file,
 * mode 0600; custos refuses a key file that its group or others can
 * read, and creates one (32 random bytes) when `custos compile` finds
 * none.
 *
 * Thread-safe.  Errors: -1 with text in err. */
#ifndef CUSTOS_LISTKEY_H
#define CUSTOS_LISTKEY_H

#include <stddef.h>
#include <stdint.h>

#include "kinds.h"

#define LISTKEY_BYTES	32

struct listkey {
	unsigned char	bytes[LISTKEY_BYTES];
	uint64_t	id;	/* names the key in a table, not secret */
};

/* Reads path.  create: make a new key there if it does not exist. */
int		listkey_load(const char *path, int create, struct listkey *,
		    char *err, size_t errlen);

/* The fingerprint of a canonical value of a class. */
uint64_t	listkey_fingerprint(const struct listkey *, enum value_class,
		    const char *canon, size_t len);

#endif
