/* scan.c - scan one message's segments for customer records, generic
 * identifiers and keywords (engine_scan, see engine.h).
 *
 * Per segment: build the evasion-proof text view (normalize.h); run the
 * candidate database over it.  Each candidate callback finds the whole
 * candidate around the match end in the view (a digit run with its
 * groups, an e-mail address, a token), canonicalises it and looks it up
 * in the table by keyed fingerprint (in small batches, so that the
 * cache misses of a big table overlap), and runs the built-in
 * validators.
 * Then the weak-literal database runs over the same view and weak hits
 * are kept only when another field of the same record is near.  A weak
 * value many records share (a common name) is not expanded into a hit
 * per record but linked to the records other evidence brings in
 * (scan_link), so the work follows the message, not the list.
 *
 * A digit run is a maximal sequence of digit groups joined by at most
 * three separators (space, tab, line break, - . / ( )).  A group is never
 * split: a number inside a longer number is not a match.  Every sequence
 * of whole groups of 5 to 40 digits is a candidate, so "138 0013 8000"
 * and "2024 13800138000" both yield the mobile number, in linear time.
 *
 * The text of a file given again by extract/xcache.c carries a key
 * (textseg.h): its scan is recorded (scanlog.h) into the engine's kept
 * scans, and played back the next time instead of scanned.
 *
 * Owns only per-call state (the kept scans are the engine's).  Errors:
 * -1 with err (no memory, Hyperscan failure).  Nothing here writes a
 * value in clear anywhere: findings and kept scans get record ids,
 * counts, keyed fingerprints and masked samples. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine_int.h"
#include "hitsort.h"
#include "mask.h"
#include "normalize.h"
#include "scanlog.h"
#include "simd.h"
#include "validate.h"
#include "weakprune.h"

#define RUN_MAX_DIGITS	40	/* longest digit candidate */
#define RUN_MAX_GROUPS	4096	/* groups looked at in one run */
#define TOKEN_MAX	64	/* longest token candidate, characters */
#define WEAK_HITS_MAX	(1u << 20)	/* expanded weak hits a segment */
#define LINK_PARTNERS	16	/* weak events paired with each one */
#define LINK_BUDGET	(1u << 24)	/* linking steps a message */
/* Hit lists of two weak values are merged when the longer is at most
 * this many times the shorter, galloped through otherwise. */
#define SCAN_MERGE_RATIO 16
#define STRONG_BATCH	8	/* deferred table lookups (scan_strong) */
/* Weak hits a scan has room for at first: 64 KB, under glibc's mmap
 * threshold, so a clean message costs no system call for it. */
#define SCAN_HITS_RESERVE 4096
#define SCAN_KEEP_MIN	(16 * 1024)	/* text of a file whose scan is kept */
/* The digits of a run's groups (those short enough to be in a
 * candidate), one after another, and room for an 'x' after them. */
#define DIGITS_MAX	(RUN_MAX_GROUPS * RUN_MAX_DIGITS + 1)

/* What corroborates a weak hit: nothing, only a weak field of another
 * column, or a strong field of the same record. */
enum {
	NEAR_NONE,
	NEAR_WEAK,
	NEAR_STRONG
};

/* A record seen only through weak fields: its hits in x->weak, and a
 * hash of where and what they were.  Records with equal evidence cannot
 * be told apart by the text. */
struct weak_only {
	uint64_t	evidence;
	uint32_t	first, end;
};

/* A weak value found at pos that more records share than the engine
 * expands (engine.weak_expand): one event, not one hit per record.
 * scan_link turns it into hits for the records other evidence points
 * to. */
struct weak_event {
	uint32_t	lit;		/* weak literal id */
	uint32_t	pos;		/* view offset of its end */
};

struct group {
	size_t		start, end;	/* view offsets of the digits */
	char		sep;		/* first separator before it, or 0 */
	uint32_t	doff;		/* its digits in scan_ctx.digits */
};

/* A strong value looked up later (scan_lookup): its fingerprint and
 * view offset, never the value. */
struct strong_pending {
	uint64_t		 fp;
	size_t			 pos;
	const struct table_hit	*h;	/* once looked up: n hits */
	size_t			 n;
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
	size_t			 shape_done;	/* tokens without IBAN/USCC */
	size_t			 weak_off;	/* view offset of the piece */
	GArray			*strong;	/* struct pos_hit */
	GArray			*weak;		/* struct pos_hit */
	GArray			*big;		/* struct weak_event */
	GArray			*stamp;		/* uint32_t a big event */
	GArray			*work;		/* uint32_t places to link from */
	GHashTable		*pairs;		/* scan_link_pairs' results */
	size_t			 budget;	/* linking steps left */
	struct group		*groups;	/* RUN_MAX_GROUPS, reused */
	char			*digits;	/* DIGITS_MAX: a run's digits */
	struct textview		 view;		/* x->v, reused */
	size_t			 run_min;	/* digits a run needs */
	size_t			 seq_min;	/* ... a sequence of its groups */
	struct strong_pending	 pend[STRONG_BATCH];
	size_t			 npend;
	struct scanlog		 log;		/* the segment's, to keep */
	struct weakprune	 prune;		/* scan_corroborate's, reused */
};

static bool	scan_prune = true;	/* engine_prune_weak */

bool
engine_prune_weak(bool on)
{
	bool was = scan_prune;

	scan_prune = on;
	return was;
}

/* Whether a sample may be taken: room in the findings, or a log being
 * recorded (its samples are played into other findings, with their own
 * room: scanlog.h). */
static bool
scan_sampling(const struct scan_ctx *x)
{
	return x->log.b != NULL || x->f->nsamples < x->f->max_samples;
}

static bool
scan_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* Classes of view bytes, looked up in a table: the loops that find a
 * candidate's extent test every byte of it, most of them for two or
 * three classes at once. */
enum {
	SC_ALNUM = 1,		/* 0-9 a-z (the view is lower-cased) */
	SC_SEP = 2,		/* digit group separators */
	SC_JOIN = 4		/* token group separators: SC_SEP but \n */
};

#define SC_IS_SEP(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || \
			 (c) == '\n' || (c) == '-' || (c) == '.' || \
			 (c) == '/' || (c) == '(' || (c) == ')')
#define SC(c)		((((c) >= '0' && (c) <= '9') || \
			  ((c) >= 'a' && (c) <= 'z') ? SC_ALNUM : 0) | \
			 (SC_IS_SEP(c) ? SC_SEP : 0) | \
			 (SC_IS_SEP(c) && (c) != '\n' ? SC_JOIN : 0))
#define SC4(c)		SC(c), SC((c) + 1), SC((c) + 2), SC((c) + 3)
#define SC16(c)		SC4(c), SC4((c) + 4), SC4((c) + 8), SC4((c) + 12)
#define SC64(c)		SC16(c), SC16((c) + 16), SC16((c) + 32), SC16((c) + 48)

