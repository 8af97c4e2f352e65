/* scanlog.h - what scanning one segment did to a message's findings, as
 * a log that can be played into another message's findings.
 *
 * Why: the same attachment comes again and again (extract/xcache.c
 * replays its text), and scanning a spreadsheet's text costs more than
 * anything else left for such a message.  scan.c sends every change it
 * makes to the findings through these calls; while a log is on they
 * are also written down, and a segment with the same text is later
 * played from the log instead of scanned (engine.c keeps the logs,
 * blobcache.h).
 *
 * A log holds what the findings hold: record numbers of the loaded
 * table, keyed fingerprints, masked samples, keyword names; never a
 * value in clear.  Playing it repeats each call with the same logic as
 * scanning (a value counts once per message, a sample only while there
 * is room, the segment's own index), so the findings are those a scan
 * would give, whatever the message held before.  The linking budget
 * (scan.c) is the one shared state: a log says how much it spent, and
 * is played only where the budget has that much and more.
 *
 * Not thread-safe (one log per scan); a played blob is read-only.
 * Errors: -1 only when out of memory. */
#ifndef CUSTOS_SCANLOG_H
#define CUSTOS_SCANLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "blobcache.h"
#include "findings.h"
#include "table.h"

struct scanlog {
	GByteArray	*b;		/* NULL: not recording */
};

/* Starts recording (a previous recording is dropped). */
void	scanlog_start(struct scanlog *);
/* Stops recording and drops what was recorded. */
void	scanlog_stop(struct scanlog *);

/* findings_add_record for record rec of t, found as kind in segment
 * seg. */
void	scanlog_record(struct scanlog *, struct findings *,
	    const struct table *t, uint32_t rec, uint32_t seg,
	    enum field_kind kind);
/* A distinct value (findings_once of class and key): when it is new,
 * one more in f->detector_values[idx] (detector) or f->kind_values[idx],
 * and the masked sample (NULL: none) while f has room for it. */
void	scanlog_value(struct scanlog *, struct findings *, uint32_t class,
	    uint64_t key, bool detector, unsigned idx, const char *masked,
	    uint32_t seg);
void	scanlog_keyword(struct scanlog *, struct findings *,
	    const char *keyword);
void	scanlog_ambiguous(struct scanlog *, struct findings *);

/* Keeps the recording in c under key, for a segment whose scan spent
 * spent linking steps and scanned bytes view bytes; then stops. */
void	scanlog_keep(struct scanlog *, struct blobcache *c,
	    const uint8_t key[BLOBCACHE_KEY], size_t spent, size_t bytes);

/* Plays log b into f as the scan of segment seg, spending from *budget.
 * 1 played; 0 not (*budget is not above what the log spent: the scan
 * could have run out of it); -1 out of memory. */
int	scanlog_play(const struct blob *b, struct findings *f,
	    const struct table *t, uint32_t seg, size_t *budget);

#endif
