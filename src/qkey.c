/* qkey.c - the quarantine key file and its subkeys (see qkey.h). */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "listkey.h"
#include "qkey.h"

/* crypto_kdf contexts are exactly 8 characters. */
#define QKEY_CONTEXT	"custos-q"

int
qkey_load(const char *path, int create, struct qkey *k, char *err,
    size_t errlen)
{
	struct listkey master;

	/* The file rules (32 bytes, 0600, created with O_EXCL) are the
	 * list key's: one implementation of them. */
	if (listkey_load(path, create, &master, err, errlen) != 0)
		return -1;
	(void)crypto_kdf_derive_from_key(k->seal, sizeof k->seal, 1,
	    QKEY_CONTEXT, master.bytes);
	(void)crypto_kdf_derive_from_key(k->release, sizeof k->release, 2,
	    QKEY_CONTEXT, master.bytes);
	(void)crypto_kdf_derive_from_key(k->notice, sizeof k->notice, 3,
	    QKEY_CONTEXT, master.bytes);
	sodium_memzero(&master, sizeof master);
	return 0;
}

void
qkey_clear(struct qkey *k)
{
	sodium_memzero(k, sizeof *k);
}
