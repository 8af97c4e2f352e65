/* scan.c - scan one message's segments for customer records, generic
 * identifiers and keywords (engine_scan, see engine.h).
 *
 * Per segment: build the evasion-proof text view (normalize.h); run the
 * candidate database over it.  Each candidate callback finds the whole
 * candidate around the match end in the view (a digit run with its
 * groups, an e-mail address, a token), canonicalises it and looks it up
 * in the table by keyed fingerprint, and runs the built-in validators.
 * Then the weak-literal database runs over the same view and weak hits
 * are kept only when another field of the same record is near.
 *
 * A digit run is a maximal sequence of digit groups joined by at most
 * three separators (space, tab, line break, - . / ( )).  A group is never
 * split: a number inside a longer number is not a match.  Every sequence
 * of whole groups of 5 to 40 digits is a candidate, so "138 0013 8000"
 * and "2024 13800138000" both yield the mobile number, in linear time.
 *
 * Owns only per-call state.  Errors: -1 with err (no memory, Hyperscan
 * failure).  Nothing here writes a value in clear anywhere: findings get
 * record ids, counts and masked samples. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"
#include "mask.h"
#include "normalize.h"
#include "validate.h"

#define RUN_MAX_DIGITS	40	/* longest digit candidate */
#define RUN_MAX_GROUPS	4096	/* groups looked at in one run */
#define TOKEN_MAX	64	/* longest token candidate, characters */
#define WEAK_FANOUT	4096	/* weak values shared wider: strong only */

struct pos_hit {
	uint32_t	rec;
	uint32_t	pos;		/* view offset */
	uint16_t	field;
	uint16_t	kind;
};

struct group {
	size_t	start, end;	/* view offsets of the digits */
	char	sep;		/* first separator before it, or 0 */
};

struct scan_ctx {
	const struct engine	*e;
	struct findings		*f;
	const struct textview	*v;
	uint32_t		 seg;
	int			 today;		/* YYYYMMDD */
	size_t			 digits_done;	/* view offsets handled */
	size_t			 email_done;
	size_t			 token_done;
	GArray			*strong;	/* struct pos_hit */
	GArray			*weak;		/* struct pos_hit */
	struct group		*groups;	/* RUN_MAX_GROUPS, reused */
};

static bool
scan_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
scan_issep(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '-' ||
	    c == '.' || c == '/' || c == '(' || c == ')';
}

static bool
scan_isalnum(char c)
{
	return scan_isdigit(c) || (c >= 'a' && c <= 'z');
}

/* A record seen through a strong value (or a validated one). */
static void
scan_strong_hits(struct scan_ctx *x, uint64_t fp, size_t pos,
    const char *canon, size_t len)
{
	const struct table_hit *h;
	size_t n, i;
	char masked[MASK_MAX];

	if (x->e->table == NULL ||
	    (n = table_lookup_strong(x->e->table, fp, &h)) == 0)
		return;
	for (i = 0; i < n; i++) {
		struct pos_hit p = { h[i].rec, (uint32_t)pos, h[i].field,
		    h[i].kind };

		g_array_append_val(x->strong, p);
		(void)findings_add_record(x->f, h[i].rec,
		    table_record_id(x->e->table, h[i].rec),
		    table_record_list(x->e->table, h[i].rec),
		    table_record_canary(x->e->table, h[i].rec), x->seg,
		    (enum field_kind)h[i].kind);
	}
	/* One value, one count per kind, one sample. */
	if (h[0].kind < KIND_COUNT && findings_once(x->f, 0x100 + h[0].kind,
	    fp) == 1) {
		x->f->kind_values[h[0].kind]++;
		mask_value((enum field_kind)h[0].kind, canon, len, masked);
		findings_sample(x->f, false, h[0].kind, masked, x->seg);
	}
}

static void
scan_lookup(struct scan_ctx *x, enum value_class class, size_t pos,
    const char *canon, size_t len)
{
	/* Most candidates (dates, amounts, order numbers) have a length no
	 * list value has: no hash, no random read into a big table. */
	if (x->e->table == NULL || len == 0 ||
	    !engine_length_possible(x->e, class, len))
		return;
	scan_strong_hits(x, listkey_fingerprint(&x->e->key, class, canon, len),
	    pos, canon, len);
}

