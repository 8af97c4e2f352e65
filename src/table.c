/* table.c - build, write, map and query the compiled customer list.
 *
 * The builder collects records, strong values (fingerprint, hit) and weak
 * values (weak id, hit) in growable arrays (sized once when the caller
 * says how much is coming); table_builder_write sorts and deduplicates
 * the strong values (MSD radix sort), places the weak ones by counting
 * when they came in row order (sorting them otherwise), builds the
 * whole file image in anonymous memory, writes it to "PATH.tmp.XXXXXX"
 * in the same directory while a second thread digests it, fsyncs it,
 * reads it back and compares, renames it over PATH and fsyncs the
 * directory.  Peak memory of a write: the builder's arrays, a scratch
 * copy of the strong values for the sort, and the file image (at 50M
 * values: 0.8 + 0.8 + 1.3 GB).
 * table_open maps a file read-only and checks all of it (header, layout,
 * digest, then every offset, count and index) before handing it out, so
 * lookups and accessors trust what they read and never leave the mapping
 * (measured at 50M values: 0.4 s for that pass, 2.6-4.5 s for the
 * digest; BLAKE2b runs at about 600 MB/s on our 2-core test box).
 *
 * File format, version 1, host byte order (checked, little-endian on
 * every platform we ship), every section 8-byte aligned and packed in
 * this order with no gaps other than alignment:
 *
 *   header     256 bytes, struct disk_header
 *   records    struct disk_record { u32 id offset in pool; u16 list;
 *              u16 flags (bit 0 canary) } per record
 *   pool       record ids, each NUL-terminated
 *   buckets    open-addressing table of struct bucket { u64 fp; struct
 *              table_hit hit } (16 bytes); fp 0 marks an empty bucket.
 *              A fingerprint held by one (record, field) keeps its hit
 *              inline.  One held by several has BUCKET_MULTI set in
 *              hit.kind: hit.rec is the offset of its hits in the hit
 *              array, hit.field | (hit.kind & 0x7fff) << 16 their count.
 *   hits       struct table_hit, grouped by fingerprint, each group
 *              sorted by (rec, field, kind)
 *   weak index struct disk_weak { u32 offset; u32 count } per weak id
 *   weak hits  struct table_hit, grouped by weak id
 *   manifest   struct disk_info (table_info and the number of lists),
 *              then each list name NUL-terminated
 *   blob       opaque (the Hyperscan database of weak literals)
 *
 * The digest is BLAKE2b-256 of every byte after the header.
 *
 * Bucket index: the home bucket of fp is (fp * nbuckets) >> 64, the high
 * half of a 128-bit product (Lemire's multiply-shift range reduction),
 * then linear probing.  fp is already a keyed SipHash output, so its bits
 * are uniform and no further hashing is needed.  This lets nbuckets be
 * ceil(n / 0.7) instead of a power of two: a power of two wastes up to
 * half the table (at 50M values: 2 GiB of buckets, 43 bytes a value,
 * instead of 23).  It also makes the home bucket monotone in fp, so
 * inserting the sorted fingerprints fills the table front to back, and
 * keys ascend along every probe sequence (an ordered hash table), which
 * lets a miss stop early.  A real fingerprint 0 is stored and looked up
 * as 1, so 0 and 1 are one key: a 2^-64 chance, like any collision.
 *
 * Owns: the builder its arrays, a table its mapping and the list name
 * index.  Errors: -1 or NULL with text in err; a failed write removes its
 * temporary file and leaves any existing table at path untouched. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "errbuf.h"
#include "fdio.h"
#include "table.h"

#define TABLE_MAGIC	"CUSTOSTB"
#define TABLE_VERSION	1
#define TABLE_ENDIAN	0x01020304u
#define TABLE_HDR_SIZE	256
#define TABLE_DIGEST	32

#define BUCKET_MULTI	0x8000u		/* in hit.kind: hit points into hits */
#define RECORD_CANARY	0x0001u

#if defined(__GNUC__) || defined(__clang__)
#define TABLE_PREFETCH(p)	__builtin_prefetch(p)
#else
#define TABLE_PREFETCH(p)	((void)(p))
#endif

/* Load factor 0.7 as a fraction, so sizing stays in integers. */
#define LOAD_NUM	7
#define LOAD_DEN	10

/* A list index is a u16; a hit offset and count fit 32 and 31 bits. */
#define MAX_LISTS	65536u
#define MAX_ENTRIES	((size_t)INT32_MAX)

enum {
	SEC_RECORDS = 0,
	SEC_POOL,
	SEC_BUCKETS,
	SEC_HITS,
	SEC_WEAK_INDEX,
	SEC_WEAK_HITS,
	SEC_MANIFEST,
	SEC_BLOB,
	SEC_COUNT
};

static const char *const table_secname[SEC_COUNT] = {
	"records", "id pool", "buckets", "hits", "weak index", "weak hits",
	"manifest", "blob"
};

struct disk_section {
	uint64_t	 off;
	uint64_t	 size;
};

struct disk_header {
	char		 magic[8];
	uint32_t	 version;
	uint32_t	 endian;
	uint64_t	 file_size;
	uint32_t	 header_size;
	uint32_t	 sections;
	uint64_t	 records;
	uint64_t	 buckets;
	uint64_t	 strong;	/* occupied buckets */
	uint64_t	 hits;
	uint64_t	 weak;		/* weak index entries */
	uint64_t	 weak_hits;
	struct disk_section sec[SEC_COUNT];
	uint8_t		 digest[TABLE_DIGEST];
	uint8_t		 reserved[16];	/* zero */
};

struct disk_record {
	uint32_t	 id;		/* offset in the pool */
	uint16_t	 list;
	uint16_t	 flags;
};

struct disk_weak {
	uint32_t	 off;
	uint32_t	 count;
};

struct disk_info {
	char		 version[64];
	char		 digest[72];	/* 65 used, padded to 8 */
	uint64_t	 key_id;
	int64_t		 built;
	uint32_t	 records;
	uint32_t	 strong_values;
	uint32_t	 weak_values;
	uint32_t	 lists;
	uint64_t	 lengths[4];
};

/* A bucket in the file, and in the builder a strong value (key = fp) or
 * a weak value (key = weak id) waiting to be sorted. */
struct bucket {
	uint64_t	 key;
	struct table_hit hit;
};

_Static_assert(sizeof(struct disk_header) == TABLE_HDR_SIZE,
    "header layout");
