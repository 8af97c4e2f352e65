/* bench_weak_scan.c - what one literal set costs Hyperscan to scan, alone:
 * the literals of a file (one a line, UTF-8) compiled with
 * hs_compile_lit_multi, then one text scanned ROUNDS times.  Prints the
 * literals, the compile seconds, the matches a scan and the best of five
 * timings (CPU microseconds a scan).  For doc/performance.md ("Sixth
 * round"): which literal sets the matcher confirms slowly.  The literal
 * files come from test/bench/weak-literals.py.
 *
 *   gcc -O2 -o bench_weak_scan test/bench/bench_weak_scan.c \
 *       $(pkg-config --cflags --libs libhs)
 *   bench_weak_scan LITERALS TEXT [ROUNDS] */
#include <hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
cpu_seconds(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *arg)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(*(size_t *)arg)++;
	return 0;
}

static void
die(const char *what)
{
	(void)fprintf(stderr, "bench_weak_scan: %s\n", what);
	exit(1);
}

/* The whole of path, NUL-terminated; *len its bytes. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) ==
	    NULL || fread(buf, 1, (size_t)n, fp) != (size_t)n)
		die(path);
	(void)fclose(fp);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

int
main(int argc, char **argv)
{
	hs_database_t *db;
	hs_compile_error_t *cerr;
	hs_scratch_t *scratch = NULL;
	char *lits, *text, *p, *nl, **v;
	unsigned *ids, *flags;
	size_t *lens, n = 0, cap = 1024, litlen, textlen, matches = 0, i;
	int rounds = argc > 3 ? atoi(argv[3]) : 1000, r, k;
	double t0, best = 1e9, compile;

	if (argc < 3 || rounds < 1)
		die("usage: bench_weak_scan LITERALS TEXT [ROUNDS]");
	lits = slurp(argv[1], &litlen);
	text = slurp(argv[2], &textlen);
	if ((v = malloc(cap * sizeof *v)) == NULL)
		die("out of memory");
	for (p = lits; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (nl > p) {
			if (n == cap && (v = realloc(v, (cap *= 2) *
			    sizeof *v)) == NULL)
				die("out of memory");
			v[n++] = p;
		}
		if (*nl == '\0')
			break;
		*nl = '\0';
	}
	ids = calloc(n, sizeof *ids);
	flags = calloc(n, sizeof *flags);
	lens = calloc(n, sizeof *lens);
	if (n == 0 || ids == NULL || flags == NULL || lens == NULL)
		die("no literals");
	for (i = 0; i < n; i++) {
		ids[i] = (unsigned)i;
		lens[i] = strlen(v[i]);
	}
	t0 = cpu_seconds();
	if (hs_compile_lit_multi((const char *const *)v, flags, ids, lens,
	    (unsigned)n, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS)
		die(cerr->message);
	compile = cpu_seconds() - t0;
	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
		die("hs_alloc_scratch");
	for (k = 0; k < 5; k++) {
		t0 = cpu_seconds();
		for (r = 0; r < rounds; r++) {
			matches = 0;
			if (hs_scan(db, text, (unsigned)textlen, 0, scratch,
			    on_match, &matches) != HS_SUCCESS)
				die("hs_scan");
		}
		t0 = (cpu_seconds() - t0) / rounds;
		if (t0 < best)
			best = t0;
	}
	(void)printf("%zu literals, compiled in %.2f s; %zu bytes of text, "
	    "%zu matches, %.1f us a scan (best of 5 x %d), %.0f MB/s\n", n,
	    compile, textlen, matches, best * 1e6, rounds,
	    (double)textlen / best / 1e6);
	hs_free_scratch(scratch);
	hs_free_database(db);
	free(ids);
	free(flags);
	free(lens);
	free(v);
	free(lits);
	free(text);
	return 0;
}
