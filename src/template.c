/* template.c - explanation templates (see template.h).
 *
 * Owns a parsed copy of every template file: per template and language,
 * a list of parts, each literal text or a variable.  All checking happens
 * at load (UTF-8, control characters, unknown or unterminated variables,
 * a language missing, too many lines), so a bad file stops the (re)load
 * with "file:line: why" and a bounce never carries a blank or a "${".
 * Rendering makes new strings the caller frees.
 *
 * Fails: template_load returns NULL with err; template_render returns -1
 * with err only for a name it does not know.  Out of memory aborts inside
 * GLib, as everywhere custos uses GLib containers. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "errbuf.h"
#include "gstr.h"
#include "template.h"

/* A template is a few lines of prose; a file this large is a mistake
 * (a wrong directory, a binary), not a template. */
#define TEMPLATE_MAX_FILE	(64 * 1024)

/* Longest variable name quoted back in an error message. */
#define TEMPLATE_ERR_NAME	40

enum template_var {
	TVAR_INCIDENT = 0,
	TVAR_RECORDS,
	TVAR_LISTS,
	TVAR_DETECTORS,
	TVAR_WHERE,
	TVAR_RULES,
	TVAR_CONTACT,
	TVAR_NODE,
	TVAR_ACTION,
	TVAR_SENDER,
	TVAR_SAMPLES,
	TVAR_SHOW,
	TVAR_WINDOW,
	TVAR_COUNT
};

static const char *const template_var_names[TVAR_COUNT] = {
	"incident", "records", "lists", "detectors", "where", "rules",
	"contact", "node", "action", "sender", "samples", "show", "window"
};

/* ${action} in the template's language: what happened to the message. */
static const char *const template_action_words[][2] = {
	{ "passed", "已放行" },
	{ "tagged", "已标记" },
	{ "held for review", "已暂扣待审核" },
	{ "quarantined", "已隔离" },
	{ "refused", "已拒绝" },
	{ "deferred", "已延迟" },
};

/* The language ${detectors} is worded in: "zh", "zh_CN", "zh_TW" get
 * Chinese, every other language English (the one we also ship). */
enum template_lang {
	TLANG_EN = 0,
	TLANG_ZH
};

struct template_words {
	const char	*one;		/* English, one */
	const char	*many;		/* English, several */
	const char	*zh;		/* Chinese noun after "N 个" */
};

/* Indexed by enum detector; the assertion below catches a detector added
 * without its words. */
static const struct template_words template_det_words[] = {
	[DET_CN_RESIDENT_ID] = { "resident ID number", "resident ID numbers",
	    "身份证号码" },
	[DET_CN_USCC] = { "unified social credit code",
	    "unified social credit codes", "统一社会信用代码" },
	[DET_PAYMENT_CARD] = { "payment card number", "payment card numbers",
	    "银行卡号" },
	[DET_CN_MOBILE] = { "mobile number", "mobile numbers", "手机号码" },
	[DET_EMAIL] = { "email address", "email addresses", "电子邮件地址" },
	[DET_IBAN] = { "IBAN", "IBANs", "IBAN 账号" },
	[DET_US_SSN] = { "US Social Security number",
	    "US Social Security numbers", "美国社会安全号码" },
};
G_STATIC_ASSERT(G_N_ELEMENTS(template_det_words) == DET_COUNT);

struct template_part {
	int	 var;		/* enum template_var, or -1: text */
	char	*text;		/* literal UTF-8 with '\n'; NULL: a var */
};

struct template_text {
	struct template_part	*parts;
	size_t			 nparts;
	size_t			 nlines;	/* lines it renders to */
};

struct template {
	char			*name;
	struct template_text	*text;		/* one per language */
};

struct template_set {
	char			**langs;
	enum template_lang	*family;
	size_t			 nlangs;
	struct template		*tpl;		/* sorted by name */
	size_t			 ntpl;
};

/* Names and languages become parts of file names: letters, digits, '_'
 * and '-' only, so neither can climb out of the directory. */
