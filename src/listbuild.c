/* listbuild.c - customer lists to table (see listbuild.h).
 *
 * Memory: the builder holds 16 bytes per strong value and the record ids
 * (reserved at once from a list's first rows); distinct weak literals
 * are collected in a hash table until the Hyperscan literal database is
 * compiled, and the last ones met are kept by their raw bytes in a
 * fixed 4 MiB memo.  No value is logged or printed:
 * errors name the file, the line and what was wrong with the row.
 *
 * Owns its temporaries.  Errors: -1 with err. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <sodium.h>

#include "conf.h"
#include "csv.h"
#include "listbuild.h"
#include "listkey.h"
#include "log.h"
#include "normalize.h"
#include "table.h"
#include "weakhead.h"

#define BAD_ROWS_SHOWN	20	/* bad rows printed, then a summary */
/* Rows of a list read before the builder is told how much of the rest
 * to expect (listbuild_reserve). */
#define RESERVE_AFTER	16384

/* The weak values met last, by kind and the bytes of the field as the
 * list has them: a list repeats its names and companies (a customer's
 * company on each of its contacts, common names everywhere), and each
 * repeat otherwise pays for normalising the text, taking off the legal
 * form and a lookup among every distinct literal by string (a 10k
 * pool at 2M rows: 95% found here).  A fixed cache, 4 MiB touched as
 * used however many distinct values a list has: a value sits in either
 * slot of the pair its hash picks, the newer first, and the older of
 * the pair makes way; values over MEMO_RAW bytes are not kept. */
#define MEMO_SLOTS	65536u
#define MEMO_RAW	50

struct memo_slot {
	uint64_t	 hash;
	uint32_t	 id;		/* weak id + 1; 0: empty */
	uint8_t		 kind;
	uint8_t		 len;
	char		 raw[MEMO_RAW];
};

_Static_assert(sizeof(struct memo_slot) == 64, "a slot a cache line");

struct build {
	const struct conf	*c;
	struct listkey		 key;
	struct table_builder	*tb;
	struct memo_slot	*memo;		/* MEMO_SLOTS */
	GHashTable		*weak;		/* literal -> id + 1 */
	GPtrArray		*literals;	/* by id */
	struct listbuild_stats	*st;
	bool			 progress;
	uint64_t		 lengths[4];	/* strong value lengths */
	crypto_generichash_state contents;
};

/* How values become what the table holds.  Bumped whenever that
 * changes (2: company names without their legal form; 3: ！，：；？
 * kept full-width, normalize.c; 4: weak values by their heads,
 * weakhead.c), so that a table an older custos built is rebuilt, not
 * half matched. */
#define LISTBUILD_CANON	"canon 4"

/* A digest of what the lists are (files, columns, kinds) and of how
 * they are canonicalised: a table built from other definitions is stale
 * even when no file changed. */
static void
listbuild_defs_digest(const struct conf *c, unsigned char out[16])
{
	crypto_generichash_state h;
	size_t i, k;

	crypto_generichash_init(&h, NULL, 0, 16);
#define ADD(s)	crypto_generichash_update(&h, (const unsigned char *)(s), \
		    strlen(s) + 1)
	ADD(LISTBUILD_CANON);
	for (i = 0; i < c->nlists; i++) {
		const struct conf_list *l = &c->lists[i];

		ADD(l->name); ADD(l->file); ADD(l->encoding);
		ADD(l->id_column); ADD(l->canary_column);
		for (k = 0; k < l->nfields; k++) {
			ADD(l->fields[k].column);
			ADD(kind_name(l->fields[k].kind));
			ADD(l->fields[k].strong ? "strong" : "weak");
		}
	}
#undef ADD
	crypto_generichash_final(&h, out, 16);
}

static void
listbuild_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static time_t
listbuild_mtime(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mtime : (time_t)-1;
}

