/* test_weakhead.c - weak values by their heads: where a head is cut, what
 * the blob holds (each head once, its values sorted and found by their
 * fingerprints), that the Hyperscan database finds the heads, and that a
 * damaged blob is refused while an older build's blob passes through. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hs.h>

#include "listkey.h"
#include "weakhead.h"

/* Canonical weak values; weak id = index. */
static const char *const values[] = {
	"李伟伟",				/* 9 bytes: its own head */
	"苏州市超敏科技",			/* head 苏州市超 */
	"苏州市超敏贸易",			/* same head, same length */
	"苏州市超",				/* the head itself */
	"苏州市超敏科技园区发展",		/* same head, longer */
	"northwind traders",			/* head "northwind tr" */
	"ab苏州市超敏",				/* cut before a character */
};
#define NVALUES	(sizeof values / sizeof values[0])

static struct listkey key;

/* Sets the key to fixed bytes: fingerprints are repeatable. */
static int
setup(void **state)
{
	(void)state;
	memset(key.bytes, 7, sizeof key.bytes);
	key.id = 1;
	return 0;
}

static void
test_head_len(void **state)
{
	(void)state;
	assert_int_equal(weakhead_len("李伟伟", 9), 9);
	assert_int_equal(weakhead_len("abcdefghijkl", 12), 12);
	assert_int_equal(weakhead_len("abcdefghijklm", 13), 12);
	assert_int_equal(weakhead_len("苏州市超敏科技", 21), 12);
	/* byte 12 is inside 敏: the head stops after 超 */
	assert_int_equal(weakhead_len("ab苏州市超敏", 17), 11);
	/* a 4-byte character across the cut */
	assert_int_equal(weakhead_len("abcdefghij\xf0\x9f\x98\x80z", 15),
	    10);
}

static int
on_hit(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *arg)
{
	unsigned *count = arg;

	(void)from;
	(void)to;
	(void)flags;
	count[id]++;
	return 0;
}

/* Every value is behind exactly one head, found by its length and
 * fingerprint; values that are their head have no fingerprint. */
static void
test_build_open(void **state)
{
	struct weakhead_index idx;
	const void *hs;
	hs_database_t *db = NULL;
	hs_scratch_t *scratch = NULL;
	char *blob, err[256];
	void *copy = NULL;
	size_t len, hslen, nheads, i, k;
	unsigned seen[NVALUES], hits[NVALUES];

	(void)state;
	assert_int_equal(weakhead_build(values, NVALUES, &key, &blob, &len,
	    &nheads, err, sizeof err), 0);
	/* 李伟伟, 苏州市超, northwind tr, ab苏州市 */
	assert_int_equal(nheads, 4);
	/* table blobs are 8-byte aligned: so is this copy */
	assert_int_equal(posix_memalign(&copy, 8, len), 0);
	memcpy(copy, blob, len);
	assert_int_equal(weakhead_open(copy, len, NVALUES, &idx, &hs, &hslen,
	    err, sizeof err), 0);
	assert_non_null(idx.heads);
	assert_int_equal(idx.nheads, 4);
	assert_int_equal(idx.ntails, NVALUES);
	memset(seen, 0, sizeof seen);
	for (i = 0; i < idx.nheads; i++) {
		const struct weakhead_head *h = &idx.heads[i];

		for (k = h->first; k < h->first + h->count; k++) {
			const struct weakhead_tail *t = &idx.tails[k];
			const char *v = values[t->weak_id];

			seen[t->weak_id]++;
			assert_int_equal(t->len, strlen(v));
			assert_int_equal(h->len, weakhead_len(v, t->len));
			if (t->len == h->len)
				assert_true(t->fp == 0);
			else {
				assert_true(t->fp == weakhead_fp(&key, v,
				    t->len));
				assert_int_equal(weakhead_seek(&idx, h->first,
				    h->first + h->count, t->len, t->fp), k);
			}
		}
		/* a fingerprint no value has */
		assert_int_equal(weakhead_seek(&idx, h->first, h->first +
		    h->count, 21, 12345), h->first + h->count);
	}
	for (i = 0; i < NVALUES; i++)
		assert_int_equal(seen[i], 1);

	/* the database finds heads: its ids index idx.heads */
	assert_int_equal(hs_deserialize_database(hs, hslen, &db),
	    HS_SUCCESS);
	assert_int_equal(hs_alloc_scratch(db, &scratch), HS_SUCCESS);
	memset(hits, 0, sizeof hits);
	{
		static const char text[] = "致 苏州市超敏科技 与 Northwind "
		    "northwind traders";

		assert_int_equal(hs_scan(db, text, sizeof text - 1, 0,
		    scratch, on_hit, hits), HS_SUCCESS);
	}
	for (i = 0, k = 0; i < idx.nheads; i++) {
		const struct weakhead_head *h = &idx.heads[i];
		const char *v = values[idx.tails[h->first].weak_id];

		if (strncmp(v, "苏州市超", h->len) == 0 ||
		    strncmp(v, "northwind tr", h->len) == 0) {
			assert_int_equal(hits[i], 1);
			k++;
		} else
			assert_int_equal(hits[i], 0);
	}
	assert_int_equal(k, 2);
	hs_free_scratch(scratch);
	hs_free_database(db);
	free(copy);
	free(blob);
}

