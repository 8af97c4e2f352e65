/* sniff.c - a file's type from its first bytes.
 *
 * Senders rename files; the bytes do not lie as easily.  Checks a fixed
 * list of magic numbers, most specific first (OOXML, ODF and JAR are all
 * zip: telling them apart is the extractors' job, not ours).  Looks at no
 * more than the first kilobyte or so.
 *
 * Owns nothing, allocates nothing, cannot fail: unknown bytes give NULL. */
#include "config.h"

#include <string.h>

#include "sniff.h"

/* PDF readers accept "%PDF-" anywhere in the first kilobyte. */
#define SNIFF_PDF_WINDOW	1024

struct sniff_magic {
	size_t		 off;
	const char	*bytes;
	size_t		 len;
	const char	*type;
};

#define M(off, lit, type)	{ (off), (lit), sizeof(lit) - 1, (type) }

static const struct sniff_magic sniff_magics[] = {
	M(0, "PK\x03\x04",			"application/zip"),
	M(0, "PK\x05\x06",			"application/zip"),	/* empty */
	M(0, "PK\x07\x08",			"application/zip"),	/* spanned */
	M(0, "\x1f\x8b",			"application/gzip"),
	M(0, "BZh",				"application/x-bzip2"),
	M(0, "\xfd" "7zXZ\0",			"application/x-xz"),
	M(0, "7z\xbc\xaf\x27\x1c",		"application/x-7z-compressed"),
	M(0, "Rar!\x1a\x07\x01\x00",		"application/vnd.rar"),	/* v5 */
	M(0, "Rar!\x1a\x07\x00",		"application/vnd.rar"),	/* v4 */
	M(0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
	M(0, "\x89PNG\r\n\x1a\n",		"image/png"),
	M(0, "\xff\xd8\xff",			"image/jpeg"),
	M(0, "GIF87a",				"image/gif"),
	M(0, "GIF89a",				"image/gif"),
	M(0, "II*\0",				"image/tiff"),
	M(0, "MM\0*",				"image/tiff"),
	M(0, "\x7f" "ELF",			"application/x-executable"),
	M(0, "{\\rtf",				"application/rtf"),
	M(0, "\xef\xbb\xbf",			"text/plain"),	/* UTF-8 BOM */
	M(0, "\xff\xfe",			"text/plain"),	/* UTF-16LE BOM */
	M(0, "\xfe\xff",			"text/plain"),	/* UTF-16BE BOM */
	M(257, "ustar",				"application/x-tar"),
};

#undef M

static int
sniff_at(const unsigned char *buf, size_t len, size_t off, const char *m,
    size_t mlen)
{
	return len >= off + mlen && memcmp(buf + off, m, mlen) == 0;
}

/* Case-insensitive prefix match of an ASCII lower-case word. */
static int
sniff_word(const unsigned char *p, size_t len, const char *w)
{
	size_t	 i, n = strlen(w);

	if (len < n)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)w[i])
			return 0;
	}
	return 1;
}

/* HTML: optional white space, then a doctype or an <html> tag. */
static int
sniff_html(const unsigned char *buf, size_t len)
{
	size_t	 i = 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
	    buf[i] == '\n' || buf[i] == '\f'))
		i++;
	if (sniff_word(buf + i, len - i, "<!doctype html"))
		return 1;
	if (sniff_word(buf + i, len - i, "<html") && len - i > 5 &&
	    (buf[i + 5] == '>' || buf[i + 5] == ' ' || buf[i + 5] == '\t' ||
	    buf[i + 5] == '\r' || buf[i + 5] == '\n'))
		return 1;
	return 0;
}

static int
sniff_pdf(const unsigned char *buf, size_t len)
{
	size_t	 i, n = len < SNIFF_PDF_WINDOW ? len : SNIFF_PDF_WINDOW;

	for (i = 0; i + 5 <= n; i++)
		if (buf[i] == '%' && memcmp(buf + i, "%PDF-", 5) == 0)
			return 1;
	return 0;
}

/* "MZ", and where the header points, "PE\0\0": text can start with
 * "MZ" too, so we want the second signature when it is in reach, and
 * accept MZ alone only when the header points past what we were shown. */
static int
sniff_pe(const unsigned char *buf, size_t len)
{
	size_t	 off;

	if (!sniff_at(buf, len, 0, "MZ", 2) || len < 0x40)
		return 0;
	off = (size_t)buf[0x3c] | (size_t)buf[0x3d] << 8 |
	    (size_t)buf[0x3e] << 16 | (size_t)buf[0x3f] << 24;
	if (off > len - 4)
		return off < (1u << 20);	/* beyond what we were shown */
	return memcmp(buf + off, "PE\0\0", 4) == 0;
}

const char *
sniff_type(const unsigned char *buf, size_t len)
{
	size_t	 i;

	if (buf == NULL || len == 0)
		return NULL;
	for (i = 0; i < sizeof sniff_magics / sizeof *sniff_magics; i++)
		if (sniff_at(buf, len, sniff_magics[i].off,
		    sniff_magics[i].bytes, sniff_magics[i].len))
			return sniff_magics[i].type;

	/* Containers keyed by a four-character code at offset 8 or 4. */
	if (sniff_at(buf, len, 0, "RIFF", 4) && sniff_at(buf, len, 8, "WEBP", 4))
		return "image/webp";
	if (sniff_at(buf, len, 0, "RIFF", 4) && sniff_at(buf, len, 8, "WAVE", 4))
		return "audio/wav";
	if (sniff_at(buf, len, 4, "ftyp", 4)) {
		if (sniff_at(buf, len, 8, "qt  ", 4))
			return "video/quicktime";
		return "video/mp4";
	}
	if (sniff_at(buf, len, 0, "BM", 2) && len >= 26 &&
	    buf[6] == 0 && buf[7] == 0 && buf[8] == 0 && buf[9] == 0)
		return "image/bmp";	/* reserved words are zero */
	if (sniff_pe(buf, len))
		return "application/vnd.microsoft.portable-executable";
	if (sniff_pdf(buf, len))
		return "application/pdf";
	if (sniff_html(buf, len))
		return "text/html";
	return NULL;
}
