/* findings.c - the per-message result set of the detection engine (see
 * findings.h).  Owns its hash tables and samples; record ids point into
 * the table, which outlives the message. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "findings.h"

static const char *const detector_names[DET_COUNT] = {
	"cn_resident_id", "cn_uscc", "payment_card", "cn_mobile", "email",
	"iban", "us_ssn"
};

const char *
detector_name(enum detector d)
{
	return (unsigned)d < DET_COUNT ? detector_names[d] : "?";
}

int
detector_parse(const char *s, enum detector *out)
{
	int i;

	for (i = 0; i < DET_COUNT; i++)
		if (strcmp(s, detector_names[i]) == 0) {
			*out = (enum detector)i;
			return 0;
		}
	return -1;
}

/* Keys of `seen`: a 64-bit keyed fingerprint folded with its class,
 * which cannot collide in practice. */
static uint64_t
findings_fold(uint32_t class, uint64_t key)
{
	return key ^ ((uint64_t)class * 0x9e3779b97f4a7c15ULL);
}

/* A key's first slot in a table of cap (a power of two) slots.  Not
 * every key is a fingerprint (scan.c counts a record's field as
 * rec << 16 | field; record indexes are small numbers): the multiply
 * spreads it into the high bits, which pick the slot. */
static size_t
findings_slot(uint64_t k, size_t cap)
{
	return (size_t)(((k * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1));
}

/* Doubles the set (64 slots first).  Returns 0 or -1. */
static int
findings_seen_grow(struct findings_seen *s)
{
	struct findings_seen t;
	size_t i, j;

	t.cap = s->cap > 0 ? s->cap * 2 : 64;
	if ((t.slot = calloc(t.cap, sizeof *t.slot)) == NULL)
		return -1;
	for (i = 0; i < s->cap; i++) {
		if (s->slot[i] == 0)
			continue;
		for (j = findings_slot(s->slot[i], t.cap); t.slot[j] != 0;
		    j = (j + 1) & (t.cap - 1))
			;
		t.slot[j] = s->slot[i];
	}
	free(s->slot);
	s->slot = t.slot;
	s->cap = t.cap;
	return 0;
}

/* A set of our own, not a GHashTable: a message of records counts a
 * thousand values, and each insert into a GHashTable (its callbacks,
 * its rehashes as it grows from 8 buckets) cost hundreds of
 * instructions, a twentieth of the engine's time on such a message.
 * Returns 1 new, 0 seen, -1 on no memory. */
static int
findings_seen_add(struct findings_seen *s, uint64_t k)
{
	size_t i;

	if (k == 0) {
		if (s->zero)
			return 0;
		s->zero = true;
		return 1;
	}
	if (2 * (s->n + 1) > s->cap && findings_seen_grow(s) != 0)
		return -1;
	for (i = findings_slot(k, s->cap); s->slot[i] != 0;
	    i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == k)
			return 0;
	s->slot[i] = k;
	s->n++;
	return 1;
}

/* Doubles the index (64 slots first).  Returns 0 or -1. */
static int
findings_rec_grow(struct findings_records *r)
{
	struct findings_records t = *r;
	size_t i, j;

	t.nslots = r->nslots > 0 ? r->nslots * 2 : 64;
	if ((t.slot = calloc(t.nslots, sizeof *t.slot)) == NULL)
		return -1;
	for (i = 0; i < r->n; i++) {
		for (j = findings_slot(r->v[i].rec, t.nslots); t.slot[j] != 0;
		    j = (j + 1) & (t.nslots - 1))
			;
		t.slot[j] = (uint32_t)(i + 1);
	}
	free(r->slot);
	r->slot = t.slot;
	r->nslots = t.nslots;
	return 0;
}

int
findings_init(struct findings *f, size_t max_samples)
{
	memset(f, 0, sizeof *f);
	f->keywords = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	f->max_samples = max_samples;
	if (max_samples > 0)
		f->samples = g_new0(struct finding_sample, max_samples);
	return 0;
}

void
findings_free(struct findings *f)
{
	free(f->records.v);
	free(f->records.slot);
	free(f->records.order);
	free(f->seen.slot);
	if (f->keywords != NULL)
		g_hash_table_destroy(f->keywords);
	g_free(f->samples);
	memset(f, 0, sizeof *f);
}

void
findings_clear(struct findings *f)
{
	size_t max = f->max_samples;

	findings_free(f);
	(void)findings_init(f, max);
}

size_t
findings_records(const struct findings *f)
{
	return f->records.n;
}

int
findings_add_record(struct findings *f, uint32_t rec, const char *id,
    uint16_t list, bool canary, uint32_t segment, enum field_kind kind)
{
	struct findings_records *rs = &f->records;
	struct finding_record *r, *v;
	size_t i;

	/* Of our own, not a GHashTable, for the reason findings_seen_add
	 * gives: a g_new0 and an insert a record cost more than all the
	 * rest of finding it. */
	if (2 * (rs->n + 1) > rs->nslots && findings_rec_grow(rs) != 0)
		return -1;
	for (i = findings_slot(rec, rs->nslots); rs->slot[i] != 0;
	    i = (i + 1) & (rs->nslots - 1)) {
		r = &rs->v[rs->slot[i] - 1];
		if (r->rec == rec) {
			r->kinds |= 1u << kind;
			return 0;
		}
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap > 0 ? rs->cap * 2 : 32;

		if (cap > UINT32_MAX - 1 ||
		    (v = realloc(rs->v, cap * sizeof *v)) == NULL)
			return -1;
		rs->v = v;
		rs->cap = cap;
	}
	rs->slot[i] = (uint32_t)(rs->n + 1);
	r = &rs->v[rs->n++];
	memset(r, 0, sizeof *r);
	r->rec = rec;
	r->id = id;
	r->list = list;
	r->canary = canary;
	r->segment = segment;
	r->kinds = 1u << kind;
	if (list < FINDINGS_MAX_LISTS)
		f->per_list[list]++;
	if (canary)
		f->canaries++;
	return 1;
}

int
findings_once(struct findings *f, uint32_t class, uint64_t key)
{
	return findings_seen_add(&f->seen, findings_fold(class, key));
}

void
findings_sample(struct findings *f, bool detector, unsigned kind,
    const char *masked, uint32_t segment)
{
	struct finding_sample *s;

	if (f->nsamples >= f->max_samples)
		return;
	s = &f->samples[f->nsamples++];
	(void)g_strlcpy(s->text, masked, sizeof s->text);
	s->kind = (uint8_t)kind;
	s->detector = detector;
	s->segment = segment;
}

int
findings_keyword(struct findings *f, const char *keyword)
{
	gpointer old;

	old = g_hash_table_lookup(f->keywords, keyword);
	g_hash_table_insert(f->keywords, g_strdup(keyword),
	    GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + 1));
	return 0;
}