/* Damage the blob in each way the loader guards against. */
static void
test_refused(void **state)
{
	struct weakhead_index idx;
	const void *hs;
	char *blob, err[256];
	void *copy = NULL;
	size_t len, hslen, nheads;
	uint32_t u;

	(void)state;
	assert_int_equal(weakhead_build(values, NVALUES, &key, &blob, &len,
	    &nheads, err, sizeof err), 0);
	assert_int_equal(posix_memalign(&copy, 8, len), 0);

	/* fewer weak ids in the table than the tails name */
	memcpy(copy, blob, len);
	assert_int_equal(weakhead_open(copy, len, NVALUES - 1, &idx, &hs,
	    &hslen, err, sizeof err), -1);
	assert_non_null(strstr(err, "corrupt"));
	assert_null(idx.heads);
	/* truncated */
	assert_int_equal(weakhead_open(copy, 40, NVALUES, &idx, &hs,
	    &hslen, err, sizeof err), -1);
	/* a head past the tails (the first head's first tail) */
	memcpy(copy, blob, len);
	u = 1000;
	memcpy((char *)copy + 32 + NVALUES * 16, &u, sizeof u);
	assert_int_equal(weakhead_open(copy, len, NVALUES, &idx, &hs,
	    &hslen, err, sizeof err), -1);
	/* more tails than the blob holds */
	memcpy(copy, blob, len);
	u = 1u << 30;
	memcpy((char *)copy + 12, &u, sizeof u);
	assert_int_equal(weakhead_open(copy, len, NVALUES, &idx, &hs,
	    &hslen, err, sizeof err), -1);
	/* an older build: no header, the whole blob is the database */
	memset(copy, 0, len);
	assert_int_equal(weakhead_open(copy, len, NVALUES, &idx, &hs,
	    &hslen, err, sizeof err), 0);
	assert_null(idx.heads);
	assert_ptr_equal(hs, copy);
	assert_int_equal(hslen, len);
	free(copy);
	free(blob);
}

/* Any byte of the header and index changed: the blob is refused, or
 * what is accepted stays inside it and the table (ASan watches the
 * reads). */
static void
test_random_damage(void **state)
{
	struct weakhead_index idx;
	const void *hs;
	char *blob, err[256];
	void *copy = NULL;
	size_t len, hslen, nheads, index_end, i, k, at;
	unsigned seed = 12345;
	int round;

	(void)state;
	assert_int_equal(weakhead_build(values, NVALUES, &key, &blob, &len,
	    &nheads, err, sizeof err), 0);
	assert_int_equal(posix_memalign(&copy, 8, len), 0);
	index_end = 32 + NVALUES * sizeof(struct weakhead_tail) +
	    nheads * sizeof(struct weakhead_head);
	for (round = 0; round < 5000; round++) {
		memcpy(copy, blob, len);
		seed = seed * 1103515245u + 12345u;
		at = (seed >> 8) % index_end;
		seed = seed * 1103515245u + 12345u;
		((unsigned char *)copy)[at] ^= (unsigned char)(1 + (seed >> 24) %
		    255);
		if (weakhead_open(copy, len, NVALUES, &idx, &hs, &hslen, err,
		    sizeof err) != 0) {
			assert_null(idx.heads);
			continue;
		}
		if (idx.heads == NULL) {	/* the magic was hit */
			assert_true(at < 8);
			continue;
		}
		assert_true((const char *)hs >= (const char *)copy &&
		    (const char *)hs + hslen == (const char *)copy + len);
		for (i = 0; i < idx.nheads; i++) {
			const struct weakhead_head *h = &idx.heads[i];

			assert_true(h->first + h->count <= idx.ntails);
			for (k = h->first; k < h->first + h->count; k++)
				assert_true(idx.tails[k].weak_id < NVALUES);
			(void)weakhead_seek(&idx, h->first, h->first +
			    h->count, 21, 1);
		}
	}
	free(copy);
	free(blob);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_len),
		cmocka_unit_test(test_build_open),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_random_damage),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