_Static_assert(sizeof(struct disk_record) == 8, "record layout");
_Static_assert(sizeof(struct disk_weak) == 8, "weak index layout");
_Static_assert(sizeof(struct disk_info) == 200, "manifest layout");
_Static_assert(sizeof(struct table_hit) == 8, "hit layout");
_Static_assert(sizeof(struct bucket) == 16, "bucket layout");
_Static_assert(sizeof(((struct table_info *)0)->digest) <=
    sizeof(((struct disk_info *)0)->digest), "digest fits");

struct table_builder {
	struct disk_record *recs;
	size_t		 nrecs, caprecs;
	char		*pool;
	size_t		 npool, cappool;
	struct bucket	*strong;
	size_t		 nstrong, capstrong;
	struct bucket	*weak;
	size_t		 nweak, capweak;
	/* Weak hits came in strictly rising (rec, field) order, as a
	 * list's rows give them: then each weak id's hits are in order
	 * and distinct already, and the write places them by counting
	 * instead of sorting (table_place_weak).  weak_keys: the highest
	 * weak id + 1. */
	bool		 weak_rising;
	uint64_t	 weak_keys;
};

struct table {
	const uint8_t	*map;
	size_t		 size;
	const struct disk_record *recs;
	uint32_t	 nrecs;
	const char	*pool;
	size_t		 npool;
	const struct bucket *buckets;
	uint64_t	 nbuckets;
	const struct table_hit *hits;
	const struct disk_weak *weak;
	uint32_t	 nweak;
	const struct table_hit *weak_hits;
	const void	*blob;
	size_t		 bloblen;
	const char	**lists;	/* into the mapping */
	size_t		 nlists;
	struct table_info info;
};

static uint64_t
table_align8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/* Home bucket of fp among n: the high half of fp * n. */
static inline uint64_t
table_home(uint64_t fp, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)fp * n) >> 64);
}

/* The sort's scratch array is written all over at once: 2 MiB pages
 * take 512 times fewer page faults (measured: the write of 10M values
 * 1.3 s instead of 2 s).  The builder's arrays get them when they are
 * reserved at their size (table_builder_reserve: 10M records built in
 * about 20 s instead of 31); while they grow by doubling it measured
 * slower.  A hint only; without transparent huge pages nothing
 * changes. */
