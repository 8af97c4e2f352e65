/* archive.c - archives and compressed files: zip, tar, 7z, rar, and
 * single gzip, bzip2 or xz streams (a tar inside one is read as a tar).
 *
 * libarchive reads the attachment from memory; each regular member
 * becomes a child file, given back to extract_file() one level deeper,
 * so archives in archives and office files in archives recurse.  Bytes
 * are counted against the message's budget (extract_take) as they are
 * decompressed, before they are held, and a member that expands more
 * than max_ratio times is dropped once past ARCH_RATIO_FLOOR.  At
 * most one member per nesting level is held, and it is freed as soon as
 * extract_file() returns.
 *
 * Owns nothing past a call.  Errors: -1 only when out of memory; a
 * damaged or encrypted archive or member, and every limit, is a note
 * (extract.h).  Thread-safe: libarchive readers are per call. */
#include "config.h"

#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib.h>

#include "charset.h"
#include "extract/extract.h"

/* A member's expansion is judged only past this many bytes: small
 * files (a CSV of one repeated line) compress far better than max_ratio
 * without being bombs, and 1 MiB is harmless to hold. */
#define ARCH_RATIO_FLOOR	((uint64_t)1 << 20)
/* Member names longer than this (bytes of UTF-8) are cut: a source path
 * is for people to read, and a name can be 64 KiB in a zip. */
#define ARCH_NAME_MAX	256
/* The first allocation for a member whose size is not declared, and
 * the most allocated up front for one that says its size (a header can
 * lie: the buffer grows as bytes really come). */
#define ARCH_BUF_MIN		((size_t)64 << 10)
#define ARCH_BUF_FIRST	((size_t)8 << 20)

/* What a member tells the loop over an archive. */
enum arch_next {
	ARCH_NEXT_MEMBER,	/* go on with the next member */
	ARCH_STOP,		/* stop this archive (a note was added) */
	ARCH_OOM
};

/* One pass over an archive. */
struct arch_pass {
	struct extract			*ex;
	const struct extract_file	*f;
	struct archive			*a;
	bool				 raw;	/* a stream, not an archive */
	size_t				 entries;
	locale_t			 utf8;	/* see arch_utf8_locale */
	locale_t			 caller;
};

/* libarchive converts member names to the charset of the thread's
 * locale.  custos runs in the C locale (ASCII), where a UTF-8 name (a
 * zip's with the UTF-8 flag) or a UTF-16 one (every 7z name) does not
 * convert and is lost; so libarchive runs under C.UTF-8 (built into
 * glibc), switched per thread with uselocale(), and the callers'
 * locale is back while a member is read.  (locale_t)0 when the system
 * lacks it: names outside ASCII then read "(unnamed)". */
static locale_t
arch_utf8_locale(void)
{
	static gsize once;
	static locale_t loc;

	if (g_once_init_enter(&once)) {
		loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
		g_once_init_leave(&once, 1);
	}
	return loc;
}

/* True when kind is a compressed stream: a tar inside, or one file. */
static bool
arch_is_stream(const char *kind)
{
	return strcmp(kind, "gzip") == 0 || strcmp(kind, "bzip2") == 0 ||
	    strcmp(kind, "xz") == 0;
}

/* True when kind is a zip: an OOXML or ODF file can be read as the
 * plain zip it also is. */
static bool
arch_is_zip(const char *kind)
{
	return strcmp(kind, "zip") == 0 || strcmp(kind, "ooxml") == 0 ||
	    strcmp(kind, "odf") == 0;
}

static bool
arch_known(const char *kind)
{
	return arch_is_zip(kind) || arch_is_stream(kind) ||
	    strcmp(kind, "7z") == 0 || strcmp(kind, "rar") == 0 ||
	    strcmp(kind, "tar") == 0;
}

/* Sets up the formats (and filters) libarchive may use for kind, only
 * those: a file typed as one format is never read as another, and no
 * filter that runs an external program is ever set up. */
static void
arch_support(struct archive *a, const char *kind, bool raw)
{
	if (arch_is_zip(kind))
		(void)archive_read_support_format_zip(a);
	else if (strcmp(kind, "7z") == 0)
		(void)archive_read_support_format_7zip(a);
	else if (strcmp(kind, "rar") == 0) {
		(void)archive_read_support_format_rar(a);
		(void)archive_read_support_format_rar5(a);
	} else if (strcmp(kind, "tar") == 0)
		(void)archive_read_support_format_tar(a);
	else if (arch_is_stream(kind)) {
		(void)archive_read_support_filter_gzip(a);
		(void)archive_read_support_filter_bzip2(a);
		(void)archive_read_support_filter_xz(a);
		if (!raw)
			(void)archive_read_support_format_tar(a);
		(void)archive_read_support_format_raw(a);
	}
}