static int
findings_cmp(const void *a, const void *b)
{
	const struct finding_record *x = *(const struct finding_record *const *)a;
	const struct finding_record *y = *(const struct finding_record *const *)b;

	if (x->list != y->list)
		return x->list < y->list ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The records, pointers into v, in findings_cmp's order; g_free()d by
 * the caller. */
static const struct finding_record **
findings_sort_now(const struct findings_records *rs)
{
	const struct finding_record **v;
	size_t i;

	v = g_new(const struct finding_record *, rs->n + 1);
	for (i = 0; i < rs->n; i++)
		v[i] = &rs->v[i];
	qsort(v, rs->n, sizeof *v, findings_cmp);
	return v;
}

/* Whether findings_order's order is there and still covers every
 * record. */
static bool
findings_order_kept(const struct findings_records *rs)
{
	return rs->norder == rs->n && (rs->n == 0 || rs->order != NULL);
}

void
findings_order(struct findings *f)
{
	struct findings_records *rs = &f->records;
	const struct finding_record **v;
	uint32_t *order;
	size_t i;

	if (findings_order_kept(rs))
		return;
	v = findings_sort_now(rs);
	/* Indices, not pointers: v moves when a record is added. */
	if ((order = realloc(rs->order, (rs->n + 1) * sizeof *order)) !=
	    NULL) {
		for (i = 0; i < rs->n; i++)
			order[i] = (uint32_t)(v[i] - rs->v);
		rs->order = order;
		rs->norder = rs->n;
	}
	g_free(v);
}

const struct finding_record **
findings_sorted(const struct findings *f, size_t *n)
{
	const struct findings_records *rs = &f->records;
	const struct finding_record **v;
	size_t i;

	*n = rs->n;
	if (!findings_order_kept(rs))
		return findings_sort_now(rs);
	v = g_new(const struct finding_record *, *n + 1);
	for (i = 0; i < *n; i++)
		v[i] = &rs->v[rs->order[i]];
	return v;
}