/* A generic identifier that passed its validator: counted once per
 * distinct value (keyed fingerprint, never the value), one sample. */
static void
scan_detected(struct scan_ctx *x, enum detector d, enum field_kind mk,
    const char *val, size_t len)
{
	char masked[MASK_MAX];
	uint64_t fp;

	if (!x->e->det_on[d])
		return;
	fp = listkey_fingerprint(&x->e->key, CLASS_TEXT, val, len);
	if (findings_once(x->f, 0x200 + d, fp) != 1)
		return;
	x->f->detector_values[d]++;
	mask_value(mk, val, len, masked);
	findings_sample(x->f, true, d, masked, x->seg);
}

/* Validators over the digits of one candidate span (no separators). */
static void
scan_digit_detectors(struct scan_ctx *x, const char *d, size_t n,
    const struct group *g, size_t ng, bool xsuffix)
{
	char id[20];

	if (n == 11 && validate_cn_mobile(d, n))
		scan_detected(x, DET_CN_MOBILE, KIND_MOBILE, d, n);
	else if (n == 13 && memcmp(d, "86", 2) == 0 &&
	    validate_cn_mobile(d + 2, 11))
		scan_detected(x, DET_CN_MOBILE, KIND_MOBILE, d + 2, 11);
	if (n == 18 || (n == 17 && xsuffix) ||
	    (n == 15 && x->e->cn_id_legacy)) {
		memcpy(id, d, n);
		if (n == 17)
			id[n++] = 'x';
		if (validate_cn_resident_id(id, n, x->e->cn_id_legacy,
		    x->today))
			scan_detected(x, DET_CN_RESIDENT_ID, KIND_CN_ID, id, n);
		n = n == 18 && id[17] == 'x' ? 17 : n;
	}
	if (n >= 13 && n <= 19 && validate_payment_card(d, n))
		scan_detected(x, DET_PAYMENT_CARD, KIND_ACCOUNT, d, n);
	/* An SSN only in its written form, 123-45-6789: nine bare digits
	 * are far too common to mean one. */
	if (n == 9 && ng == 3 && g[1].sep == '-' && g[2].sep == '-' &&
	    g[0].end - g[0].start == 3 && g[1].end - g[1].start == 2 &&
	    validate_us_ssn(d, n))
		scan_detected(x, DET_US_SSN, KIND_CUSTOM, d, n);
}

/* Every sequence of whole groups of 5..40 digits: table lookups and
 * validators.  xsuffix: an 'x' follows the last group (ID numbers). */
static void
scan_groups(struct scan_ctx *x, const struct group *g, size_t ng,
    bool xsuffix)
{
	const char *buf = x->v->buf;
	char d[RUN_MAX_DIGITS + 2], canon[NORM_MAX];
	size_t i, j, n, len;

	for (i = 0; i < ng; i++) {
		n = 0;
		for (j = i; j < ng; j++) {
			len = g[j].end - g[j].start;
			if (n + len > RUN_MAX_DIGITS)
				break;
			memcpy(d + n, buf + g[j].start, len);
			n += len;
			d[n] = '\0';
			if (n < 5)
				continue;
			scan_digit_detectors(x, d, n, g + i, j - i + 1,
			    xsuffix && j == ng - 1);
			if (x->e->table == NULL)
				continue;
			if ((len = normalize_digits(d, n, canon)) > 0)
				scan_lookup(x, CLASS_NUMERIC, g[i].start,
				    canon, len);
			if (!x->e->alnum_values)
				continue;
			/* ID numbers and digit-only custom ids are tokens:
			 * their leading zeros count. */
			scan_lookup(x, CLASS_ALNUM, g[i].start, d, n);
			if (xsuffix && j == ng - 1 && n == 17) {
				d[n] = 'x';
				scan_lookup(x, CLASS_ALNUM, g[i].start, d,
				    n + 1);
				d[n] = '\0';
			}
		}
	}
}