bool
listbuild_stale(const struct conf *c)
{
	unsigned char defs[16];
	char hex[33], err[256];
	struct table_info info;
	time_t built;
	size_t i;

	if (c->nlists == 0)
		return false;
	/* Without the sources here (compiled on another host) the build
	 * is what there is. */
	for (i = 0; i < c->nlists; i++)
		if (access(c->lists[i].file, R_OK) != 0)
			return false;
	if ((built = listbuild_mtime(c->database)) == (time_t)-1)
		return true;
	for (i = 0; i < c->nlists; i++)
		if (listbuild_mtime(c->lists[i].file) > built)
			return true;
	if (listbuild_mtime(c->key_file) > built)
		return true;
	/* The manifest only: opening the table would read all of it. */
	if (table_read_info(c->database, &info, err, sizeof err) != 0)
		return true;
	listbuild_defs_digest(c, defs);
	listbuild_hex(defs, sizeof defs, hex);
	return strncmp(info.digest, hex, 32) != 0;
}

/* Column index of name in the header row (case and spaces ignored), or
 * -1. */
static long
listbuild_column(char **hdr, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *h = hdr[i];

		while (*h == ' ')
			h++;
		if (strncasecmp(h, name, strlen(name)) == 0 &&
		    strspn(h + strlen(name), " ") == strlen(h + strlen(name)))
			return (long)i;
	}
	return -1;
}

static bool
listbuild_truthy(const char *s)
{
	return strcasecmp(s, "1") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "yes") == 0 || strcasecmp(s, "y") == 0 ||
	    strcmp(s, "是") == 0;
}

/* Reports a row that cannot be used: where and why, never its values. */
static void
listbuild_bad(struct build *b, const char *file, const char *why)
{
	if (++b->st->bad_rows <= BAD_ROWS_SHOWN)
		log_warn("%s:%s", file, why);
}

/* Legal forms that end company names, canonical (case-folded), longest
 * first.  Thousands of companies of a list end with the same few, and a
 * Hyperscan literal database slows to a crawl when its literals share
 * their last bytes (every "有限公司" in the text is checked against all
 * of them): 7 MB/s instead of hundreds on a list of 5,760 companies.
 * The name without its legal form still finds the full one in the text,
 * and a weak field counts only when corroborated anyway. */
static const char *const company_forms[] = {
	"股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "公司",
	" co., ltd.", " co., ltd", " co.,ltd.", " co.,ltd", " co. ltd",
	" co ltd", ", ltd.", ", ltd", " ltd.", " ltd", " limited", ", inc.",
	", inc", " inc.", " inc", " llc", " gmbh", " corporation", " corp.",
	" corp", " co.", " co",
};

/* The company name in canon without the legal forms at its end, as
 * long as six bytes are left (two CJK characters).  Returns the new
 * length; canon stays NUL-terminated. */
static size_t
listbuild_company_core(char *canon, size_t len)
{
	size_t i, n;
	bool again = true;

	while (again) {
		again = false;
		for (i = 0; i < sizeof company_forms /
		    sizeof company_forms[0]; i++) {
			n = strlen(company_forms[i]);
			if (len < n + 6 ||
			    memcmp(canon + len - n, company_forms[i], n) != 0)
				continue;
			len -= n;
			while (len > 0 && (canon[len - 1] == ' ' ||
			    canon[len - 1] == ','))
				len--;
			canon[len] = '\0';
			again = true;
			break;
		}
	}
	return len;
}

/* The weak literal's id, new or known.  Returns -1 on no memory. */
static long
listbuild_weak_id(struct build *b, const char *canon)
{
	gpointer v = g_hash_table_lookup(b->weak, canon);
	char *copy;

	if (v != NULL)
		return (long)GPOINTER_TO_SIZE(v) - 1;
	copy = g_strdup(canon);
	g_ptr_array_add(b->literals, copy);
	g_hash_table_insert(b->weak, copy,
	    GSIZE_TO_POINTER(b->literals->len));
	return (long)b->literals->len - 1;
}

/* A hash of the raw value and its kind for the memo: eight bytes at a
 * time, multiply and fold (not keyed: a collision costs a comparison
 * and at worst a slot, never a wrong id). */
