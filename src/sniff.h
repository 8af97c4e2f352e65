/* sniff.h - tell a file's type by its first bytes, not by its name.
 *
 * Returns a static MIME type string ("application/zip", "application/pdf",
 * "application/x-ole-storage", "image/png", ...) or NULL when the bytes say
 * nothing known.  Thread-safe, no allocation. */
#ifndef CUSTOS_SNIFF_H
#define CUSTOS_SNIFF_H

#include <stddef.h>

const char	*sniff_type(const unsigned char *buf, size_t len);

#endif