/* The digit run around view offset end (just after a digit). */
static void
scan_digit_run(struct scan_ctx *x, size_t end)
{
	const char *buf = x->v->buf;
	size_t len = x->v->len, s = end, e = end, p, seps;
	struct group *g;
	size_t ng = 0;
	bool xsuffix;

	/* Back to the run's first digit. */
	for (p = s; p > 0;) {
		if (scan_isdigit(buf[p - 1])) {
			s = --p;
			continue;
		}
		for (seps = 0; p > seps && seps < 3 &&
		    scan_issep(buf[p - 1 - seps]); seps++)
			;
		if (seps == 0 || p <= seps || !scan_isdigit(buf[p - 1 - seps]))
			break;
		p -= seps;
	}
	/* Forward to its last digit. */
	for (p = e; p < len;) {
		if (scan_isdigit(buf[p])) {
			e = ++p;
			continue;
		}
		for (seps = 0; p + seps < len && seps < 3 &&
		    scan_issep(buf[p + seps]); seps++)
			;
		if (seps == 0 || p + seps >= len || !scan_isdigit(buf[p + seps]))
			break;
		p += seps;
	}
	x->digits_done = e;
	/* Letters glued to either end make it part of a word (an order
	 * number "A1234567"): tokens handle those. */
	if ((s > 0 && buf[s - 1] >= 'a' && buf[s - 1] <= 'z' &&
	    buf[s - 1] != 'x') ||
	    (e < len && buf[e] >= 'a' && buf[e] <= 'z' && buf[e] != 'x'))
		return;
	xsuffix = e < len && buf[e] == 'x' &&
	    (e + 1 >= len || !scan_isalnum(buf[e + 1]));
	g = x->groups;
	for (p = s; p < e && ng < RUN_MAX_GROUPS;) {
		char sep = 0;

		while (p < e && !scan_isdigit(buf[p])) {
			if (sep == 0)
				sep = buf[p];
			p++;
		}
		g[ng].start = p;
		g[ng].sep = sep;
		while (p < e && scan_isdigit(buf[p]))
			p++;
		g[ng++].end = p;
	}
	scan_groups(x, g, ng, xsuffix);
}

static bool
scan_islocal(char c)
{
	return scan_isalnum(c) || c == '.' || c == '_' || c == '%' ||
	    c == '+' || c == '-';
}

/* The e-mail address whose domain the match at end is in. */
static void
scan_email(struct scan_ctx *x, size_t end)
{
	const char *buf = x->v->buf;
	size_t len = x->v->len, at, s, e, n;
	char addr[NORM_MAX];

	for (at = end; at > 0 && end - at < 256 && buf[at - 1] != '@'; at--)
		;
	if (at == 0 || buf[at - 1] != '@')
		return;
	at--;
	for (s = at; s > 0 && at - s < 64 && scan_islocal(buf[s - 1]); s--)
		;
	for (e = at + 1; e < len && e - at < 254 &&
	    (scan_isalnum(buf[e]) || buf[e] == '-' || buf[e] == '.'); e++)
		;
	while (e > at + 1 && (buf[e - 1] == '.' || buf[e - 1] == '-'))
		e--;
	while (s < at && buf[s] == '.')
		s++;
	x->email_done = e;
	if (s == at || (n = e - s) >= sizeof addr)
		return;
	memcpy(addr, buf + s, n);
	addr[n] = '\0';
	if (validate_email(addr, n))
		scan_detected(x, DET_EMAIL, KIND_EMAIL, addr, n);
	scan_lookup(x, CLASS_EMAIL, s, addr, n);
}

/* Tokens: letters and digits, in groups joined by one separator (an
 * IBAN written in fours, an order number "cust-00123").  Every sequence
 * of whole groups up to TOKEN_MAX characters that holds a digit is a
 * candidate. */
