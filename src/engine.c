/* engine.c - load the detection engine (see engine.h): key, compiled
 * list table and its weak-literal database, candidate database with the
 * keywords; reference counting; per-thread Hyperscan scratch (handed on
 * to the next new thread when its thread ends).
 *
 * Owns everything it loads.  Errors: NULL/-1 with err text. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "engine_int.h"
#include "errbuf.h"
#include "listbuild.h"
#include "log.h"

/* Shapes in the text view (lower-case, folded; see normalize.h).  They
 * only point at candidates: scan.c finds each candidate's extent,
 * canonicalises it and checks it, so the patterns stay small and fast. */
static const char *const cand_patterns[] = {
	/* engine_seq_min(e) digits (see cand_digits), each group apart by
	 * at most three separators, at the end of a group: one match per
	 * group, not one per digit */
	NULL,
	"[a-z0-9_%+\\-]@[a-z0-9\\-]+\\.[a-z][a-z]",
	/* IBAN: country, check digits, then at least 11 more, maybe in
	 * groups of four.  The shape starts at the check digits and ends
	 * after the group: scan_token finds the whole token, country
	 * letters included, and checks it holds the full shape
	 * (scan_token_shaped).  A shape starting at the letters makes
	 * Hyperscan look at every letter of English text (half the
	 * speed of the whole database); one ending anywhere matches at
	 * every character of a long number. */
	"[0-9][0-9](?: ?[0-9a-z]){11,}(?:[^0-9a-z]|$)",
	/* unified social credit code: 2, then 6 digits, then 10; the
	 * shape leaves out the first two for the same reason */
	"[0-9]{6}[0-9a-z]{10}",
	/* any letter next to a digit: custom ids, only when the lists
	 * have strong custom values (it fires often) */
	"[0-9][a-z]|[a-z][0-9]",
};
static const unsigned cand_ids[] = { CAND_DIGITS, CAND_EMAIL, CAND_IBAN,
	CAND_USCC, CAND_TOKEN };

static bool		verify_tables;

/* The digit shape asks for as many digits as a run needs to hold
 * anything (engine_seq_min): the dates, prices and times of ordinary
 * mail then never reach scan.c, which would only count their digits
 * and drop them.  Any run that long ends with such a sequence of
 * whole groups, so it still matches. */
#define CAND_DIGITS_FMT	"[0-9](?:[ \\t\\r\\n\\-./()]{0,3}[0-9]){%zu}(?:[^0-9]|$)"

void
engine_verify_tables(bool on)
{
	verify_tables = on;
}

static uint64_t		engine_generations;
static pthread_key_t	scratch_key;
static pthread_once_t	scratch_once = PTHREAD_ONCE_INIT;

struct thread_scratch {
	hs_scratch_t	*scratch;
	uint64_t	 generation;	/* engine it was last grown for */
};

/* Scratch of threads that ended, for the next threads to take.
 * libmilter's worker pool keeps two idle threads and ends the others:
 * behind Postfix (a milter connection per SMTP session, several at
 * once) most messages reach end of message on a thread that did not
 * exist for the last one.  A new scratch for run-e2e.sh's list of
 * 100,000 records is 1.4 million instructions (the weak database's
 * most of it): a new one for 61% of the messages made a clean message
 * cost 1.41 million instructions instead of 0.56.  At most
 * SCRATCH_SPARE wait; a thread beyond them frees its own. */
#define SCRATCH_SPARE	16
static pthread_mutex_t		 scratch_spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct thread_scratch	*scratch_spare[SCRATCH_SPARE];
static size_t			 scratch_nspare;

/* Thread exit. */
static void
engine_scratch_free(void *p)
{
	struct thread_scratch *ts = p;

	if (ts == NULL)
		return;
	if (ts->scratch != NULL) {
		(void)pthread_mutex_lock(&scratch_spare_lock);
		if (scratch_nspare < SCRATCH_SPARE) {
			scratch_spare[scratch_nspare++] = ts;
			ts = NULL;
		}
		(void)pthread_mutex_unlock(&scratch_spare_lock);
		if (ts == NULL)
			return;
	}
	hs_free_scratch(ts->scratch);
	free(ts);
}

static void
engine_scratch_key(void)
{
	(void)pthread_key_create(&scratch_key, engine_scratch_free);
}