/* Appends the UTF-8 of a wide string (UCS-4 on the systems custos runs
 * on), bad code points as U+FFFD. */
static void
arch_wcs_utf8(GString *s, const wchar_t *w)
{
	gunichar c;

	for (; *w != L'\0'; w++) {
		c = (gunichar)*w;
		if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			c = 0xfffd;
		g_string_append_unichar(s, c);
	}
}

/* The member's path as valid UTF-8 for a source path: without leading
 * "./" or "/", control and format characters (a right-to-left override
 * can make "txt.exe" read "exe.txt") as '?', at most ARCH_NAME_MAX
 * bytes.  NULL when out of memory; else g_free. */
static char *
arch_name(struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e);
	const wchar_t *w;
	char *conv = NULL;
	size_t convlen;
	GString *u, *out;
	const char *p;
	gunichar c;

	u = g_string_new(NULL);
	/* Under C.UTF-8 (arch_utf8_locale) libarchive gives names it
	 * knows the charset of (zip's UTF-8 flag, 7z's UTF-16, pax) as
	 * UTF-8, and the others as stored: zip names without the flag
	 * are in the writer's code page, GBK on Chinese Windows, CP437
	 * on old tools.  charset.h guesses those as it guesses text. */
	if (raw != NULL) {
		if (charset_to_utf8(raw, strlen(raw), NULL, 0, &conv, &convlen,
		    NULL, NULL) != 0) {
			g_string_free(u, TRUE);
			return NULL;
		}
		g_string_append_len(u, conv, (gssize)convlen);
		free(conv);
	} else if ((w = archive_entry_pathname_w(e)) != NULL)
		/* No C.UTF-8: a 7z name has no bytes in the locale. */
		arch_wcs_utf8(u, w);
	else if ((p = archive_entry_pathname_utf8(e)) != NULL &&
	    g_utf8_validate(p, -1, NULL))
		g_string_append(u, p);

	out = g_string_sized_new(u->len + 1);
	p = u->str;
	for (;;) {
		if (*p == '/')
			p++;
		else if (p[0] == '.' && p[1] == '/')
			p += 2;
		else
			break;
	}
	for (; *p != '\0'; p = g_utf8_next_char(p)) {
		c = g_utf8_get_char(p);
		if (out->len + 6 > ARCH_NAME_MAX) {
			g_string_append(out, "\xe2\x80\xa6");	/* … */
			break;
		}
		switch (g_unichar_type(c)) {
		case G_UNICODE_CONTROL:
		case G_UNICODE_FORMAT:
		case G_UNICODE_LINE_SEPARATOR:
		case G_UNICODE_PARAGRAPH_SEPARATOR:
			g_string_append_c(out, '?');
			break;
		default:
			g_string_append_unichar(out, c);
		}
	}
	if (out->len == 0)
		g_string_append(out, "(unnamed)");
	g_string_free(u, TRUE);
	return g_string_free(out, FALSE);
}

/* The name of the one file inside a compressed stream: the stream's
 * name without its compression suffix ("x.csv.gz" is "x.csv", "x.tgz"
 * "x.tar"), else a neutral one.  The name is kept from the stream's,
 * never libarchive's "data": it types nothing and reads as nonsense in
 * a source path.  g_free. */
static char *
arch_stream_name(const char *name)
{
	static const struct {
		const char	*ext;
		const char	*becomes;
	} sfx[] = {
		{ ".gz", "" }, { ".gzip", "" }, { ".z", "" }, { ".bz2", "" },
		{ ".bz", "" }, { ".xz", "" }, { ".lzma", "" },
		{ ".tgz", ".tar" }, { ".tbz", ".tar" }, { ".tbz2", ".tar" },
		{ ".txz", ".tar" },
	};
	const char *base, *dot;
	size_t i;

	if (name == NULL)
		return g_strdup("(decompressed)");
	base = strrchr(name, '/') != NULL ? strrchr(name, '/') + 1 : name;
	dot = strrchr(base, '.');
	for (i = 0; dot != NULL && dot != base && i < G_N_ELEMENTS(sfx); i++)
		if (g_ascii_strcasecmp(dot, sfx[i].ext) == 0)
			return g_strdup_printf("%.*s%s", (int)(dot - base), base,
			    sfx[i].becomes);
	return g_strdup("(decompressed)");
}

/* libarchive's words for a password it cannot supply: "Encrypted
 * file is unsupported", "The archive header is encrypted", "Passphrase
 * required". */
static bool
arch_says_encrypted(struct archive *a)
{
	const char *es = archive_error_string(a);

	return es != NULL && (strcasestr(es, "encrypt") != NULL ||
	    strcasestr(es, "passphrase") != NULL);
}