static void
scan_token(struct scan_ctx *x, size_t end)
{
	const char *buf = x->v->buf;
	size_t len = x->v->len, s = end, e = end, i, j, n, k;
	struct { size_t start, end; } g[32];
	size_t ng = 0;
	char t[TOKEN_MAX + 1];

	while (s > 0 && end - s < 128 && (scan_isalnum(buf[s - 1]) ||
	    (s > 1 && scan_issep(buf[s - 1]) && buf[s - 1] != '\n' &&
	    scan_isalnum(buf[s - 2]))))
		s--;
	while (e < len && e - end < 128 && (scan_isalnum(buf[e]) ||
	    (e + 1 < len && scan_issep(buf[e]) && buf[e] != '\n' &&
	    scan_isalnum(buf[e + 1]))))
		e++;
	x->token_done = e;
	for (i = s; i < e && ng < 32;) {
		while (i < e && !scan_isalnum(buf[i]))
			i++;
		g[ng].start = i;
		while (i < e && scan_isalnum(buf[i]))
			i++;
		g[ng++].end = i;
	}
	for (i = 0; i < ng; i++) {
		bool digit = false;

		n = 0;
		for (j = i; j < ng; j++) {
			size_t gl = g[j].end - g[j].start;

			if (n + gl > TOKEN_MAX)
				break;
			for (k = 0; k < gl; k++) {
				t[n + k] = buf[g[j].start + k];
				digit |= scan_isdigit(t[n + k]);
			}
			n += gl;
			t[n] = '\0';
			if (!digit || n < 4)
				continue;
			if (n == 18 && validate_cn_uscc(t, n))
				scan_detected(x, DET_CN_USCC, KIND_CUSTOM, t, n);
			if (n >= 15 && n <= 34 && t[0] >= 'a' && t[1] >= 'a' &&
			    scan_isdigit(t[2]) && scan_isdigit(t[3]) &&
			    validate_iban(t, n))
				scan_detected(x, DET_IBAN, KIND_ACCOUNT, t, n);
			if (x->e->token_values)
				scan_lookup(x, CLASS_ALNUM, g[i].start, t, n);
		}
	}
}

static int
scan_on_candidate(unsigned int id, unsigned long long from,
    unsigned long long to, unsigned int flags, void *arg)
{
	struct scan_ctx *x = arg;

	(void)from;
	(void)flags;
	switch (id) {
	case CAND_DIGITS:
		if (to > x->digits_done)
			scan_digit_run(x, (size_t)to);
		break;
	case CAND_EMAIL:
		if (to > x->email_done)
			scan_email(x, (size_t)to);
		break;
	case CAND_TOKEN:
	case CAND_IBAN:
	case CAND_USCC:
		if (to > x->token_done)
			scan_token(x, (size_t)to);
		break;
	default:
		if (id >= CAND_KEYWORD && id - CAND_KEYWORD < x->e->nkeywords)
			(void)findings_keyword(x->f,
			    x->e->keywords[id - CAND_KEYWORD]);
	}
	return 0;
}

static int
scan_on_weak(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *arg)
{
	struct scan_ctx *x = arg;
	const struct table_hit *h;
	size_t n, i, k;

	(void)from;
	(void)flags;
	n = table_lookup_weak(x->e->table, id, &h);
	if (n <= WEAK_FANOUT) {
		for (i = 0; i < n; i++) {
			struct pos_hit p = { h[i].rec, (uint32_t)to,
			    h[i].field, h[i].kind };

			g_array_append_val(x->weak, p);
		}
		return 0;
	}
	/* A value thousands of records share (a common name) can only be
	 * corroborated by a strong field found near it: look those records
	 * up in its hits, which the table keeps sorted by record. */
	for (k = 0; k < x->strong->len; k++) {
		const struct pos_hit *s = &g_array_index(x->strong,
		    struct pos_hit, k);
		size_t lo = 0, hi = n;

		while (lo < hi) {
			i = lo + (hi - lo) / 2;
			if (h[i].rec < s->rec)
				lo = i + 1;
			else
				hi = i;
		}
		for (i = lo; i < n && h[i].rec == s->rec; i++) {
			struct pos_hit p = { h[i].rec, (uint32_t)to,
			    h[i].field, h[i].kind };

			g_array_append_val(x->weak, p);
		}
	}
	return 0;
}