hs_scratch_t *
engine_scratch(const struct engine *e, char *err, size_t errlen)
{
	struct thread_scratch *ts;

	(void)pthread_once(&scratch_once, engine_scratch_key);
	if ((ts = pthread_getspecific(scratch_key)) == NULL) {
		/* One an ended thread left, if any: its generation comes
		 * along, so it is grown below when the engine changed. */
		(void)pthread_mutex_lock(&scratch_spare_lock);
		if (scratch_nspare > 0)
			ts = scratch_spare[--scratch_nspare];
		(void)pthread_mutex_unlock(&scratch_spare_lock);
		if (ts == NULL && (ts = calloc(1, sizeof *ts)) == NULL) {
			(void)snprintf(err, errlen, "out of memory");
			return NULL;
		}
		(void)pthread_setspecific(scratch_key, ts);
	}
	if (ts->scratch != NULL && ts->generation == e->generation)
		return ts->scratch;
	/* Growing keeps it valid for the engines before this one too, so
	 * a message still on the old engine is not disturbed. */
	if (hs_alloc_scratch(e->cand_db, &ts->scratch) != HS_SUCCESS ||
	    (e->weak_db != NULL &&
	    hs_alloc_scratch(e->weak_db, &ts->scratch) != HS_SUCCESS)) {
		(void)snprintf(err, errlen, "Hyperscan scratch: out of memory");
		return NULL;
	}
	ts->generation = e->generation;
	return ts->scratch;
}

/* A keyword as a Hyperscan pattern: every byte escaped, so it matches
 * literally. */