static uint64_t
listbuild_memo_hash(int kind, const char *raw, size_t len)
{
	const uint64_t m = 0x9e3779b97f4a7c15ULL;
	uint64_t h = ((uint64_t)kind << 8 | len) * m, w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, raw + i, 8);
		h = (h ^ w) * m;
		h ^= h >> 32;
	}
	if (i < len) {
		w = 0;
		memcpy(&w, raw + i, len - i);
		h = (h ^ w) * m;
		h ^= h >> 32;
	}
	return h;
}

/* The weak id of a value of kind as the list has it: from the memo, or
 * normalised (company names without their legal form) and looked up
 * among the literals.  Returns -1 on no memory, -2 when the value is
 * not usable as kind. */
static long
listbuild_weak_value(struct build *b, int kind, const char *raw,
    size_t len)
{
	char canon[NORM_MAX];
	struct memo_slot *m = NULL;
	uint64_t h = 0;
	size_t clen, i;
	long id;

	if (len <= MEMO_RAW) {
		h = listbuild_memo_hash(kind, raw, len);
		m = &b->memo[h & (MEMO_SLOTS - 2)];
		for (i = 0; i < 2; i++)
			if (m[i].id != 0 && m[i].hash == h &&
			    m[i].kind == kind && m[i].len == len &&
			    memcmp(m[i].raw, raw, len) == 0)
				return (long)m[i].id - 1;
	}
	if ((clen = normalize_value(kind, raw, len, canon)) == 0)
		return -2;
	if (kind == KIND_COMPANY)
		(void)listbuild_company_core(canon, clen);
	if ((id = listbuild_weak_id(b, canon)) < 0)
		return -1;
	if (m != NULL) {
		m[1] = m[0];	/* the older of the two goes */
		m->hash = h;
		m->id = (uint32_t)id + 1;
		m->kind = (uint8_t)kind;
		m->len = (uint8_t)len;
		memcpy(m->raw, raw, len);
	}
	return id;
}

static int
listbuild_row(struct build *b, const struct conf_list *l, uint16_t li,
    char **f, size_t *lens, size_t n, const long *col, long idcol,
    long canarycol, size_t line, char *err, size_t errlen)
{
	char canon[NORM_MAX], why[128];
	uint32_t rec;
	size_t k, len;
	bool canary;

	if ((size_t)idcol >= n || lens[idcol] == 0) {
		(void)snprintf(why, sizeof why, "%zu: no record id", line);
		listbuild_bad(b, l->file, why);
		return 0;
	}
	canary = canarycol >= 0 && (size_t)canarycol < n &&
	    listbuild_truthy(f[canarycol]);
	if (table_builder_add_record(b->tb, f[idcol], li, canary, &rec) != 0)
		goto nomem;
	b->st->records++;
	for (k = 0; k < l->nfields; k++) {
		const struct conf_field *fd = &l->fields[k];
		struct table_hit hit = { rec, (uint16_t)k, (uint16_t)fd->kind };

		if ((size_t)col[k] >= n || lens[col[k]] == 0)
			continue;
		if (fd->strong) {
			uint64_t fp;

			len = normalize_value(fd->kind, f[col[k]],
			    lens[col[k]], canon);
			if (len == 0)
				continue;	/* not usable as this kind */
			fp = listkey_fingerprint(&b->key,
			    kind_class(fd->kind), canon, len);
			b->lengths[kind_class(fd->kind) & 3] |=
			    1ULL << (len < 63 ? len : 63);
			if (table_builder_add_strong(b->tb, fp, hit) != 0)
				goto nomem;
		} else {
			long id = listbuild_weak_value(b, fd->kind, f[col[k]],
			    lens[col[k]]);

			if (id == -2)
				continue;	/* not usable as this kind */
			if (id < 0 || table_builder_add_weak(b->tb,
			    (uint32_t)id, hit) != 0)
				goto nomem;
		}
	}
	return 0;
nomem:
	(void)snprintf(err, errlen, "%s:%zu: out of memory", l->file, line);
	return -1;
}

/* Tells the builder how much the rest of a list will add, from what its
 * first rows added (the builder's sizes now against start, when the
 * list began) and how far into the file they went, with 5% to spare.
 * A hint: a failure here only means the arrays grow as they go. */
