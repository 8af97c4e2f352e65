/* test_sniff.c - unit tests for sniff_type() (sniff.c).
 *
 * Table rows: leading bytes, expected MIME type (NULL: unknown).  Also
 * builds the few formats whose magic sits at an offset (tar, PDF after
 * junk, PE). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "sniff.h"

struct row {
	const char	*name;
	const char	*bytes;
	size_t		 len;
	const char	*want;
};

#define R(name, lit, want)	{ (name), (lit), sizeof(lit) - 1, (want) }

static const struct row rows[] = {
	R("zip", "PK\x03\x04\x14\0\0\0", "application/zip"),
	R("zip empty", "PK\x05\x06\0\0\0\0", "application/zip"),
	R("zip spanned", "PK\x07\x08PK\x03\x04", "application/zip"),
	R("pdf", "%PDF-1.7\n", "application/pdf"),
	R("pdf after junk", "\r\n\r\njunk%PDF-1.4", "application/pdf"),
	R("gzip", "\x1f\x8b\x08\0", "application/gzip"),
	R("bzip2", "BZh91AY&SY", "application/x-bzip2"),
	R("xz", "\xfd" "7zXZ\0\0", "application/x-xz"),
	R("7z", "7z\xbc\xaf\x27\x1c\0\x04", "application/x-7z-compressed"),
	R("rar4", "Rar!\x1a\x07\0\xcf", "application/vnd.rar"),
	R("rar5", "Rar!\x1a\x07\x01\0", "application/vnd.rar"),
	R("ole2", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0",
	    "application/x-ole-storage"),
	R("png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "image/png"),
	R("jpeg", "\xff\xd8\xff\xe0\0\x10JFIF", "image/jpeg"),
	R("gif87", "GIF87a\x01\0", "image/gif"),
	R("gif89", "GIF89a\x01\0", "image/gif"),
	R("tiff le", "II*\0\x08\0\0\0", "image/tiff"),
	R("tiff be", "MM\0*\0\0\0\x08", "image/tiff"),
	R("bmp", "BM\x36\0\x0c\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x40\0\0\0\x40\0"
	    "\0\0\x01\0", "image/bmp"),
	R("webp", "RIFF\x24\0\0\0WEBPVP8 ", "image/webp"),
	R("wav", "RIFF\x24\0\0\0WAVEfmt ", "audio/wav"),
	R("mp4", "\0\0\0\x18" "ftypmp42\0\0\0\0", "video/mp4"),
	R("mov", "\0\0\0\x14" "ftypqt  \0\0\0\0", "video/quicktime"),
	R("elf", "\x7f" "ELF\x02\x01\x01", "application/x-executable"),
	R("rtf", "{\\rtf1\\ansi", "application/rtf"),
	R("html doctype", "  \r\n<!DOCTYPE HTML PUBLIC", "text/html"),
	R("html tag", "\n<HTML>\n<body>", "text/html"),
	R("html tag attrs", "<html lang=zh>", "text/html"),
	R("utf-16le bom", "\xff\xfe" "a\0", "text/plain"),
	R("utf-16be bom", "\xfe\xff\0a", "text/plain"),
	R("utf-8 bom", "\xef\xbb\xbf" "abc", "text/plain"),
	R("plain text", "hello, world", NULL),
	R("csv", "id,name,phone\n1,a,13812345678\n", NULL),
	R("htmlx is not html", "<htmlx>", NULL),
	R("html not first", "text <html>", NULL),
	R("short zip", "PK", NULL),
	R("short MZ text", "MZ is a prefix", NULL),
	R("empty", "", NULL),
	R("riff, other", "RIFF\x24\0\0\0AVI LIST", NULL),
	R("BM text", "BMW drivers welcome", NULL),
};

#undef R

static void
test_rows(void **state)
{
	const char	*got;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof *rows; i++) {
		got = sniff_type((const unsigned char *)rows[i].bytes,
		    rows[i].len);
		if ((got == NULL) != (rows[i].want == NULL) ||
		    (got != NULL && strcmp(got, rows[i].want) != 0))
			fail_msg("%s: got %s, want %s", rows[i].name,
			    got ? got : "NULL", rows[i].want ? rows[i].want :
			    "NULL");
	}
}

static void
test_null(void **state)
{
	(void)state;
	assert_null(sniff_type(NULL, 10));
}

static void
test_tar(void **state)
{
	unsigned char	 buf[512];

	(void)state;
	memset(buf, 0, sizeof buf);
	memcpy(buf, "file.csv", 8);
	memcpy(buf + 257, "ustar\0" "00", 8);
	assert_string_equal(sniff_type(buf, sizeof buf), "application/x-tar");
	/* Cut before the magic: unknown. */
	assert_null(sniff_type(buf, 260));
}

static void
test_pdf_window(void **state)
{
	unsigned char	 buf[2048];

	(void)state;
	memset(buf, ' ', sizeof buf);
	memcpy(buf + 1000, "%PDF-1.5", 8);
	assert_string_equal(sniff_type(buf, sizeof buf), "application/pdf");
	memset(buf, ' ', sizeof buf);
	memcpy(buf + 1100, "%PDF-1.5", 8);
	assert_null(sniff_type(buf, sizeof buf));
}

static void
test_pe(void **state)
{
	unsigned char	 buf[256];

	(void)state;
	memset(buf, 0, sizeof buf);
	memcpy(buf, "MZ", 2);
	buf[0x3c] = 0x80;
	memcpy(buf + 0x80, "PE\0\0", 4);
	assert_string_equal(sniff_type(buf, sizeof buf),
	    "application/vnd.microsoft.portable-executable");
	/* MZ whose header points at something else: not PE. */
	memcpy(buf + 0x80, "XX\0\0", 4);
	assert_null(sniff_type(buf, sizeof buf));
	/* The header lies beyond what we were shown: MZ alone decides. */
	buf[0x3c] = 0;
	buf[0x3d] = 0x10;
	assert_string_equal(sniff_type(buf, sizeof buf),
	    "application/vnd.microsoft.portable-executable");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_tar),
		cmocka_unit_test(test_pdf_window),
		cmocka_unit_test(test_pe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