static bool
template_word_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!g_ascii_isalnum(*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static void
template_text_free(struct template_text *t)
{
	size_t i;

	for (i = 0; i < t->nparts; i++)
		g_free(t->parts[i].text);
	g_free(t->parts);
	memset(t, 0, sizeof *t);
}

static void
template_add_part(struct template_text *t, int var, GString *lit)
{
	struct template_part *p;

	if (var < 0 && lit->len == 0)
		return;
	t->parts = g_renew(struct template_part, t->parts, t->nparts + 1);
	p = &t->parts[t->nparts++];
	p->var = var;
	p->text = var < 0 ? g_strndup(lit->str, lit->len) : NULL;
	g_string_truncate(lit, 0);
}

/* Parses buf[0..len) read from path into t.  Returns 0 or -1 with
 * "path:line: why". */
static int
template_parse(const char *path, const char *buf, size_t len,
    struct template_text *t, char *err, size_t errlen)
{
	const char *p, *q, *end, *bad;
	GString *lit;
	unsigned line = 1;
	size_t i;
	int rc = -1;

	memset(t, 0, sizeof *t);
	if (!g_utf8_validate(buf, (gssize)len, &bad)) {
		for (p = buf; p < bad; p++)
			if (*p == '\n')
				line++;
		errbuf_set(err, errlen, "%s:%u: not UTF-8", path, line);
		return -1;
	}
	p = buf;
	end = buf + len;
	/* Editors on Windows add a byte-order mark; it is not text. */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	/* The newline ending the last line does not make an empty line. */
	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;

	lit = g_string_new(NULL);
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		size_t n;
		int v;

		if (c == '\r') {		/* CRLF files */
			p++;
			continue;
		}
		if (c == '\n') {
			g_string_append_c(lit, '\n');
			line++;
			p++;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			errbuf_set(err, errlen, "%s:%u: control character "
			    "0x%02x", path, line, c);
			goto out;
		}
		if (c != '$' || p + 1 >= end ||
		    (p[1] != '$' && p[1] != '{')) {
			/* A lone '$' is just a dollar sign. */
			g_string_append_c(lit, (char)c);
			p++;
			continue;
		}
		if (p[1] == '$') {
			g_string_append_c(lit, '$');
			p += 2;
			continue;
		}
		for (q = p + 2; q < end && *q != '}' && *q != '\n'; q++)
			;
		if (q >= end || *q != '}') {
			errbuf_set(err, errlen, "%s:%u: unterminated \"${\"",
			    path, line);
			goto out;
		}
		n = (size_t)(q - (p + 2));
		for (v = 0; v < TVAR_COUNT; v++)
			if (strlen(template_var_names[v]) == n &&
			    memcmp(template_var_names[v], p + 2, n) == 0)
				break;
		if (v == TVAR_COUNT) {
			errbuf_set(err, errlen, "%s:%u: unknown variable "
			    "${%.*s}", path, line,
			    (int)MIN(n, TEMPLATE_ERR_NAME), p + 2);
			goto out;
		}
		template_add_part(t, -1, lit);
		template_add_part(t, v, lit);
		p = q + 1;
	}
	template_add_part(t, -1, lit);
	if (t->nparts == 0) {
		errbuf_set(err, errlen, "%s: empty template", path);
		goto out;
	}
	/* Values never hold a newline (template_value), so the line count
	 * is known now and can be checked at load. */
	t->nlines = 1;
	for (i = 0; i < t->nparts; i++)
		for (q = t->parts[i].text; q != NULL &&
		    (q = strchr(q, '\n')) != NULL; q++)
			t->nlines++;
	rc = 0;
out:
	g_string_free(lit, TRUE);
	if (rc != 0)
		template_text_free(t);
	return rc;
}

static int
template_read(const char *path, struct template_text *t, char *err,
    size_t errlen)
{
	GError *gerr = NULL;
	gchar *buf;
	gsize len;
	int rc;

	if (!g_file_get_contents(path, &buf, &len, &gerr)) {
		if (gerr->code == G_FILE_ERROR_NOENT)
			errbuf_set(err, errlen, "%s: missing (every template "
			    "needs every language)", path);
		else
			errbuf_set(err, errlen, "%s", gerr->message);
		g_error_free(gerr);
		return -1;
	}
	if (len > TEMPLATE_MAX_FILE) {
		errbuf_set(err, errlen, "%s: larger than %d bytes", path,
		    TEMPLATE_MAX_FILE);
		g_free(buf);
		return -1;
	}
	rc = template_parse(path, buf, len, t, err, errlen);
	g_free(buf);
	return rc;
}

/* The template name in a directory entry "NAME.LANG.txt" for one of
 * langs: a new string, NULL when the entry is not one of ours. */
