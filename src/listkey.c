/* listkey.c - load or create the list key; fingerprints (see listkey.h).
 * Owns nothing.  Errors: -1 with err text. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <sodium.h>

#include "listkey.h"

static int
listkey_create(const char *path, char *err, size_t errlen)
{
	unsigned char k[LISTKEY_BYTES];
	char *dir = g_path_get_dirname(path);
	int fd;

	/* A fresh install has no /etc/custos yet; the key is what needs
	 * protecting (0600), the directory only has to exist. */
	if (g_mkdir_with_parents(dir, 0755) != 0) {
		(void)snprintf(err, errlen, "%s: cannot create: %s", dir,
		    strerror(errno));
		g_free(dir);
		return -1;
	}
	g_free(dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		(void)snprintf(err, errlen, "%s: cannot create: %s", path,
		    strerror(errno));
		return -1;
	}
	randombytes_buf(k, sizeof k);
	if (write(fd, k, sizeof k) != (ssize_t)sizeof k || fsync(fd) != 0) {
		(void)snprintf(err, errlen, "%s: cannot write: %s", path,
		    strerror(errno));
		(void)close(fd);
		(void)unlink(path);
		return -1;
	}
	sodium_memzero(k, sizeof k);
	return close(fd);
}

int
listkey_load(const char *path, int create, struct listkey *key, char *err,
    size_t errlen)
{
	unsigned char digest[8];
	struct stat st;
	ssize_t n;
	int fd;

	if (sodium_init() < 0) {
		(void)snprintf(err, errlen, "libsodium failed to start");
		return -1;
	}
	if (create && access(path, F_OK) != 0 &&
	    listkey_create(path, err, errlen) != 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
		(void)snprintf(err, errlen, "%s: group or others can read the "
		    "key file (chmod 600 it)", path);
		(void)close(fd);
		return -1;
	}
	n = read(fd, key->bytes, sizeof key->bytes);
	(void)close(fd);
	if (n != (ssize_t)sizeof key->bytes) {
		(void)snprintf(err, errlen, "%s: a key file holds %d bytes",
		    path, LISTKEY_BYTES);
		return -1;
	}
	/* A name for the key that does not reveal it: a table built under
	 * another key is refused instead of silently matching nothing. */
	crypto_generichash(digest, sizeof digest, key->bytes,
	    sizeof key->bytes, NULL, 0);
	memcpy(&key->id, digest, sizeof key->id);
	return 0;
}

uint64_t
listkey_fingerprint(const struct listkey *key, enum value_class class,
    const char *canon, size_t len)
{
	unsigned char buf[1 + 256], out[crypto_shorthash_siphash24_BYTES];
	uint64_t fp;

	/* The class goes in front so a number and a token with the same
	 * characters are different values. */
	if (len > sizeof buf - 1)
		len = sizeof buf - 1;
	buf[0] = (unsigned char)class;
	memcpy(buf + 1, canon, len);
	crypto_shorthash_siphash24(out, buf, len + 1, key->bytes);
	memcpy(&fp, out, sizeof fp);
	return fp;
}