static void
listbuild_reserve(struct build *b, const struct table_sizes *start,
    size_t done, size_t total)
{
	struct table_sizes now, more;
	double f;

	if (done == 0 || total <= done)
		return;
	f = (double)(total - done) / (double)done * 1.05;
	table_builder_sizes(b->tb, &now);
	more.recs = (size_t)(f * (double)(now.recs - start->recs));
	more.id_bytes = (size_t)(f * (double)(now.id_bytes -
	    start->id_bytes));
	more.strong = (size_t)(f * (double)(now.strong - start->strong));
	more.weak = (size_t)(f * (double)(now.weak - start->weak));
	(void)table_builder_reserve(b->tb, &more);
}

static int
listbuild_list(struct build *b, const struct conf_list *l, uint16_t li,
    char *err, size_t errlen)
{
	struct csv_reader *r;
	char **f, rowerr[256];
	size_t *lens, n, line, k, total, first;
	struct table_sizes start;
	long *col = NULL, idcol, canarycol = -1;
	struct stat sb;
	int rc, ret = -1;

	if ((r = csv_open(l->file, l->encoding, err, errlen)) == NULL)
		return -1;
	total = stat(l->file, &sb) == 0 ? (size_t)sb.st_size : 0;
	/* The header row names the columns. */
	do
		rc = csv_next(r, &f, &lens, &n, &line, rowerr, sizeof rowerr);
	while (rc == -1);
	if (rc != 1) {
		(void)snprintf(err, errlen, "%s: %s", l->file, rc == 0 ?
		    "empty, no header row" : rowerr);
		goto out;
	}
	if ((idcol = listbuild_column(f, n, l->id_column)) < 0) {
		(void)snprintf(err, errlen, "%s: no column \"%s\" (id_column)",
		    l->file, l->id_column);
		goto out;
	}
	if (*l->canary_column != '\0' &&
	    (canarycol = listbuild_column(f, n, l->canary_column)) < 0) {
		(void)snprintf(err, errlen, "%s: no column \"%s\" "
		    "(canary_column)", l->file, l->canary_column);
		goto out;
	}
	col = calloc(l->nfields, sizeof *col);
	for (k = 0; col != NULL && k < l->nfields; k++)
		if ((col[k] = listbuild_column(f, n, l->fields[k].column)) < 0) {
			(void)snprintf(err, errlen, "%s: no column \"%s\" "
			    "(list \"%s\")", l->file, l->fields[k].column,
			    l->name);
			goto out;
		}
	table_builder_sizes(b->tb, &start);
	first = b->st->records;
	while ((rc = csv_next(r, &f, &lens, &n, &line, rowerr,
	    sizeof rowerr)) != 0) {
		if (rc == -2) {
			(void)snprintf(err, errlen, "%s: %s", l->file, rowerr);
			goto out;
		}
		b->st->rows++;
		if (rc == -1) {
			/* rowerr is "line N: why"; we print "file:N: why" */
			listbuild_bad(b, l->file, strncmp(rowerr, "line ", 5) ?
			    rowerr : rowerr + 5);
			continue;
		}
		for (k = 0; k < n; k++)
			crypto_generichash_update(&b->contents,
			    (const unsigned char *)f[k], lens[k] + 1);
		if (listbuild_row(b, l, li, f, lens, n, col, idcol, canarycol,
		    line, err, errlen) != 0)
			goto out;
		if (b->st->records - first == RESERVE_AFTER)
			listbuild_reserve(b, &start, csv_offset(r), total);
		if (b->progress && (b->st->rows & 0xffff) == 0)
			(void)fprintf(stderr, "\r%s: %zu rows (%zu%%) ", l->name,
			    b->st->rows, total ? csv_offset(r) * 100 / total :
			    0);
	}
	ret = 0;
out:
	free(col);
	csv_close(r);
	return ret;
}

int
listbuild_run(const struct conf *c, bool progress,
    struct listbuild_stats *st, char *err, size_t errlen)
{
	struct build b;
	struct table_info info;
	const char **names = NULL;
	unsigned char defs[16], contents[16];
	char *blob = NULL, stamp[32];
	size_t bloblen = 0, i;
	struct timespec t0, t1;
	struct stat sb;
	time_t now = time(NULL);
	struct tm tm;
	int rc = -1;

