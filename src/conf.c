/* conf.c - the libconfuse option table, its bounds, and snapshots.
 *
 * Every option, its default and its bounds are here and nowhere else;
 * conf/custos.conf documents the same defaults (test/unit/test_conf.c
 * loads that file and checks they agree).  Bounds are checked while
 * libconfuse parses, so an error carries the file and line it is on.
 *
 * Owns each snapshot's strings.  Errors: NULL with text in the caller's
 * buffer; never exits. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <confuse.h>
#include <glib.h>

#include "conf.h"
#include "engine.h"

/* libconfuse's error callback has no user pointer: the buffer of the
 * conf_load running on this thread is reached through these. */
static __thread char	*conf_errbuf;
static __thread size_t	 conf_errlen;
static __thread const char *conf_errpath;	/* sections have no filename */

static pthread_mutex_t	 conf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conf	*conf_active;

static void
conf_error_fn(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];

	if (conf_errbuf == NULL || conf_errlen == 0)
		return;
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	/* Keep the first error: it is the one at the line to fix. */
	if (conf_errbuf[0] != '\0')
		return;
	if (cfg != NULL && cfg->line > 0)
		(void)snprintf(conf_errbuf, conf_errlen, "%s:%d: %s",
		    cfg->filename ? cfg->filename : conf_errpath, cfg->line,
		    msg);
	else
		(void)snprintf(conf_errbuf, conf_errlen, "%s", msg);
}

int
conf_parse_size(const char *s, size_t *out)
{
	unsigned long long v, mult = 1;
	char *end;

	if (s == NULL || *s == '\0' || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': mult = 1024ULL; end++; break;
	case 'm': case 'M': mult = 1024ULL * 1024; end++; break;
	case 'g': case 'G': mult = 1024ULL * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || v > (unsigned long long)LONG_MAX / mult)
		return -1;
	*out = (size_t)(v * mult);
	return 0;
}

/* CFG_INT_CB parser: sizes with K/M/G suffixes. */
static int
conf_size_cb(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	size_t v;

	if (conf_parse_size(value, &v) != 0) {
		cfg_error(cfg, "%s: \"%s\" is not a size (try 10M, 512K, 4096)",
		    opt->name, value);
		return -1;
	}
	*(long *)result = (long)v;
	return 0;
}

int
conf_check_socket(const char *s)
{
	const char *at, *p;

	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
		p = strchr(s, ':') + 1;
		return *p == '/' ? 0 : -1;
	}
	if (strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0) {
		p = strchr(s, ':') + 1;
		if ((at = strchr(p, '@')) == NULL)
			at = p + strlen(p);
		if (at == p || (size_t)(at - p) > 5 ||
		    strspn(p, "0123456789") != (size_t)(at - p))
			return -1;
		return atoi(p) > 0 && atoi(p) < 65536 ? 0 : -1;
	}
	if (s[0] == '/')		/* libmilter reads a bare path as unix: */
		return 0;
	return -1;
}

static int
conf_validate_socket(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || conf_check_socket(v) != 0) {
		cfg_error(cfg, "socket: \"%s\" is not unix:/path or "
		    "inet:PORT@ADDRESS", v ? v : "");
		return -1;
	}
	return 0;
}

static int
conf_validate_on_error(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || (strcmp(v, "tempfail") != 0 &&
	    strcmp(v, "accept") != 0 && strcmp(v, "reject") != 0)) {
		cfg_error(cfg, "on_error: \"%s\" must be tempfail, accept or "
		    "reject", v ? v : "");
		return -1;
	}
	return 0;
}

static int
conf_validate_log_level(cfg_t *cfg, cfg_opt_t *opt)
{
	enum log_level l;
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || log_level_parse(v, &l) != 0) {
		cfg_error(cfg, "log_level: \"%s\" must be err, warning, info "
		    "or debug", v ? v : "");
		return -1;
	}
	return 0;
}

static int
conf_validate_facility(cfg_t *cfg, cfg_opt_t *opt)
{
	int f;
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || log_facility_parse(v, &f) != 0) {
		cfg_error(cfg, "syslog_facility: \"%s\" is not mail, daemon, "
		    "user or local0..local7", v ? v : "");
		return -1;
	}
	return 0;
}

/* Bounds for numeric options, checked as they are parsed (Postfix's
 * min/max tables). */