static int
scan_pos_cmp(const void *a, const void *b)
{
	const struct pos_hit *x = a, *y = b;

	if (x->rec != y->rec)
		return x->rec < y->rec ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static bool
scan_near(size_t a, size_t b, size_t prox)
{
	return (a > b ? a - b : b - a) <= prox;
}

/* Weak hits count when another field of the same record is within
 * proximity: a strong one, or a weak one of another field. */
static void
scan_corroborate(struct scan_ctx *x)
{
	struct pos_hit *w, *s;
	size_t nw = x->weak->len, ns = x->strong->len, i, j, k, si = 0;
	size_t prox = x->e->proximity;

	if (nw == 0)
		return;
	g_array_sort(x->weak, scan_pos_cmp);
	g_array_sort(x->strong, scan_pos_cmp);
	w = (struct pos_hit *)(void *)x->weak->data;
	s = (struct pos_hit *)(void *)x->strong->data;
	for (i = 0; i < nw; i = j) {
		uint32_t rec = w[i].rec;

		for (j = i; j < nw && w[j].rec == rec; j++)
			;
		while (si < ns && s[si].rec < rec)
			si++;
		for (k = i; k < j; k++) {
			bool ok = false;
			size_t m;

			for (m = si; m < ns && s[m].rec == rec && !ok; m++)
				ok = scan_near(s[m].pos, w[k].pos, prox);
			for (m = i; m < j && !ok; m++)
				ok = w[m].field != w[k].field &&
				    scan_near(w[m].pos, w[k].pos, prox);
			if (!ok)
				continue;
			(void)findings_add_record(x->f, rec,
			    table_record_id(x->e->table, rec),
			    table_record_list(x->e->table, rec),
			    table_record_canary(x->e->table, rec), x->seg,
			    (enum field_kind)w[k].kind);
			if (w[k].kind < KIND_COUNT &&
			    findings_once(x->f, 0x300 + w[k].kind,
			    ((uint64_t)w[k].rec << 16) | w[k].field) == 1)
				x->f->kind_values[w[k].kind]++;
		}
	}
}

static int
scan_today(void)
{
	struct tm tm;
	time_t now = time(NULL);

	(void)localtime_r(&now, &tm);
	return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday;
}

static int
scan_segment(struct scan_ctx *x, hs_scratch_t *scratch, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct textview v;
	hs_error_t rc;
	size_t off, chunk;
	int ret = -1;

	memset(&v, 0, sizeof v);
	if (textview_build(&v, text, len) != 0) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	x->v = &v;
	x->digits_done = x->email_done = x->token_done = 0;
	g_array_set_size(x->strong, 0);
	g_array_set_size(x->weak, 0);
	/* hs_scan takes an unsigned int length: scan in pieces below it.
	 * A candidate across a piece boundary is found from both sides
	 * (its extent is taken from the whole view). */
	for (off = 0; off == 0 || off < v.len; off += chunk) {
		chunk = v.len - off > (1u << 30) ? (1u << 30) : v.len - off;
		rc = hs_scan(x->e->cand_db, v.buf + off, (unsigned)chunk, 0,
		    scratch, scan_on_candidate, x);
		if (rc == HS_SUCCESS && x->e->weak_db != NULL)
			rc = hs_scan(x->e->weak_db, v.buf + off,
			    (unsigned)chunk, 0, scratch, scan_on_weak, x);
		if (rc != HS_SUCCESS) {
			(void)snprintf(err, errlen, "hs_scan failed (%d)", rc);
			goto out;
		}
		if (v.len == 0)
			break;
	}
	scan_corroborate(x);
	x->f->bytes_scanned += v.len;
	ret = 0;
out:
	textview_free(&v);
	return ret;
}

int
engine_scan(const struct engine *e, const struct textseg *t,
    struct findings *f, char *err, size_t errlen)
{
	struct scan_ctx x;
	hs_scratch_t *scratch;
	size_t i;
	int rc = 0;

	if ((scratch = engine_scratch(e, err, errlen)) == NULL)
		return -1;
	memset(&x, 0, sizeof x);
	x.e = e;
	x.f = f;
	x.today = scan_today();
	x.strong = g_array_new(FALSE, FALSE, sizeof(struct pos_hit));
	x.weak = g_array_new(FALSE, FALSE, sizeof(struct pos_hit));
	if ((x.groups = malloc(sizeof *x.groups * RUN_MAX_GROUPS)) == NULL) {
		g_array_free(x.strong, TRUE);
		g_array_free(x.weak, TRUE);
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	(void)snprintf(f->list_version, sizeof f->list_version, "%s",
	    e->version);
	for (i = 0; i < t->nseg && rc == 0; i++) {
		if (t->seg[i].text == NULL)
			continue;
		x.seg = (uint32_t)i;
		rc = scan_segment(&x, scratch, t->seg[i].text,
		    t->seg[i].text_len, err, errlen);
	}
	/* Below its threshold a detector reports nothing. */
	for (i = 0; i < DET_COUNT; i++)
		if (f->detector_values[i] < e->det_threshold[i])
			f->detector_values[i] = 0;
	g_array_free(x.strong, TRUE);
	g_array_free(x.weak, TRUE);
	free(x.groups);
	return rc;
}