/* An archive-level failure: encrypted when libarchive saw encryption
 * (a 7z with encrypted names, a solid block behind a password), else
 * damaged. */
static enum arch_next
arch_broken(struct arch_pass *p)
{
	/* Not archive_read_has_encrypted_entries(): after a fatal error
	 * the format's state may be gone, and libarchive reads it anyway
	 * (a crash the fuzzer found).  The error text is always safe. */
	const char *why = arch_says_encrypted(p->a) ? "encrypted" :
	    "damaged";

	return extract_note(p->ex, why, p->f->where) != 0 ? ARCH_OOM :
	    ARCH_STOP;
}

/* True when skipping the rest of the current member costs no
 * decompression: a zip member whose compressed size libarchive knows
 * (from the central directory, or a local header with sizes) is
 * skipped by seeking.  Anywhere else (a tar in gzip, a solid 7z, a zip
 * streamed with data descriptors) skipping a bomb means inflating all
 * of it, out of reach of the time budget. */
static bool
arch_cheap_skip(struct arch_pass *p, struct archive_entry *e)
{
	return archive_filter_count(p->a) == 1 &&
	    (archive_format(p->a) & ARCHIVE_FORMAT_BASE_MASK) ==
	    ARCHIVE_FORMAT_ZIP && archive_entry_size_is_set(e);
}

/* Reads the current member into a buffer, counting every chunk against
 * the budget and the ratio before it is held, and gives it to
 * extract_file().  The buffer is freed before returning. */
static enum arch_next
arch_member(struct arch_pass *p, struct archive_entry *e)
{
	struct extract *ex = p->ex;
	struct extract_file child;
	enum arch_next next = ARCH_NEXT_MEMBER;
	const void *blk;
	unsigned char *buf = NULL, *nbuf;
	char *name, *where = NULL;
	bool raw = p->raw ||
	    archive_format(p->a) == ARCHIVE_FORMAT_RAW;
	size_t size, len = 0, cap = 0, want, left;
	la_int64_t off, in0;
	uint64_t made = 0, took;
	bool damaged = false;
	int r, rc;

	if (raw)
		name = arch_stream_name(p->f->name);
	else if ((name = arch_name(e)) == NULL)
		return ARCH_OOM;
	where = extract_path(p->f->where, name);

	if (archive_entry_is_encrypted(e)) {
		if (extract_note(ex, "encrypted", where) != 0)
			next = ARCH_OOM;
		goto out;
	}
	left = ex->bytes_used < ex->lim->max_bytes ?
	    ex->lim->max_bytes - ex->bytes_used : 0;
	/* A member that says it is bigger than what is left: stop before
	 * decompressing any of it. */
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
	    (uint64_t)archive_entry_size(e) > left) {
		(void)extract_take(ex, (size_t)archive_entry_size(e), where);
		next = ex->oom ? ARCH_OOM : ARCH_STOP;
		goto out;
	}

	in0 = archive_filter_bytes(p->a, -1);
	for (;;) {
		r = archive_read_data_block(p->a, &blk, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			/* A password libarchive found only now, a method
			 * it does not know, or the bytes end: what came
			 * out so far is still read (a cut CSV leaks what
			 * it holds), then the note. */
			if (r == ARCHIVE_FAILED && len == 0 &&
			    arch_says_encrypted(p->a)) {
				if (extract_note(ex, "encrypted", where) != 0)
					next = ARCH_OOM;
				goto out;
			}
			damaged = true;
			if (r == ARCHIVE_FATAL)
				next = ARCH_STOP;
			break;
		}
		if (size == 0)
			continue;
		if (extract_stopped(ex, where)) {
			next = ex->oom ? ARCH_OOM : ARCH_STOP;
			goto out;
		}
		if (extract_take(ex, size, where) != 0) {
			next = ex->oom ? ARCH_OOM : ARCH_STOP;
			goto out;
		}
		/* Compressed bytes are what libarchive consumed from the
		 * attachment while producing this member: for a zip
		 * member its deflate data, for a gzip stream the gzip
		 * bytes (filter -1 is the input, before every filter). */
		made += size;
		took = (uint64_t)(archive_filter_bytes(p->a, -1) - in0);
		if (made > ARCH_RATIO_FLOOR &&
		    made > (uint64_t)ex->lim->max_ratio * (took > 0 ? took :
		    1)) {
			if (extract_note(ex, "ratio", where) != 0)
				next = ARCH_OOM;
			else if (!arch_cheap_skip(p, e))
				next = ARCH_STOP;
			goto out;
		}
		/* Sparse members (tar) come in pieces at offsets: the holes
		 * hold no text, so the pieces are put end to end. */
		(void)off;
		if (len + size > cap) {
			want = cap == 0 ? ARCH_BUF_MIN : cap * 2;
			if (cap == 0 && archive_entry_size_is_set(e) &&
			    (uint64_t)archive_entry_size(e) > want)
				want = (uint64_t)archive_entry_size(e) >
				    ARCH_BUF_FIRST ? ARCH_BUF_FIRST :
				    (size_t)archive_entry_size(e);
			if (want < len + size)
				want = len + size;
			if ((nbuf = g_try_realloc(buf, want)) == NULL) {
				ex->oom = true;
				next = ARCH_OOM;
				goto out;
			}
			buf = nbuf;
			cap = want;
		}
		memcpy(buf + len, blk, size);
		len += size;
	}

	if (damaged && extract_note(ex, "damaged", where) != 0) {
		next = ARCH_OOM;
		goto out;
	}
	if (len > 0) {
		child.where = where;
		child.name = name;
		child.data = buf;
		child.len = len;
		child.depth = p->f->depth + 1;
		if (p->utf8 != (locale_t)0)
			(void)uselocale(p->caller);
		rc = extract_file(ex, &child);
		if (p->utf8 != (locale_t)0)
			(void)uselocale(p->utf8);
		if (rc < 0)
			next = ARCH_OOM;
	}