static char *
template_entry_name(const char *ent, const char *const *langs, size_t nlangs)
{
	size_t i, elen = strlen(ent);

	for (i = 0; i < nlangs; i++) {
		char *suffix = g_strdup_printf(".%s.txt", langs[i]);
		size_t slen = strlen(suffix);
		bool match = elen > slen &&
		    strcmp(ent + elen - slen, suffix) == 0;

		g_free(suffix);
		if (match)
			return g_strndup(ent, elen - slen);
	}
	return NULL;
}

static gint
template_strcmp(gconstpointer a, gconstpointer b)
{
	return strcmp(a, b);
}

static int
template_bsearch_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct template *)elem)->name);
}

static const struct template *
template_find(const struct template_set *set, const char *name)
{
	if (set == NULL || name == NULL || set->ntpl == 0)
		return NULL;
	return bsearch(name, set->tpl, set->ntpl, sizeof set->tpl[0],
	    template_bsearch_cmp);
}

struct template_set *
template_load(const char *dir, const char *const *langs, size_t nlangs,
    char *err, size_t errlen)
{
	struct template_set *set = NULL;
	GHashTable *names = NULL;
	GList *sorted = NULL, *l;
	GError *gerr = NULL;
	GDir *d = NULL;
	const char *ent;
	size_t i, k, total;

	if (nlangs == 0) {
		errbuf_set(err, errlen, "%s: no template languages", dir);
		goto fail;
	}
	for (i = 0; i < nlangs; i++)
		if (langs[i] == NULL || !template_word_ok(langs[i])) {
			errbuf_set(err, errlen, "bad template language "
			    "\"%s\"", langs[i] != NULL ? langs[i] : "(null)");
			goto fail;
		}
	if ((d = g_dir_open(dir, 0, &gerr)) == NULL) {
		errbuf_set(err, errlen, "%s", gerr->message);
		g_error_free(gerr);
		goto fail;
	}
	names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	while ((ent = g_dir_read_name(d)) != NULL) {
		char *name;

		/* Editor droppings (".#x.en.txt") are not templates. */
		if (ent[0] == '.')
			continue;
		if ((name = template_entry_name(ent, langs, nlangs)) == NULL)
			continue;
		if (!template_word_ok(name)) {
			errbuf_set(err, errlen, "%s/%s: a template name has "
			    "only letters, digits, '_' and '-'", dir, ent);
			g_free(name);
			goto fail;
		}
		g_hash_table_add(names, name);
	}

	set = g_new0(struct template_set, 1);
	set->nlangs = nlangs;
	set->langs = g_new0(char *, nlangs);
	set->family = g_new0(enum template_lang, nlangs);
	for (i = 0; i < nlangs; i++) {
		set->langs[i] = g_strdup(langs[i]);
		set->family[i] = g_str_has_prefix(langs[i], "zh") ?
		    TLANG_ZH : TLANG_EN;
	}
	/* Sorted: template_has/render search it, and errors come out in
	 * the same order on every run. */
	sorted = g_list_sort(g_hash_table_get_keys(names), template_strcmp);
	set->tpl = g_new0(struct template, g_hash_table_size(names));
	for (l = sorted; l != NULL; l = l->next) {
		struct template *t = &set->tpl[set->ntpl++];

		t->name = g_strdup(l->data);
		t->text = g_new0(struct template_text, nlangs);
		total = 0;
		for (k = 0; k < nlangs; k++) {
			char *path = g_strdup_printf("%s/%s.%s.txt", dir,
			    t->name, langs[k]);
			int rc = template_read(path, &t->text[k], err, errlen);

			g_free(path);
			if (rc != 0)
				goto fail;
			total += t->text[k].nlines;
		}
		/* Better refused at load (`custos-milter -t`) than cut off
		 * in front of the employee. */
		if (total > TEMPLATE_MAX_LINES) {
			errbuf_set(err, errlen, "%s/%s.*.txt: %zu lines in "
			    "all languages, at most %d", dir, t->name, total,
			    TEMPLATE_MAX_LINES);
			goto fail;
		}
	}
	g_list_free(sorted);
	g_hash_table_destroy(names);
	g_dir_close(d);
	return set;

fail:
	g_list_free(sorted);
	if (names != NULL)
		g_hash_table_destroy(names);
	if (d != NULL)
		g_dir_close(d);
	(void)template_free(set);
	return NULL;
}

