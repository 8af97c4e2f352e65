/* extract.c - typing by content, dispatch, and what every extractor
 * shares: budgets, notes, paths, text in any charset (see extract.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "charset.h"
#include "extract/extract.h"
#include "html.h"
#include "sniff.h"

#define EXTRACT_HEAD	4096	/* bytes looked at to type a file */

void
extract_limits_default(struct extract_limits *l)
{
	memset(l, 0, sizeof *l);
	l->max_depth = 5;
	l->max_members = 10000;
	l->max_bytes = 100u << 20;
	l->max_ratio = 200;
	l->max_xml_depth = 256;
	l->max_pdf_pages = 500;
	l->pdf_seconds = 10;
	l->pdf_memory = (size_t)512 << 20;
	l->pdftotext = "/usr/bin/pdftotext";
}

void
extract_init(struct extract *ex, const struct extract_limits *lim,
    const struct extract_sink *sink)
{
	memset(ex, 0, sizeof *ex);
	ex->lim = lim;
	ex->sink = sink;
}

char *
extract_path(const char *where, const char *name)
{
	return g_strdup_printf("%s > %s", where, name);
}

int
extract_note(struct extract *ex, const char *reason, const char *where)
{
	if (ex->sink->note(ex->sink->arg, reason, where) != 0) {
		ex->oom = true;
		return -1;
	}
	return 0;
}

int
extract_text(struct extract *ex, const char *source, const char *type,
    const char *text, size_t len)
{
	int rc;

	if (ex->stop)
		return 1;
	if (len == 0)
		return 0;
	rc = ex->sink->text(ex->sink->arg, source, type, text, len);
	if (rc < 0)
		ex->oom = true;
	else if (rc > 0)
		ex->stop = true;
	return rc;
}

int
extract_text_bytes(struct extract *ex, const char *source, const char *type,
    const char *charset, const void *bytes, size_t len)
{
	char *u;
	size_t ulen;
	int rc;

	if (ex->stop)
		return 1;
	if (charset_to_utf8(bytes, len, charset, 0, &u, &ulen, NULL,
	    NULL) != 0) {
		ex->oom = true;
		return -1;
	}
	rc = extract_text(ex, source, type, u, ulen);
	free(u);
	return rc;
}

int
extract_take(struct extract *ex, size_t n, const char *where)
{
	if (ex->bytes_used <= ex->lim->max_bytes &&
	    n <= ex->lim->max_bytes - ex->bytes_used) {
		ex->bytes_used += n;
		return 0;
	}
	if (!ex->stop)
		(void)extract_note(ex, "extract-size", where);
	ex->stop = true;
	return -1;
}

bool
extract_stopped(struct extract *ex, const char *where)
{
	if (ex->stop || ex->oom)
		return true;
	if (ex->sink->expired != NULL && ex->sink->expired(ex->sink->arg)) {
		(void)extract_note(ex, "time", where);
		ex->stop = true;
	}
	return ex->stop;
}

/* ------------------------------------------------------------ typing */

static bool
extract_has(const unsigned char *d, size_t len, const char *s)
{
	return memmem(d, len, s, strlen(s)) != NULL;
}

/* A zip's flavour, from the member names: they are in the local headers
 * at the start and in the central directory at the end. */
static const char *
extract_zip_kind(const unsigned char *d, size_t len)
{
	size_t tail = len > (1u << 20) ? (1u << 20) : len;

	/* ODF puts an uncompressed "mimetype" member first (ODF 1.2,
	 * 3.3). */
	if (len > 38 + 35 && memcmp(d + 30, "mimetype", 8) == 0 &&
	    memcmp(d + 38, "application/vnd.oasis.opendocument", 34) == 0)
		return "odf";
	if (extract_has(d + len - tail, tail, "[Content_Types].xml") ||
	    extract_has(d, len < EXTRACT_HEAD ? len : EXTRACT_HEAD,
	    "[Content_Types].xml"))
		return "ooxml";
	return "zip";
}

/* Text by its bytes: mostly printable in the head.  NULs do not count
 * either way: UTF-16 without a BOM is half NULs, and NUL padding must
 * not hide a CSV (charset.c drops U+0000). */