static const struct conf_bound {
	const char	*path;	/* "section|option" as libconfuse names it */
	long		 min, max;
} conf_bounds[] = {
	{ "spool_memory_limit", 4096, 1L << 30 },
	{ "max_scan_size", 1024, 1L << 32 },
	{ "milter|timeout", 10, 3600 },
	{ "milter|backlog", 1, 65535 },
	{ "milter|max_connections", 1, 100000 },
	{ "milter|drain_timeout", 0, 3600 },
	{ "limits|mime_depth", 1, 1000 },
	{ "limits|mime_parts", 1, 100000 },
	{ "limits|header_size", 1024, 1L << 30 },
	{ "limits|text_size", 1024, 1L << 32 },
	{ "limits|scan_time", 1, 3600 },
	{ "proximity", 10, 100000 },
	{ "max_samples", 0, 100 },
};

static int
conf_validate_bound(cfg_t *cfg, cfg_opt_t *opt)
{
	size_t i;
	long v = cfg_opt_getnint(opt, 0);

	for (i = 0; i < sizeof conf_bounds / sizeof conf_bounds[0]; i++) {
		const char *name = strrchr(conf_bounds[i].path, '|');

		name = name ? name + 1 : conf_bounds[i].path;
		if (strcmp(name, opt->name) != 0)
			continue;
		if (v < conf_bounds[i].min || v > conf_bounds[i].max) {
			cfg_error(cfg, "%s: %ld is out of range [%ld, %ld]",
			    opt->name, v, conf_bounds[i].min,
			    conf_bounds[i].max);
			return -1;
		}
		return 0;
	}
	return 0;
}

static cfg_opt_t milter_opts[] = {
	CFG_INT("timeout", 300, CFGF_NONE),
	CFG_INT("backlog", 128, CFGF_NONE),
	CFG_INT("max_connections", 500, CFGF_NONE),
	CFG_INT("drain_timeout", 60, CFGF_NONE),
	CFG_END()
};

static cfg_opt_t limits_opts[] = {
	CFG_INT("mime_depth", 20, CFGF_NONE),
	CFG_INT("mime_parts", 1000, CFGF_NONE),
	CFG_INT_CB("header_size", 1L << 20, CFGF_NONE, conf_size_cb),
	CFG_INT_CB("text_size", 64L << 20, CFGF_NONE, conf_size_cb),
	CFG_INT("scan_time", 20, CFGF_NONE),
	CFG_END()
};

static int
conf_validate_kind(cfg_t *cfg, cfg_opt_t *opt)
{
	enum field_kind k;
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || kind_parse(v, &k) != 0) {
		cfg_error(cfg, "kind: \"%s\" must be mobile, phone, email, "
		    "cn_id, account, name, company, address or custom",
		    v ? v : "");
		return -1;
	}
	return 0;
}

static int
conf_validate_strength(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || (*v != '\0' && strcmp(v, "strong") != 0 &&
	    strcmp(v, "weak") != 0)) {
		cfg_error(cfg, "strength: \"%s\" must be strong or weak",
		    v ? v : "");
		return -1;
	}
	return 0;
}

/* A detector section's title must name a built-in detector. */
static int
conf_validate_detector(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
	enum detector d;
	long t;

	if (detector_parse(cfg_title(sec), &d) != 0) {
		cfg_error(cfg, "detector \"%s\": no such detector (%s, %s, "
		    "%s, %s, %s, %s, %s)", cfg_title(sec),
		    detector_name(0), detector_name(1), detector_name(2),
		    detector_name(3), detector_name(4), detector_name(5),
		    detector_name(6));
		return -1;
	}
	t = cfg_getint(sec, "threshold");
	if (t < 1 || t > 100000) {
		cfg_error(cfg, "detector \"%s\": threshold %ld is out of "
		    "range [1, 100000]", cfg_title(sec), t);
		return -1;
	}
	return 0;
}

/* A list needs a file and at least one field. */
static int
conf_validate_list(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);

	if (*cfg_getstr(sec, "file") == '\0') {
		cfg_error(cfg, "list \"%s\": no file", cfg_title(sec));
		return -1;
	}
	if (cfg_size(sec, "field") == 0) {
		cfg_error(cfg, "list \"%s\": no field to look for",
		    cfg_title(sec));
		return -1;
	}
	return 0;
}

static cfg_opt_t field_opts[] = {
	CFG_STR("kind", "custom", CFGF_NONE),
	CFG_STR("strength", "", CFGF_NONE),
	CFG_END()
};

