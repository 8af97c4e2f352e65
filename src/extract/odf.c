/* odf.c - OpenDocument (.ods .odt .odp, and .odg): the text of
 * content.xml (a spreadsheet's tables by sheet, a text's body, a
 * presentation's pages and their notes) and of the headers and footers
 * in styles.xml.  Read through ooxml.c's zipped-XML reader
 * (extract_zipxml), so the same limits and notes apply.
 *
 * An encrypted document (ODF 1.2, 3.4: its manifest lists encryption
 * data) is a note "encrypted"; its parts are not read.
 *
 * Owns nothing past a call.  -1 only when out of memory. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "extract/extract.h"

struct odf {
	const char	*type;		/* the mimetype member's */
	char		 kind;	/* 's'heet, 't'ext, 'p'resentation, 'g'raphics */
	unsigned	 page;		/* draw:page, counted */
	bool		 encrypted;
};

static const char *const odf_types[] = {
	"application/vnd.oasis.opendocument.spreadsheet",
	"application/vnd.oasis.opendocument.text",
	"application/vnd.oasis.opendocument.presentation",
	"application/vnd.oasis.opendocument.graphics",
};

/* The first member is "mimetype", stored (ODF 1.2, 3.3), and
 * extract_kind() checked its name: its text follows the local header. */
static void
odf_mimetype(struct odf *o, const unsigned char *d, size_t len)
{
	size_t i, n, at;

	if (len < 30)
		return;
	n = (size_t)d[18] | (size_t)d[19] << 8 | (size_t)d[20] << 16 |
	    (size_t)d[21] << 24;
	at = 30 + ((size_t)d[26] | (size_t)d[27] << 8) + ((size_t)d[28] |
	    (size_t)d[29] << 8);
	if (at > len || n > len - at)
		return;
	for (i = 0; i < G_N_ELEMENTS(odf_types); i++)
		if (strlen(odf_types[i]) <= n && memcmp(d + at, odf_types[i],
		    strlen(odf_types[i])) == 0) {
			o->type = odf_types[i];
			o->kind = "stpg"[i];
		}
}

/* META-INF/manifest.xml: is any entry encrypted? */
static unsigned
odf_manifest_role(void *arg, struct extract_xml *x, size_t depth,
    const char *name, const char **an, const char **av, const char **put)
{
	struct odf *o = arg;

	(void)x;
	(void)depth;
	(void)an;
	(void)av;
	(void)put;
	if (strcmp(name, "encryption-data") == 0)
		o->encrypted = true;
	return 0;
}

/* Text elements shared by content.xml and styles.xml. */
static unsigned
odf_text_role(struct odf *o, struct extract_xml *x, const char *name,
    const char **an, const char **av, const char **put)
{
	const char *vt, *v, *sheet;
	char *src;

	if (strcmp(name, "p") == 0 || strcmp(name, "h") == 0 ||
	    strcmp(name, "header-decl") == 0 ||
	    strcmp(name, "footer-decl") == 0 ||
	    strcmp(name, "date-time-decl") == 0)
		return EXTRACT_XML_TEXT | EXTRACT_XML_LINE;
	if (strcmp(name, "s") == 0) {
		*put = " ";
		return 0;
	}
	if (strcmp(name, "tab") == 0) {
		*put = "\t";
		return 0;
	}
	if (strcmp(name, "line-break") == 0)
		return EXTRACT_XML_LINE;
	/* A footnote sits in its paragraph: keep its number ("1") off the
	 * word it follows, and its body on a line of its own. */
	if (strcmp(name, "note") == 0) {
		*put = " ";
		return 0;
	}
	if (strcmp(name, "note-citation") == 0 ||
	    strcmp(name, "creator") == 0 || strcmp(name, "date") == 0)
		return EXTRACT_XML_SKIP;
	if (strcmp(name, "table-row") == 0)
		return EXTRACT_XML_ROW;
	if (strcmp(name, "table-cell") == 0 ||
	    strcmp(name, "covered-table-cell") == 0) {
		/* A number as stored, not as formatted ("1.38E+10"). */
		vt = extract_xml_attr(an, av, "value-type");
		v = extract_xml_attr(an, av, "value");
		if (vt != NULL && v != NULL && (strcmp(vt, "float") == 0 ||
		    strcmp(vt, "percentage") == 0 ||
		    strcmp(vt, "currency") == 0)) {
			*put = v;
			return EXTRACT_XML_CELL | EXTRACT_XML_SKIP;
		}
		return EXTRACT_XML_CELL;
	}
	if (strcmp(name, "table") == 0 && o->kind == 's') {
		sheet = extract_xml_attr(an, av, "name");
		src = sheet != NULL ? g_strdup_printf("sheet \"%s\"", sheet) :
		    g_strdup("sheet");
		extract_xml_source(x, src, o->type);
		g_free(src);
	}
	return 0;
}

