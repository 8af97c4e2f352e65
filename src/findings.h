/* findings.h - what the detection engine found in one message.
 *
 * Customer records are counted once per message however often they
 * appear, per list and in total; per field kind, the number of distinct
 * values matched; per built-in detector, the number of distinct values
 * that passed its validator; canary records; where each record was seen
 * first (segment index); classification keywords; a few masked samples.
 * Record ids are internal ids from the customer list (for incident
 * response); no value is ever kept in clear here.
 *
 * Owns everything it holds.  Not thread-safe; one per message.
 * Errors: -1 only when out of memory. */
#ifndef CUSTOS_FINDINGS_H
#define CUSTOS_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "kinds.h"
#include "mask.h"

enum detector {
	DET_CN_RESIDENT_ID = 0,
	DET_CN_USCC,
	DET_PAYMENT_CARD,
	DET_CN_MOBILE,
	DET_EMAIL,
	DET_IBAN,
	DET_US_SSN,
	DET_COUNT
};

const char	*detector_name(enum detector);
int		 detector_parse(const char *, enum detector *);	/* 0 or -1 */

#define FINDINGS_MAX_LISTS	64

struct finding_record {
	uint32_t	 rec;		/* index in the table */
	const char	*id;		/* record id (the table's memory) */
	uint16_t	 list;
	bool		 canary;
	uint32_t	 segment;	/* first segment it was seen in */
	uint32_t	 kinds;		/* bit per field kind matched */
};

struct finding_sample {
	char		 text[MASK_MAX];
	uint8_t		 kind;		/* enum field_kind, or detector */
	bool		 detector;	/* text is a detector's sample */
	uint32_t	 segment;
};

/* The distinct values counted (findings_once): an open-addressing set
 * of 64-bit keys, linear probing, at most half full.  Slot 0 means
 * empty; key 0 itself is kept in zero. */
struct findings_seen {
	uint64_t		*slot;		/* NULL until the first key */
	size_t			 cap, n;	/* cap: 0 or a power of two */
	bool			 zero;
};

/* The records counted: an array in the order first seen, and an
 * open-addressing index of it by table record (linear probing, at most
 * half full; a slot holds an array index + 1, 0 when empty). */
struct findings_records {
	struct finding_record	*v;
	size_t			 n, cap;
	uint32_t		*slot;		/* NULL until the first */
	size_t			 nslots;	/* 0 or a power of two */
	/* findings_sorted's order of v, made by findings_order and valid
	 * while no record is added: the verdict, the notices, the audit
	 * line and the history all ask for it. */
	uint32_t		*order;
	size_t			 norder;	/* valid when == n */
};

struct findings {
	struct findings_records	 records;
	size_t			 per_list[FINDINGS_MAX_LISTS];
	size_t			 kind_values[KIND_COUNT];
	size_t			 detector_values[DET_COUNT];
	size_t			 canaries;
	size_t			 weak_ambiguous;	/* weak-only matches, too many records */
	bool			 weak_truncated;	/* weak linking budget spent */
	struct findings_seen	 seen;		/* value fingerprints counted */
	GHashTable		*keywords;	/* keyword -> count */
	struct finding_sample	*samples;
	size_t			 nsamples, max_samples;
	size_t			 bytes_scanned;
	char			 list_version[64];
};

int	findings_init(struct findings *, size_t max_samples);
void	findings_clear(struct findings *);		/* frees, re-init */
void	findings_free(struct findings *);		/* frees */

size_t	findings_records(const struct findings *);	/* distinct */

/* Counts a record (once per message).  Returns 1 when new, 0 when it
 * was already counted, -1 on no memory. */
int	findings_add_record(struct findings *, uint32_t rec, const char *id,
	    uint16_t list, bool canary, uint32_t segment,
	    enum field_kind kind);
/* Counts a distinct value once: key is a fingerprint that names it
 * (keyed hash), class separates the name spaces (a kind, or 0x100 + a
 * detector).  Returns 1 new, 0 seen, -1 on no memory. */
int	findings_once(struct findings *, uint32_t class, uint64_t key);
void	findings_sample(struct findings *, bool detector, unsigned kind,
	    const char *masked, uint32_t segment);
int	findings_keyword(struct findings *, const char *keyword);

/* Sorts the records once and keeps their order for findings_sorted,
 * until a record is added.  For the one who owns the findings, when
 * scanning is done (pipeline_run): findings_sorted only reads, so
 * threads may ask for the order of one findings at once. */
void	findings_order(struct findings *);
/* The record ids found, sorted by list then id (the kept order, or
 * sorted anew when there is none); the array is the caller's (g_free),
 * the records valid until the next findings_add_record or
 * findings_free, the strings the table's. */
const struct finding_record **findings_sorted(const struct findings *,
	    size_t *n);

#endif
