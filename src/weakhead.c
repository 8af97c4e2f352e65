/* weakhead.c - weak literals found by their heads (see weakhead.h). */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <hs.h>

#include "kinds.h"
#include "normalize.h"
#include "weakhead.h"

static const char weakhead_magic[8] = "CWHEAD1";

struct weakhead_header {
	char		magic[8];
	uint32_t	nheads;
	uint32_t	ntails;
	uint64_t	hs_off;
	uint64_t	hs_len;
};

_Static_assert(sizeof(struct weakhead_header) == 32, "blob header");
_Static_assert(sizeof(struct weakhead_tail) == 16, "tail layout");
_Static_assert(sizeof(struct weakhead_head) == 12, "head layout");

/* A value on its way into the blob. */
struct weakhead_entry {
	uint64_t	fp;
	uint32_t	head;
	uint32_t	weak_id;
	uint16_t	len;
};

size_t
weakhead_len(const char *s, size_t len)
{
	size_t n = WEAKHEAD_MAX;

	if (len <= WEAKHEAD_MAX)
		return len;
	/* s[n] starts the first character left out */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n > 0 ? n : WEAKHEAD_MAX;
}

uint64_t
weakhead_fp(const struct listkey *key, const char *s, size_t len)
{
	return listkey_fingerprint(key, CLASS_TEXT, s, len);
}

static int
weakhead_entry_cmp(const void *a, const void *b)
{
	const struct weakhead_entry *x = a, *y = b;

	if (x->head != y->head)
		return x->head < y->head ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->fp != y->fp)
		return x->fp < y->fp ? -1 : 1;
	return x->weak_id < y->weak_id ? -1 : x->weak_id > y->weak_id;
}

/* The distinct heads as one serialized Hyperscan literal database. */
static int
weakhead_compile(GPtrArray *heads, char **hs, size_t *hslen, char *err,
    size_t errlen)
{
	size_t n = heads->len, i;
	unsigned *ids = calloc(n, sizeof *ids), *flags = calloc(n,
	    sizeof *flags);
	size_t *lens = calloc(n, sizeof *lens);
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;
	int rc = -1;

	if (ids == NULL || flags == NULL || lens == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		lens[i] = strlen(g_ptr_array_index(heads, i));
		ids[i] = (unsigned)i;
	}
	if (hs_compile_lit_multi((const char *const *)heads->pdata, flags,
	    ids, lens, (unsigned)n, HS_MODE_BLOCK, NULL, &db, &cerr) !=
	    HS_SUCCESS) {
		(void)snprintf(err, errlen, "weak fields: %s", cerr->message);
		hs_free_compile_error(cerr);
		goto out;
	}
	if (hs_serialize_database(db, hs, hslen) != HS_SUCCESS) {
		(void)snprintf(err, errlen, "weak fields: cannot serialize");
		goto out;
	}
	rc = 0;
out:
	hs_free_database(db);
	free(ids);
	free(flags);
	free(lens);
	return rc;
}

/* Head and fingerprint of every value, grouped by head: e[0..n). */
static struct weakhead_entry *
weakhead_entries(const char *const *lits, size_t n,
    const struct listkey *key, GPtrArray *heads)
{
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	struct weakhead_entry *e = calloc(n, sizeof *e);
	size_t i, len, hlen;

	for (i = 0; e != NULL && i < n; i++) {
		gpointer v;
		char *h;

		len = strlen(lits[i]);
		hlen = weakhead_len(lits[i], len);
		h = g_strndup(lits[i], hlen);
		if ((v = g_hash_table_lookup(seen, h)) == NULL) {
			g_ptr_array_add(heads, h);
			v = GSIZE_TO_POINTER(heads->len);
			g_hash_table_insert(seen, h, v);
		} else
			g_free(h);
		e[i].head = (uint32_t)(GPOINTER_TO_SIZE(v) - 1);
		e[i].weak_id = (uint32_t)i;
		e[i].len = (uint16_t)len;
		/* a value that is its head is known by the hit alone */
		e[i].fp = len > hlen ? weakhead_fp(key, lits[i], len) : 0;
	}
	g_hash_table_destroy(seen);
	if (e != NULL)
		qsort(e, n, sizeof *e, weakhead_entry_cmp);
	return e;
}