static unsigned
odf_content_role(void *arg, struct extract_xml *x, size_t depth,
    const char *name, const char **an, const char **av, const char **put)
{
	struct odf *o = arg;
	char *src;

	/* office:document-content > office:body > office:text ... */
	if (depth == 2 && strcmp(name, "body") != 0)
		return EXTRACT_XML_SKIP;	/* styles, fonts, scripts */
	if (depth == 3) {
		if (strcmp(name, "spreadsheet") == 0 && o->kind == '\0')
			o->kind = 's';
		else if (strcmp(name, "text") == 0 && o->kind == '\0')
			o->kind = 't';
		else if (strcmp(name, "presentation") == 0 && o->kind == '\0')
			o->kind = 'p';
		else if (strcmp(name, "drawing") == 0 && o->kind == '\0')
			o->kind = 'g';
		if (o->kind == 't')
			extract_xml_source(x, "document", o->type);
		return 0;
	}
	if (strcmp(name, "page") == 0 && o->kind != 's' && o->kind != 't') {
		src = g_strdup_printf("%s %u", o->kind == 'p' ? "slide" :
		    "page", ++o->page);
		extract_xml_source(x, src, o->type);
		g_free(src);
		return 0;
	}
	if (strcmp(name, "notes") == 0 && o->page > 0) {
		src = g_strdup_printf("%s %u notes", o->kind == 'p' ? "slide" :
		    "page", o->page);
		extract_xml_source(x, src, o->type);
		g_free(src);
		return 0;
	}
	return odf_text_role(o, x, name, an, av, put);
}

/* styles.xml: only the master pages' headers and footers are text. */
static unsigned
odf_styles_role(void *arg, struct extract_xml *x, size_t depth,
    const char *name, const char **an, const char **av, const char **put)
{
	struct odf *o = arg;

	/* office:document-styles > office:master-styles > style:master-page
	 * > style:header */
	if (depth == 2)
		return strcmp(name, "master-styles") == 0 ? 0 :
		    EXTRACT_XML_SKIP;
	if (depth == 3)
		return strcmp(name, "master-page") == 0 ? 0 :
		    EXTRACT_XML_SKIP;
	if (depth == 4) {
		if (g_str_has_prefix(name, "header") &&
		    strcmp(name, "header-style") != 0)
			extract_xml_source(x, "header", o->type);
		else if (g_str_has_prefix(name, "footer") &&
		    strcmp(name, "footer-style") != 0)
			extract_xml_source(x, "footer", o->type);
		else
			return EXTRACT_XML_SKIP;	/* a page's shapes */
		return 0;
	}
	return odf_text_role(o, x, name, an, av, put);
}

static extract_xml_fn
odf_member(void *arg, unsigned pass, const char *member, char **source,
    const char **type)
{
	struct odf *o = arg;

	*type = o->type;
	if (pass == 0)
		return strcmp(member, "META-INF/manifest.xml") == 0 ?
		    odf_manifest_role : NULL;
	if (o->encrypted)
		return NULL;
	if (strcmp(member, "content.xml") == 0) {
		*source = g_strdup("content");
		return odf_content_role;
	}
	if (strcmp(member, "styles.xml") == 0) {
		*source = g_strdup("styles");
		return odf_styles_role;
	}
	return NULL;
}

int
extract_odf(struct extract *ex, const struct extract_file *f)
{
	struct odf o;

	int rc;

	memset(&o, 0, sizeof o);
	odf_mimetype(&o, f->data, f->len);
	/* Pass 0: the manifest, which comes last; pass 1: the text. */
	if ((rc = extract_zipxml(ex, f, 2, odf_member, &o)) < 0)
		return -1;
	if (o.encrypted) {
		if (extract_note(ex, "encrypted", f->where) != 0)
			return -1;
		return 1;
	}
	return ex->oom ? -1 : rc > 0 ? 1 : 0;
}
