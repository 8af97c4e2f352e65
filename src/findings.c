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
 * which cannot collide in practice.  Where a pointer holds 64 bits the
 * key is the pointer itself: no allocation per value seen, which a
 * message with hundreds of records would otherwise pay for each. */
static guint64
findings_fold(uint32_t class, uint64_t key)
{
	return key ^ ((guint64)class * 0x9e3779b97f4a7c15ULL);
}

#if GLIB_SIZEOF_VOID_P >= 8
#define SEEN_NEW()	g_hash_table_new(findings_seen_hash, g_direct_equal)

static guint
findings_seen_hash(gconstpointer p)
{
	guint64 k = (guint64)(uintptr_t)p;

	return (guint)(k ^ (k >> 32));
}

static int
findings_seen_add(GHashTable *seen, guint64 k)
{
	gpointer p = (gpointer)(uintptr_t)k;

	if (g_hash_table_contains(seen, p))
		return 0;
	g_hash_table_add(seen, p);
	return 1;
}
#else
#define SEEN_NEW()	g_hash_table_new_full(g_int64_hash, g_int64_equal, \
			    g_free, NULL)

static int
findings_seen_add(GHashTable *seen, guint64 k)
{
	guint64 *p;

	if (g_hash_table_contains(seen, &k))
		return 0;
	p = g_new(guint64, 1);
	*p = k;
	g_hash_table_add(seen, p);
	return 1;
}
#endif

int
findings_init(struct findings *f, size_t max_samples)
{
	memset(f, 0, sizeof *f);
	f->records = g_hash_table_new_full(g_direct_hash, g_direct_equal,
	    NULL, g_free);
	f->seen = SEEN_NEW();
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
	if (f->records != NULL)
		g_hash_table_destroy(f->records);
	if (f->seen != NULL)
		g_hash_table_destroy(f->seen);
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
	return f->records != NULL ? g_hash_table_size(f->records) : 0;
}

int
findings_add_record(struct findings *f, uint32_t rec, const char *id,
    uint16_t list, bool canary, uint32_t segment, enum field_kind kind)
{
	struct finding_record *r;

	/* rec + 1: the direct hash must not see 0 (NULL). */
	r = g_hash_table_lookup(f->records, GUINT_TO_POINTER(rec + 1));
	if (r != NULL) {
		r->kinds |= 1u << kind;
		return 0;
	}
	r = g_new0(struct finding_record, 1);
	r->rec = rec;
	r->id = id;
	r->list = list;
	r->canary = canary;
	r->segment = segment;
	r->kinds = 1u << kind;
	g_hash_table_insert(f->records, GUINT_TO_POINTER(rec + 1), r);
	if (list < FINDINGS_MAX_LISTS)
		f->per_list[list]++;
	if (canary)
		f->canaries++;
	return 1;
}

int
findings_once(struct findings *f, uint32_t class, uint64_t key)
{
	return findings_seen_add(f->seen, findings_fold(class, key));
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

const struct finding_record **
findings_sorted(const struct findings *f, size_t *n)
{
	const struct finding_record **v;
	GHashTableIter it;
	gpointer val;
	size_t i = 0;

	*n = findings_records(f);
	v = g_new(const struct finding_record *, *n + 1);
	if (f->records != NULL) {
		g_hash_table_iter_init(&it, f->records);
		while (g_hash_table_iter_next(&it, NULL, &val))
			v[i++] = val;
	}
	qsort(v, *n, sizeof *v, findings_cmp);
	return v;
}