struct template_set *
template_free(struct template_set *set)
{
	size_t i, k;

	if (set == NULL)
		return NULL;
	for (i = 0; i < set->ntpl; i++) {
		for (k = 0; k < set->nlangs; k++)
			template_text_free(&set->tpl[i].text[k]);
		g_free(set->tpl[i].text);
		g_free(set->tpl[i].name);
	}
	g_free(set->tpl);
	for (i = 0; i < set->nlangs; i++)
		g_free(set->langs[i]);
	g_free(set->langs);
	g_free(set->family);
	g_free(set);
	return NULL;
}

int
template_has(const struct template_set *set, const char *name)
{
	return template_find(set, name) != NULL;
}

/* Appends a value.  Values are custos' own, but ${where} carries
 * attachment names from the message: a control character (CR and LF
 * above all, which would end the SMTP reply line) becomes a space, a
 * byte that is not UTF-8 a '?'. */
static void
template_value(GString *out, const char *s)
{
	const char *end;

	if (s == NULL)
		return;
	end = s + strlen(s);
	while (s < end) {
		gunichar u = g_utf8_get_char_validated(s, end - s);

		if (u == (gunichar)-1 || u == (gunichar)-2) {
			g_string_append_c(out, '?');
			s++;
			continue;
		}
		if (u < 0x20 || (u >= 0x7f && u < 0xa0) || u == 0x2028 ||
		    u == 0x2029)
			g_string_append_c(out, ' ');
		else
			g_string_append_unichar(out, u);
		s = g_utf8_next_char(s);
	}
}

static void
template_detectors(GString *out, const size_t *counts, enum template_lang lang)
{
	bool any = false;
	size_t i;

	for (i = 0; counts != NULL && i < DET_COUNT; i++) {
		const struct template_words *w = &template_det_words[i];

		if (counts[i] == 0)
			continue;
		if (any)
			g_string_append(out, lang == TLANG_ZH ? "、" : ", ");
		any = true;
		/* A Latin word ("IBAN") is set off from the Chinese. */
		if (lang == TLANG_ZH)
			g_string_append_printf(out, "%zu 个%s%s", counts[i],
			    g_ascii_isalpha(w->zh[0]) ? " " : "", w->zh);
		else
			g_string_append_printf(out, "%zu %s", counts[i],
			    counts[i] == 1 ? w->one : w->many);
	}
	if (!any)
		g_string_append(out, lang == TLANG_ZH ? "无" : "none");
}

static void
template_expand(GString *out, const struct template_text *t,
    const struct template_vars *v, enum template_lang lang)
{
	static const struct template_vars none;
	const char *s;
	size_t i;

	if (v == NULL)
		v = &none;
	for (i = 0; i < t->nparts; i++) {
		switch (t->parts[i].var) {
		case -1:
			g_string_append(out, t->parts[i].text);
			continue;
		case TVAR_RECORDS:
			g_string_append_printf(out, "%zu", v->records);
			continue;
		case TVAR_DETECTORS:
			template_detectors(out, v->detectors, lang);
			continue;
		case TVAR_ACTION:
			if (v->action >= 0 && (size_t)v->action <
			    G_N_ELEMENTS(template_action_words))
				g_string_append(out, template_action_words
				    [v->action][lang == TLANG_ZH]);
			continue;
		case TVAR_INCIDENT:	s = v->incident;	break;
		case TVAR_LISTS:	s = v->lists;		break;
		case TVAR_WHERE:	s = v->where;		break;
		case TVAR_RULES:	s = v->rules;		break;
		case TVAR_CONTACT:	s = v->contact;		break;
		case TVAR_NODE:		s = v->node;		break;
		case TVAR_SENDER:	s = v->sender;		break;
		case TVAR_SAMPLES:	s = v->samples;		break;
		case TVAR_SHOW:		s = v->show;		break;
		case TVAR_WINDOW:	s = v->window;		break;
		default:		s = NULL;		break;
		}
		template_value(out, s);
	}
}

/* One reply line from s[0..len) (valid UTF-8, no CR or LF).
 *
 * '%' is doubled: Sendmail uses milter reply text as a format string,
 * and Postfix, for compatibility, turns "%%" into "%" and drops a single
 * '%'; so "%%" shows as "%" with both.  A line longer than
 * TEMPLATE_MAX_LINE bytes is cut between characters and ends in "...".
 * An empty line becomes " ", so a blank line in the template stays a
 * line of its own in every client. */