static bool
extract_looks_text(const unsigned char *d, size_t len)
{
	size_t n = len < EXTRACT_HEAD ? len : EXTRACT_HEAD, i, ctl = 0;
	size_t seen = 0;

	for (i = 0; i < n; i++) {
		if (d[i] == 0)
			continue;
		seen++;
		if (d[i] < 0x20 && d[i] != '\t' && d[i] != '\n' &&
		    d[i] != '\r' && d[i] != '\f')
			ctl++;
	}
	return seen > 0 && ctl * 20 < seen;
}

/* An RFC 5322 message: a header line of a name custos knows at the very
 * start, and a blank line in the head. */
static bool
extract_looks_message(const unsigned char *d, size_t len)
{
	static const char *const starts[] = { "Return-Path:", "Received:",
	    "From:", "Date:", "Message-ID:", "MIME-Version:", "Subject:",
	    "To:", "Delivered-To:", "X-", NULL };
	size_t n = len < EXTRACT_HEAD ? len : EXTRACT_HEAD, i;

	for (i = 0; starts[i] != NULL; i++)
		if (n > strlen(starts[i]) && g_ascii_strncasecmp((const char *)d,
		    starts[i], strlen(starts[i])) == 0)
			return extract_has(d, n, "\n\n") ||
			    extract_has(d, n, "\r\n\r\n");
	return false;
}

static const char *
extract_ext(const char *name)
{
	const char *dot = name != NULL ? strrchr(name, '.') : NULL;

	return dot != NULL && dot[1] != '\0' && strchr(dot, '/') == NULL ?
	    dot + 1 : NULL;
}

static bool
extract_ext_is(const char *name, const char *const *exts)
{
	const char *e = extract_ext(name);
	size_t i;

	for (i = 0; e != NULL && exts[i] != NULL; i++)
		if (g_ascii_strcasecmp(e, exts[i]) == 0)
			return true;
	return false;
}

const char *
extract_kind(const unsigned char *data, size_t len, const char *name)
{
	static const char *const text_exts[] = { "csv", "tsv", "txt", "text",
	    "vcf", "vcard", "ics", "ifb", "json", "xml", "log", "md", "sql",
	    "yaml", "yml", "ini", "conf", "tab", "prn", NULL };
	static const char *const html_exts[] = { "htm", "html", "xhtml",
	    NULL };
	static const char *const eml_exts[] = { "eml", "mht", "mhtml",
	    "mbox", NULL };
	const char *t = sniff_type(data, len < EXTRACT_HEAD ? len :
	    EXTRACT_HEAD);

	if (t != NULL) {
		if (strcmp(t, "application/zip") == 0)
			return extract_zip_kind(data, len);
		if (strcmp(t, "application/gzip") == 0)
			return "gzip";
		if (strcmp(t, "application/x-bzip2") == 0)
			return "bzip2";
		if (strcmp(t, "application/x-xz") == 0)
			return "xz";
		if (strcmp(t, "application/x-7z-compressed") == 0)
			return "7z";
		if (strcmp(t, "application/vnd.rar") == 0)
			return "rar";
		if (strcmp(t, "application/x-tar") == 0)
			return "tar";
		if (strcmp(t, "application/x-ole-storage") == 0)
			return "ole2";
		if (strcmp(t, "application/pdf") == 0)
			return "pdf";
		if (strcmp(t, "application/rtf") == 0)
			return "rtf";
		if (strcmp(t, "text/html") == 0)
			return "html";
		if (strcmp(t, "text/plain") == 0)	/* a BOM */
			return "text";
		return NULL;	/* an image, an executable: no text */
	}
	if (!extract_looks_text(data, len))
		return NULL;
	if (extract_ext_is(name, html_exts))
		return "html";
	if (extract_ext_is(name, eml_exts) || extract_looks_message(data,
	    len))
		return "message";
	if (extract_ext_is(name, text_exts) || name == NULL ||
	    extract_ext(name) == NULL)
		return "text";
	/* Text bytes under another name ("data.bin"): read as text all
	 * the same; identifiers do not care about extensions. */
	return "text";
}

/* What a file name promises, for the type-mismatch finding; NULL when
 * the extension promises nothing custos checks. */
