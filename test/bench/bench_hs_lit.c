/* bench_hs_lit.c - what hs_compile_lit_multi costs per literal, alone:
 * N synthetic Chinese names (a surname and two given-name characters, the
 * shape of most weak literals) or N random 9-byte strings, compiled into
 * one block-mode literal database.  Prints wall and CPU seconds, CPU
 * microseconds per literal and the database size (doc/performance.md,
 * "Weak-literal compile, alone").
 *
 *   gcc -O2 -o bench_hs_lit test/bench/bench_hs_lit.c \
 *       $(pkg-config --cflags --libs libhs)
 *   bench_hs_lit names|random N... */
#include <hs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char surnames[] = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    "郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
    "崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤";

static double
seconds(clockid_t clock)
{
	struct timespec t;

	(void)clock_gettime(clock, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Appends code point c (BMP) as UTF-8. */
static size_t
put_utf8(char *b, unsigned c)
{
	b[0] = (char)(0xe0 | (c >> 12));
	b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
	b[2] = (char)(0x80 | (c & 0x3f));
	return 3;
}

static int
run(bool names, unsigned n)
{
	char (*lits)[16] = malloc((size_t)n * sizeof *lits);
	const char **ptr = malloc((size_t)n * sizeof *ptr);
	size_t *lens = malloc((size_t)n * sizeof *lens), l;
	unsigned *flags = calloc(n, sizeof *flags), *ids = malloc(n *
	    sizeof *ids), i, k, nsur = (unsigned)(sizeof surnames - 1) / 3;
	hs_database_t *db;
	hs_compile_error_t *e;
	double w0, c0, w, c;
	size_t size = 0;

	if (!lits || !ptr || !lens || !flags || !ids)
		return -1;
	srand(1);
	for (i = 0; i < n; i++) {
		l = 0;
		if (names) {
			memcpy(lits[i], surnames + 3 * (rand() % nsur), 3);
			l = 3;
			/* 152 given-name characters, as bench_engine's pool */
			for (k = 0; k < 2; k++)
				l += put_utf8(lits[i] + l,
				    0x4e00 + (unsigned)(rand() % 152) * 7);
		} else
			for (; l < 9; l++)
				lits[i][l] = (char)(rand() & 0xff);
		ptr[i] = lits[i];
		lens[i] = l;
		ids[i] = i;
	}
	w0 = seconds(CLOCK_MONOTONIC);
	c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	if (hs_compile_lit_multi(ptr, flags, ids, lens, n, HS_MODE_BLOCK,
	    NULL, &db, &e) != HS_SUCCESS) {
		(void)fprintf(stderr, "compile: %s\n", e->message);
		return -1;
	}
	w = seconds(CLOCK_MONOTONIC) - w0;
	c = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	(void)hs_database_size(db, &size);
	printf("%-6s %8u literals: %7.2f s wall %7.2f s CPU %5.1f us/literal "
	    "CPU, database %zu bytes\n", names ? "names" : "random", n, w, c,
	    c * 1e6 / n, size);
	hs_free_database(db);
	free(lits), free(ptr), free(lens), free(flags), free(ids);
	return 0;
}

int
main(int argc, char **argv)
{
	int i;

	if (argc < 3 || (strcmp(argv[1], "names") != 0 &&
	    strcmp(argv[1], "random") != 0)) {
		(void)fprintf(stderr, "usage: bench_hs_lit names|random N...\n");
		return 2;
	}
	for (i = 2; i < argc; i++)
		if (run(strcmp(argv[1], "names") == 0,
		    (unsigned)strtoul(argv[i], NULL, 10)) != 0)
			return 1;
	return 0;
}