int
weakhead_build(const char *const *lits, size_t n,
    const struct listkey *key, char **blob, size_t *bloblen,
    size_t *nheads, char *err, size_t errlen)
{
	GPtrArray *heads = g_ptr_array_new_with_free_func(g_free);
	struct weakhead_entry *e = NULL;
	struct weakhead_header hd;
	struct weakhead_tail *tails;
	struct weakhead_head *hv;
	char *hs = NULL, *out;
	size_t hslen = 0, i, off;
	int rc = -1;

	*blob = NULL;
	*bloblen = 0;
	*nheads = 0;
	if (n == 0) {
		rc = 0;
		goto done;
	}
	for (i = 0; i < n; i++)
		if (strlen(lits[i]) > NORM_MAX) {
			(void)snprintf(err, errlen, "weak fields: a value "
			    "over %d bytes", NORM_MAX);
			goto done;
		}
	if ((e = weakhead_entries(lits, n, key, heads)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (weakhead_compile(heads, &hs, &hslen, err, errlen) != 0)
		goto done;
	memset(&hd, 0, sizeof hd);
	memcpy(hd.magic, weakhead_magic, sizeof hd.magic);
	hd.nheads = heads->len;
	hd.ntails = (uint32_t)n;
	off = sizeof hd + n * sizeof *tails + heads->len * sizeof *hv;
	hd.hs_off = (off + 7) & ~(size_t)7;
	hd.hs_len = hslen;
	if ((out = calloc(1, hd.hs_off + hslen)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto done;
	}
	memcpy(out, &hd, sizeof hd);
	tails = (struct weakhead_tail *)(void *)(out + sizeof hd);
	hv = (struct weakhead_head *)(void *)(out + sizeof hd +
	    n * sizeof *tails);
	for (i = 0; i < n; i++) {
		struct weakhead_head *h = &hv[e[i].head];

		if (i == 0 || e[i].head != e[i - 1].head) {
			h->first = (uint32_t)i;
			h->len = (uint32_t)strlen(g_ptr_array_index(heads,
			    e[i].head));
		}
		h->count++;
		tails[i].fp = e[i].fp;
		tails[i].weak_id = e[i].weak_id;
		tails[i].len = e[i].len;
	}
	memcpy(out + hd.hs_off, hs, hslen);
	*blob = out;
	*bloblen = hd.hs_off + hslen;
	*nheads = heads->len;
	rc = 0;
done:
	free(hs);
	free(e);
	g_ptr_array_free(heads, TRUE);
	return rc;
}

/* Whether the tails and heads stay inside the blob and the table. */
static const char *
weakhead_check(const struct weakhead_index *idx, uint32_t nweak)
{
	size_t i, k;

	for (i = 0; i < idx->ntails; i++)
		if (idx->tails[i].weak_id >= nweak ||
		    idx->tails[i].len > NORM_MAX)
			return "a tail out of range";
	for (i = 0; i < idx->nheads; i++) {
		const struct weakhead_head *h = &idx->heads[i];

		if (h->count == 0 || h->first > idx->ntails ||
		    h->count > idx->ntails - h->first || h->len == 0 ||
		    h->len > WEAKHEAD_MAX)
			return "a head out of range";
		for (k = h->first; k < h->first + h->count; k++)
			if (idx->tails[k].len < h->len || (k > h->first &&
			    (idx->tails[k].len < idx->tails[k - 1].len ||
			    (idx->tails[k].len == idx->tails[k - 1].len &&
			    idx->tails[k].fp < idx->tails[k - 1].fp))))
				return "a head's tails out of order";
	}
	return NULL;
}

int
weakhead_open(const void *blob, size_t len, uint32_t nweak,
    struct weakhead_index *idx, const void **hs, size_t *hslen,
    char *err, size_t errlen)
{
	const char *p = blob;
	struct weakhead_header hd;
	const char *why;
	size_t need;

	memset(idx, 0, sizeof *idx);
	*hs = blob;
	*hslen = len;
	if (len < sizeof hd || memcmp(p, weakhead_magic, sizeof hd.magic))
		return 0;		/* an older build: ids are weak ids */
	memcpy(&hd, p, sizeof hd);
	need = sizeof hd + (size_t)hd.ntails * sizeof(struct weakhead_tail) +
	    (size_t)hd.nheads * sizeof(struct weakhead_head);
	if (((uintptr_t)blob & 7) != 0 || hd.hs_off < need ||
	    hd.hs_off > len || hd.hs_len != len - hd.hs_off ||
	    (hd.hs_off & 7) != 0 || hd.nheads == 0) {
		(void)snprintf(err, errlen, "the weak-field index is "
		    "truncated or corrupt");
		return -1;
	}
	idx->tails = (const struct weakhead_tail *)(const void *)(p +
	    sizeof hd);
	idx->heads = (const struct weakhead_head *)(const void *)(p +
	    sizeof hd + (size_t)hd.ntails * sizeof(struct weakhead_tail));
	idx->ntails = hd.ntails;
	idx->nheads = hd.nheads;
	if ((why = weakhead_check(idx, nweak)) != NULL) {
		(void)snprintf(err, errlen, "the weak-field index is "
		    "corrupt: %s", why);
		memset(idx, 0, sizeof *idx);
		return -1;
	}
	*hs = p + hd.hs_off;
	*hslen = hd.hs_len;
	return 0;
}

size_t
weakhead_seek(const struct weakhead_index *idx, size_t lo, size_t hi,
    uint16_t len, uint64_t fp)
{
	size_t a = lo, b = hi, mid;

	while (a < b) {
		mid = a + (b - a) / 2;
		if (idx->tails[mid].len < len || (idx->tails[mid].len == len &&
		    idx->tails[mid].fp < fp))
			a = mid + 1;
		else
			b = mid;
	}
	return a < hi && idx->tails[a].len == len && idx->tails[a].fp == fp ?
	    a : hi;
}
