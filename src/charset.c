/* charset.c - bytes in a declared or guessed charset to UTF-8.
 *
 * Picks a charset by the order of trust in charset.h and converts with
 * iconv(3), one iconv descriptor per call (so calls never share state).
 * Bytes that do not convert become U+FFFD and conversion goes on; the
 * output is always valid UTF-8.  U+0000 is dropped from the output: it
 * carries no text, C string consumers would stop at it, and NULs sprinkled
 * between digits ("1\0" "3\0" "8\0", i.e. UTF-16 with a wrong label)
 * would otherwise split the identifiers custos looks for.
 *
 * Owns nothing between calls.  Fails (-1) only when out of memory. */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "charset.h"
#include "simd.h"

#define CS_UTF8		cs_utf8_name	/* one address: compared as such */
#define CS_GB18030	"GB18030"
#define CS_CP1252	"WINDOWS-1252"

/* Longest charset name we hand to iconv_open().  Real names are short;
 * the limit and the character check keep hostile labels (paths, "//"
 * suffixes) away from glibc's module loader. */
#define CS_NAME_MAX	40

/* How a table entry is special. */
#define CS_PLAIN	0
#define CS_ASCII	1	/* US-ASCII: 8-bit bytes mean a wrong label */
#define CS_UTF8DECL	2	/* UTF-8: invalid bytes may mean a wrong label */
#define CS_BIG5		3	/* widen to Big5-HKSCS when iconv has it */

static const char cs_utf8_name[] = "UTF-8";

struct cs_alias {
	const char	*alias;		/* lower case, letters and digits only */
	const char	*name;		/* what we pass to iconv and report */
	int		 kind;
};

/* Declared labels we know, keyed by their normalised form ("ISO_8859-1"
 * and "iso8859-1" both become "iso88591"), sorted for bsearch().
 * Widening to supersets happens here: mail clients label GBK text
 * "gb2312" and Windows-1252 text "iso-8859-1" all the time.  Plain
 * "utf-16"/"utf-32" map to big-endian: with no BOM, RFC 2781 says BE. */
