/* listbuild.h - compile the configured customer lists into the table
 * custos loads (`custos compile`, and the milter when its build is
 * missing or stale).
 *
 * Reads each list's CSV (csv.h), finds its columns by header name,
 * canonicalises every field value for its kind (normalize.h); strong
 * values go into the table as keyed fingerprints (listkey.h), weak ones
 * into a Hyperscan literal database serialized into the same file.
 * Rows that cannot be used are reported with their line numbers and
 * skipped; the build goes on.  The result replaces the old table only
 * when everything was written (table.h): a failed build never replaces a
 * working one.
 *
 * Errors: -1 with err; the old table stays. */
#ifndef CUSTOS_LISTBUILD_H
#define CUSTOS_LISTBUILD_H

#include <stdbool.h>
#include <stddef.h>

struct conf;

struct listbuild_stats {
	size_t	rows;		/* data rows read */
	size_t	bad_rows;	/* skipped, reported */
	size_t	records;
	size_t	strong_values;	/* distinct fingerprints */
	size_t	weak_values;	/* distinct weak literals */
	size_t	weak_heads;	/* their heads (weakhead.h) */
	size_t	table_bytes;
	double	seconds;
	char	version[64];
};

/* Builds c->database from c's lists; creates the key file if there is
 * none.  progress: show a progress line on stderr (for a terminal). */
int	listbuild_run(const struct conf *c, bool progress,
	    struct listbuild_stats *, char *err, size_t errlen);

/* True when c->database is missing, older than a list or the key file,
 * or was built from other list definitions, and the lists are here to
 * build it from. */
bool	listbuild_stale(const struct conf *c);

#endif