static const unsigned char scan_class[256] = {
	SC64(0), SC64(64)	/* bytes 128..255: no class */
};

static inline bool
scan_is(char c, unsigned int classes)
{
	return (scan_class[(unsigned char)c] & classes) != 0;
}

static inline bool
scan_issep(char c)
{
	return scan_is(c, SC_SEP);
}

static inline bool
scan_isalnum(char c)
{
	return scan_is(c, SC_ALNUM);
}

#ifdef __SSE2__
/* Bit k set where s[k] (k < 16) is not a digit, nor a lower-case letter
 * when alpha. */
static inline unsigned int
scan_outside16(const char *s, bool alpha)
{
	const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i in = simd_in16(v, '0', 9);

	if (alpha)
		in = _mm_or_si128(in, simd_in16(v, 'a', 25));
	return (unsigned int)_mm_movemask_epi8(in) ^ 0xffffu;
}
#endif

static inline bool
scan_span_byte(char c, bool alpha)
{
	return alpha ? scan_isalnum(c) : scan_isdigit(c);
}

/* The first offset at or after p, below len, that is not a digit (or a
 * letter, when alpha), or len: the end of a group.  Sixteen bytes a
 * step: a number of eleven to nineteen digits takes one or two. */
static inline size_t
scan_span_end(const char *buf, size_t p, size_t len, bool alpha)
{
#ifdef __SSE2__
	unsigned int m;

	for (; len - p >= 16; p += 16)
		if ((m = scan_outside16(buf + p, alpha)) != 0)
			return p + (size_t)__builtin_ctz(m);
#endif
	while (p < len && scan_span_byte(buf[p], alpha))
		p++;
	return p;
}

/* The first offset, not below stop, of the digits (or letters and
 * digits, when alpha) that end at p: the start of a group. */
static inline size_t
scan_span_start(const char *buf, size_t p, size_t stop, bool alpha)
{
#ifdef __SSE2__
	unsigned int m;

	for (; p - stop >= 16; p -= 16)
		if ((m = scan_outside16(buf + p - 16, alpha)) != 0)
			return p - 16 + 32 - (size_t)__builtin_clz(m);
#endif
	while (p > stop && scan_span_byte(buf[p - 1], alpha))
		p--;
	return p;
}

/* The n records (h) holding the strong value fp found at pos.  canon:
 * the value, for its masked sample; NULL when no sample can be taken
 * (x->f has its max_samples). */
static void
scan_strong_found(struct scan_ctx *x, const struct table_hit *h, size_t n,
    uint64_t fp, size_t pos, const char *canon, size_t len)
{
	size_t i;
	char masked[MASK_MAX];
	bool sample = canon != NULL && scan_sampling(x);

	for (i = 0; i < n; i++) {
		struct pos_hit p = { h[i].rec, (uint32_t)pos, h[i].field,
		    h[i].kind, NEAR_NONE };

		g_array_append_val(x->strong, p);
		scanlog_record(&x->log, x->f, x->e->table, h[i].rec, x->seg,
		    (enum field_kind)h[i].kind);
	}
	/* One value, one count per kind, one sample (no room: spare the
	 * mask). */
	if (h[0].kind >= KIND_COUNT)
		return;
	if (sample)
		mask_value((enum field_kind)h[0].kind, canon, len, masked);
	scanlog_value(&x->log, x->f, 0x100 + h[0].kind, fp, false, h[0].kind,
	    sample ? masked : NULL, x->seg);
}

/* The lookups scan_lookup deferred, in the order it made them: first
 * every bucket (each read started when its fingerprint was made, so
 * they are in cache or on their way), starting the reads of the records
 * they name; then the findings, by then mostly from cache. */
static void
scan_strong_flush(struct scan_ctx *x)
{
	struct strong_pending *r;
	size_t i;

	for (i = 0; i < x->npend; i++) {
		r = &x->pend[i];
		if ((r->n = table_lookup_strong(x->e->table, r->fp,
		    &r->h)) > 0)
			table_prefetch_record(x->e->table, r->h[0].rec);
	}
	for (i = 0; i < x->npend; i++) {
		r = &x->pend[i];
		if (r->n > 0)
			scan_strong_found(x, r->h, r->n, r->fp, r->pos, NULL,
			    0);
	}
	x->npend = 0;
}

/* A strong value candidate.  A big table misses the caches on every
 * value, twice (bucket, then record): at 10M records, waiting for these
 * reads one after another took about a sixth of the scan time.  So once
 * no sample can be taken any more, the lookup is deferred: its bucket
 * read starts now, and scan_strong_flush does the lookups of
 * STRONG_BATCH values together, or of those left at the end of each
 * candidate scan.  That changes no result: the deferred lookups run in
 * the order they were made, before anything reads what they add
 * (x->strong, the weak pass, the next segment), and the only outcome
 * that depends on their order against other sources (scan_detected),
 * which samples are kept, is already settled.  While a sample can still
 * be taken the value is looked up at once, as its sample needs it in
 * clear: nothing pending ever holds a value. */
static void
scan_strong(struct scan_ctx *x, uint64_t fp, size_t pos, const char *canon,
    size_t len)
{
	const struct table_hit *h;
	size_t n;

	if (scan_sampling(x)) {
		if ((n = table_lookup_strong(x->e->table, fp, &h)) > 0)
			scan_strong_found(x, h, n, fp, pos, canon, len);
		return;
	}
	table_prefetch_strong(x->e->table, fp);
	x->pend[x->npend].fp = fp;
	x->pend[x->npend].pos = pos;
	if (++x->npend == STRONG_BATCH)
		scan_strong_flush(x);
}