static const struct cs_alias cs_aliases[] = {
	{ "ansix341968",	CS_CP1252,	CS_ASCII },
	{ "ascii",		CS_CP1252,	CS_ASCII },
	{ "big5",		"BIG5",		CS_BIG5 },
	{ "big5hk",		"BIG5-HKSCS",	CS_PLAIN },
	{ "big5hkscs",		"BIG5-HKSCS",	CS_PLAIN },
	{ "chinese",		CS_GB18030,	CS_PLAIN },
	{ "cnbig5",		"BIG5",		CS_BIG5 },
	{ "cp1250",		"WINDOWS-1250",	CS_PLAIN },
	{ "cp1251",		"WINDOWS-1251",	CS_PLAIN },
	{ "cp1252",		CS_CP1252,	CS_PLAIN },
	{ "cp819",		CS_CP1252,	CS_PLAIN },
	{ "cp932",		"CP932",	CS_PLAIN },
	{ "cp936",		CS_GB18030,	CS_PLAIN },
	{ "cp949",		"CP949",	CS_PLAIN },
	{ "csascii",		CS_CP1252,	CS_ASCII },
	{ "csbig5",		"BIG5",		CS_BIG5 },
	{ "csgb2312",		CS_GB18030,	CS_PLAIN },
	{ "csshiftjis",		"CP932",	CS_PLAIN },
	{ "euccn",		CS_GB18030,	CS_PLAIN },
	{ "eucjp",		"EUC-JP",	CS_PLAIN },
	{ "euckr",		"CP949",	CS_PLAIN },
	{ "gb18030",		CS_GB18030,	CS_PLAIN },
	{ "gb2312",		CS_GB18030,	CS_PLAIN },
	{ "gb231280",		CS_GB18030,	CS_PLAIN },
	{ "gbk",		CS_GB18030,	CS_PLAIN },
	{ "ibm819",		CS_CP1252,	CS_PLAIN },
	{ "iso2022jp",		"ISO-2022-JP",	CS_PLAIN },
	{ "iso646us",		CS_CP1252,	CS_ASCII },
	{ "iso88591",		CS_CP1252,	CS_PLAIN },
	{ "iso885911987",	CS_CP1252,	CS_PLAIN },
	{ "iso885915",		"ISO-8859-15",	CS_PLAIN },
	{ "iso88592",		"ISO-8859-2",	CS_PLAIN },
	{ "iso88595",		"ISO-8859-5",	CS_PLAIN },
	{ "iso88597",		"ISO-8859-7",	CS_PLAIN },
	{ "koi8r",		"KOI8-R",	CS_PLAIN },
	{ "koi8u",		"KOI8-U",	CS_PLAIN },
	{ "ksc5601",		"CP949",	CS_PLAIN },
	{ "ksc56011987",	"CP949",	CS_PLAIN },
	{ "l1",			CS_CP1252,	CS_PLAIN },
	{ "latin1",		CS_CP1252,	CS_PLAIN },
	{ "ms936",		CS_GB18030,	CS_PLAIN },
	{ "mskanji",		"CP932",	CS_PLAIN },
	{ "shiftjis",		"CP932",	CS_PLAIN },
	{ "sjis",		"CP932",	CS_PLAIN },
	{ "ucs2",		"UTF-16BE",	CS_PLAIN },
	{ "us",			CS_CP1252,	CS_ASCII },
	{ "usascii",		CS_CP1252,	CS_ASCII },
	{ "utf16",		"UTF-16BE",	CS_PLAIN },
	{ "utf16be",		"UTF-16BE",	CS_PLAIN },
	{ "utf16le",		"UTF-16LE",	CS_PLAIN },
	{ "utf32",		"UTF-32BE",	CS_PLAIN },
	{ "utf32be",		"UTF-32BE",	CS_PLAIN },
	{ "utf32le",		"UTF-32LE",	CS_PLAIN },
	{ "utf7",		"UTF-7",	CS_PLAIN },
	{ "utf8",		CS_UTF8,	CS_UTF8DECL },
	{ "windows1250",	"WINDOWS-1250",	CS_PLAIN },
	{ "windows1251",	"WINDOWS-1251",	CS_PLAIN },
	{ "windows1252",	CS_CP1252,	CS_PLAIN },
	{ "windows1253",	"WINDOWS-1253",	CS_PLAIN },
	{ "windows1254",	"WINDOWS-1254",	CS_PLAIN },
	{ "windows1255",	"WINDOWS-1255",	CS_PLAIN },
	{ "windows1256",	"WINDOWS-1256",	CS_PLAIN },
	{ "windows1257",	"WINDOWS-1257",	CS_PLAIN },
	{ "windows1258",	"WINDOWS-1258",	CS_PLAIN },
	{ "windows31j",		"CP932",	CS_PLAIN },
	{ "windows936",		CS_GB18030,	CS_PLAIN },
	{ "windows949",		"CP949",	CS_PLAIN },
	{ "xeuccn",		CS_GB18030,	CS_PLAIN },
	{ "xeucjp",		"EUC-JP",	CS_PLAIN },
	{ "xgbk",		CS_GB18030,	CS_PLAIN },
	{ "xsjis",		"CP932",	CS_PLAIN },
	{ "xwindows949",	"CP949",	CS_PLAIN },
	{ "xxbig5",		"BIG5",		CS_BIG5 },
};

/* The growing output of one conversion. */
struct cs_out {
	char	*buf;
	size_t	 len, size;
	size_t	 cap;		/* size never grows beyond this */
	size_t	 nbad;		/* bytes or units replaced by U+FFFD */
	int	 full;		/* stopped because cap was reached */
	int	 clean;		/* valid UTF-8 without NULs already */
};

static int
cs_alias_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cs_alias *)elem)->alias);
}

/* Looks a declared label up.  Returns the entry or NULL. */
static const struct cs_alias *
cs_lookup(const char *declared)
{
	char	 key[CS_NAME_MAX + 1];
	size_t	 i, k = 0;

	for (i = 0; declared[i] != '\0'; i++) {
		unsigned char c = (unsigned char)declared[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (k == CS_NAME_MAX)
				return NULL;
			key[k++] = (char)c;
		}
	}
	key[k] = '\0';
	return bsearch(key, cs_aliases, sizeof cs_aliases / sizeof *cs_aliases,
	    sizeof *cs_aliases, cs_alias_cmp);
}

/* 1 if a label we do not know may go to iconv_open() as is. */
static int
cs_name_ok(const char *name)
{
	size_t	 i;

	for (i = 0; name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];

		if (i == CS_NAME_MAX)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == ':'))
			return 0;
	}
	return i > 0;
}

