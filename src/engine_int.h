/* engine_int.h - the engine's insides, shared by engine.c (loading) and
 * scan.c (scanning).  Not for other modules. */
#ifndef CUSTOS_ENGINE_INT_H
#define CUSTOS_ENGINE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <hs.h>

#include "blobcache.h"
#include "engine.h"
#include "findings.h"
#include "listkey.h"
#include "table.h"
#include "weakhead.h"

/* Candidate database ids: shapes, then one per keyword. */
enum {
	CAND_DIGITS = 1,	/* engine_seq_min digits, maybe grouped */
	CAND_EMAIL,		/* x@y.zz */
	CAND_TOKEN,		/* a letter next to a digit */
	CAND_IBAN,		/* country, check digits, more */
	CAND_USCC,		/* 18 letters/digits, 6 digits in place */
	CAND_KEYWORD = 1000	/* + index into keywords */
};

struct engine {
	int			 refs;		/* atomic */
	uint64_t		 generation;	/* unique per load */
	hs_database_t		*cand_db;
	hs_database_t		*weak_db;	/* NULL: no weak literals */
	struct weakhead_index	 weak_heads;	/* its ids; heads NULL: */
						/* they are weak ids */
	struct table		*table;		/* NULL: no list loaded */
	struct listkey		 key;
	bool			 alnum_values;	/* custom or cn_id strong */
	bool			 token_values;	/* custom strong: tokens */
	uint64_t		 lengths[4];	/* table_info.lengths */
	size_t			 run_min;	/* digits a run needs */
	char			**keywords;
	size_t			 nkeywords;
	size_t			 proximity;
	size_t			 weak_max_records;
	size_t			 weak_expand;	/* ENGINE_WEAK_EXPAND */
	size_t			 max_samples;
	bool			 det_on[DET_COUNT];
	unsigned		 det_threshold[DET_COUNT];
	bool			 cn_id_legacy;
	char			 version[64];
	/* Kept scans of files' texts (scan.c, scanlog.h): an eighth of
	 * limits { extract_cache }; NULL: none. */
	struct blobcache	*scans;
};

/* A weak value more records share than this is not expanded into one
 * hit per record but linked to the records other evidence brings in
 * (scan.c, scan_link).  The unit tests lower it to check both ways
 * agree. */
#define ENGINE_WEAK_EXPAND	64

/* Digits a run needs with no list loaded: a written SSN's 9, the
 * shortest number a detector checks.  A list's shorter numbers lower
 * it (engine.c, engine_run_min). */
#define ENGINE_RUN_MIN		9

/* The calling thread's scratch, valid for both databases of e. */
hs_scratch_t	*engine_scratch(const struct engine *e, char *err,
		    size_t errlen);

/* Digits in the shortest sequence of a run's groups worth looking at:
 * the run minimum, and never under 5 (shorter numbers match too much
 * text to be identifiers). */
static inline size_t
engine_seq_min(const struct engine *e)
{
	return e->run_min > 5 ? e->run_min : 5;
}

/* 1 when the table may hold a strong value of this class and length. */
static inline int
engine_length_possible(const struct engine *e, unsigned class, size_t len)
{
	return (e->lengths[class & 3] >> (len < 63 ? len : 63)) & 1;
}

/* 1 when the table may hold a strong value of this class no longer than
 * len (at most 62). */
static inline int
engine_length_upto(const struct engine *e, unsigned class, size_t len)
{
	return (e->lengths[class & 3] & ((2ull << len) - 1)) != 0;
}

/* For tests: whether scans drop the weak hits nothing can corroborate
 * before corroboration (weakprune.h; default on, process-wide).  Off,
 * they go through it and come out uncounted: the findings must be the
 * same either way.  Returns the setting before. */
bool	engine_prune_weak(bool on);

#endif