static const char *const *
extract_promised(const char *name)
{
	static const char *const ooxml[] = { "ooxml", "ole2", NULL };
	static const char *const odf[] = { "odf", NULL };
	static const char *const ole2[] = { "ole2", "html", "text", NULL };
	static const char *const pdf[] = { "pdf", NULL };
	static const char *const zip[] = { "zip", "ooxml", "odf", NULL };
	static const char *const gz[] = { "gzip", NULL };
	static const char *const rar[] = { "rar", NULL };
	static const char *const sz[] = { "7z", NULL };
	static const char *const rtf[] = { "rtf", NULL };
	static const struct {
		const char		*ext;
		const char *const	*kinds;
	} map[] = {
		{ "xlsx", ooxml }, { "docx", ooxml }, { "pptx", ooxml },
		{ "xlsm", ooxml }, { "docm", ooxml }, { "pptm", ooxml },
		{ "ods", odf }, { "odt", odf }, { "odp", odf },
		/* Web applications export HTML or CSV as .xls: no
		 * finding for that. */
		{ "xls", ole2 }, { "doc", ole2 }, { "ppt", ole2 },
		{ "pdf", pdf }, { "zip", zip }, { "gz", gz }, { "tgz", gz },
		{ "rar", rar }, { "7z", sz }, { "rtf", rtf },
	};
	const char *e = extract_ext(name);
	size_t i;

	for (i = 0; e != NULL && i < G_N_ELEMENTS(map); i++)
		if (g_ascii_strcasecmp(e, map[i].ext) == 0)
			return map[i].kinds;
	return NULL;
}

static int
extract_mismatch(struct extract *ex, const struct extract_file *f,
    const char *kind)
{
	const char *const *want = extract_promised(f->name);
	size_t i;

	if (want == NULL || kind == NULL)
		return 0;
	for (i = 0; want[i] != NULL; i++)
		if (strcmp(want[i], kind) == 0)
			return 0;
	return extract_note(ex, "type-mismatch", f->where);
}

static int
extract_plain(struct extract *ex, const struct extract_file *f,
    const char *kind)
{
	char *u = NULL, *t = NULL;
	size_t ulen, tlen;
	int rc;

	if (strcmp(kind, "text") == 0)
		return extract_text_bytes(ex, f->where, "text/plain", NULL,
		    f->data, f->len) < 0 ? -1 : 1;
	/* HTML: converted, then made text. */
	if (charset_to_utf8((const char *)f->data, f->len, NULL, 0, &u, &ulen,
	    NULL, NULL) != 0 || html_to_text(u, ulen, &t, &tlen) != 0) {
		free(u);
		ex->oom = true;
		return -1;
	}
	rc = extract_text(ex, f->where, "text/html", t, tlen);
	free(u);
	free(t);
	return rc < 0 ? -1 : 1;
}

int
extract_file(struct extract *ex, const struct extract_file *f)
{
	const char *kind = extract_kind(f->data, f->len, f->name);
	int rc;

	if (kind == NULL)
		return 0;
	if (extract_mismatch(ex, f, kind) != 0)
		return -1;
	if (extract_stopped(ex, f->where))
		return ex->oom ? -1 : 1;
	if (f->depth > ex->lim->max_depth) {
		if (extract_note(ex, "depth", f->where) != 0)
			return -1;
		return 1;
	}
	if (strcmp(kind, "text") == 0 || strcmp(kind, "html") == 0)
		return extract_plain(ex, f, kind);
	if (strcmp(kind, "message") == 0)
		rc = ex->sink->message(ex->sink->arg, f->where, f->data,
		    f->len) == 0 ? 1 : -1;
	else if (strcmp(kind, "ooxml") == 0)
		rc = extract_ooxml(ex, f);
	else if (strcmp(kind, "odf") == 0)
		rc = extract_odf(ex, f);
	else if (strcmp(kind, "ole2") == 0)
		rc = extract_ole2(ex, f);
	else if (strcmp(kind, "pdf") == 0)
		rc = extract_pdf(ex, f);
	else if (strcmp(kind, "rtf") == 0)
		rc = extract_rtf(ex, f);
	else
		rc = extract_archive(ex, f);
	if (rc < 0)
		ex->oom = true;
	return rc;
}