/* charset_utf8_len() past its inline cases: every lead byte, by the
 * bounds RFC 3629 puts on the byte after it. */
size_t
charset_utf8_len_rest(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Where the first byte >= 0x80 is in s[from..len), or len.  A word at
 * a time: most mail text is mostly ASCII. */
static size_t
cs_ascii_run(const unsigned char *s, size_t from, size_t len)
{
	uint64_t w;
	size_t	 i = from;

	while (len - i >= sizeof w) {
		memcpy(&w, s + i, sizeof w);
		if ((w & UINT64_C(0x8080808080808080)) != 0)
			break;
		i += sizeof w;
	}
	while (i < len && s[i] < 0x80)
		i++;
	return i;
}

#ifdef __SSE2__
/* How far from s the valid UTF-8 reaches that is only ASCII and
 * three-byte characters led by E1..EC or EE..EF (all of CJK, and the
 * marks of Chinese text: no bound on their second byte), checked
 * sixteen bytes a step; *high: the bytes >= 0x80 in it.  Stops at the
 * start of the first character of another kind, or of one the block
 * that checks it cannot see whole.  Chinese mail, a character at a time,
 * cost some 36 instructions a character to check: 480,000 for a 100 KB
 * message two fifths Chinese, three quarters of what GMime's parse of
 * it costs. */
static size_t
cs_utf8_fast(const unsigned char *s, size_t len, size_t *high)
{
	size_t		 i = 0, h = 0, back;
	unsigned int	 owed = 0;	/* continuation bytes the block
					 * before left to this one (bits) */

	while (len - i >= 16) {
		__m128i		 x = _mm_loadu_si128((const __m128i *)
				    (const void *)(s + i));
		unsigned int	 hi = (unsigned int)_mm_movemask_epi8(x);
		unsigned int	 lead, cont, want;

		if ((hi | owed) == 0) {
			i += 16;
			continue;
		}
		lead = (unsigned int)_mm_movemask_epi8(_mm_or_si128(
		    simd_in16(x, 0xe1, 0x0b), simd_in16(x, 0xee, 0x01)));
		cont = (unsigned int)_mm_movemask_epi8(simd_in16(x, 0x80,
		    0x3f));
		/* Every lead followed by two continuation bytes, every
		 * continuation byte owed by such a lead, nothing else. */
		want = owed | lead << 1 | lead << 2;
		if ((want & 0xffff) != cont || (hi & ~(lead | cont)) != 0)
			break;
		owed = want >> 16;
		h += simd_count16(hi);
		i += 16;
	}
	/* A character left open: back to its lead (owed 3: the lead was
	 * the last byte; 1: the one before it). */
	back = owed == 3 ? 1 : owed == 1 ? 2 : 0;
	*high = h - back;
	return i - back;
}
#endif

void
charset_utf8_scan(const void *p, size_t len, size_t *nbad, size_t *nhigh)
{
	const unsigned char *s = p;
	size_t	 i = 0, n, stop, bad = 0, high = 0;

	while (i < len) {
		stop = len;
#ifdef __SSE2__
		i += cs_utf8_fast(s + i, len - i, &n);
		high += n;
		/* What it left, a character at a time for a block's worth,
		 * then back to it. */
		if (len - i > 16)
			stop = i + 16;
#endif
		while (i < stop) {
			if (s[i] < 0x80) {
				i = cs_ascii_run(s, i, stop);
				continue;
			}
			if ((n = charset_utf8_len(s + i, len - i)) == 0) {
				bad++;
				high++;
				i++;
			} else {
				high += n;
				i += n;
			}
		}
	}
	*nbad = bad;
	*nhigh = high;
}

static int
cs_has_8bit(const unsigned char *s, size_t len)
{
	return cs_ascii_run(s, 0, len) < len;
}

/* Grows the buffer so that need more bytes fit, doubling, never past
 * the cap.  Returns 0, 1 when the cap stops it (o->full is set), or -1
 * when out of memory. */
static int
cs_out_room(struct cs_out *o, size_t need)
{
	size_t	 nsize;
	char	*p;

	if (o->size - o->len >= need)
		return 0;
	if (need > o->cap - o->len) {
		o->full = 1;
		return 1;
	}
	nsize = o->size < 64 ? 64 : o->size;
	if (nsize > o->cap)
		nsize = o->cap;
	while (nsize - o->len < need)
		nsize = nsize > o->cap / 2 ? o->cap : nsize * 2;
	if ((p = realloc(o->buf, nsize)) == NULL)
		return -1;
	o->buf = p;
	o->size = nsize;
	return 0;
}

static int
cs_out_fffd(struct cs_out *o)
{
	int	 r;

	if ((r = cs_out_room(o, 3)) != 0)
		return r;
	memcpy(o->buf + o->len, "\xef\xbf\xbd", 3);
	o->len += 3;
	o->nbad++;
	return 0;
}

/* Converts in[0..len) from charset from into o, replacing what does not
 * convert (unit bytes at a time) with U+FFFD.  Returns 0, 1 when iconv
 * does not know the charset, or -1 when out of memory. */
static int
cs_iconv(const char *in, size_t len, const char *from, size_t unit,
    struct cs_out *o)
{
	iconv_t	 cd;
	char	*inp = (char *)(uintptr_t)in;	/* iconv(3) is not const-correct */
	char	*outp;
	size_t	 inleft = len, outleft, r, skip, need;
	int	 rc = 0, room, flushing;

	if ((cd = iconv_open(CS_UTF8, from)) == (iconv_t)-1)
		return 1;
	/* A first guess that fits most conversions in one go. */
	need = len < ((size_t)-1 - 16) / 2 ? len + len / 2 + 16 : (size_t)-1;
	if (need > o->cap - o->len)
		need = o->cap - o->len;
	if ((room = cs_out_room(o, need)) != 0) {
		rc = -1;
		goto out;
	}
	o->full = 0;
	for (;;) {
		outp = o->buf + o->len;
		outleft = o->size - o->len;
		/* With the input done, one more call writes out any shift
		 * state the charset (ISO-2022-JP) left open. */
		flushing = inleft == 0;
		if (flushing)
			r = iconv(cd, NULL, NULL, &outp, &outleft);
		else
			r = iconv(cd, &inp, &inleft, &outp, &outleft);
		o->len = (size_t)(outp - o->buf);
		if (r != (size_t)-1) {
			if (flushing)
				break;
			continue;
		}
		if (errno == E2BIG) {
			if (o->size >= o->cap) {
				o->full = 1;
				break;
			}
			need = o->size - o->len + (o->size < 64 ? 64 : o->size);
			if (need > o->cap - o->len)
				need = o->cap - o->len;
			room = cs_out_room(o, need);
			if (room == -1) {
				rc = -1;
				goto out;
			}
			continue;
		}
		if (flushing)
			break;
		if (errno == EINVAL)
			/* A truncated sequence at the very end. */
			skip = inleft;
		else
			skip = unit < inleft ? unit : inleft;
		inp += skip;
		inleft -= skip;
		/* Forget whatever shift state the bad bytes set up. */
		(void)iconv(cd, NULL, NULL, NULL, NULL);
		if ((room = cs_out_fffd(o)) == -1) {
			rc = -1;
			goto out;
		}
		if (room == 1)
			break;
	}
out:
	iconv_close(cd);
	return rc;
}

/* Converts with charset from; on success *o holds the result.  Returns
 * 0, 1 when iconv does not know the charset, or -1. */
static int
cs_convert(const char *in, size_t len, const char *from, size_t unit,
    size_t max_out, struct cs_out *o)
{
	int	 rc;

	free(o->buf);
	memset(o, 0, sizeof *o);
	/* Slack so that a stop at the cap always lands past max_out and the
	 * trim to a character boundary below decides. */
	o->cap = max_out != 0 ? max_out + 8 : (size_t)-1;
	if ((rc = cs_iconv(in, len, from, unit, o)) != 0) {
		free(o->buf);
		memset(o, 0, sizeof *o);
	}
	return rc;
}

/* Valid UTF-8 in[0..len) as is, less its NULs, up to o->cap bytes and
 * then on a character boundary: what iconv would make of it, without
 * the round trip through UCS-4 (most mail is UTF-8 or ASCII).  Returns
 * 0 or -1. */
static int
cs_copy(const char *in, size_t len, size_t max_out, struct cs_out *o)
{
	const char	*nul;
	size_t		 i = 0, n, j;

	free(o->buf);
	memset(o, 0, sizeof *o);
	o->cap = max_out != 0 ? max_out + 8 : (size_t)-1;
	n = len < o->cap ? len : o->cap;
	if ((o->buf = malloc(n + 1)) == NULL)
		return -1;
	o->size = n + 1;
	while (i < len && o->len < n) {
		j = len - i;
		if (j > n - o->len)
			j = n - o->len;
		if ((nul = memchr(in + i, '\0', j)) != NULL)
			j = (size_t)(nul - (in + i));
		memcpy(o->buf + o->len, in + i, j);
		o->len += j;
		i += j;
		while (i < len && in[i] == '\0')
			i++;
	}
	if (i < len) {
		/* Cut at the cap: drop the character it split. */
		o->full = 1;
		if (((unsigned char)in[i] & 0xc0) == 0x80) {
			while (o->len > 0 && ((unsigned char)
			    o->buf[o->len - 1] & 0xc0) == 0x80)
				o->len--;
			if (o->len > 0)
				o->len--;
		}
	}
	o->clean = 1;
	return 0;
}

/* Trims to max_out on a character boundary and NUL-terminates.  Returns
 * 0 or -1. */
static int
cs_trim(struct cs_out *o, size_t max_out, int *truncated)
{
	unsigned char	*s = (unsigned char *)o->buf;
	size_t		 n;
	char		*p;

	if (max_out != 0 && o->len > max_out) {
		n = max_out;
		while (n > 0 && (s[n] & 0xc0) == 0x80)
			n--;
		o->len = n;
		o->full = 1;
	}
	if (o->full && truncated != NULL)
		*truncated = 1;

	if (o->len + 1 > o->size) {
		if ((p = realloc(o->buf, o->len + 1)) == NULL)
			return -1;
		o->buf = p;
		o->size = o->len + 1;
	}
	o->buf[o->len] = '\0';
	return 0;
}

/* Drops NULs, repairs anything that is not UTF-8, and trims to max_out
 * on a character boundary.  Returns 0 or -1. */
static int
cs_finish(struct cs_out *o, size_t max_out, int *truncated)
{
	unsigned char	*s = (unsigned char *)o->buf;
	size_t		 i, j, n, bad = 0;
	char		*p;

	for (i = j = 0; i < o->len; i++)
		if (s[i] != '\0')
			s[j++] = s[i];
	o->len = j;

	for (i = 0; i < o->len; i += n)
		if ((n = charset_utf8_len(s + i, o->len - i)) == 0) {
			bad++;
			n = 1;
		}
	if (bad > 0) {
		/* glibc's iconv never gets here; a defence, not a path. */
		if ((p = malloc(o->len + bad * 2 + 1)) == NULL)
			return -1;
		for (i = j = 0; i < o->len; i += n) {
			if ((n = charset_utf8_len(s + i, o->len - i)) == 0) {
				memcpy(p + j, "\xef\xbf\xbd", 3);
				j += 3;
				n = 1;
			} else {
				memcpy(p + j, s + i, n);
				j += n;
			}
		}
		free(o->buf);
		o->buf = p;
		o->len = o->size = j;
	}
	return cs_trim(o, max_out, truncated);
}

/* No label (or one we cannot use): UTF-8 if it is, GB18030 if it decodes
 * cleanly, else windows-1252, which decodes nearly every byte. */
static int
cs_guess(const char *in, size_t len, size_t max_out, struct cs_out *o,
    const char **name)
{
	size_t	 nbad, nhigh;
	int	 rc;

	charset_utf8_scan(in, len, &nbad, &nhigh);
	if (nbad == 0) {
		*name = CS_UTF8;
		return cs_copy(in, len, max_out, o);
	}
	/* XXX with max_out set, "cleanly" is judged on what was converted
	 * before the cap, not on the whole input. */
	if ((rc = cs_convert(in, len, CS_GB18030, 1, max_out, o)) == -1)
		return -1;
	if (rc == 0 && o->nbad == 0) {
		*name = CS_GB18030;
		return 0;
	}
	*name = CS_CP1252;
	return cs_convert(in, len, CS_CP1252, 1, max_out, o);
}

int
charset_to_utf8(const char *in, size_t len, const char *declared,
    size_t max_out, char **out, size_t *outlen, const char **used,
    int *truncated)
{
	const unsigned char	*u = (const unsigned char *)in;
	const struct cs_alias	*a = NULL;
	struct cs_out		 o;
	const char		*name = NULL;
	size_t			 unit = 1, nbad = 0, nhigh;
	int			 rc = -1, r, scanned = 0;

	memset(&o, 0, sizeof o);
	*out = NULL;
	*outlen = 0;
	if (truncated != NULL)
		*truncated = 0;
	if (in == NULL)
		len = 0;

	/* A byte-order mark is stronger evidence than any label. */
	if (len >= 4 && memcmp(u, "\xff\xfe\0\0", 4) == 0) {
		name = "UTF-32LE"; unit = 4; u += 4; len -= 4;
	} else if (len >= 4 && memcmp(u, "\0\0\xfe\xff", 4) == 0) {
		name = "UTF-32BE"; unit = 4; u += 4; len -= 4;
	} else if (len >= 3 && memcmp(u, "\xef\xbb\xbf", 3) == 0) {
		name = CS_UTF8; u += 3; len -= 3;
	} else if (len >= 2 && memcmp(u, "\xff\xfe", 2) == 0) {
		name = "UTF-16LE"; unit = 2; u += 2; len -= 2;
	} else if (len >= 2 && memcmp(u, "\xfe\xff", 2) == 0) {
		name = "UTF-16BE"; unit = 2; u += 2; len -= 2;
	}
	in = (const char *)u;

	if (name == NULL && declared != NULL && *declared != '\0') {
		if ((a = cs_lookup(declared)) != NULL) {
			name = a->name;
			switch (a->kind) {
			case CS_ASCII:
				/* ASCII bytes read the same in every guess;
				 * 8-bit bytes prove the label wrong. */
				if (cs_has_8bit(u, len))
					name = NULL;
				else
					/* ... and ASCII is UTF-8. */
					scanned = 1;
				break;
			case CS_UTF8DECL:
				/* Mostly-bad UTF-8 is usually GBK under a
				 * wrong label; one stray byte is not. */
				charset_utf8_scan(u, len, &nbad, &nhigh);
				scanned = 1;
				if (nbad > 0 && nbad * 3 >= nhigh) {
					if ((r = cs_convert(in, len,
					    CS_GB18030, 1, max_out, &o)) == -1)
						goto out;
					if (r == 0 && o.nbad == 0) {
						name = CS_GB18030;
						goto done;
					}
				}
				break;
			case CS_BIG5:
				if ((r = cs_convert(in, len, "BIG5-HKSCS", 1,
				    max_out, &o)) == -1)
					goto out;
				if (r == 0) {
					name = "BIG5-HKSCS";
					goto done;
				}
				break;
			}
		} else if (cs_name_ok(declared))
			/* XXX not a static string: the caller's label,
			 * valid as long as declared is. */
			name = declared;
	}

	if (name == NULL) {
		if (cs_guess(in, len, max_out, &o, &name) == -1)
			goto out;
	} else {
		/* Valid UTF-8 (or ASCII): nothing to convert. */
		if (name == CS_UTF8 && !scanned) {
			charset_utf8_scan(u, len, &nbad, &nhigh);
			scanned = 1;
		}
		if (scanned && nbad == 0) {
			if (cs_copy(in, len, max_out, &o) == -1)
				goto out;
			goto done;
		}
		/* Skip a whole code unit past bad input, so that UTF-16 and
		 * UTF-32 stay aligned. */
		if (g_ascii_strncasecmp(name, "UTF-16", 6) == 0 ||
		    g_ascii_strncasecmp(name, "UCS-2", 5) == 0)
			unit = 2;
		else if (g_ascii_strncasecmp(name, "UTF-32", 6) == 0 ||
		    g_ascii_strncasecmp(name, "UCS-4", 5) == 0)
			unit = 4;
		if ((r = cs_convert(in, len, name, unit, max_out, &o)) == 0)
			goto done;
		if (r == -1)
			goto out;
		/* iconv does not know this label after all. */
		if (cs_guess(in, len, max_out, &o, &name) == -1)
			goto out;
	}

done:
	if (o.buf == NULL && (o.buf = malloc(1)) != NULL)
		o.size = 1;
	if (o.buf == NULL || (o.clean ? cs_trim(&o, max_out, truncated) :
	    cs_finish(&o, max_out, truncated)) == -1)
		goto out;
	*out = o.buf;
	*outlen = o.len;
	o.buf = NULL;
	if (used != NULL)
		*used = name;
	rc = 0;
out:
	free(o.buf);
	return rc;
}
