/* scanlog.c - a segment's changes to the findings, recorded and played
 * (see scanlog.h). */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "scanlog.h"

/* A log is one blob: this header, then events, in order:
 *   'R' u32 rec, u16 kind
 *   'V' u32 class, u64 key, u8 detector, u16 idx, u16 sample length
 *       (UINT16_MAX: none), the sample and a NUL
 *   'K' u16 length, the keyword and a NUL
 *   'A'                       (weak-only evidence, ambiguous)
 * in host order: it never leaves the process. */
struct scanlog_header {
	uint64_t	spent;		/* linking steps */
	uint64_t	bytes;		/* view bytes scanned */
};

#define SCANLOG_NONE	UINT16_MAX

void
scanlog_start(struct scanlog *l)
{
	struct scanlog_header h;

	scanlog_stop(l);
	memset(&h, 0, sizeof h);
	l->b = g_byte_array_new();
	g_byte_array_append(l->b, (const guint8 *)&h, sizeof h);
}

void
scanlog_stop(struct scanlog *l)
{
	if (l->b != NULL)
		g_byte_array_unref(l->b);
	l->b = NULL;
}

static void
scanlog_put(struct scanlog *l, const void *p, size_t n)
{
	g_byte_array_append(l->b, p, (guint)n);
}

static void
scanlog_apply_record(struct findings *f, const struct table *t,
    uint32_t rec, uint32_t seg, enum field_kind kind)
{
	(void)findings_add_record(f, rec, table_record_id(t, rec),
	    table_record_list(t, rec), table_record_canary(t, rec), seg, kind);
}

void
scanlog_record(struct scanlog *l, struct findings *f, const struct table *t,
    uint32_t rec, uint32_t seg, enum field_kind kind)
{
	uint16_t k = (uint16_t)kind;

	scanlog_apply_record(f, t, rec, seg, kind);
	if (l->b == NULL)
		return;
	scanlog_put(l, "R", 1);
	scanlog_put(l, &rec, sizeof rec);
	scanlog_put(l, &k, sizeof k);
}

static void
scanlog_apply_value(struct findings *f, uint32_t class, uint64_t key,
    bool detector, unsigned idx, const char *masked, uint32_t seg)
{
	if (findings_once(f, class, key) != 1)
		return;
	if (detector)
		f->detector_values[idx]++;
	else
		f->kind_values[idx]++;
	if (masked != NULL && f->nsamples < f->max_samples)
		findings_sample(f, detector, idx, masked, seg);
}

void
scanlog_value(struct scanlog *l, struct findings *f, uint32_t class,
    uint64_t key, bool detector, unsigned idx, const char *masked,
    uint32_t seg)
{
	uint8_t d = detector;
	uint16_t i = (uint16_t)idx, n = SCANLOG_NONE;

	scanlog_apply_value(f, class, key, detector, idx, masked, seg);
	if (l->b == NULL)
		return;
	if (masked != NULL && strlen(masked) < SCANLOG_NONE)
		n = (uint16_t)strlen(masked);
	scanlog_put(l, "V", 1);
	scanlog_put(l, &class, sizeof class);
	scanlog_put(l, &key, sizeof key);
	scanlog_put(l, &d, sizeof d);
	scanlog_put(l, &i, sizeof i);
	scanlog_put(l, &n, sizeof n);
	if (n != SCANLOG_NONE)
		scanlog_put(l, masked, (size_t)n + 1);
}

void
scanlog_keyword(struct scanlog *l, struct findings *f, const char *keyword)
{
	size_t len = strlen(keyword);
	uint16_t n = (uint16_t)len;

	(void)findings_keyword(f, keyword);
	if (l->b == NULL)
		return;
	if (len >= SCANLOG_NONE) {	/* never: keywords are short */
		scanlog_stop(l);
		return;
	}
	scanlog_put(l, "K", 1);
	scanlog_put(l, &n, sizeof n);
	scanlog_put(l, keyword, len + 1);
}

void
scanlog_ambiguous(struct scanlog *l, struct findings *f)
{
	f->weak_ambiguous++;
	if (l->b != NULL)
		scanlog_put(l, "A", 1);
}

void
scanlog_keep(struct scanlog *l, struct blobcache *c,
    const uint8_t key[BLOBCACHE_KEY], size_t spent, size_t bytes)
{
	struct scanlog_header h = { spent, bytes };

	if (l->b != NULL) {
		memcpy(l->b->data, &h, sizeof h);
		(void)blobcache_put(c, key, l->b->data, l->b->len);
	}
	scanlog_stop(l);
}

int
scanlog_play(const struct blob *b, struct findings *f,
    const struct table *t, uint32_t seg, size_t *budget)
{
	const uint8_t *p = b->data + sizeof(struct scanlog_header),
	    *end = b->data + b->len;
	struct scanlog_header h;

	memcpy(&h, b->data, sizeof h);
	if (*budget <= h.spent)
		return 0;
	while (p < end) {
		uint32_t rec, class;
		uint64_t key;
		uint16_t k, n;
		uint8_t d;

		switch (*p++) {
		case 'R':
			memcpy(&rec, p, sizeof rec);
			memcpy(&k, p + 4, sizeof k);
			p += 6;
			scanlog_apply_record(f, t, rec, seg,
			    (enum field_kind)k);
			break;
		case 'V':
			memcpy(&class, p, sizeof class);
			memcpy(&key, p + 4, sizeof key);
			d = p[12];
			memcpy(&k, p + 13, sizeof k);
			memcpy(&n, p + 15, sizeof n);
			p += 17;
			scanlog_apply_value(f, class, key, d != 0, k,
			    n == SCANLOG_NONE ? NULL : (const char *)p, seg);
			if (n != SCANLOG_NONE)
				p += (size_t)n + 1;
			break;
		case 'K':
			memcpy(&n, p, sizeof n);
			p += 2;
			if (findings_keyword(f, (const char *)p) != 0)
				return -1;
			p += (size_t)n + 1;
			break;
		case 'A':
			f->weak_ambiguous++;
			break;
		default:
			return -1;	/* never: the log is ours */
		}
	}
	*budget -= h.spent;
	f->bytes_scanned += h.bytes;
	return 1;
}