static char *
template_line(const char *s, size_t len)
{
	const char *end = s + len, *pct;
	GString *out = g_string_sized_new(len + 8);
	size_t cut, pcts;

	/* The text between '%'s a run at a time: a reply is some 400
	 * characters, and a record message's reject has several. */
	while (s < end) {
		if ((pct = memchr(s, '%', (size_t)(end - s))) == NULL) {
			gstr_append(out, s, (size_t)(end - s));
			break;
		}
		gstr_append(out, s, (size_t)(pct - s));
		gstr_append(out, "%%", 2);
		s = pct + 1;
	}
	if (out->len > TEMPLATE_MAX_LINE) {
		/* The last character boundary with room for "...": not
		 * inside a UTF-8 character, nor between the two '%' of a
		 * pair (every '%' here is one of a pair, so a run of them
		 * before the cut is odd only when the cut splits one). */
		cut = TEMPLATE_MAX_LINE - 3;
		while (cut > 0 && ((unsigned char)out->str[cut] & 0xc0) == 0x80)
			cut--;
		for (pcts = 0; pcts < cut && out->str[cut - 1 - pcts] == '%';
		    pcts++)
			;
		if (pcts % 2 == 1)
			cut--;
		g_string_truncate(out, cut);
		g_string_append(out, "...");
	}
	if (out->len == 0)
		g_string_append_c(out, ' ');
	return g_string_free(out, FALSE);
}

int
template_render(const struct template_set *set, const char *name,
    const struct template_vars *v, char ***lines, char *err,
    size_t errlen)
{
	const struct template *t;
	GPtrArray *out;
	GString *text;
	size_t k, n;

	*lines = NULL;
	if ((t = template_find(set, name)) == NULL) {
		errbuf_set(err, errlen, "no template \"%s\"",
		    name != NULL ? name : "(null)");
		return -1;
	}
	out = g_ptr_array_new_with_free_func(g_free);
	text = g_string_new(NULL);
	for (k = 0; k < set->nlangs; k++) {
		const char *p, *nl;

		g_string_truncate(text, 0);
		template_expand(text, &t->text[k], v, set->family[k]);
		for (p = text->str;; p = nl + 1) {
			nl = strchr(p, '\n');
			g_ptr_array_add(out, template_line(p, nl != NULL ?
			    (size_t)(nl - p) : strlen(p)));
			if (nl == NULL)
				break;
		}
	}
	g_string_free(text, TRUE);
	/* Checked at load; kept as a guard so no caller ever gets more
	 * lines than smfi_setmlreply takes. */
	if (out->len > TEMPLATE_MAX_LINES) {
		g_ptr_array_set_size(out, TEMPLATE_MAX_LINES - 1);
		g_ptr_array_add(out, g_strdup("..."));
	}
	n = out->len;
	g_ptr_array_add(out, NULL);
	*lines = (char **)g_ptr_array_free(out, FALSE);
	return (int)n;
}

int
template_render_text(const struct template_set *set, const char *name,
    const struct template_vars *v, const char *const *langs, size_t nlangs,
    char **text, char *err, size_t errlen)
{
	const struct template *t;
	GString *out;
	size_t k, i;
	bool any = false;

	*text = NULL;
	if ((t = template_find(set, name)) == NULL) {
		errbuf_set(err, errlen, "no template \"%s\"",
		    name != NULL ? name : "(null)");
		return -1;
	}
	out = g_string_new(NULL);
	/* The set's order; a language not loaded is skipped, and when none
	 * of those asked for is loaded, every loaded one is used. */
	for (k = 0; k < set->nlangs; k++) {
		bool want = nlangs == 0;

		for (i = 0; i < nlangs && !want; i++)
			want = strcmp(langs[i], set->langs[k]) == 0;
		if (want) {
			if (any)
				g_string_append(out, "\n\n");
			template_expand(out, &t->text[k], v, set->family[k]);
			any = true;
		}
	}
	if (!any)
		for (k = 0; k < set->nlangs; k++) {
			if (k > 0)
				g_string_append(out, "\n\n");
			template_expand(out, &t->text[k], v, set->family[k]);
		}
	while (out->len > 0 && out->str[out->len - 1] == '\n')
		g_string_truncate(out, out->len - 1);
	*text = g_string_free(out, FALSE);
	return 0;
}
