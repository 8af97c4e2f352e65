/* fuzz_engine.c - libFuzzer target: text in, the detection engine with a
 * customer list out.  The list is made so that names and companies are
 * shared by many customers (linked, not expanded: scan.c's scan_link)
 * and by few (expanded), with strong values next to them.  The first
 * byte of an input picks how many records a weak value may have before
 * it is linked (0, 4 or the engine's default), so both paths and their
 * mixes run on every kind of text.  Anything but findings is a bug: a
 * crash, a hang (-timeout), a leak or unbounded memory.  Each input's
 * text view is also built at every vector level and compared, and the
 * text scanned again without weakprune.c, which must give the same
 * findings.
 *
 * Built with ./configure CC=clang --enable-fuzzing; run by
 * test/fuzz/run-fuzz.sh. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "conf.h"
#include "engine.h"
#include "engine_int.h"
#include "findings.h"
#include "normalize.h"
#include "textseg.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct conf *fuzz_conf;

/* The list's values are the seeds' (test/fuzz/run-fuzz.sh, seed
 * engine): keep the two in step. */
static const char *const names[] = { "王芳", "李娜", "张伟", "陈静",
	"刘洋", "Anna Li", "赵敏", "孙丽" };
static const char *const companies[] = { "长城贸易有限公司",
	"东方物流有限公司", "华信科技", "Acme Co., Ltd", "远大咨询",
	"鼎盛电子",
	/* longer than a head (weakhead.h): two behind one head */
	"深圳市星河数码科技有限公司", "深圳市星河数码物流",
	"Northwind Traders Co., Ltd" };
#define NCOMPANIES	(sizeof companies / sizeof companies[0])

static void
fuzz_write(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0) {
		(void)fprintf(stderr, "fuzz_engine: cannot write %s\n", path);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/custos-fuzz-engine.XXXXXX", path[256], err[512];
	GString *csv = g_string_new("id,name,mobile,company\n"), *conf;
	size_t i;

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	/* 600 records: name i % 8 and company i % 9 for most (~75 and
	 * ~60 sharing each), a name of their own for every tenth. */
	for (i = 0; i < 600; i++) {
		if (i % 10 == 9)
			g_string_append_printf(csv, "R%zu,客户%zu,1390000%04zu,"
			    "\"%s\"\n", i, i, i, companies[i % 3]);
		else
			g_string_append_printf(csv, "R%zu,%s,1390000%04zu,"
			    "\"%s\"\n", i, names[i % 8], i,
			    companies[i % NCOMPANIES]);
	}
	(void)snprintf(path, sizeof path, "%s/list.csv", dir);
	fuzz_write(path, csv->str);
	conf = g_string_new(NULL);
	g_string_append_printf(conf, "key_file = \"%s/list.key\"\n"
	    "database = \"%s/lists.db\"\n"
	    "list \"customers\" {\n  file = \"%s\"\n"
	    "  field \"name\" { kind = \"name\" }\n"
	    "  field \"mobile\" { kind = \"mobile\" }\n"
	    "  field \"company\" { kind = \"company\" }\n}\n", dir, dir, path);
	(void)snprintf(path, sizeof path, "%s/custos.conf", dir);
	fuzz_write(path, conf->str);
	g_string_free(csv, TRUE);
	g_string_free(conf, TRUE);
	if ((fuzz_conf = conf_load_all(path, err, sizeof err)) == NULL ||
	    fuzz_conf->engine == NULL) {
		(void)fprintf(stderr, "fuzz_engine: %s\n", err);
		abort();
	}
	return 0;
}

/* The view of the text at every vector level the CPU has must be the
 * plain words' view, byte for byte and point for point
 * (normalize.c's bulk loops only skip what the scalar fold keeps). */
static void
fuzz_view_levels(const char *text, size_t len)
{
	struct textview ref, v;
	int best = textview_simd(-1), level;

	(void)textview_simd(0);
	if (textview_build(&ref, text, len) != 0)
		abort();
	for (level = 1; level <= best; level++) {
		(void)textview_simd(level);
		if (textview_build(&v, text, len) != 0)
			abort();
		if (v.len != ref.len || memcmp(v.buf, ref.buf, v.len) != 0 ||
		    v.npts != ref.npts || (v.npts > 0 && memcmp(v.pts,
		    ref.pts, v.npts * sizeof *v.pts) != 0)) {
			(void)fprintf(stderr, "fuzz_engine: the view at "
			    "level %d differs from level 0\n", level);
			abort();
		}
		textview_free(&v);
	}
	textview_free(&ref);
	(void)textview_simd(-1);
}

/* Findings that a reader could tell apart: counts, record ids,
 * samples. */
static bool
fuzz_findings_same(const struct findings *a, const struct findings *b)
{
	const struct finding_record **ra, **rb;
	size_t na, nb, i;
	bool same;

	if (findings_records(a) != findings_records(b) ||
	    a->canaries != b->canaries ||
	    a->weak_ambiguous != b->weak_ambiguous ||
	    a->weak_truncated != b->weak_truncated ||
	    memcmp(a->per_list, b->per_list, sizeof a->per_list) != 0 ||
	    memcmp(a->kind_values, b->kind_values,
	    sizeof a->kind_values) != 0 ||
	    memcmp(a->detector_values, b->detector_values,
	    sizeof a->detector_values) != 0 || a->nsamples != b->nsamples)
		return false;
	for (i = 0; i < a->nsamples; i++)
		if (strcmp(a->samples[i].text, b->samples[i].text) != 0 ||
		    a->samples[i].kind != b->samples[i].kind)
			return false;
	ra = findings_sorted(a, &na);
	rb = findings_sorted(b, &nb);
	same = na == nb;
	for (i = 0; same && i < na; i++)
		same = ra[i]->list == rb[i]->list &&
		    strcmp(ra[i]->id, rb[i]->id) == 0 &&
		    ra[i]->segment == rb[i]->segment;
	g_free(ra);
	g_free(rb);
	return same;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t expand[] = { 0, 4, ENGINE_WEAK_EXPAND };
	struct engine *e = (struct engine *)fuzz_conf->engine;
	struct textseg *t;
	struct findings f, g;
	char err[256];

	if (size == 0)
		return 0;
	e->weak_expand = expand[data[0] % 3];
	t = textseg_new();
	if (textseg_add(t, "body text/plain", "text/plain", "utf-8", NULL,
	    (const char *)data + 1, size - 1) == NULL)
		abort();
	(void)findings_init(&f, 5);
	(void)engine_scan(fuzz_conf->engine, t, &f, err, sizeof err);
	/* Dropping the weak hits nothing can corroborate (weakprune.h)
	 * changes no finding. */
	(void)engine_prune_weak(false);
	(void)findings_init(&g, 5);
	(void)engine_scan(fuzz_conf->engine, t, &g, err, sizeof err);
	(void)engine_prune_weak(true);
	if (!fuzz_findings_same(&f, &g)) {
		(void)fprintf(stderr, "fuzz_engine: the findings differ "
		    "without weakprune\n");
		abort();
	}
	findings_free(&g);
	findings_free(&f);
	textseg_free(t);
	fuzz_view_levels((const char *)data + 1, size - 1);
	return 0;
}