static void
table_hugepages(void *p, size_t len)
{
	uintptr_t start, end, pg = 4096;

	if (len < (2u << 20))
		return;
	start = ((uintptr_t)p + pg - 1) & ~(pg - 1);
	end = ((uintptr_t)p + len) & ~(pg - 1);
	if (end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}

/* Makes room for one more element of an array that doubles. */
static int
table_grow(void **p, size_t *cap, size_t n, size_t elsize)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return 0;
	ncap = *cap < 64 ? 64 : *cap * 2;
	if ((np = reallocarray(*p, ncap, elsize)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Sets an array's capacity to at least n elements in one step, with
 * huge pages: the arrays take hundreds of MB at 10M records, and
 * growing them by doubling faults in every 4 KiB page on its own. */
static int
table_reserve(void **p, size_t *cap, size_t n, size_t elsize)
{
	void *np;

	if (n <= *cap)
		return 0;
	if ((np = reallocarray(*p, n, elsize)) == NULL)
		return -1;
	*p = np;
	*cap = n;
	table_hugepages(np, n * elsize);
	return 0;
}

void
table_builder_sizes(const struct table_builder *b, struct table_sizes *sz)
{
	sz->recs = b->nrecs;
	sz->id_bytes = b->npool;
	sz->strong = b->nstrong;
	sz->weak = b->nweak;
}

int
table_builder_reserve(struct table_builder *b, const struct table_sizes *more)
{
	if (table_reserve((void **)&b->recs, &b->caprecs, b->nrecs +
	    more->recs, sizeof *b->recs) != 0 ||
	    table_reserve((void **)&b->pool, &b->cappool, b->npool +
	    more->id_bytes, 1) != 0 ||
	    table_reserve((void **)&b->strong, &b->capstrong, b->nstrong +
	    more->strong, sizeof *b->strong) != 0 ||
	    table_reserve((void **)&b->weak, &b->capweak, b->nweak +
	    more->weak, sizeof *b->weak) != 0)
		return -1;
	return 0;
}

struct table_builder *
table_builder_new(void)
{
	struct table_builder *b = calloc(1, sizeof *b);

	if (b != NULL)
		b->weak_rising = true;
	return b;
}

struct table_builder *
table_builder_free(struct table_builder *b)
{
	if (b == NULL)
		return NULL;
	free(b->recs);
	free(b->pool);
	free(b->strong);
	free(b->weak);
	free(b);
	return NULL;
}

int
table_builder_add_record(struct table_builder *b, const char *id,
    uint16_t list, bool canary, uint32_t *rec)
{
	size_t len;

	if (id == NULL || b->nrecs >= UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	len = strlen(id) + 1;
	/* Pool offsets are u32. */
	if (b->npool + len > UINT32_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (table_grow((void **)&b->recs, &b->caprecs, b->nrecs,
	    sizeof *b->recs) != 0)
		return -1;
	while (b->npool + len > b->cappool) {
		size_t ncap = b->cappool < 4096 ? 4096 : b->cappool * 2;
		char *np;

		if ((np = realloc(b->pool, ncap)) == NULL)
			return -1;
		b->pool = np;
		b->cappool = ncap;
	}
	memcpy(b->pool + b->npool, id, len);
	b->recs[b->nrecs].id = (uint32_t)b->npool;
	b->recs[b->nrecs].list = list;
	b->recs[b->nrecs].flags = canary ? RECORD_CANARY : 0;
	b->npool += len;
	if (rec != NULL)
		*rec = (uint32_t)b->nrecs;
	b->nrecs++;
	return 0;
}

static int
table_builder_add(struct table_builder *b, struct bucket **a, size_t *n,
    size_t *cap, uint64_t key, struct table_hit hit)
{
	/* The top bit of kind marks a multi-record bucket. */
	if (hit.rec >= b->nrecs || (hit.kind & BUCKET_MULTI) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (*n >= MAX_ENTRIES) {
		errno = EFBIG;
		return -1;
	}
	if (table_grow((void **)a, cap, *n, sizeof **a) != 0)
		return -1;
	(*a)[*n].key = key;
	(*a)[*n].hit = hit;
	(*n)++;
	return 0;
}

int
table_builder_add_strong(struct table_builder *b, uint64_t fp,
    struct table_hit hit)
{
	/* 0 marks an empty bucket; fp 1 stands in for it here and in
	 * table_lookup_strong. */
	return table_builder_add(b, &b->strong, &b->nstrong, &b->capstrong,
	    fp != 0 ? fp : 1, hit);
}

int
table_builder_add_weak(struct table_builder *b, uint32_t weak_id,
    struct table_hit hit)
{
	/* The index has weak_id + 1 entries with counts in a u32. */
	if (weak_id == UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (table_builder_add(b, &b->weak, &b->nweak, &b->capweak, weak_id,
	    hit) != 0)
		return -1;
	if (b->nweak > 1) {
		const struct table_hit *prev = &b->weak[b->nweak - 2].hit;

		if (hit.rec < prev->rec || (hit.rec == prev->rec &&
		    hit.field <= prev->field))
			b->weak_rising = false;
	}
	if (weak_id >= b->weak_keys)
		b->weak_keys = (uint64_t)weak_id + 1;
	return 0;
}

/* Sorts a[0..n) by the key bits below shift + 8: MSD radix sort, 8 bits
 * a level, tmp[0..n) as scratch.  The top level (table_msd_top) is one
 * pass over main memory with 256 write streams, kind to the TLB; by the
 * second or third level the pieces fit in cache.  A level where every
 * key has the same digit moves nothing, so weak ids (small keys) cost
 * little.  Not stable: table_normalize orders each key's hits. */
static void
table_msd(struct bucket *a, struct bucket *tmp, size_t n, unsigned shift)
{
	size_t count[256], off[256], i, j, sum;
	struct bucket e;
	unsigned d;

	if (n <= 32) {
		for (i = 1; i < n; i++) {
			e = a[i];
			for (j = i; j > 0 && a[j - 1].key > e.key; j--)
				a[j] = a[j - 1];
			a[j] = e;
		}
		return;
	}
	memset(count, 0, sizeof count);
	for (i = 0; i < n; i++)
		count[(a[i].key >> shift) & 0xff]++;
	if (count[(a[0].key >> shift) & 0xff] == n) {
		if (shift > 0)
			table_msd(a, tmp, n, shift - 8);
		return;
	}
	for (d = 0, sum = 0; d < 256; d++) {
		off[d] = sum;
		sum += count[d];
	}
	for (i = 0; i < n; i++)
		tmp[off[(a[i].key >> shift) & 0xff]++] = a[i];
	memcpy(a, tmp, n * sizeof *a);
	if (shift == 0)
		return;
	for (d = 0, sum = 0; d < 256; sum += count[d], d++)
		if (count[d] > 1)
			table_msd(a + sum, tmp + sum, count[d], shift - 8);
}

/* The top level of table_msd, sorting src into dst so that the biggest
 * pass need not copy back; src is clobbered. */
static void
table_msd_top(struct bucket *src, struct bucket *dst, size_t n)
{
	size_t count[256], off[256], i, sum;
	unsigned d;

	memset(count, 0, sizeof count);
	for (i = 0; i < n; i++)
		count[src[i].key >> 56]++;
	for (d = 0, sum = 0; d < 256; d++) {
		off[d] = sum;
		sum += count[d];
	}
	for (i = 0; i < n; i++)
		dst[off[src[i].key >> 56]++] = src[i];
	for (d = 0, sum = 0; d < 256; sum += count[d], d++)
		if (count[d] > 1)
			table_msd(dst + sum, src + sum, count[d], 48);
}

/* Sorts the n entries of *a by key; *a may be replaced (by an array of
 * the same size, and capacity n). */
static int
table_sort(struct bucket **a, size_t n, size_t *cap)
{
	struct bucket *tmp;

	if (n < 2)
		return 0;
	if ((tmp = reallocarray(NULL, n, sizeof *tmp)) == NULL)
		return -1;
	table_hugepages(tmp, n * sizeof *tmp);
	table_msd_top(*a, tmp, n);
	free(*a);
	*a = tmp;
	*cap = n;
	return 0;
}

static int
table_hitcmp(const void *pa, const void *pb)
{
	const struct bucket *a = pa, *b = pb;

	if (a->hit.rec != b->hit.rec)
		return a->hit.rec < b->hit.rec ? -1 : 1;
	if (a->hit.field != b->hit.field)
		return a->hit.field < b->hit.field ? -1 : 1;
	if (a->hit.kind != b->hit.kind)
		return a->hit.kind < b->hit.kind ? -1 : 1;
	return 0;
}

/* Whether a[0..n) is in table_hitcmp's order already: a value's hits
 * mostly come in record order (rows are read in order), and checking
 * costs far less than sorting them again. */
static bool
table_hits_ordered(const struct bucket *a, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (table_hitcmp(&a[i - 1], &a[i]) > 0)
			return false;
	return true;
}

/* Sorts by key, orders each key's hits and drops repeats of (key, rec,
 * field).  Returns the new length; *nkeys gets the number of keys. */
static int
table_normalize(struct bucket **pa, size_t *n, size_t *cap, size_t *nkeys)
{
	size_t i, j, k, out = 0, keys = 0;
	struct bucket *a;

	if (table_sort(pa, *n, cap) != 0)
		return -1;
	a = *pa;
	for (i = 0; i < *n; i = j) {
		for (j = i + 1; j < *n && a[j].key == a[i].key; j++)
			;
		if (j - i > 1 && !table_hits_ordered(a + i, j - i))
			qsort(a + i, j - i, sizeof *a, table_hitcmp);
		for (k = i; k < j; k++) {
			if (k > i && a[k].hit.rec == a[out - 1].hit.rec &&
			    a[k].hit.field == a[out - 1].hit.field)
				continue;
			a[out++] = a[k];
		}
		keys++;
	}
	*n = out;
	*nkeys = keys;
	return 0;
}

/* Where everything goes in the file, from the normalized builder. */
struct layout {
	struct disk_header hdr;
	size_t		 manifest_names;
};

static void
table_layout(struct layout *l, const struct table_builder *b,
    size_t ndistinct, size_t nmulti, size_t nweakids,
    const char *const *list_names, size_t nlists, size_t bloblen)
{
	struct disk_header *h = &l->hdr;
	uint64_t off;
	size_t i;
	int s;

	memset(l, 0, sizeof *l);
	for (i = 0; i < nlists; i++)
		l->manifest_names += strlen(list_names[i]) + 1;
	memcpy(h->magic, TABLE_MAGIC, sizeof h->magic);
	h->version = TABLE_VERSION;
	h->endian = TABLE_ENDIAN;
	h->header_size = TABLE_HDR_SIZE;
	h->sections = SEC_COUNT;
	h->records = b->nrecs;
	h->strong = ndistinct;
	/* At most 0.7 full, and never full: a probe always ends. */
	h->buckets = ((uint64_t)ndistinct * LOAD_DEN + LOAD_NUM - 1) /
	    LOAD_NUM;
	if (h->buckets <= ndistinct)
		h->buckets = (uint64_t)ndistinct + 1;
	h->hits = nmulti;
	h->weak = nweakids;
	h->weak_hits = b->nweak;
	h->sec[SEC_RECORDS].size = (uint64_t)b->nrecs *
	    sizeof(struct disk_record);
	h->sec[SEC_POOL].size = b->npool;
	h->sec[SEC_BUCKETS].size = h->buckets * sizeof(struct bucket);
	h->sec[SEC_HITS].size = (uint64_t)nmulti * sizeof(struct table_hit);
	h->sec[SEC_WEAK_INDEX].size = (uint64_t)nweakids *
	    sizeof(struct disk_weak);
	h->sec[SEC_WEAK_HITS].size = (uint64_t)b->nweak *
	    sizeof(struct table_hit);
	h->sec[SEC_MANIFEST].size = sizeof(struct disk_info) +
	    l->manifest_names;
	h->sec[SEC_BLOB].size = bloblen;
	off = TABLE_HDR_SIZE;
	for (s = 0; s < SEC_COUNT; s++) {
		h->sec[s].off = off;
		off = table_align8(off + h->sec[s].size);
	}
	h->file_size = h->sec[SEC_BLOB].off + h->sec[SEC_BLOB].size;
}

/* Fills the bucket and hit sections from the normalized strong values. */
static void
table_fill_strong(const struct bucket *a, size_t n, struct bucket *bk,
    uint64_t nb, struct table_hit *hits)
{
	uint64_t pos, next = 0, slot;
	uint32_t hoff = 0, cnt;
	size_t i, j;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && a[j].key == a[i].key; j++)
			;
		/* Keys come sorted, so homes never go down and the next
		 * free bucket is at least one past the previous one. */
		pos = table_home(a[i].key, nb);
		if (pos < next)
			pos = next;
		for (;;) {
			slot = pos < nb ? pos : pos - nb;
			if (bk[slot].key == 0)
				break;
			pos++;
		}
		next = pos + 1;
		bk[slot].key = a[i].key;
		if (j - i == 1) {
			bk[slot].hit = a[i].hit;
			continue;
		}
		cnt = (uint32_t)(j - i);
		bk[slot].hit.rec = hoff;
		bk[slot].hit.field = (uint16_t)(cnt & 0xffff);
		bk[slot].hit.kind = (uint16_t)(BUCKET_MULTI | (cnt >> 16));
		for (; i < j; i++)
			hits[hoff++] = a[i].hit;
	}
}

static void
table_fill_weak(const struct bucket *a, size_t n, struct disk_weak *idx,
    struct table_hit *hits)
{
	size_t i;

	/* The index is zero already (a fresh file); ids without hits stay
	 * { 0, 0 }. */
	for (i = 0; i < n; i++) {
		struct disk_weak *w = &idx[a[i].key];

		if (w->count == 0)
			w->off = (uint32_t)i;
		w->count++;
		hits[i] = a[i].hit;
	}
}

/* table_fill_weak for hits that came rising (b->weak_rising): each
 * weak id's hits are already in order and distinct, so a count per id
 * and one pass placing them replace the sort, its scratch copy and the
 * pass above.  The index is zero (a fresh file); an id without hits
 * stays { 0, 0 }, as there. */
static void
table_place_weak(const struct bucket *a, size_t n, struct disk_weak *idx,
    uint64_t nkeys, struct table_hit *hits)
{
	uint64_t k;
	uint32_t off = 0;
	size_t i;

	for (i = 0; i < n; i++)
		idx[a[i].key].count++;
	for (k = 0; k < nkeys; k++) {
		if (idx[k].count == 0)
			continue;
		idx[k].off = off;
		off += idx[k].count;
		idx[k].count = 0;	/* counts again as they are placed */
	}
	for (i = 0; i < n; i++) {
		struct disk_weak *w = &idx[a[i].key];

		hits[w->off + w->count++] = a[i].hit;
	}
}

static void
table_fill_manifest(uint8_t *p, const struct table_info *info,
    const char *const *list_names, size_t nlists)
{
	struct disk_info di;
	size_t i, len;

	memset(&di, 0, sizeof di);
	memcpy(di.version, info->version, strnlen(info->version,
	    sizeof info->version - 1));
	memcpy(di.digest, info->digest, strnlen(info->digest,
	    sizeof info->digest - 1));
	di.key_id = info->key_id;
	di.built = info->built;
	di.records = info->records;
	di.strong_values = info->strong_values;
	di.weak_values = info->weak_values;
	di.lists = (uint32_t)nlists;
	memcpy(di.lengths, info->lengths, sizeof di.lengths);
	memcpy(p, &di, sizeof di);
	p += sizeof di;
	for (i = 0; i < nlists; i++) {
		len = strlen(list_names[i]) + 1;
		memcpy(p, list_names[i], len);
		p += len;
	}
}

/* Checks what the caller gave before any file is created. */
static int
table_check_input(const struct table_builder *b, const char *path,
    const char *const *list_names, size_t nlists, const void *blob,
    size_t bloblen, char *err, size_t errlen)
{
	size_t i;

	if (nlists > MAX_LISTS) {
		errbuf_set(err, errlen, "%s: %zu lists, at most %u", path,
		    nlists, MAX_LISTS);
		return -1;
	}
	if (nlists > 0 && list_names == NULL) {
		errbuf_set(err, errlen, "%s: no list names", path);
		return -1;
	}
	for (i = 0; i < nlists; i++)
		if (list_names[i] == NULL) {
			errbuf_set(err, errlen, "%s: list %zu has no name",
			    path, i);
			return -1;
		}
	for (i = 0; i < b->nrecs; i++)
		if (b->recs[i].list >= nlists) {
			errbuf_set(err, errlen, "%s: record %zu (%s) is in "
			    "list %u of %zu", path, i,
			    b->pool + b->recs[i].id, b->recs[i].list, nlists);
			return -1;
		}
	if (bloblen > 0 && blob == NULL) {
		errbuf_set(err, errlen, "%s: no blob", path);
		return -1;
	}
	return 0;
}

/* The first bytes of the file, the header among them, are written last,
 * once the digest is known; a huge page's worth, so that the rest
 * starts on a huge page boundary (see table_builder_write). */
#define WRITE_FIRST	((size_t)2 << 20)

/* The image's digest, made by a second thread while the first writes
 * the image out: BLAKE2b runs at about 600 MB/s on the test box, and
 * writing into the page cache is no faster, so together they take the
 * time of the slower.  Without a thread, made before returning. */
struct table_digest {
	const uint8_t	*p;
	size_t		 len;
	uint8_t		 out[TABLE_DIGEST];
	pthread_t	 thread;
	bool		 threaded;
};

static void *
table_digest_run(void *arg)
{
	struct table_digest *d = arg;

	(void)crypto_generichash(d->out, sizeof d->out, d->p, d->len, NULL,
	    0);
	return NULL;
}

static void
table_digest_start(struct table_digest *d, const uint8_t *p, size_t len)
{
	d->p = p;
	d->len = len;
	d->threaded = pthread_create(&d->thread, NULL, table_digest_run,
	    d) == 0;
	if (!d->threaded)
		(void)table_digest_run(d);
}

/* Waits for the digest; safe to call again, or with none started. */
static void
table_digest_wait(struct table_digest *d)
{
	if (d->threaded)
		(void)pthread_join(d->thread, NULL);
	d->threaded = false;
}

/* Whether the file at fd holds exactly the image: what landed is read
 * back from the page cache, where the rename will publish it.  This is
 * what a digest pass over the file would check, at a fraction of its
 * cost (memcmp instead of BLAKE2b).  Mapped a window at a time, so the
 * process does not hold the file and the image at once.  -1 with errno
 * (EIO: it differs). */
#define READ_BACK_WINDOW	((size_t)8 << 20)	/* a page multiple */

static int
table_read_back(int fd, const uint8_t *image, size_t size)
{
	size_t off, len;
	void *m;
	bool same = true;

	for (off = 0; same && off < size; off += len) {
		len = size - off < READ_BACK_WINDOW ? size - off :
		    READ_BACK_WINDOW;
		if ((m = mmap(NULL, len, PROT_READ, MAP_SHARED |
		    MAP_POPULATE, fd, (off_t)off)) == MAP_FAILED)
			return -1;
		same = memcmp(m, image + off, len) == 0;
		(void)munmap(m, len);
	}
	if (!same) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* fsyncs the directory holding path, so the rename is durable. */
static int
table_sync_dir(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc = -1;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL) {
		errbuf_set(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(fd) != 0)
		errbuf_set(err, errlen, "%s: written, but fsync of %s: %s",
		    path, dir, strerror(errno));
	else
		rc = 0;
	if (fd >= 0)
		(void)close(fd);
	free(dir);
	return rc;
}

int
table_builder_write(struct table_builder *b, const char *path,
    struct table_info *info, const char *const *list_names, size_t nlists,
    const void *blob, size_t bloblen, char *err, size_t errlen)
{
	struct table_info zero, *ti = info != NULL ? info : &zero;
	struct layout l;
	struct disk_header *h = &l.hdr;
	size_t ndistinct, nweakkeys, nmulti, i, j, first;
	struct disk_weak *widx;
	struct table_hit *whits;
	struct table_digest digest = { .threaded = false };
	uint8_t *map = MAP_FAILED;
	char *tmp = NULL;
	int fd = -1, rc = -1;

	if (info == NULL)
		memset(&zero, 0, sizeof zero);
	if (sodium_init() < 0) {
		errbuf_set(err, errlen, "%s: libsodium init failed", path);
		return -1;
	}
	if (table_check_input(b, path, list_names, nlists, blob, bloblen,
	    err, errlen) != 0)
		return -1;
	if (table_normalize(&b->strong, &b->nstrong, &b->capstrong,
	    &ndistinct) != 0 || (!b->weak_rising &&
	    table_normalize(&b->weak, &b->nweak, &b->capweak,
	    &nweakkeys) != 0)) {
		errbuf_set(err, errlen, "%s: out of memory sorting values",
		    path);
		return -1;
	}
	for (i = 0, nmulti = 0; i < b->nstrong; i = j) {
		for (j = i + 1; j < b->nstrong &&
		    b->strong[j].key == b->strong[i].key; j++)
			;
		if (j - i > 1)
			nmulti += j - i;
	}
	nweakkeys = b->weak_keys;
	table_layout(&l, b, ndistinct, nmulti, nweakkeys, list_names, nlists,
	    bloblen);
	ti->records = (uint32_t)b->nrecs;
	ti->strong_values = (uint32_t)ndistinct;
	ti->weak_values = (uint32_t)nweakkeys;

	/* The image is built in anonymous memory and written with write():
	 * filling a shared file mapping costs a page fault per page
	 * (measured 3x slower), and a full disk is a clean ENOSPC from
	 * write instead of a SIGBUS. */
	if ((map = mmap(NULL, h->file_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		errbuf_set(err, errlen, "%s: %llu bytes: %s", path,
		    (unsigned long long)h->file_size, strerror(errno));
		return -1;
	}
	(void)madvise(map, h->file_size, MADV_HUGEPAGE);
	if (b->nrecs > 0)
		memcpy(map + h->sec[SEC_RECORDS].off, b->recs,
		    h->sec[SEC_RECORDS].size);
	if (b->npool > 0)
		memcpy(map + h->sec[SEC_POOL].off, b->pool, b->npool);
	table_fill_strong(b->strong, b->nstrong,
	    (struct bucket *)(map + h->sec[SEC_BUCKETS].off), h->buckets,
	    (struct table_hit *)(map + h->sec[SEC_HITS].off));
	widx = (struct disk_weak *)(map + h->sec[SEC_WEAK_INDEX].off);
	whits = (struct table_hit *)(map + h->sec[SEC_WEAK_HITS].off);
	if (b->weak_rising)
		table_place_weak(b->weak, b->nweak, widx, nweakkeys, whits);
	else
		table_fill_weak(b->weak, b->nweak, widx, whits);
	table_fill_manifest(map + h->sec[SEC_MANIFEST].off, ti, list_names,
	    nlists);
	if (bloblen > 0)
		memcpy(map + h->sec[SEC_BLOB].off, blob, bloblen);
	table_digest_start(&digest, map + TABLE_HDR_SIZE,
	    h->file_size - TABLE_HDR_SIZE);

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		tmp = NULL;
		errbuf_set(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	/* mkstemp makes 0600; the filter reads the table as its own user. */
	if (fchmod(fd, 0644) != 0) {
		errbuf_set(err, errlen, "%s: chmod: %s", tmp,
		    strerror(errno));
		goto out;
	}
	/* All but the first piece while the digest is made, then the first
	 * with the header and its digest.  The pieces start on a 2 MiB
	 * boundary: written so, the page cache can hold the file in huge
	 * pages, and the milter's lookups, which land anywhere in it, then
	 * miss the TLB far less (measured on a 10M table: random reads
	 * twice as fast as from the same file written from offset 256). */
	first = h->file_size < WRITE_FIRST ? h->file_size : WRITE_FIRST;
	if (lseek(fd, (off_t)first, SEEK_SET) < 0 ||
	    fd_write_all(fd, map + first, h->file_size - first) != 0) {
		errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	table_digest_wait(&digest);
	memcpy(h->digest, digest.out, sizeof h->digest);
	memcpy(map, h, sizeof *h);
	if (lseek(fd, 0, SEEK_SET) < 0 ||
	    fd_write_all(fd, map, first) != 0 || fsync(fd) != 0) {
		errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (table_read_back(fd, map, h->file_size) != 0) {
		errbuf_set(err, errlen, "%s: read back: %s", tmp,
		    errno == EIO ? "not what was written" : strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		errbuf_set(err, errlen, "%s: close: %s", tmp,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		errbuf_set(err, errlen, "%s: rename to %s: %s", tmp, path,
		    strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	rc = table_sync_dir(path, err, errlen);
out:
	table_digest_wait(&digest);	/* it reads the image */
	if (map != MAP_FAILED)
		(void)munmap(map, h->file_size);
	if (fd >= 0)
		(void)close(fd);
	if (tmp != NULL) {
		(void)unlink(tmp);
		free(tmp);
	}
	return rc;
}

/* Does a section of size bytes hold exactly count elements? */
static bool
table_count_ok(uint64_t size, uint64_t count, size_t elsize)
{
	return size % elsize == 0 && size / elsize == count;
}

/* Header checks, in the order that gives the most useful message. */
static int
table_check_header(const char *path, const struct disk_header *h,
    size_t size, char *err, size_t errlen)
{
	uint64_t off, end;
	size_t i;
	int s;

	if (size < sizeof h->magic ||
	    memcmp(h->magic, TABLE_MAGIC, sizeof h->magic) != 0) {
		errbuf_set(err, errlen, "%s: not a custos table", path);
		return -1;
	}
	if (size < offsetof(struct disk_header, file_size)) {
		errbuf_set(err, errlen, "%s: truncated (%zu bytes, header "
		    "alone is %d)", path, size, TABLE_HDR_SIZE);
		return -1;
	}
	if (h->endian != TABLE_ENDIAN) {
		errbuf_set(err, errlen, "%s: byte order differs from this "
		    "host's", path);
		return -1;
	}
	if (h->version != TABLE_VERSION) {
		errbuf_set(err, errlen, "%s: format version %u, this custos "
		    "reads %d", path, h->version, TABLE_VERSION);
		return -1;
	}
	if (size < offsetof(struct disk_header, header_size)) {
		errbuf_set(err, errlen, "%s: truncated (%zu bytes, header "
		    "alone is %d)", path, size, TABLE_HDR_SIZE);
		return -1;
	}
	if (size < h->file_size) {
		errbuf_set(err, errlen, "%s: truncated (%zu bytes, header "
		    "says %llu)", path, size,
		    (unsigned long long)h->file_size);
		return -1;
	}
	if (size > h->file_size) {
		errbuf_set(err, errlen, "%s: corrupt (%zu bytes, header "
		    "says %llu)", path, size,
		    (unsigned long long)h->file_size);
		return -1;
	}
	if (size < TABLE_HDR_SIZE || h->header_size != TABLE_HDR_SIZE ||
	    h->sections != SEC_COUNT) {
		errbuf_set(err, errlen, "%s: corrupt (bad header)", path);
		return -1;
	}
	for (i = 0; i < sizeof h->reserved; i++)
		if (h->reserved[i] != 0) {
			errbuf_set(err, errlen, "%s: corrupt (bad header)",
			    path);
			return -1;
		}
	/* Sections in order, aligned, inside the file, no overlap. */
	for (s = 0, end = TABLE_HDR_SIZE; s < SEC_COUNT; s++) {
		off = h->sec[s].off;
		if (off != table_align8(end) || off > size ||
		    h->sec[s].size > size - off) {
			errbuf_set(err, errlen, "%s: corrupt (%s section "
			    "at %llu, %llu bytes, file is %zu)", path,
			    table_secname[s], (unsigned long long)off,
			    (unsigned long long)h->sec[s].size, size);
			return -1;
		}
		end = off + h->sec[s].size;
	}
	if (end != size ||
	    !table_count_ok(h->sec[SEC_RECORDS].size, h->records,
	    sizeof(struct disk_record)) || h->records > UINT32_MAX ||
	    h->sec[SEC_POOL].size > UINT32_MAX ||
	    (h->records > 0 && h->sec[SEC_POOL].size == 0) ||
	    !table_count_ok(h->sec[SEC_BUCKETS].size, h->buckets,
	    sizeof(struct bucket)) || h->buckets <= h->strong ||
	    !table_count_ok(h->sec[SEC_HITS].size, h->hits,
	    sizeof(struct table_hit)) || h->hits > UINT32_MAX ||
	    !table_count_ok(h->sec[SEC_WEAK_INDEX].size, h->weak,
	    sizeof(struct disk_weak)) || h->weak > UINT32_MAX ||
	    !table_count_ok(h->sec[SEC_WEAK_HITS].size, h->weak_hits,
	    sizeof(struct table_hit)) || h->weak_hits > UINT32_MAX ||
	    h->sec[SEC_MANIFEST].size < sizeof(struct disk_info)) {
		errbuf_set(err, errlen, "%s: corrupt (counts disagree with "
		    "section sizes)", path);
		return -1;
	}
	return 0;
}

/* Reads the manifest into t->info and t->lists. */
static int
table_read_manifest(struct table *t, const struct disk_header *h,
    const char *path, char *err, size_t errlen)
{
	const char *p = (const char *)t->map + h->sec[SEC_MANIFEST].off;
	size_t left = h->sec[SEC_MANIFEST].size - sizeof(struct disk_info);
	struct disk_info di;
	size_t i, len;

	memcpy(&di, p, sizeof di);
	p += sizeof di;
	if (di.records != h->records || di.strong_values != h->strong ||
	    di.weak_values != h->weak || di.lists > MAX_LISTS ||
	    di.lists > left) {
		errbuf_set(err, errlen, "%s: corrupt (manifest counts)",
		    path);
		return -1;
	}
	memcpy(t->info.version, di.version, sizeof t->info.version - 1);
	memcpy(t->info.digest, di.digest, sizeof t->info.digest - 1);
	t->info.key_id = di.key_id;
	t->info.built = di.built;
	t->info.records = di.records;
	t->info.strong_values = di.strong_values;
	t->info.weak_values = di.weak_values;
	memcpy(t->info.lengths, di.lengths, sizeof t->info.lengths);
	if (di.lists > 0 &&
	    (t->lists = calloc(di.lists, sizeof *t->lists)) == NULL) {
		errbuf_set(err, errlen, "%s: out of memory", path);
		return -1;
	}
	t->nlists = di.lists;
	for (i = 0; i < t->nlists; i++) {
		if ((len = strnlen(p, left)) == left) {
			errbuf_set(err, errlen, "%s: corrupt (list names)",
			    path);
			return -1;
		}
		t->lists[i] = p;
		p += len + 1;
		left -= len + 1;
	}
	if (left != 0) {
		errbuf_set(err, errlen, "%s: corrupt (list names)", path);
		return -1;
	}
	return 0;
}

/* One pass over every section with indexes in it, so that lookups and
 * accessors can use what they read without checks of their own. */
static int
table_check_body(const struct table *t, const struct disk_header *h,
    const char *path, char *err, size_t errlen)
{
	const struct table_hit *hit;
	const struct bucket *bk;
	uint64_t i, used = 0, nhits = 0, cnt;
	const char *what = NULL;

	if (t->npool > 0 && t->pool[t->npool - 1] != '\0')
		what = "id pool";
	for (i = 0; what == NULL && i < t->nrecs; i++)
		if (t->recs[i].id >= t->npool ||
		    t->recs[i].list >= t->nlists ||
		    (t->recs[i].flags & ~RECORD_CANARY) != 0)
			what = "records";
	for (i = 0; what == NULL && i < t->nbuckets; i++) {
		bk = &t->buckets[i];
		if (bk->key == 0) {
			if (bk->hit.rec != 0 || bk->hit.field != 0 ||
			    bk->hit.kind != 0)
				what = "buckets";
			continue;
		}
		used++;
		if ((bk->hit.kind & BUCKET_MULTI) == 0) {
			if (bk->hit.rec >= t->nrecs)
				what = "buckets";
			continue;
		}
		cnt = bk->hit.field | (uint64_t)(bk->hit.kind &
		    ~BUCKET_MULTI) << 16;
		if (cnt < 2 || bk->hit.rec > h->hits ||
		    cnt > h->hits - bk->hit.rec)
			what = "buckets";
		nhits += cnt;
	}
	if (what == NULL && (used != h->strong || nhits != h->hits))
		what = "buckets";
	for (i = 0; what == NULL && i < h->hits; i++) {
		hit = &t->hits[i];
		if (hit->rec >= t->nrecs || (hit->kind & BUCKET_MULTI) != 0)
			what = "hits";
	}
	for (i = 0, nhits = 0; what == NULL && i < t->nweak; i++) {
		if (t->weak[i].off > h->weak_hits ||
		    t->weak[i].count > h->weak_hits - t->weak[i].off)
			what = "weak index";
		nhits += t->weak[i].count;
	}
	if (what == NULL && nhits != h->weak_hits)
		what = "weak index";
	for (i = 0; what == NULL && i < h->weak_hits; i++)
		if (t->weak_hits[i].rec >= t->nrecs)
			what = "weak hits";
	if (what != NULL) {
		errbuf_set(err, errlen, "%s: corrupt (%s)", path, what);
		return -1;
	}
	return 0;
}

static struct table *
table_open_mode(const char *path, bool verify, char *err, size_t errlen)
{
	struct disk_header h;
	uint8_t digest[TABLE_DIGEST];
	struct table *t = NULL;
	struct stat st;
	void *map = MAP_FAILED;
	size_t size = 0;
	int fd;

	if (sodium_init() < 0) {
		errbuf_set(err, errlen, "%s: libsodium init failed", path);
		return NULL;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		errbuf_set(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size == 0) {
		errbuf_set(err, errlen, "%s: not a custos table", path);
		goto fail;
	}
	size = (size_t)st.st_size;
	/* Shared, read-only: every process using the table shares the
	 * page cache copy. */
	if ((map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0)) ==
	    MAP_FAILED) {
		errbuf_set(err, errlen, "%s: mmap: %s", path,
		    strerror(errno));
		goto fail;
	}
	(void)close(fd);
	fd = -1;
	memset(&h, 0, sizeof h);
	memcpy(&h, map, size < sizeof h ? size : sizeof h);
	if (table_check_header(path, &h, size, err, errlen) != 0)
		goto fail;
	if (verify) {
		/* The digest pass reads all of it anyway: start the reads
		 * now. */
		(void)madvise(map, size, MADV_WILLNEED);
		(void)crypto_generichash(digest, sizeof digest,
		    (const uint8_t *)map + TABLE_HDR_SIZE,
		    size - TABLE_HDR_SIZE, NULL, 0);
		if (sodium_memcmp(digest, h.digest, sizeof digest) != 0) {
			errbuf_set(err, errlen, "%s: corrupt (digest "
			    "mismatch)", path);
			goto fail;
		}
	}
	if ((t = calloc(1, sizeof *t)) == NULL) {
		errbuf_set(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	t->map = map;
	t->size = size;
	map = MAP_FAILED;
	t->recs = (const void *)(t->map + h.sec[SEC_RECORDS].off);
	t->nrecs = (uint32_t)h.records;
	t->pool = (const char *)t->map + h.sec[SEC_POOL].off;
	t->npool = h.sec[SEC_POOL].size;
	t->buckets = (const void *)(t->map + h.sec[SEC_BUCKETS].off);
	t->nbuckets = h.buckets;
	t->hits = (const void *)(t->map + h.sec[SEC_HITS].off);
	t->weak = (const void *)(t->map + h.sec[SEC_WEAK_INDEX].off);
	t->nweak = (uint32_t)h.weak;
	t->weak_hits = (const void *)(t->map + h.sec[SEC_WEAK_HITS].off);
	t->blob = t->map + h.sec[SEC_BLOB].off;
	t->bloblen = h.sec[SEC_BLOB].size;
	if (table_read_manifest(t, &h, path, err, errlen) != 0 ||
	    table_check_body(t, &h, path, err, errlen) != 0)
		goto fail;
	/* From here on, lookups jump around. */
	(void)madvise((void *)t->map, t->size, MADV_RANDOM);
	return t;
fail:
	if (map != MAP_FAILED)
		(void)munmap(map, size);
	if (fd >= 0)
		(void)close(fd);
	return table_close(t);
}

struct table *
table_open(const char *path, char *err, size_t errlen)
{
	return table_open_mode(path, true, err, errlen);
}

struct table *
table_open_unverified(const char *path, char *err, size_t errlen)
{
	return table_open_mode(path, false, err, errlen);
}

int
table_read_info(const char *path, struct table_info *info, char *err,
    size_t errlen)
{
	struct disk_header h;
	struct disk_info di;
	struct stat st;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	memset(&h, 0, sizeof h);
	if (fstat(fd, &st) != 0 || pread(fd, &h, sizeof h, 0) < 0) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (table_check_header(path, &h, (size_t)st.st_size, err,
	    errlen) != 0)
		goto out;
	if (h.sec[SEC_MANIFEST].size < sizeof di ||
	    pread(fd, &di, sizeof di, (off_t)h.sec[SEC_MANIFEST].off) !=
	    (ssize_t)sizeof di) {
		errbuf_set(err, errlen, "%s: corrupt (manifest)", path);
		goto out;
	}
	memset(info, 0, sizeof *info);
	memcpy(info->version, di.version, sizeof info->version - 1);
	memcpy(info->digest, di.digest, sizeof info->digest - 1);
	info->key_id = di.key_id;
	info->built = di.built;
	info->records = di.records;
	info->strong_values = di.strong_values;
	info->weak_values = di.weak_values;
	memcpy(info->lengths, di.lengths, sizeof info->lengths);
	rc = 0;
out:
	(void)close(fd);
	return rc;
}

struct table *
table_close(struct table *t)
{
	if (t == NULL)
		return NULL;
	if (t->map != NULL)
		(void)munmap((void *)t->map, t->size);
	free(t->lists);
	free(t);
	return NULL;
}

size_t
table_lookup_strong(const struct table *t, uint64_t fp,
    const struct table_hit **hits)
{
	const struct bucket *bk;
	uint64_t i;

	if (fp == 0)
		fp = 1;
	i = table_home(fp, t->nbuckets);
	/* table_open saw at least one empty bucket: the probe ends.
	 * Along a probe the keys ascend (they went in sorted), so a larger
	 * key that did not wrap round the end (its home is at or before
	 * here) means fp would have been placed before it: a miss stops
	 * after about as many buckets as a hit instead of at the next
	 * empty bucket (2.2 instead of 6 at load 0.7). */
	for (;;) {
		bk = &t->buckets[i];
		if (bk->key == fp)
			break;
		if (bk->key == 0 || (bk->key > fp &&
		    table_home(bk->key, t->nbuckets) <= i)) {
			*hits = NULL;
			return 0;
		}
		if (++i == t->nbuckets)
			i = 0;
	}
	if ((bk->hit.kind & BUCKET_MULTI) == 0) {
		*hits = &bk->hit;
		return 1;
	}
	*hits = &t->hits[bk->hit.rec];
	return bk->hit.field | (size_t)(bk->hit.kind & ~BUCKET_MULTI) << 16;
}

/* Only a hint to the CPU: a prefetch never faults, so the address need
 * not be checked, but it is (rec) or lies inside the mapping (bucket). */
void
table_prefetch_strong(const struct table *t, uint64_t fp)
{
	const struct bucket *bk;

	if (fp == 0)
		fp = 1;
	bk = &t->buckets[table_home(fp, t->nbuckets)];
	TABLE_PREFETCH(bk);
	/* The section is only 8-byte aligned: a bucket may straddle two
	 * lines.  The next line, where a probe may go on, is left alone:
	 * fetching it too measured no faster. */
	TABLE_PREFETCH((const char *)bk + sizeof *bk - 1);
}

void
table_prefetch_record(const struct table *t, uint32_t rec)
{
	if (rec < t->nrecs)
		TABLE_PREFETCH(&t->recs[rec]);
}

size_t
table_lookup_weak(const struct table *t, uint32_t weak_id,
    const struct table_hit **hits)
{
	if (weak_id >= t->nweak || t->weak[weak_id].count == 0) {
		*hits = NULL;
		return 0;
	}
	*hits = &t->weak_hits[t->weak[weak_id].off];
	return t->weak[weak_id].count;
}

uint32_t
table_records(const struct table *t)
{
	return t->nrecs;
}

const char *
table_record_id(const struct table *t, uint32_t rec)
{
	return rec < t->nrecs ? t->pool + t->recs[rec].id : NULL;
}

uint16_t
table_record_list(const struct table *t, uint32_t rec)
{
	return rec < t->nrecs ? t->recs[rec].list : 0;
}

bool
table_record_canary(const struct table *t, uint32_t rec)
{
	return rec < t->nrecs &&
	    (t->recs[rec].flags & RECORD_CANARY) != 0;
}

size_t
table_lists(const struct table *t)
{
	return t->nlists;
}

const char *
table_list_name(const struct table *t, size_t list)
{
	return list < t->nlists ? t->lists[list] : NULL;
}

const struct table_info *
table_info(const struct table *t)
{
	return &t->info;
}

const void *
table_blob(const struct table *t, size_t *len)
{
	if (len != NULL)
		*len = t->bloblen;
	return t->bloblen > 0 ? t->blob : NULL;
}

size_t
table_size(const struct table *t)
{
	return t->size;
}