static cfg_opt_t list_opts[] = {
	CFG_STR("file", "", CFGF_NONE),
	CFG_STR("encoding", "utf-8", CFGF_NONE),
	CFG_STR("id_column", "id", CFGF_NONE),
	CFG_STR("canary_column", "", CFGF_NONE),
	CFG_SEC("field", field_opts, CFGF_MULTI | CFGF_TITLE |
	    CFGF_NO_TITLE_DUPES),
	CFG_END()
};

static cfg_opt_t detector_opts[] = {
	CFG_BOOL("enabled", cfg_true, CFGF_NONE),
	CFG_INT("threshold", 1, CFGF_NONE),
	CFG_END()
};

static cfg_opt_t conf_opts[] = {
	CFG_STR("socket", "unix:/run/custos/custos.sock", CFGF_NONE),
	CFG_STR("user", "", CFGF_NONE),
	CFG_STR("pidfile", "", CFGF_NONE),
	CFG_STR("node", "", CFGF_NONE),
	CFG_STR("log_level", "info", CFGF_NONE),
	CFG_STR("syslog_facility", "mail", CFGF_NONE),
	CFG_STR("on_error", "tempfail", CFGF_NONE),
	CFG_BOOL("add_header", cfg_false, CFGF_NONE),
	CFG_INT_CB("spool_memory_limit", 1L << 20, CFGF_NONE, conf_size_cb),
	CFG_STR("spool_dir", "/var/tmp", CFGF_NONE),
	CFG_INT_CB("max_scan_size", 50L << 20, CFGF_NONE, conf_size_cb),
	CFG_SEC("milter", milter_opts, CFGF_NONE),
	CFG_SEC("limits", limits_opts, CFGF_NONE),
	/* Fixed FHS paths, not prefix-relative: the shipped custos.conf
	 * documents exactly these. */
	CFG_STR("key_file", "/etc/custos/list.key", CFGF_NONE),
	CFG_STR("database", "/var/lib/custos/lists.db", CFGF_NONE),
	CFG_INT("proximity", 300, CFGF_NONE),
	CFG_INT("max_samples", 5, CFGF_NONE),
	CFG_BOOL("cn_id_legacy", cfg_false, CFGF_NONE),
	CFG_STR_LIST("keywords", "{\"机密\", \"绝密\", \"内部资料\", "
	    "\"客户名单\", \"confidential\", \"customer list\"}", CFGF_NONE),
	CFG_SEC("list", list_opts, CFGF_MULTI | CFGF_TITLE |
	    CFGF_NO_TITLE_DUPES),
	CFG_SEC("detector", detector_opts, CFGF_MULTI | CFGF_TITLE |
	    CFGF_NO_TITLE_DUPES),
	CFG_END()
};

static void
conf_free_lists(struct conf *c)
{
	size_t i, k;

	for (i = 0; i < c->nlists; i++) {
		struct conf_list *l = &c->lists[i];

		for (k = 0; k < l->nfields; k++)
			free(l->fields[k].column);
		free(l->fields);
		free(l->name);
		free(l->file);
		free(l->encoding);
		free(l->id_column);
		free(l->canary_column);
	}
	free(c->lists);
	for (i = 0; i < c->nkeywords; i++)
		free(c->keywords[i]);
	free(c->keywords);
}

static void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	engine_unref(c->engine);
	conf_free_lists(c);
	free(c->key_file);
	free(c->database);
	free(c->path);
	free(c->socket);
	free(c->user);
	free(c->pidfile);
	free(c->node);
	free(c->spool_dir);
	free(c);
}

static char *
conf_strdup(cfg_t *cfg, const char *name)
{
	const char *v = cfg_getstr(cfg, name);

	return strdup(v != NULL ? v : "");
}

