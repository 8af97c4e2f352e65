/* bench_table.c - how long the compiled list takes to build, write, open
 * and query, and how big it is.  Not a test: prints numbers, checks only
 * that every present value is found and no absent one is.
 *
 *   bench_table [-d dir] [records ...]    default: 200000 2000000
 *
 * Each record gets 5 random strong values (10M records: 50M values).
 * Build time covers adding records and values and table_builder_write
 * (sort, layout, digest, fsync, rename); open time covers map, digest
 * and the full consistency pass.  Exits 1 on any error. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "table.h"

#define PER_RECORD	5
#define LOOKUPS		10000000UL

static double
now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
bench(const char *dir, unsigned long nrec)
{
	static const char *const lists[] = { "customers" };
	unsigned long nval = nrec * PER_RECORD, i, found;
	struct table_builder *b;
	const struct table_hit *h;
	struct table_info ti;
	struct table *t;
	char path[4096], id[32], err[512];
	double t0, tadd, twrite, topen, thit, tmiss;
	uint64_t seed, *fps;
	uint32_t rec;

	(void)snprintf(path, sizeof path, "%s/bench.tbl", dir);
	if ((b = table_builder_new()) == NULL)
		return -1;
	t0 = now();
	seed = 1;
	for (i = 0; i < nrec; i++) {
		(void)snprintf(id, sizeof id, "C%09lu", i);
		if (table_builder_add_record(b, id, 0, false, &rec) != 0)
			return -1;
	}
	for (i = 0; i < nval; i++) {
		struct table_hit hit = { (uint32_t)(i / PER_RECORD),
		    (uint16_t)(i % PER_RECORD), 1 };

		if (table_builder_add_strong(b, splitmix(&seed), hit) != 0)
			return -1;
	}
	tadd = now() - t0;
	memset(&ti, 0, sizeof ti);
	t0 = now();
	if (table_builder_write(b, path, &ti, lists, 1, NULL, 0, err,
	    sizeof err) != 0) {
		fprintf(stderr, "write: %s\n", err);
		return -1;
	}
	twrite = now() - t0;
	b = table_builder_free(b);

	t0 = now();
	if ((t = table_open(path, err, sizeof err)) == NULL) {
		fprintf(stderr, "open: %s\n", err);
		return -1;
	}
	topen = now() - t0;

	/* Lookups in random order, the fingerprints precomputed so only
	 * the table is timed. */
	if ((fps = malloc(LOOKUPS * sizeof *fps)) == NULL)
		return -1;
	for (i = 0; i < LOOKUPS; i++) {
		unsigned long k = (unsigned long)(splitmix(&seed) % nval);
		/* Value k was made from state 1 + k * g. */
		uint64_t s = 1 + 0x9e3779b97f4a7c15ULL * k;

		fps[i] = splitmix(&s);
	}
	t0 = now();
	for (i = 0, found = 0; i < LOOKUPS; i++)
		found += table_lookup_strong(t, fps[i], &h);
	thit = now() - t0;
	if (found != LOOKUPS) {
		fprintf(stderr, "hits: found %lu of %lu\n", found, LOOKUPS);
		return -1;
	}
	seed = 0xabcdef;
	for (i = 0; i < LOOKUPS; i++)
		fps[i] = splitmix(&seed) | 1;
	t0 = now();
	for (i = 0, found = 0; i < LOOKUPS; i++)
		found += table_lookup_strong(t, fps[i], &h);
	tmiss = now() - t0;
	free(fps);

	printf("records %lu, values %lu: add %.2f s, write %.2f s "
	    "(build %.2f s); file %zu bytes, %.1f bytes/value; open %.3f s "
	    "(%.0f MB/s); lookups: hits %.1f M/s, misses %.1f M/s "
	    "(%lu false)\n", nrec, nval, tadd, twrite, tadd + twrite,
	    table_size(t), (double)table_size(t) / (double)nval, topen,
	    (double)table_size(t) / topen / 1e6, LOOKUPS / thit / 1e6,
	    LOOKUPS / tmiss / 1e6, found);
	table_close(t);
	(void)unlink(path);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *dir = "/tmp";
	int c, i;

	while ((c = getopt(argc, argv, "d:")) != -1) {
		if (c != 'd') {
			fprintf(stderr, "usage: bench_table [-d dir] "
			    "[records ...]\n");
			return 2;
		}
		dir = optarg;
	}
	if (sodium_init() < 0)
		return 1;
	if (optind == argc) {
		if (bench(dir, 200000) != 0 || bench(dir, 2000000) != 0)
			return 1;
		return 0;
	}
	for (i = optind; i < argc; i++)
		if (bench(dir, strtoul(argv[i], NULL, 10)) != 0)
			return 1;
	return 0;
}