	memset(st, 0, sizeof *st);
	memset(&b, 0, sizeof b);
	memset(&info, 0, sizeof info);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	if (c->nlists == 0) {
		(void)snprintf(err, errlen, "no list is configured");
		return -1;
	}
	b.c = c;
	b.st = st;
	b.progress = progress;
	if (listkey_load(c->key_file, 1, &b.key, err, errlen) != 0)
		return -1;
	b.tb = table_builder_new();
	/* Mapped, not malloc()ed: freeing a 4 MiB block raises glibc's
	 * mmap threshold to 4 MiB, after which the milter's per-message
	 * buffers stay in its heap and its RSS creeps up with each
	 * reload (the soak test's RSS slope tripled). */
	if ((b.memo = mmap(NULL, MEMO_SLOTS * sizeof *b.memo, PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		b.memo = NULL;
	b.weak = g_hash_table_new(g_str_hash, g_str_equal);
	b.literals = g_ptr_array_new_with_free_func(g_free);
	names = calloc(c->nlists, sizeof *names);
	if (b.tb == NULL || b.memo == NULL || names == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	crypto_generichash_init(&b.contents, NULL, 0, sizeof contents);
	for (i = 0; i < c->nlists; i++) {
		names[i] = c->lists[i].name;
		if (listbuild_list(&b, &c->lists[i], (uint16_t)i, err,
		    errlen) != 0)
			goto out;
	}
	if (progress)
		(void)fprintf(stderr, "\r%zu rows read%20s\n", st->rows, "");
	if (st->bad_rows > BAD_ROWS_SHOWN)
		log_warn("... and %zu more bad rows",
		    st->bad_rows - BAD_ROWS_SHOWN);
	/* With realistic names the weak compile is the longest step (about
	 * a minute at 1M records): say so, or it looks hung. */
	if (progress && b.literals->len > 0)
		(void)fprintf(stderr, "compiling %u weak values...\n",
		    b.literals->len);
	if (weakhead_build((const char *const *)b.literals->pdata,
	    b.literals->len, &b.key, &blob, &bloblen, &st->weak_heads, err,
	    errlen) != 0)
		goto out;
	if (progress)
		(void)fprintf(stderr, "writing the table...\n");

	crypto_generichash_final(&b.contents, contents, sizeof contents);
	listbuild_defs_digest(c, defs);
	listbuild_hex(defs, sizeof defs, info.digest);
	listbuild_hex(contents, sizeof contents, info.digest + 32);
	(void)gmtime_r(&now, &tm);
	(void)strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	(void)snprintf(info.version, sizeof info.version, "%s-%.8s", stamp,
	    info.digest + 32);
	info.key_id = b.key.id;
	info.built = (int64_t)now;
	memcpy(info.lengths, b.lengths, sizeof info.lengths);
	if (table_builder_write(b.tb, c->database, &info, names, c->nlists,
	    blob, bloblen, err, errlen) != 0)
		goto out;
	/* Open what was written, with every check of its structure, so a
	 * build that is not sound is reported here, not at the milter.
	 * Its digest is not made again: the write compared the file with
	 * the image it digested. */
	{
		struct table *t = table_open_unverified(c->database, err,
		    errlen);

		if (t == NULL)
			goto out;
		table_close(t);
	}
	st->strong_values = info.strong_values;
	st->weak_values = info.weak_values;
	st->table_bytes = stat(c->database, &sb) == 0 ? (size_t)sb.st_size : 0;
	(void)snprintf(st->version, sizeof st->version, "%s", info.version);
	rc = 0;
out:
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	st->seconds = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	free(blob);
	free(names);
	if (b.weak != NULL)
		g_hash_table_destroy(b.weak);
	if (b.literals != NULL)
		g_ptr_array_free(b.literals, TRUE);
	table_builder_free(b.tb);
	if (b.memo != NULL)
		(void)munmap(b.memo, MEMO_SLOTS * sizeof *b.memo);
	sodium_memzero(&b.key, sizeof b.key);
	return rc;
}
