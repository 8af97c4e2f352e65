/* table.h - the compiled customer list: one file that maps keyed
 * fingerprints of strong values to the records holding them, the records
 * of each weak literal, record ids and flags, a manifest, and an opaque
 * blob (the weak values' heads and their Hyperscan database, in
 * weakhead.h's format; opaque here).
 *
 * No value is stored in clear: strong values only as 64-bit keyed
 * fingerprints (SipHash-2-4, key in its own file), weak values only as
 * their first bytes inside the compiled Hyperscan database and keyed
 * fingerprints (weakhead.h).
 *
 * File layout (little-endian, every section 8-byte aligned): a header
 * with magic, format version, section offsets and sizes, and a BLAKE2b
 * digest of everything after the header; then records, the id string
 * pool, the open-addressing fingerprint buckets (16 bytes each, load
 * factor at most 0.7), the multi-record hit array, the weak index, the
 * manifest and the blob.  table_open maps the file read-only, checks
 * magic, version, sizes and digest, and refuses anything else with a
 * clear reason: a truncated or corrupt build never gets used.
 *
 * The builder owns its arrays until written; a table owns its mapping.
 * A table is read-only and safe to share between threads. */
#ifndef CUSTOS_TABLE_H
#define CUSTOS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct table_hit {
	uint32_t	rec;		/* record index */
	uint16_t	field;		/* field index in its list's config */
	uint16_t	kind;		/* enum field_kind */
};

struct table_info {
	char		 version[64];	/* list version, e.g. a timestamp */
	char		 digest[65];	/* hex digest of the source files */
	uint64_t	 key_id;	/* fingerprint of the key used */
	int64_t		 built;		/* unix time of the build */
	uint32_t	 records;
	uint32_t	 strong_values;	/* distinct fingerprints */
	uint32_t	 weak_values;	/* distinct weak literals */
	/* Per value class (kinds.h), bit n set when a strong value of n
	 * bytes (63: 63 or more) is in the table: the scanner skips
	 * lookups of candidates no value could be.  Set by the caller. */
	uint64_t	 lengths[4];
};

struct table_builder;

struct table_builder *table_builder_new(void);
struct table_builder *table_builder_free(struct table_builder *);

/* Adds a record; *rec gets its index.  list: index of its list. */
int	table_builder_add_record(struct table_builder *, const char *id,
	    uint16_t list, bool canary, uint32_t *rec);
/* How much a builder holds: records, bytes of record ids (with their
 * NULs), strong and weak values as added (before deduplication). */
struct table_sizes {
	size_t		 recs, id_bytes, strong, weak;
};

void	table_builder_sizes(const struct table_builder *,
	    struct table_sizes *);
/* Makes room for that much more, so that a large list's arrays are
 * allocated once instead of doubling.  A hint: adds beyond it still
 * work.  -1 (ENOMEM) out of memory. */
int	table_builder_reserve(struct table_builder *,
	    const struct table_sizes *more);
/* A strong value of a record (the same fingerprint may come again, for
 * the same or other records: all are kept, exact duplicates -- same fp,
 * rec and field -- once).  fp 0 is stored as 1.  The add functions
 * return -1 (errno EINVAL) for a record not yet added or a kind with
 * bit 15 set (the file format uses it), -1 (ENOMEM) out of memory. */
int	table_builder_add_strong(struct table_builder *, uint64_t fp,
	    struct table_hit hit);
/* A weak literal (by the id the caller gave it in the Hyperscan
 * database, dense from 0) held by a record. */
int	table_builder_add_weak(struct table_builder *, uint32_t weak_id,
	    struct table_hit hit);
/* Writes the table to path atomically (a temporary file in the same
 * directory, fsync, read back and compared with what was built,
 * rename): a failed build never replaces a working one.  Makes the
 * digest in a second thread while it writes (or in this one, when no
 * thread can be made).  info's counts are filled in by the builder
 * (info may be NULL).  The list names go in the manifest; every
 * record's list must be below nlists.  blob: the weak-literal database, may be empty.  The file is
 * mode 0644.  May be called again (after more adds, too). */
int	table_builder_write(struct table_builder *, const char *path,
	    struct table_info *info, const char *const *list_names,
	    size_t nlists, const void *blob, size_t bloblen, char *err,
	    size_t errlen);

struct table;

struct table	*table_open(const char *path, char *err, size_t errlen);
/* The same without the digest pass: every structural check still runs,
 * so lookups stay inside the mapping, but a flipped bit in a bucket goes
 * unnoticed.  For the milter's load, where the digest pass over a
 * 10-million-record table would cost seconds, and for `custos compile`
 * after table_builder_write, which compared the file with the image it
 * digested; `custos-milter -t` and `custos check-config` verify the
 * digest. */
struct table	*table_open_unverified(const char *path, char *err,
		    size_t errlen);
/* Only the manifest (table_info), read from the file without mapping
 * or checking the body: for deciding whether a build is stale. */
int		 table_read_info(const char *path, struct table_info *,
		    char *err, size_t errlen);
struct table	*table_close(struct table *);		/* NULL-safe */

/* The records holding fingerprint fp: returns how many, *hits points
 * into the table (valid while it is open), ordered by record.  0 (and
 * *hits NULL) when none.  weak_id beyond the database gives 0. */
size_t		 table_lookup_strong(const struct table *, uint64_t fp,
		    const struct table_hit **hits);
/* Hints, no result: start reading from memory what table_lookup_strong
 * of fp, or the record accessors of rec, will read, so that the reads of
 * several values overlap instead of waiting one after another (a big
 * table misses the caches on every value).  Any fp or rec is allowed. */
void		 table_prefetch_strong(const struct table *, uint64_t fp);
void		 table_prefetch_record(const struct table *, uint32_t rec);
size_t		 table_lookup_weak(const struct table *, uint32_t weak_id,
		    const struct table_hit **hits);

/* A rec or list out of range gives NULL, 0 or false. */
uint32_t	 table_records(const struct table *);
const char	*table_record_id(const struct table *, uint32_t rec);
uint16_t	 table_record_list(const struct table *, uint32_t rec);
bool		 table_record_canary(const struct table *, uint32_t rec);
size_t		 table_lists(const struct table *);
const char	*table_list_name(const struct table *, size_t list);
const struct table_info *table_info(const struct table *);
const void	*table_blob(const struct table *, size_t *len);
/* Bytes mapped (for the benchmark and `custos compile` summary). */
size_t		 table_size(const struct table *);

#endif