out:
	g_free(buf);
	g_free(where);
	g_free(name);
	return next;
}

/* Reads every member of f, as an archive of kind, or (raw) as one
 * compressed file.  Returns 1 when a first pass over a stream found no
 * member at all (tar said "empty" where the stream holds one file),
 * else 0, or -1 out of memory. */
static int
arch_run(struct extract *ex, const struct extract_file *f,
    const char *kind, bool raw, bool retry_empty)
{
	struct arch_pass p = { ex, f, NULL, raw, 0, arch_utf8_locale(),
	    (locale_t)0 };
	struct archive_entry *e;
	enum arch_next next = ARCH_NEXT_MEMBER;
	int r;

	if (p.utf8 != (locale_t)0)
		p.caller = uselocale(p.utf8);
	if ((p.a = archive_read_new()) == NULL) {
		next = ARCH_OOM;
		goto out;
	}
	arch_support(p.a, kind, raw);
	if (archive_read_open_memory(p.a, f->data, f->len) != ARCHIVE_OK) {
		/* No member yet: a stream is tried again as one file,
		 * which says what it is. */
		if (!retry_empty)
			next = arch_broken(&p);
		goto out;
	}
	while (next == ARCH_NEXT_MEMBER) {
		if (extract_stopped(ex, f->where))
			break;
		r = archive_read_next_header(p.a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_FATAL) {
			if (p.entries == 0 && retry_empty)
				break;
			next = arch_broken(&p);
			break;
		}
		if (++p.entries > ex->lim->max_members) {
			next = extract_note(ex, "members", f->where) != 0 ?
			    ARCH_OOM : ARCH_STOP;
			break;
		}
		/* ARCHIVE_WARN (a name not in the locale's charset) reads
		 * on; ARCHIVE_FAILED is this entry's header only. */
		if (r == ARCHIVE_FAILED || r == ARCHIVE_RETRY) {
			if (extract_note(ex, "damaged", f->where) != 0)
				next = ARCH_OOM;
			continue;
		}
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		next = arch_member(&p, e);
	}
out:
	if (p.a != NULL)
		archive_read_free(p.a);
	if (p.utf8 != (locale_t)0)
		(void)uselocale(p.caller);
	if (next == ARCH_OOM || ex->oom) {
		ex->oom = true;
		return -1;
	}
	return retry_empty && p.entries == 0 && !ex->stop ? 1 : 0;
}

int
extract_archive(struct extract *ex, const struct extract_file *f)
{
	const char *kind = extract_kind(f->data, f->len, f->name);
	int r;

	if (kind == NULL || !arch_known(kind))
		return 0;
	/* Its members would be deeper than max_depth: extract_file()
	 * would refuse each of them, so none is decompressed. */
	if (f->depth >= ex->lim->max_depth)
		return extract_note(ex, "depth", f->where) != 0 ? -1 : 1;
	r = arch_run(ex, f, kind, false, arch_is_stream(kind));
	/* libarchive's tar reader takes a stream that starts with a zero
	 * block (1 GiB of zeros, a disk image) for an empty tar, and
	 * nothing inside would be judged at all, not even its ratio.  A
	 * stream without members is read again as the one file it is. */
	if (r == 1)
		r = arch_run(ex, f, kind, true, false);
	return r < 0 ? -1 : 1;
}