/* Copies the list sections.  Returns 0 or -1 on no memory. */
static int
conf_lists_from_cfg(cfg_t *cfg, struct conf *c)
{
	size_t i, k, n = cfg_size(cfg, "list");

	if (n > FINDINGS_MAX_LISTS)
		n = FINDINGS_MAX_LISTS;	/* refused by the caller */
	if (n > 0 && (c->lists = calloc(n, sizeof *c->lists)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		cfg_t *ls = cfg_getnsec(cfg, "list", (unsigned)i);
		struct conf_list *l = &c->lists[i];

		c->nlists++;
		l->name = strdup(cfg_title(ls));
		l->file = conf_strdup(ls, "file");
		l->encoding = conf_strdup(ls, "encoding");
		l->id_column = conf_strdup(ls, "id_column");
		l->canary_column = conf_strdup(ls, "canary_column");
		if (!l->name || !l->file || !l->encoding || !l->id_column ||
		    !l->canary_column)
			return -1;
		l->fields = calloc(cfg_size(ls, "field"), sizeof *l->fields);
		if (l->fields == NULL)
			return -1;
		for (k = 0; k < cfg_size(ls, "field"); k++) {
			cfg_t *fs = cfg_getnsec(ls, "field", (unsigned)k);
			struct conf_field *f = &l->fields[k];
			const char *st = cfg_getstr(fs, "strength");

			if ((f->column = strdup(cfg_title(fs))) == NULL)
				return -1;
			l->nfields++;
			(void)kind_parse(cfg_getstr(fs, "kind"), &f->kind);
			f->strong = *st == '\0' ?
			    kind_strong_by_default(f->kind) :
			    strcmp(st, "strong") == 0;
		}
	}
	return 0;
}

/* Detector switches and thresholds; keywords, lower-cased as the text
 * views they are looked for in.  Returns 0 or -1 on no memory. */
static int
conf_engine_from_cfg(cfg_t *cfg, struct conf *c)
{
	size_t i;

	for (i = 0; i < DET_COUNT; i++) {
		c->detector_on[i] = true;
		c->detector_threshold[i] = 1;
	}
	for (i = 0; i < cfg_size(cfg, "detector"); i++) {
		cfg_t *ds = cfg_getnsec(cfg, "detector", (unsigned)i);
		enum detector d;

		if (detector_parse(cfg_title(ds), &d) != 0)
			continue;	/* refused while parsing */
		c->detector_on[d] = cfg_getbool(ds, "enabled");
		c->detector_threshold[d] = (unsigned)cfg_getint(ds,
		    "threshold");
	}
	c->nkeywords = cfg_size(cfg, "keywords");
	if (c->nkeywords > 0 &&
	    (c->keywords = calloc(c->nkeywords, sizeof *c->keywords)) == NULL)
		return -1;
	for (i = 0; i < c->nkeywords; i++) {
		char *k = g_utf8_strdown(cfg_getnstr(cfg, "keywords",
		    (unsigned)i), -1);

		c->keywords[i] = strdup(k);
		g_free(k);
		if (c->keywords[i] == NULL)
			return -1;
	}
	c->key_file = conf_strdup(cfg, "key_file");
	c->database = conf_strdup(cfg, "database");
	c->proximity = (size_t)cfg_getint(cfg, "proximity");
	c->max_samples = (size_t)cfg_getint(cfg, "max_samples");
	c->cn_id_legacy = cfg_getbool(cfg, "cn_id_legacy");
	return c->key_file != NULL && c->database != NULL ? 0 : -1;
}

/* Copies the parsed table into a snapshot.  Returns NULL on no memory. */
static struct conf *
conf_from_cfg(cfg_t *cfg, const char *path)
{
	struct conf *c;
	cfg_t *m = cfg_getsec(cfg, "milter"), *l = cfg_getsec(cfg, "limits");
	char host[256];

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->refs = 1;
	c->path = strdup(path);
	c->socket = conf_strdup(cfg, "socket");
	c->user = conf_strdup(cfg, "user");
	c->pidfile = conf_strdup(cfg, "pidfile");
	c->node = conf_strdup(cfg, "node");
	c->spool_dir = conf_strdup(cfg, "spool_dir");
	if (!c->path || !c->socket || !c->user || !c->pidfile || !c->node ||
	    !c->spool_dir) {
		conf_free(c);
		return NULL;
	}
	if (c->node[0] == '\0' && gethostname(host, sizeof host) == 0) {
		host[sizeof host - 1] = '\0';
		free(c->node);
		if ((c->node = strdup(host)) == NULL) {
			conf_free(c);
			return NULL;
		}
	}
	/* Validated while parsing, so these cannot fail here. */
	(void)log_level_parse(cfg_getstr(cfg, "log_level"), &c->log_level);
	(void)log_facility_parse(cfg_getstr(cfg, "syslog_facility"),
	    &c->syslog_facility);
	/* "accept" parses as ACTION_PASS. */
	(void)action_parse(cfg_getstr(cfg, "on_error"), &c->on_error);
	c->add_header = cfg_getbool(cfg, "add_header");
	c->spool_memory_limit = (size_t)cfg_getint(cfg, "spool_memory_limit");
	c->max_scan_size = (size_t)cfg_getint(cfg, "max_scan_size");
	c->milter_timeout = (int)cfg_getint(m, "timeout");
	c->milter_backlog = (int)cfg_getint(m, "backlog");
	c->max_connections = (int)cfg_getint(m, "max_connections");
	c->drain_timeout = (int)cfg_getint(m, "drain_timeout");
	c->limits.max_depth = (size_t)cfg_getint(l, "mime_depth");
	c->limits.max_parts = (size_t)cfg_getint(l, "mime_parts");
	c->limits.max_header_bytes = (size_t)cfg_getint(l, "header_size");
	c->limits.max_text_bytes = (size_t)cfg_getint(l, "text_size");
	c->limits.max_seconds = (double)cfg_getint(l, "scan_time");
	if (conf_lists_from_cfg(cfg, c) != 0 ||
	    conf_engine_from_cfg(cfg, c) != 0) {
		conf_free(c);
		return NULL;
	}
	return c;
}

struct conf *
conf_load(const char *path, char *err, size_t errlen)
{
	struct conf *c = NULL;
	cfg_t *cfg;
	size_t i;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	conf_errbuf = err;
	conf_errlen = errlen;
	conf_errpath = path;
	if ((cfg = cfg_init(conf_opts, CFGF_NONE)) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	cfg_set_error_function(cfg, conf_error_fn);
	cfg_set_validate_func(cfg, "socket", conf_validate_socket);
	cfg_set_validate_func(cfg, "on_error", conf_validate_on_error);
	cfg_set_validate_func(cfg, "log_level", conf_validate_log_level);
	cfg_set_validate_func(cfg, "syslog_facility", conf_validate_facility);
	cfg_set_validate_func(cfg, "list|field|kind", conf_validate_kind);
	cfg_set_validate_func(cfg, "list|field|strength",
	    conf_validate_strength);
	cfg_set_validate_func(cfg, "list", conf_validate_list);
	cfg_set_validate_func(cfg, "detector", conf_validate_detector);
	for (i = 0; i < sizeof conf_bounds / sizeof conf_bounds[0]; i++)
		cfg_set_validate_func(cfg, conf_bounds[i].path,
		    conf_validate_bound);

	rc = cfg_parse(cfg, path);
	if (rc == CFG_FILE_ERROR) {
		(void)snprintf(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		goto out;
	}
	if (rc != CFG_SUCCESS) {
		if (err[0] == '\0')
			(void)snprintf(err, errlen, "%s: parse error", path);
		goto out;
	}
	if (cfg_size(cfg, "list") > FINDINGS_MAX_LISTS) {
		(void)snprintf(err, errlen, "%s: more than %d lists", path,
		    FINDINGS_MAX_LISTS);
		goto out;
	}
	if ((c = conf_from_cfg(cfg, path)) == NULL)
		(void)snprintf(err, errlen, "%s: out of memory", path);
out:
	if (cfg != NULL)
		cfg_free(cfg);
	conf_errbuf = NULL;
	conf_errlen = 0;
	return c;
}

struct conf *
conf_ref(struct conf *c)
{
	(void)pthread_mutex_lock(&conf_lock);
	c->refs++;
	(void)pthread_mutex_unlock(&conf_lock);
	return c;
}

void
conf_unref(struct conf *c)
{
	int last;

	if (c == NULL)
		return;
	(void)pthread_mutex_lock(&conf_lock);
	last = --c->refs == 0;
	(void)pthread_mutex_unlock(&conf_lock);
	if (last)
		conf_free(c);
}

struct conf *
conf_current(void)
{
	struct conf *c;

	(void)pthread_mutex_lock(&conf_lock);
	if ((c = conf_active) != NULL)
		c->refs++;
	(void)pthread_mutex_unlock(&conf_lock);
	return c;
}

void
conf_replace(struct conf *c)
{
	struct conf *old;

	(void)pthread_mutex_lock(&conf_lock);
	old = conf_active;
	conf_active = c;
	(void)pthread_mutex_unlock(&conf_lock);
	conf_unref(old);
}

struct conf *
conf_load_all(const char *path, char *err, size_t errlen)
{
	struct conf *c;

	if ((c = conf_load(path, err, errlen)) == NULL)
		return NULL;
	if ((c->engine = engine_load(c, err, errlen)) == NULL) {
		conf_unref(c);
		return NULL;
	}
	return c;
}