static char *
engine_literal(const char *s)
{
	size_t n = strlen(s), i;
	char *p = malloc(n * 4 + 1), *o = p;

	if (p == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		o += sprintf(o, "\\x%02x", (unsigned char)s[i]);
	*o = '\0';
	return p;
}

static int
engine_compile_candidates(struct engine *e, char *err, size_t errlen)
{
	size_t nshapes = sizeof cand_patterns / sizeof cand_patterns[0];
	size_t n = nshapes + e->nkeywords, i;
	const char **pats = calloc(n, sizeof *pats);
	unsigned *ids = calloc(n, sizeof *ids), *flags = calloc(n, sizeof *flags);
	char **lits = calloc(e->nkeywords + 1, sizeof *lits);
	hs_compile_error_t *cerr = NULL;
	char cand_digits[sizeof CAND_DIGITS_FMT + 20];
	int rc = -1;

	(void)snprintf(cand_digits, sizeof cand_digits, CAND_DIGITS_FMT,
	    engine_seq_min(e) - 1);
	if (pats == NULL || ids == NULL || flags == NULL || lits == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* The token shape is last: left out when no list needs it. */
	if (!e->token_values) {
		nshapes--;
		n--;
	}
	for (i = 0; i < nshapes; i++) {
		pats[i] = cand_ids[i] == CAND_DIGITS ? cand_digits :
		    cand_patterns[i];
		ids[i] = cand_ids[i];
	}
	for (i = 0; i < e->nkeywords; i++) {
		if ((lits[i] = engine_literal(e->keywords[i])) == NULL) {
			(void)snprintf(err, errlen, "out of memory");
			goto out;
		}
		pats[nshapes + i] = lits[i];
		ids[nshapes + i] = CAND_KEYWORD + (unsigned)i;
	}
	if (hs_compile_multi(pats, flags, ids, (unsigned)n, HS_MODE_BLOCK,
	    NULL, &e->cand_db, &cerr) != HS_SUCCESS) {
		(void)snprintf(err, errlen, "candidate patterns: %s (pattern "
		    "%d)", cerr->message, cerr->expression);
		hs_free_compile_error(cerr);
		goto out;
	}
	rc = 0;
out:
	for (i = 0; lits != NULL && i < e->nkeywords; i++)
		free(lits[i]);
	free(lits);
	free(pats);
	free(ids);
	free(flags);
	return rc;
}

/* The fewest digits a run needs to hold anything scan.c looks for: a
 * detector's number (a written SSN has 9, the rest more) or a length
 * the table has (numbers; ID numbers and digit custom ids, maybe with an
 * x after them).  Shorter runs are skipped whole. */
static size_t
engine_run_min(const struct engine *e)
{
	size_t min = ENGINE_RUN_MIN, k;

	if (e->lengths[CLASS_NUMERIC] != 0 &&
	    (k = (size_t)__builtin_ctzll(e->lengths[CLASS_NUMERIC])) < min)
		min = k;
	if (e->alnum_values && e->lengths[CLASS_ALNUM] != 0 &&
	    (k = (size_t)__builtin_ctzll(e->lengths[CLASS_ALNUM])) <= min)
		min = k > 0 ? k - 1 : 0;
	return min;
}

/* The compiled list: built first when missing or stale, then opened and
 * checked against the key. */
static int
engine_load_table(struct engine *e, const struct conf *c, char *err,
    size_t errlen)
{
	const struct table_info *info;
	const void *blob;
	size_t bloblen;
	struct listbuild_stats st;
	char why[256];

	/* The build creates the key when there is none yet. */
	if (listbuild_stale(c)) {
		log_info("compiling the customer lists into %s", c->database);
		if (listbuild_run(c, false, &st, err, errlen) != 0)
			return -1;
		log_info("compiled %zu records (%zu bad rows) in %.1fs",
		    st.records, st.bad_rows, st.seconds);
	}
	if (listkey_load(c->key_file, 0, &e->key, err, errlen) != 0)
		return -1;
	e->table = verify_tables ? table_open(c->database, err, errlen) :
	    table_open_unverified(c->database, err, errlen);
	if (e->table == NULL)
		return -1;
	info = table_info(e->table);
	memcpy(e->lengths, info->lengths, sizeof e->lengths);
	e->run_min = engine_run_min(e);
	if (info->key_id != e->key.id) {
		(void)snprintf(err, errlen, "%s was compiled with another list "
		    "key than %s", c->database, c->key_file);
		return -1;
	}
	(void)snprintf(e->version, sizeof e->version, "%s", info->version);
	blob = table_blob(e->table, &bloblen);
	if (bloblen > 0 && weakhead_open(blob, bloblen, info->weak_values,
	    &e->weak_heads, &blob, &bloblen, why, sizeof why) != 0) {
		errbuf_set(err, errlen, "%s: %s", c->database, why);
		return -1;
	}
	if (bloblen > 0 && hs_deserialize_database(blob, bloblen,
	    &e->weak_db) != HS_SUCCESS) {
		(void)snprintf(err, errlen, "%s: the weak-field database does "
		    "not load on this machine (compiled elsewhere? run custos "
		    "compile here)", c->database);
		return -1;
	}
	return 0;
}

static void
engine_free(struct engine *e)
{
	size_t i;

	if (e == NULL)
		return;
	hs_free_database(e->cand_db);
	hs_free_database(e->weak_db);
	(void)blobcache_free(e->scans);
	table_close(e->table);
	for (i = 0; i < e->nkeywords; i++)
		free(e->keywords[i]);
	free(e->keywords);
	free(e);
}

struct engine *
engine_load(const struct conf *c, char *err, size_t errlen)
{
	struct engine *e;
	size_t i, k;

	if ((e = calloc(1, sizeof *e)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->refs = 1;
	e->generation = __atomic_add_fetch(&engine_generations, 1,
	    __ATOMIC_SEQ_CST);
	e->proximity = c->proximity;
	e->weak_max_records = c->weak_max_records;
	e->weak_expand = ENGINE_WEAK_EXPAND;
	e->run_min = ENGINE_RUN_MIN;
	e->max_samples = c->max_samples;
	e->cn_id_legacy = c->cn_id_legacy;
	/* Its own store: a scan names records of this engine's table. */
	e->scans = blobcache_new(c->limits.cache_bytes / 8);
	memcpy(e->det_on, c->detector_on, sizeof e->det_on);
	memcpy(e->det_threshold, c->detector_threshold,
	    sizeof e->det_threshold);
	for (i = 0; i < c->nlists; i++)
		for (k = 0; k < c->lists[i].nfields; k++)
			if (c->lists[i].fields[k].strong &&
			    kind_class(c->lists[i].fields[k].kind) ==
			    CLASS_ALNUM) {
				e->alnum_values = true;
				e->token_values |= c->lists[i].fields[k].kind !=
				    KIND_CN_ID;
			}
	if (c->nkeywords > 0 &&
	    (e->keywords = calloc(c->nkeywords, sizeof *e->keywords)) == NULL)
		goto nomem;
	for (i = 0; i < c->nkeywords; i++) {
		if ((e->keywords[i] = strdup(c->keywords[i])) == NULL)
			goto nomem;
		e->nkeywords++;
	}
	/* The table first: its lengths shape the candidate patterns. */
	if ((c->nlists > 0 && engine_load_table(e, c, err, errlen) != 0) ||
	    engine_compile_candidates(e, err, errlen) != 0) {
		engine_free(e);
		return NULL;
	}
	return e;
nomem:
	(void)snprintf(err, errlen, "out of memory");
	engine_free(e);
	return NULL;
}

struct engine *
engine_ref(struct engine *e)
{
	__atomic_add_fetch(&e->refs, 1, __ATOMIC_SEQ_CST);
	return e;
}

void
engine_unref(struct engine *e)
{
	if (e != NULL && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_SEQ_CST) == 0)
		engine_free(e);
}

const char *
engine_list_version(const struct engine *e)
{
	return e != NULL ? e->version : "";
}

void
engine_kept_scans(const struct engine *e, struct blobcache_stats *st)
{
	blobcache_get_stats(e != NULL ? e->scans : NULL, st);
}