static inline void
scan_lookup(struct scan_ctx *x, enum value_class class, size_t pos,
    const char *canon, size_t len)
{
	/* Most candidates (dates, amounts, order numbers) have a length no
	 * list value has: no hash, no random read into a big table. */
	if (x->e->table == NULL || len == 0 ||
	    !engine_length_possible(x->e, class, len))
		return;
	scan_strong(x, listkey_fingerprint(&x->e->key, class, canon, len),
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
	bool sample;

	if (!x->e->det_on[d])
		return;
	fp = listkey_fingerprint(&x->e->key, CLASS_TEXT, val, len);
	if ((sample = scan_sampling(x)))	/* else no room: spare the mask */
		mask_value(mk, val, len, masked);
	scanlog_value(&x->log, x->f, 0x200 + d, fp, true, d,
	    sample ? masked : NULL, x->seg);
}

/* Separators a written identifier is grouped with: a space, a dash or
 * a dot, the same between every two groups; a line break (a value
 * wrapped) goes with any.  Takes c, the separator before one more
 * group, into those seen so far (*first: the first of them but line
 * breaks, or 0); false once they are not even.  One call a group, so
 * that scan_groups knows whether each sequence is even as it extends it,
 * instead of looking at all its separators again for every sequence. */
static bool
scan_sep_even(char *first, char c)
{
	if (c == '\n' || c == '\r')
		return true;
	if ((c != ' ' && c != '-' && c != '.') || (*first != 0 && c != *first))
		return false;
	*first = c;
	return true;
}

/* True when groups g[0..ng), whose separators are even (scan_sep_even),
 * are one group or have the lengths of one of the patterns (NULL-ended;
 * byte k: digits of group k, in octal escapes: "\3\10" is 3 then 8).
 * The detectors find an identifier as people write it: joined, a digit
 * run would make mobiles and card numbers out of a spreadsheet row's
 * cells (quantity, price, date).  Customer list values are looked up in
 * every grouping regardless. */
static bool
scan_grouped(const struct group *g, size_t ng, const char *const *pat)
{
	size_t k;

	if (ng == 1)
		return true;
	for (; *pat != NULL; pat++) {
		for (k = 0; k < ng && (*pat)[k] != '\0' &&
		    (size_t)(*pat)[k] == g[k].end - g[k].start; k++)
			;
		if (k == ng && (*pat)[k] == '\0')
			return true;
	}
	return false;
}

/* How the detectors' numbers are printed.  A mobile also as 7-4: what
 * "139<!-- -->1234 5678" leaves once the comment is gone. */
static const char *const groups_mobile[] = { "\3\4\4", "\3\10", "\7\4",
	NULL };
static const char *const groups_mobile86[] = { "\2\3\4\4", "\2\11",
	"\2\3\10", "\2\7\4", NULL };
static const char *const groups_id18[] = { "\6\10\4", "\6\4\4\4", NULL };
static const char *const groups_id17x[] = { "\6\10\3", "\6\4\4\3", NULL };
static const char *const groups_id15[] = { "\6\6\3", NULL };
static const char *const groups_card[] = { "\4\6\5", "\4\6\4", NULL };

/* A card number as printed: whole, in fours (the last group shorter:
 * 4-4-4-4-3 for 19 digits), or 4-6-5 and 4-6-4 (Amex, Diners); the
 * separators even. */
static bool
scan_card_grouped(const struct group *g, size_t ng)
{
	size_t k;

	if (scan_grouped(g, ng, groups_card))
		return true;
	for (k = 0; k + 1 < ng; k++)
		if (g[k].end - g[k].start != 4)
			return false;
	return g[ng - 1].end - g[ng - 1].start <= 4;
}

/* The detectors over the digits d[0..n) of groups g[0..ng).  even: their
 * separators are even (scan_sep_even); every detector takes a number
 * only as it is printed, so uneven ones (the cells of a spreadsheet row:
 * a tab, a decimal point, a date's dashes) are nothing to them. */
static void
scan_digit_detectors(struct scan_ctx *x, const char *d, size_t n,
    const struct group *g, size_t ng, bool even, bool xsuffix)
{
	char id[20];

	if (ng > 1 && !even)
		return;
	if (n == 11 && scan_grouped(g, ng, groups_mobile) &&
	    validate_cn_mobile(d, n))
		scan_detected(x, DET_CN_MOBILE, KIND_MOBILE, d, n);
	else if (n == 13 && memcmp(d, "86", 2) == 0 &&
	    scan_grouped(g, ng, groups_mobile86) &&
	    validate_cn_mobile(d + 2, 11))
		scan_detected(x, DET_CN_MOBILE, KIND_MOBILE, d + 2, 11);
	if ((n == 18 || (n == 17 && xsuffix) ||
	    (n == 15 && x->e->cn_id_legacy)) &&
	    scan_grouped(g, ng, n == 18 ? groups_id18 : n == 17 ?
	    groups_id17x : groups_id15)) {
		memcpy(id, d, n);
		if (n == 17)
			id[n++] = 'x';
		if (validate_cn_resident_id(id, n, x->e->cn_id_legacy,
		    x->today))
			scan_detected(x, DET_CN_RESIDENT_ID, KIND_CN_ID, id, n);
		n = n == 18 && id[17] == 'x' ? 17 : n;
	}
	if (n >= 13 && n <= 19 && scan_card_grouped(g, ng) &&
	    validate_payment_card(d, n))
		scan_detected(x, DET_PAYMENT_CARD, KIND_ACCOUNT, d, n);
	/* An SSN only in its written form, 123-45-6789: nine bare digits
	 * are far too common to mean one. */
	if (n == 9 && ng == 3 && g[1].sep == '-' && g[2].sep == '-' &&
	    g[0].end - g[0].start == 3 && g[1].end - g[1].start == 2 &&
	    validate_us_ssn(d, n))
		scan_detected(x, DET_US_SSN, KIND_CUSTOM, d, n);
}

/* Every sequence of whole groups of 5..40 digits: table lookups and
 * validators.  xsuffix: an 'x' follows the last group (ID numbers).
 * A spreadsheet's rows are runs of many short groups (quantity, price,
 * date), and so many sequences, most of them shorter than anything
 * looked for: those are passed over with a comparison (x->seq_min). */
static void
scan_groups(struct scan_ctx *x, const struct group *g, size_t ng,
    bool xsuffix)
{
	char *d, first;
	size_t i, j, n, skip;
	bool last, even;

	for (i = 0; i < ng; i++) {
		/* the digits of g[i..j], whole (scan_digit_run) */
		d = x->digits + g[i].doff;
		n = 0;
		first = 0;
		even = true;
		for (j = i; j < ng; j++) {
			if ((n += g[j].end - g[j].start) > RUN_MAX_DIGITS)
				break;
			/* the separators of g[i+1..j], as they extend */
			if (j > i && even)
				even = scan_sep_even(&first, g[j].sep);
			if (n < x->seq_min)
				continue;
			last = xsuffix && j == ng - 1;
			scan_digit_detectors(x, d, n, g + i, j - i + 1, even,
			    last);
			if (x->e->table == NULL)
				continue;
			/* d holds digits only: its canonical number (see
			 * normalize_digits) is a suffix of it, so no longer
			 * than d.  Most sequences are shorter than any number
			 * the list has: no need to find that suffix. */
			if (engine_length_upto(x->e, CLASS_NUMERIC, n)) {
				skip = normalize_digits_skip(d, n);
				scan_lookup(x, CLASS_NUMERIC, g[i].start,
				    d + skip, n - skip);
			}
			if (!x->e->alnum_values)
				continue;
			/* ID numbers and digit-only custom ids are tokens:
			 * their leading zeros count. */
			scan_lookup(x, CLASS_ALNUM, g[i].start, d, n);
			if (last && n == 17) {
				d[n] = 'x';
				scan_lookup(x, CLASS_ALNUM, g[i].start, d,
				    n + 1);
			}
		}
	}
}

/* The digit run around view offset end (just after a digit). */
static void
scan_digit_run(struct scan_ctx *x, size_t end)
{
	const char *buf = x->v->buf;
	size_t len = x->v->len, s = end, e, p, q, seps, nd = 0, dn = 0;
	struct group *g = x->groups;
	size_t ng = 0;
	char sep = 0;
	bool xsuffix;

	/* Back to the run's first digit, group by group. */
	for (p = s;;) {
		s = p = scan_span_start(buf, p, 0, false);
		for (seps = 0; p > seps && seps < 3 &&
		    scan_issep(buf[p - 1 - seps]); seps++)
			;
		if (seps == 0 || p <= seps || !scan_isdigit(buf[p - 1 - seps]))
			break;
		p -= seps;
	}
	/* Forward from there to its last digit, group by group. */
	for (p = s;;) {
		q = p;
		p = scan_span_end(buf, p, len, false);
		if (ng < RUN_MAX_GROUPS) {
			g[ng].start = q;
			g[ng].end = p;
			g[ng].sep = sep;
			g[ng++].doff = (uint32_t)dn;
			/* Copied once here, not for every sequence of groups
			 * that holds them.  A longer group is in none. */
			if (p - q <= RUN_MAX_DIGITS) {
				memcpy(x->digits + dn, buf + q, p - q);
				dn += p - q;
			}
		}
		nd += p - q;
		for (seps = 0; p + seps < len && seps < 3 &&
		    scan_issep(buf[p + seps]); seps++)
			;
		if (seps == 0 || p + seps >= len || !scan_isdigit(buf[p + seps]))
			break;
		sep = buf[p];
		p += seps;
	}
	x->digits_done = e = p;
	/* Letters glued to either end make it part of a word (an order
	 * number "A1234567"): tokens handle those. */
	if ((s > 0 && buf[s - 1] >= 'a' && buf[s - 1] <= 'z' &&
	    buf[s - 1] != 'x') ||
	    (e < len && buf[e] >= 'a' && buf[e] <= 'z' && buf[e] != 'x'))
		return;
	/* Too few digits for any value or detector (dates, amounts). */
	if (nd < x->run_min)
		return;
	xsuffix = e < len && buf[e] == 'x' &&
	    (e + 1 >= len || !scan_isalnum(buf[e + 1]));
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

/* Whether view bytes [s, e) hold an IBAN shape (two letters, two
 * digits, eleven more letters or digits, each maybe after one space) or
 * a USCC shape (eighteen letters or digits, the third to eighth digits).
 * The candidate shapes (engine.c) start later in these values, at their
 * digits, and so also point at tokens like long numbers: this keeps the
 * detectors to the tokens the full shapes describe. */
static bool
scan_token_shaped(const char *buf, size_t s, size_t e)
{
	size_t p, q, k;

	for (p = s; p + 15 <= e; p++) {
		if (buf[p] >= 'a' && buf[p] <= 'z' && buf[p + 1] >= 'a' &&
		    buf[p + 1] <= 'z' && scan_isdigit(buf[p + 2]) &&
		    scan_isdigit(buf[p + 3])) {
			for (q = p + 4, k = 0; k < 11; k++, q++) {
				if (q < e && buf[q] == ' ')
					q++;
				if (q >= e || !scan_isalnum(buf[q]))
					break;
			}
			if (k == 11)
				return true;
		}
		if (p + 18 > e)
			continue;
		for (k = 0; k < 18 && scan_isalnum(buf[p + k]) &&
		    (k < 2 || k >= 8 || scan_isdigit(buf[p + k])); k++)
			;
		if (k == 18)
			return true;
	}
	return false;
}

/* Tokens: letters and digits, in groups joined by one separator (an
 * IBAN written in fours, an order number "cust-00123").  Every sequence
 * of whole groups up to TOKEN_MAX characters that holds a digit is a
 * candidate.  shaped: only when the token holds an IBAN or USCC shape
 * (scan_token_shaped). */
static void
scan_token(struct scan_ctx *x, size_t end, bool shaped)
{
	const char *buf = x->v->buf;
	size_t len = x->v->len, s = end, e = end, stop, i, j, n;
	struct { size_t start, end; bool digit; } g[32];
	size_t ng = 0;
	char t[TOKEN_MAX + 1];

	/* Up to 128 bytes either side: groups, each joined to the next by
	 * one separator. */
	stop = end > 128 ? end - 128 : 0;
	for (;;) {
		s = scan_span_start(buf, s, stop, true);
		if (s <= stop || s < 2 || !scan_is(buf[s - 1], SC_JOIN) ||
		    !scan_isalnum(buf[s - 2]))
			break;
		s--;
	}
	stop = len - end > 128 ? end + 128 : len;
	for (;;) {
		e = scan_span_end(buf, e, stop, true);
		if (e >= stop || e + 1 >= len || !scan_is(buf[e], SC_JOIN) ||
		    !scan_isalnum(buf[e + 1]))
			break;
		e++;
	}
	if (shaped && !scan_token_shaped(buf, s, e)) {
		x->shape_done = e;
		return;
	}
	x->token_done = e;
	for (i = s; i < e && ng < 32;) {
		while (i < e && !scan_isalnum(buf[i]))
			i++;
		g[ng].start = i;
		g[ng].digit = false;
		for (; i < e && scan_isalnum(buf[i]); i++)
			g[ng].digit |= scan_isdigit(buf[i]);
		g[ng++].end = i;
	}
	for (i = 0; i < ng; i++) {
		bool digit = false;

		n = 0;
		for (j = i; j < ng; j++) {
			size_t gl = g[j].end - g[j].start;

			if (n + gl > TOKEN_MAX)
				break;
			memcpy(t + n, buf + g[j].start, gl);
			digit |= g[j].digit;
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
		/* The match ends with the byte after the group, if any. */
		if (to > 0 && !scan_isdigit(x->v->buf[to - 1]))
			to--;
		if (to > x->digits_done)
			scan_digit_run(x, (size_t)to);
		break;
	case CAND_EMAIL:
		if (to > x->email_done)
			scan_email(x, (size_t)to);
		break;
	case CAND_TOKEN:
		if (to > x->token_done)
			scan_token(x, (size_t)to, false);
		break;
	case CAND_IBAN:
	case CAND_USCC:
		/* The IBAN shape ends with the byte after the token. */
		if (to > 0 && !scan_isalnum(x->v->buf[to - 1]))
			to--;
		if (to > x->token_done && to > x->shape_done)
			scan_token(x, (size_t)to, true);
		break;
	default:
		if (id >= CAND_KEYWORD && id - CAND_KEYWORD < x->e->nkeywords)
			scanlog_keyword(&x->log, x->f,
			    x->e->keywords[id - CAND_KEYWORD]);
	}
	return 0;
}

static void
scan_weak_hit(struct scan_ctx *x, const struct table_hit *h, uint32_t pos)
{
	struct pos_hit p = { h->rec, pos, h->field, h->kind, NEAR_NONE };

	g_array_append_val(x->weak, p);
}

/* Weak value id ends at view offset to.  One few records share gives a
 * hit per record, to be sorted and corroborated.  One that many share
 * (a common name in a big list) is kept as an event: expanding it cost
 * one hit per customer sharing the name, whatever the message, and most
 * of those could never be corroborated.  Past WEAK_HITS_MAX hits in a
 * segment (a text made of names) every value is kept as an event, whose
 * linking is bounded. */
static void
scan_weak_value(struct scan_ctx *x, uint32_t id, size_t to)
{
	const struct table_hit *h;
	struct pos_hit *p;
	size_t n, i, at;

	if ((n = table_lookup_weak(x->e->table, id, &h)) == 0)
		return;
	if (n > x->e->weak_expand || x->weak->len + n > WEAK_HITS_MAX) {
		struct weak_event ev = { id, (uint32_t)to };

		g_array_append_val(x->big, ev);
		return;
	}
	/* The value's n hits made in place: an append a hit cost more than
	 * the rest of this callback (a value here is a dozen records'). */
	at = x->weak->len;
	g_array_set_size(x->weak, at + (guint)n);
	p = &g_array_index(x->weak, struct pos_hit, at);
	for (i = 0; i < n; i++) {
		p[i].rec = h[i].rec;
		p[i].pos = (uint32_t)to;
		p[i].field = h[i].field;
		p[i].kind = h[i].kind;
		p[i].near = NEAR_NONE;
	}
}

/* A head of weak values ends at view offset to (weakhead.h): the values
 * behind it that the view holds whole from the head on.  Values that are
 * their head need no more; the others' bytes are fingerprinted once a
 * length and looked up among the head's. */
static int
scan_on_weak(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *arg)
{
	struct scan_ctx *x = arg;
	const struct weakhead_index *wi = &x->e->weak_heads;
	const struct weakhead_head *hd;
	size_t at = x->weak_off + (size_t)to, start, i, j, end;

	(void)from;
	(void)flags;
	if (wi->heads == NULL) {
		scan_weak_value(x, id, at);	/* an older build */
		return 0;
	}
	if (id >= wi->nheads || at < wi->heads[id].len)
		return 0;	/* not this blob's database: nothing to read */
	hd = &wi->heads[id];
	start = at - hd->len;
	end = hd->first + hd->count;
	for (i = hd->first; i < end; i = j) {
		uint16_t len = wi->tails[i].len;
		uint64_t fp;

		for (j = i + 1; j < end && wi->tails[j].len == len; j++)
			;
		if (len == hd->len) {
			scan_weak_value(x, wi->tails[i].weak_id, at);
			continue;
		}
		if (start + len > x->v->len)
			break;		/* longer ones do not fit either */
		fp = weakhead_fp(&x->e->key, x->v->buf + start, len);
		for (j = weakhead_seek(wi, i, j, len, fp); j < end &&
		    wi->tails[j].len == len && wi->tails[j].fp == fp; j++)
			scan_weak_value(x, wi->tails[j].weak_id, start + len);
		while (j < end && wi->tails[j].len == len)
			j++;
	}
	return 0;
}

/* Hits of a segment (x->strong, x->weak, a record's seeds) by record,
 * then place. */
static void
scan_sort_hits(const struct scan_ctx *x, GArray *a)
{
	uint32_t nrec = x->e->table != NULL ? table_records(x->e->table) : 0;

	hitsort((struct pos_hit *)(void *)a->data, a->len,
	    nrec > 0 ? nrec - 1 : UINT32_MAX);
}

/* Spends n linking steps; false once the message's budget is gone. */
static bool
scan_spend(struct scan_ctx *x, size_t n)
{
	if (x->budget < n) {
		x->budget = 0;
		x->f->weak_truncated = true;
		return false;
	}
	x->budget -= n;
	return true;
}

/* The first index at or after i whose record is not below rec, in hits
 * sorted by record (the table keeps a weak value's hits so).  Galloping:
 * walking a long list along a short one costs the short one's length
 * times a logarithm. */
static size_t
scan_seek(struct scan_ctx *x, const struct table_hit *h, size_t n,
    size_t i, uint32_t rec)
{
	size_t step = 1, lo = i, hi, mid, steps = 1;

	if (i >= n || h[i].rec >= rec)
		return i;
	while (lo + step < n && h[lo + step].rec < rec) {
		lo += step;
		step *= 2;
		steps++;
	}
	hi = lo + step < n ? lo + step : n;
	for (lo++; lo < hi; steps++) {
		mid = lo + (hi - lo) / 2;
		if (h[mid].rec < rec)
			lo = mid + 1;
		else
			hi = mid;
	}
	(void)scan_spend(x, steps);
	return lo;
}

static int
scan_event_cmp(const void *a, const void *b)
{
	const struct weak_event *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* True when some field of a differs from some field of b. */
static bool
scan_fields_differ(const struct table_hit *a, size_t na,
    const struct table_hit *b, size_t nb)
{
	size_t i, j;

	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (a[i].field != b[j].field)
				return true;
	return false;
}

/* The next record both hit lists (sorted by record) hold, from *i and *j
 * on: false when there is none.  A merge, one step per hit passed, with
 * no branch to mispredict but the rare match: for lists of like length
 * (two names a thousand customers share each) it is several times
 * faster than galloping, whose every step is a coin toss. */
static bool
scan_merge_next(const struct table_hit *ha, size_t na, size_t *pi,
    const struct table_hit *hb, size_t nb, size_t *pj)
{
	size_t i = *pi, j = *pj;
	bool found = false;

	while (i < na && j < nb) {
		uint32_t ra = ha[i].rec, rb = hb[j].rec;

		if (ra == rb) {
			found = true;
			break;
		}
		i += ra < rb;
		j += rb < ra;
	}
	*pi = i;
	*pj = j;
	return found;
}

/* The records that hold both weak values, under different fields: what
 * a name next to a company can name.  Counts them up to lim + 1 and,
 * when there are at most lim, gives each its hits at both places.
 * Lists of like length are merged, at most na + nb steps spent up front;
 * a short list is walked along a long one by galloping (scan_seek). */
static size_t
scan_intersect(struct scan_ctx *x, const struct weak_event *a,
    const struct weak_event *b, size_t lim)
{
	const struct table_hit *ha, *hb, *t;
	const struct weak_event *te;
	size_t na, nb, i = 0, j = 0, ie, je, k = 0, tn;
	size_t mark = x->weak->len;
	bool merge;

	na = table_lookup_weak(x->e->table, a->lit, &ha);
	nb = table_lookup_weak(x->e->table, b->lit, &hb);
	if (na > nb) {
		t = ha, ha = hb, hb = t;
		tn = na, na = nb, nb = tn;
		te = a, a = b, b = te;
	}
	if ((merge = nb / SCAN_MERGE_RATIO <= na) && !scan_spend(x, na + nb))
		return 0;
	while (k <= lim) {
		if (merge) {
			if (!scan_merge_next(ha, na, &i, hb, nb, &j))
				break;
		} else {
			if (i >= na || !scan_spend(x, 1))
				break;
			j = scan_seek(x, hb, nb, j, ha[i].rec);
			if (j >= nb)
				break;
			if (hb[j].rec != ha[i].rec) {
				for (ie = i + 1; ie < na &&
				    ha[ie].rec == ha[i].rec; ie++)
					;
				i = ie;
				continue;
			}
		}
		for (ie = i + 1; ie < na && ha[ie].rec == ha[i].rec; ie++)
			;
		for (je = j + 1; je < nb && hb[je].rec == hb[j].rec; je++)
			;
		if (scan_fields_differ(ha + i, ie - i, hb + j, je - j)) {
			k++;
			for (; i < ie; i++)
				scan_weak_hit(x, &ha[i], a->pos);
			for (; j < je; j++)
				scan_weak_hit(x, &hb[j], b->pos);
		}
		i = ie;
		j = je;
	}
	/* Too many to name anyone, or not known: no hits at all. */
	if (k > lim || x->budget == 0)
		g_array_set_size(x->weak, (guint)mark);
	return k;
}

/* Whether view offsets a <= b are within prox characters of each
 * other.  Most pairs are decided by their bytes: fewer bytes than prox,
 * or more than the 4 bytes a character takes at most; only those in
 * between are counted. */
static bool
scan_near(const struct textview *v, size_t a, size_t b, size_t prox)
{
	size_t d = b - a;

	if (d <= prox)
		return true;
	if (d / 4 > prox)
		return false;
	return textview_chars(v, a, b) <= prox;
}

/* Two widely shared weak values near each other (a common name next to
 * a big company): the records holding both.  Up to the expansion limit
 * (or weak_max_records, if higher) they get their hits and are judged
 * like any others; more than that can name nobody and counts as
 * ambiguous, once a pair of values a segment.  Each event is paired
 * with the next LINK_PARTNERS events in proximity. */
static void
scan_link_pairs(struct scan_ctx *x)
{
	const struct weak_event *b = (const struct weak_event *)(void *)
	    x->big->data;
	size_t nb = x->big->len, lim, i, j, k;

	lim = x->e->weak_expand > x->e->weak_max_records ?
	    x->e->weak_expand : x->e->weak_max_records;
	for (i = 0; i < nb; i++)
		for (j = i + 1; j < nb && j <= i + LINK_PARTNERS &&
		    scan_near(x->v, b[i].pos, b[j].pos, x->e->proximity);
		    j++) {
			uint64_t key;
			gpointer old;

			if (b[i].lit == b[j].lit || x->budget == 0)
				continue;
			key = b[i].lit < b[j].lit ?
			    ((uint64_t)b[i].lit << 32) | b[j].lit :
			    ((uint64_t)b[j].lit << 32) | b[i].lit;
			if ((old = g_hash_table_lookup(x->pairs, &key)) ==
			    NULL) {
				/* gives the hits when there are few enough */
				k = scan_intersect(x, &b[i], &b[j], lim);
				if (x->budget == 0)
					continue;	/* not known */
				g_hash_table_insert(x->pairs,
				    g_memdup2(&key, sizeof key),
				    GSIZE_TO_POINTER(k + 1));
				if (k > lim)	/* counted once */
					scanlog_ambiguous(&x->log, x->f);
			} else if ((k = GPOINTER_TO_SIZE(old) - 1) > 0 &&
			    k <= lim) {
				/* the same records, hits at these places */
				(void)scan_intersect(x, &b[i], &b[j], lim);
			}
		}
}

/* Gives one record its hits at the shared weak values found within
 * proximity of what x->work holds (its other hits' places), and of the
 * places those add in turn: everything that could corroborate, or be
 * corroborated by, the record's other evidence. */
static void
scan_link_record(struct scan_ctx *x, uint32_t rec, uint32_t mark)
{
	const struct weak_event *b = (const struct weak_event *)(void *)
	    x->big->data;
	uint32_t *stamp = (uint32_t *)(void *)x->stamp->data;
	const struct table_hit *h;
	size_t nb = x->big->len, prox = x->e->proximity, k, lo, hi, mid, n, i;

	for (k = 0; k < x->work->len; k++) {
		size_t p = g_array_index(x->work, uint32_t, k);

		/* the first event within prox characters before p, or after */
		for (lo = 0, hi = nb; lo < hi; ) {
			mid = lo + (hi - lo) / 2;
			if (b[mid].pos < p &&
			    !scan_near(x->v, b[mid].pos, p, prox))
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < nb && (b[lo].pos <= p ||
		    scan_near(x->v, p, b[lo].pos, prox)); lo++) {
			if (stamp[lo] == mark)
				continue;
			stamp[lo] = mark;
			if (!scan_spend(x, 1))
				return;
			n = table_lookup_weak(x->e->table, b[lo].lit, &h);
			i = scan_seek(x, h, n, 0, rec);
			if (i >= n || h[i].rec != rec)
				continue;
			for (; i < n && h[i].rec == rec; i++)
				scan_weak_hit(x, &h[i], b[lo].pos);
			g_array_append_val(x->work, b[lo].pos);
		}
	}
}

/* Links the widely shared weak values (x->big) to records: first pairs
 * of them, then every record some other hit brought in (a strong value,
 * a weak value few share, a pair just linked).  Within the message's
 * budget of steps; past it the findings say so (weak_truncated). */
static void
scan_link(struct scan_ctx *x)
{
	GArray *seeds;
	const struct pos_hit *s;
	size_t i, j;
	uint32_t mark = 0;

	if (x->big->len == 0)
		return;
	g_array_sort(x->big, scan_event_cmp);
	g_hash_table_remove_all(x->pairs);
	scan_link_pairs(x);
	g_array_set_size(x->stamp, x->big->len);
	memset(x->stamp->data, 0, x->big->len * sizeof(uint32_t));
	seeds = g_array_sized_new(FALSE, FALSE, sizeof(struct pos_hit),
	    x->strong->len + x->weak->len);
	g_array_append_vals(seeds, x->strong->data, x->strong->len);
	g_array_append_vals(seeds, x->weak->data, x->weak->len);
	scan_sort_hits(x, seeds);
	s = (const struct pos_hit *)(void *)seeds->data;
	for (i = 0; i < seeds->len && x->budget > 0; i = j) {
		g_array_set_size(x->work, 0);
		for (j = i; j < seeds->len && s[j].rec == s[i].rec; j++)
			g_array_append_val(x->work, s[j].pos);
		scan_link_record(x, s[i].rec, ++mark);
	}
	g_array_free(seeds, TRUE);
}

/* Marks NEAR_WEAK the hits with a hit of another field within prox
 * before them (or after, with back).  It keeps the last hit and the last
 * one of another field than that: the nearest hit of another field than
 * the current one's is one of the two. */
static void
scan_mark_other(const struct textview *v, struct pos_hit *w, size_t n,
    size_t prox, bool back)
{
	size_t k;
	uint32_t p1 = 0, p2 = 0;
	uint16_t f1 = 0;
	bool have1 = false, have2 = false;

	for (k = 0; k < n; k++) {
		struct pos_hit *h = &w[back ? n - 1 - k : k];
		bool other = false;
		uint32_t q = 0;

		if (have1 && f1 != h->field)
			other = true, q = p1;
		else if (have2)
			other = true, q = p2;
		if (other && h->near == NEAR_NONE && (back ?
		    scan_near(v, h->pos, q, prox) :
		    scan_near(v, q, h->pos, prox)))
			h->near = NEAR_WEAK;
		if (have1 && h->field != f1) {
			p2 = p1;
			have2 = true;
		}
		p1 = h->pos;
		f1 = h->field;
		have1 = true;
	}
}

/* Marks each weak hit of one record (w[0..n), by place) with what
 * corroborates it; s[0..ns) are the record's strong hits, by place.
 * Returns the best mark.  Linear: a name repeated all over a message
 * gives one record thousands of hits. */
static int
scan_mark_record(const struct textview *v, struct pos_hit *w, size_t n,
    const struct pos_hit *s, size_t ns, size_t prox)
{
	size_t k, m = 0;
	int best = NEAR_NONE;

	for (k = 0; k < n; k++) {
		while (m < ns && s[m].pos < w[k].pos &&
		    !scan_near(v, s[m].pos, w[k].pos, prox))
			m++;
		w[k].near = m < ns && (s[m].pos <= w[k].pos ||
		    scan_near(v, w[k].pos, s[m].pos, prox)) ?
		    NEAR_STRONG : NEAR_NONE;
	}
	/* one hit has no other field to be near (most records here: a
	 * name or a company seen once) */
	if (n > 1) {
		scan_mark_other(v, w, n, prox, false);
		scan_mark_other(v, w, n, prox, true);
	}
	for (k = 0; k < n; k++)
		if (w[k].near > best)
			best = w[k].near;
	return best;
}

/* Counts a record through its corroborated weak hits. */
static void
scan_count_weak(struct scan_ctx *x, const struct pos_hit *w, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++) {
		if (w[k].near == NEAR_NONE)
			continue;
		scanlog_record(&x->log, x->f, x->e->table, w[k].rec, x->seg,
		    (enum field_kind)w[k].kind);
		if (w[k].kind < KIND_COUNT)
			scanlog_value(&x->log, x->f, 0x300 + w[k].kind,
			    ((uint64_t)w[k].rec << 16) | w[k].field, false,
			    w[k].kind, NULL, x->seg);
	}
}

/* Where and what a record's weak-only evidence was: records that share
 * a name and a company share this.  A sum of mixed hits, so the order
 * of hits at one place does not matter. */
static uint64_t
scan_evidence(const struct pos_hit *w, size_t n)
{
	uint64_t h = 0, v;
	size_t k;

	for (k = 0; k < n; k++) {
		if (w[k].near == NEAR_NONE)
			continue;
		v = (((uint64_t)w[k].pos << 16) | w[k].kind) *
		    0x9e3779b97f4a7c15ull;
		h += v ^ (v >> 31);
	}
	return h;
}

static int
scan_evidence_cmp(const void *a, const void *b)
{
	const struct weak_only *x = a, *y = b;

	if (x->evidence != y->evidence)
		return x->evidence < y->evidence ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Linking may give a record the same hit twice (from a pair, then
 * from its own evidence): one value at one place is one hit.  a is
 * sorted by record and place; returns its new length. */
static size_t
scan_dedupe_hits(GArray *a)
{
	struct pos_hit *w = (struct pos_hit *)(void *)a->data;
	size_t n = a->len, i, j, k, at = 0;

	for (i = j = 0; i < n; i++) {
		if (j == 0 || w[i].rec != w[j - 1].rec ||
		    w[i].pos != w[j - 1].pos)
			at = j;		/* a new place: w[at..j) kept there */
		for (k = at; k < j && w[k].field != w[i].field; k++)
			;
		if (k == j)
			w[j++] = w[i];
	}
	g_array_set_size(a, (guint)j);
	return j;
}

/* Weak hits count when another field of the same record is within
 * proximity: a strong one, or a weak one of another field.  Weak-only
 * evidence that fits more than weak_max_records records (a common name
 * at a big company, in a list where hundreds share both) identifies
 * none of them: it is counted as ambiguous, not as hundreds of
 * customers.  A strong field always identifies its record. */
static void
scan_corroborate(struct scan_ctx *x)
{
	struct pos_hit *w, *s;
	GArray *only;
	size_t nw = x->weak->len, ns = x->strong->len, i, j, k, si, sj;

	/* Hits of records with no strong hit and one weak field can never
	 * count: not sorted, not walked (weakprune.h). */
	if (scan_prune) {
		nw = weakprune_run(&x->prune,
		    (struct pos_hit *)(void *)x->weak->data, nw,
		    (const struct pos_hit *)(void *)x->strong->data, ns);
		g_array_set_size(x->weak, (guint)nw);
	}
	if (nw == 0)
		return;
	scan_sort_hits(x, x->weak);
	scan_sort_hits(x, x->strong);
	w = (struct pos_hit *)(void *)x->weak->data;
	/* Hits expanded from the weak pass alone are never repeated. */
	if (x->big->len > 0)
		nw = scan_dedupe_hits(x->weak);
	s = (struct pos_hit *)(void *)x->strong->data;
	only = g_array_new(FALSE, FALSE, sizeof(struct weak_only));
	for (i = 0, si = 0; i < nw; i = j) {
		uint32_t rec = w[i].rec;

		for (j = i; j < nw && w[j].rec == rec; j++)
			;
		while (si < ns && s[si].rec < rec)
			si++;
		for (sj = si; sj < ns && s[sj].rec == rec; sj++)
			;
		/* s is NULL while no strong hit was ever kept */
		switch (scan_mark_record(x->v, w + i, j - i,
		    ns > 0 ? s + si : s,
		    sj - si, x->e->proximity)) {
		case NEAR_STRONG:
			scan_count_weak(x, w + i, j - i);
			break;
		case NEAR_WEAK: {
			struct weak_only o = { scan_evidence(w + i, j - i),
			    (uint32_t)i, (uint32_t)j };

			g_array_append_val(only, o);
			break;
		}
		default:
			break;
		}
	}
	g_array_sort(only, scan_evidence_cmp);
	for (i = 0; i < only->len; i = j) {
		const struct weak_only *o = &g_array_index(only,
		    struct weak_only, i);

		for (j = i; j < only->len && g_array_index(only,
		    struct weak_only, j).evidence == o->evidence; j++)
			;
		if (j - i > x->e->weak_max_records) {
			scanlog_ambiguous(&x->log, x->f);
			continue;
		}
		for (k = i; k < j; k++) {
			o = &g_array_index(only, struct weak_only, k);
			scan_count_weak(x, w + o->first, o->end - o->first);
		}
	}
	g_array_free(only, TRUE);
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

/* The text of a file read before (extract/xcache.c) comes again with
 * every message that carries the file, so its scan is kept (scanlog.h):
 * the key is the text's (textseg.h) and the day (ID numbers are checked
 * against it).
 * Returns 1 when a kept scan was played into x->f, 0 when the segment
 * is to be scanned (and *keep said whether to keep its scan), -1. */
static int
scan_kept(struct scan_ctx *x, const struct segment *sg,
    uint8_t key[BLOBCACHE_KEY], bool *keep)
{
	const struct blob *b;
	int rc;

	*keep = false;
	if (x->e->scans == NULL || !sg->keyed || sg->text_len < SCAN_KEEP_MIN)
		return 0;
	blobcache_key(x->e->scans, sg->text_key, sizeof sg->text_key,
	    &x->today, sizeof x->today, key);
	if ((b = blobcache_get(x->e->scans, key)) != NULL) {
		rc = scanlog_play(b, x->f, x->e->table, x->seg, &x->budget);
		blobcache_release(x->e->scans, b);
		if (rc != 0)
			return rc;
	}
	/* A scan that starts without linking budget would skip links a
	 * fuller budget makes: it says nothing of the text alone. */
	*keep = x->budget > 0;
	return 0;
}

static int
scan_segment(struct scan_ctx *x, hs_scratch_t *scratch,
    const struct segment *sg, char *err, size_t errlen)
{
	const struct textview *v = &x->view;
	const char *text = sg->text;
	size_t len = sg->text_len, off, chunk, budget = x->budget;
	uint8_t key[BLOBCACHE_KEY];
	hs_error_t rc;
	bool keep;
	int kept;

	if ((kept = scan_kept(x, sg, key, &keep)) != 0) {
		if (kept < 0)
			(void)snprintf(err, errlen, "out of memory");
		return kept < 0 ? -1 : 0;
	}
	if (keep)
		scanlog_start(&x->log);
	if (textview_rebuild(&x->view, text, len) != 0) {
		scanlog_stop(&x->log);
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	x->v = v;
	x->digits_done = x->email_done = x->token_done = x->shape_done = 0;
	x->npend = 0;
	g_array_set_size(x->strong, 0);
	g_array_set_size(x->weak, 0);
	g_array_set_size(x->big, 0);
	/* hs_scan takes an unsigned int length: scan in pieces below it.
	 * A candidate across a piece boundary is found from both sides
	 * (its extent is taken from the whole view). */
	for (off = 0; off == 0 || off < v->len; off += chunk) {
		chunk = v->len - off > (1u << 30) ? (1u << 30) : v->len - off;
		rc = hs_scan(x->e->cand_db, v->buf + off, (unsigned)chunk, 0,
		    scratch, scan_on_candidate, x);
		scan_strong_flush(x);
		x->weak_off = off;
		if (rc == HS_SUCCESS && x->e->weak_db != NULL)
			rc = hs_scan(x->e->weak_db, v->buf + off,
			    (unsigned)chunk, 0, scratch, scan_on_weak, x);
		if (rc != HS_SUCCESS) {
			(void)snprintf(err, errlen, "hs_scan failed (%d)", rc);
			scanlog_stop(&x->log);
			return -1;
		}
		if (v->len == 0)
			break;
	}
	scan_link(x);
	scan_corroborate(x);
	x->f->bytes_scanned += v->len;
	/* Kept only when the budget never ran out: then the same text
	 * gives the same findings wherever the budget is above what this
	 * scan spent (scanlog_play). */
	if (x->log.b != NULL && x->budget > 0)
		scanlog_keep(&x->log, x->e->scans, key, budget - x->budget,
		    v->len);
	scanlog_stop(&x->log);
	return 0;
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
	x.run_min = e->run_min;
	x.seq_min = engine_seq_min(e);
	/* Room for a dense message's hits up front (100 KB with 200
	 * records: 400 strong, some 5,000 weak ones): grown by doubling
	 * from nothing, they were copied at each of a dozen steps. */
	x.strong = g_array_sized_new(FALSE, FALSE, sizeof(struct pos_hit),
	    SCAN_HITS_RESERVE / 8);
	x.weak = g_array_sized_new(FALSE, FALSE, sizeof(struct pos_hit),
	    SCAN_HITS_RESERVE);
	x.big = g_array_new(FALSE, FALSE, sizeof(struct weak_event));
	x.stamp = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	x.work = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	x.pairs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
	    NULL);
	x.budget = LINK_BUDGET;
	weakprune_init(&x.prune);
	x.groups = malloc(sizeof *x.groups * RUN_MAX_GROUPS);
	x.digits = malloc(DIGITS_MAX);
	if (x.groups == NULL || x.digits == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	(void)snprintf(f->list_version, sizeof f->list_version, "%s",
	    e->version);
	for (i = 0; i < t->nseg && rc == 0; i++) {
		if (t->seg[i].text == NULL)
			continue;
		x.seg = (uint32_t)i;
		rc = scan_segment(&x, scratch, &t->seg[i], err, errlen);
	}
	/* Below its threshold a detector reports nothing. */
	for (i = 0; i < DET_COUNT; i++)
		if (f->detector_values[i] < e->det_threshold[i])
			f->detector_values[i] = 0;
	g_array_free(x.strong, TRUE);
	g_array_free(x.weak, TRUE);
	g_array_free(x.big, TRUE);
	g_array_free(x.stamp, TRUE);
	g_array_free(x.work, TRUE);
	g_hash_table_destroy(x.pairs);
	weakprune_free(&x.prune);
	free(x.groups);
	free(x.digits);
	textview_free(&x.view);
	return rc;
}
