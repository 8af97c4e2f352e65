/* qkey.h - the quarantine key: one 32-byte secret in a file of its own
 * (mode 0600, refused when group or others can read it; created by
 * `custos quarantine init-key` or at the first quarantine), from which
 * three independent subkeys are derived (crypto_kdf), one per use:
 *   seal     encrypts stored messages (secretstream XChaCha20-Poly1305)
 *   release  authenticates release tokens (X-Custos-Release)
 *   notice   authenticates custos' own notices (X-Custos-Notice)
 * Every gateway node and the officers' tool share the file; nobody else
 * needs it.  A leak of one subkey does not give the others.
 *
 * Thread-safe.  Errors: -1 with err. */
#ifndef CUSTOS_QKEY_H
#define CUSTOS_QKEY_H

#include <stddef.h>

#define QKEY_BYTES	32

struct qkey {
	unsigned char	seal[QKEY_BYTES];
	unsigned char	release[QKEY_BYTES];
	unsigned char	notice[QKEY_BYTES];
};

/* Reads path (create: make a new random key there when it does not
 * exist) and derives the subkeys. */
int	qkey_load(const char *path, int create, struct qkey *, char *err,
	    size_t errlen);
/* Wipes the subkeys. */
void	qkey_clear(struct qkey *);

#endif
