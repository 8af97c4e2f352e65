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
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <confuse.h>
#include <glib.h>

#include "conf.h"
#include "engine.h"
#include "extract/xcache.h"
#include "qkey.h"
#include "smtp.h"
#include "template.h"

/* libconfuse's error callback has no user pointer: the buffer of the
 * conf_load running on this thread is reached through these. */
static __thread char	*conf_errbuf;
static __thread size_t	 conf_errlen;
static __thread const char *conf_errpath;	/* sections have no filename */

static pthread_mutex_t	 conf_lock = PTHREAD_MUTEX_INITIALIZER;

static void	conf_free_policy(struct conf *);

/* The templates notices are written with (conf/templates/README). */
static const char *const conf_notice_templates[] = {
	"notice-sender", "notice-officer", "notice-digest",
	"notice-subject-sender", "notice-subject-officer",
	"notice-subject-digest", NULL
};
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

/* redis { socket }: empty, or an absolute path that fits a unix socket
 * address (107 bytes on Linux). */
static int
conf_validate_redis_socket(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	struct sockaddr_un sun;

	if (v != NULL && *v != '\0' &&
	    (*v != '/' || strlen(v) >= sizeof sun.sun_path)) {
		cfg_error(cfg, "redis socket: \"%s\" is not an absolute path "
		    "of at most %zu bytes", v, sizeof sun.sun_path - 1);
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
	{ "milter|max_scans", 0, 100000 },
	{ "milter|drain_timeout", 0, 3600 },
	{ "limits|mime_depth", 1, 1000 },
	{ "limits|mime_parts", 1, 100000 },
	{ "limits|header_size", 1024, 1L << 30 },
	{ "limits|text_size", 1024, 1L << 32 },
	{ "limits|scan_time", 1, 3600 },
	{ "limits|archive_depth", 0, 100 },
	{ "limits|archive_members", 1, 10000000 },
	{ "limits|extract_size", 1024, 1L << 34 },
	{ "limits|expansion_ratio", 2, 1000000 },
	{ "limits|xml_depth", 8, 100000 },
	{ "limits|pdf_pages", 1, 1000000 },
	{ "limits|pdf_time", 1, 3600 },
	{ "limits|pdf_memory", 16L << 20, 1L << 40 },
	{ "limits|extract_cache", 0, 1L << 34 },
	{ "proximity", 10, 100000 },
	{ "weak_max_records", 1, 4096 },
	{ "max_samples", 0, 100 },
	{ "redis|port", 1, 65535 },
	{ "redis|db", 0, 1000 },
	{ "redis|connect_timeout", 1, 60000 },
	{ "redis|command_timeout", 1, 60000 },
	{ "redis|stream_maxlen", 100, 100000000 },
	{ "quarantine|redis_max_size", 1024, 512L << 20 },
	{ "notify|max_queue", 1, 1000000 },
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
	CFG_INT("max_scans", 0, CFGF_NONE),
	CFG_INT("drain_timeout", 60, CFGF_NONE),
	CFG_END()
};

static cfg_opt_t limits_opts[] = {
	CFG_INT("mime_depth", 20, CFGF_NONE),
	CFG_INT("mime_parts", 1000, CFGF_NONE),
	CFG_INT_CB("header_size", 1L << 20, CFGF_NONE, conf_size_cb),
	CFG_INT_CB("text_size", 64L << 20, CFGF_NONE, conf_size_cb),
	CFG_INT("scan_time", 20, CFGF_NONE),
	CFG_INT("archive_depth", 5, CFGF_NONE),
	CFG_INT("archive_members", 10000, CFGF_NONE),
	CFG_INT_CB("extract_size", 100L << 20, CFGF_NONE, conf_size_cb),
	CFG_INT("expansion_ratio", 200, CFGF_NONE),
	CFG_INT("xml_depth", 256, CFGF_NONE),
	CFG_INT("pdf_pages", 500, CFGF_NONE),
	CFG_INT("pdf_time", 10, CFGF_NONE),
	CFG_INT_CB("pdf_memory", 512L << 20, CFGF_NONE, conf_size_cb),
	CFG_INT_CB("extract_cache", 32L << 20, CFGF_NONE, conf_size_cb),
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

int
conf_parse_duration(const char *s, unsigned *out)
{
	unsigned long v, mult = 1;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case 's': end++; break;
	case 'm': mult = 60; end++; break;
	case 'h': mult = 3600; end++; break;
	case 'd': mult = 86400; end++; break;
	case 'w': mult = 7 * 86400; end++; break;
	default: break;
	}
	if (*end != '\0' || v == 0 || v > 366UL * 86400 / mult)
		return -1;
	*out = (unsigned)(v * mult);
	return 0;
}

/* "cn_resident_id:5" or "cn_resident_id" (1). */
static int
conf_parse_detector_min(const char *s, enum detector *d, unsigned long *min)
{
	char name[64], *colon, *end;

	(void)snprintf(name, sizeof name, "%s", s);
	*min = 1;
	if ((colon = strchr(name, ':')) != NULL) {
		*colon++ = '\0';
		*min = strtoul(colon, &end, 10);
		if (*colon == '\0' || *end != '\0' || *min == 0)
			return -1;
	}
	return detector_parse(name, d);
}

static bool
conf_mode_ok(const char *v, bool allow_empty)
{
	return (allow_empty && *v == '\0') || strcmp(v, "enforce") == 0 ||
	    strcmp(v, "monitor") == 0;
}

/* What can be checked of a rule on its own, at its line. */
static int
conf_validate_rule(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *r = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
	const char *t = cfg_title(r), *v;
	enum action a;
	enum detector d;
	unsigned long min;
	unsigned w;
	size_t i;

	if (action_parse(cfg_getstr(r, "action"), &a) != 0) {
		cfg_error(cfg, "rule \"%s\": action \"%s\" must be pass, tag, "
		    "hold, quarantine, reject or tempfail", t,
		    cfg_getstr(r, "action"));
		return -1;
	}
	v = cfg_getstr(r, "recipients");
	if (strcmp(v, "any") != 0 && strcmp(v, "external") != 0 &&
	    strcmp(v, "partner") != 0 && strncmp(v, "partner:", 8) != 0 &&
	    strcmp(v, "not-internal") != 0 &&
	    strcmp(v, "internal-only") != 0) {
		cfg_error(cfg, "rule \"%s\": recipients \"%s\" must be any, "
		    "external, partner, partner:NAME, not-internal or "
		    "internal-only", t, v);
		return -1;
	}
	for (i = 0; i < cfg_size(r, "detectors"); i++)
		if (conf_parse_detector_min(cfg_getnstr(r, "detectors",
		    (unsigned)i), &d, &min) != 0) {
			cfg_error(cfg, "rule \"%s\": detectors: \"%s\" is not "
			    "NAME or NAME:COUNT of a detector", t,
			    cfg_getnstr(r, "detectors", (unsigned)i));
			return -1;
		}
	if (!conf_mode_ok(cfg_getstr(r, "mode"), true)) {
		cfg_error(cfg, "rule \"%s\": mode must be enforce or monitor",
		    t);
		return -1;
	}
	v = cfg_getstr(r, "window");
	if (*v != '\0' && conf_parse_duration(v, &w) != 0) {
		cfg_error(cfg, "rule \"%s\": window \"%s\" is not a duration "
		    "(1h, 1d, 7d)", t, v);
		return -1;
	}
	if (cfg_getint(r, "records") < 0 ||
	    cfg_getint(r, "history_records") < 0 ||
	    cfg_getint(r, "history_messages") < 0 ||
	    cfg_getint(r, "history_recipients") < 0) {
		cfg_error(cfg, "rule \"%s\": counts cannot be negative", t);
		return -1;
	}
	return 0;
}

static int
conf_validate_windows(cfg_t *cfg, cfg_opt_t *opt)
{
	unsigned w;
	size_t i;

	if (cfg_opt_size(opt) > POLICY_MAX_WINDOWS) {
		cfg_error(cfg, "windows: at most %d", POLICY_MAX_WINDOWS);
		return -1;
	}
	for (i = 0; i < cfg_opt_size(opt); i++)
		if (conf_parse_duration(cfg_opt_getnstr(opt, (unsigned)i),
		    &w) != 0) {
			cfg_error(cfg, "windows: \"%s\" is not a duration (1h, "
			    "1d, 7d)", cfg_opt_getnstr(opt, (unsigned)i));
			return -1;
		}
	return 0;
}

static int
conf_validate_choice(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	static const struct {
		const char *name, *a, *b;
	} choices[] = {
		{ "mode", "enforce", "monitor" },
		{ "store", "memory", "redis" },
		{ "on_store_error", "continue", "tempfail" },
	};
	size_t i;

	for (i = 0; i < sizeof choices / sizeof choices[0]; i++) {
		if (strcmp(opt->name, choices[i].name) != 0)
			continue;
		if (v != NULL && (strcmp(v, choices[i].a) == 0 ||
		    strcmp(v, choices[i].b) == 0))
			return 0;
		cfg_error(cfg, "%s: \"%s\" must be %s or %s", opt->name,
		    v ? v : "", choices[i].a, choices[i].b);
		return -1;
	}
	return 0;
}

/* quarantine { store = dir | redis }: where message bodies go. */
static int
conf_validate_qstore(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v != NULL && (strcmp(v, "dir") == 0 || strcmp(v, "redis") == 0))
		return 0;
	cfg_error(cfg, "store: \"%s\" must be dir or redis", v ? v : "");
	return -1;
}

/* Durations given as text ("30d", "10m"). */
static int
conf_validate_duration(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	unsigned d;

	if (v != NULL && conf_parse_duration(v, &d) == 0)
		return 0;
	cfg_error(cfg, "%s: \"%s\" is not a duration (90s, 10m, 1h, 30d)",
	    opt->name, v ? v : "");
	return -1;
}

/* Relays: "host:port", "[v6]:port" or "host". */
static int
conf_validate_relay(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	struct smtp_relay r;

	memset(&r, 0, sizeof r);
	if (v != NULL && smtp_parse_relay(v, &r) == 0) {
		g_free(r.host);
		return 0;
	}
	cfg_error(cfg, "%s: \"%s\" is not host:port", opt->name, v ? v : "");
	return -1;
}

static cfg_opt_t quarantine_opts[] = {
	CFG_STR("dir", "/var/spool/custos/quarantine", CFGF_NONE),
	CFG_STR("key_file", "/etc/custos/quarantine.key", CFGF_NONE),
	CFG_STR("store", "dir", CFGF_NONE),
	CFG_INT_CB("redis_max_size", 10L << 20, CFGF_NONE, conf_size_cb),
	CFG_STR("retention", "30d", CFGF_NONE),
	CFG_STR("relay", "127.0.0.1:25", CFGF_NONE),
	CFG_STR("postsuper", "/usr/sbin/postsuper", CFGF_NONE),
	CFG_STR("postfix_config", "", CFGF_NONE),
	CFG_END()
};

static cfg_opt_t notify_domain_opts[] = {
	CFG_STR_LIST("languages", "{}", CFGF_NONE),
	CFG_END()
};

static cfg_opt_t notify_opts[] = {
	CFG_BOOL("sender", cfg_true, CFGF_NONE),
	CFG_STR_LIST("officers", "{}", CFGF_NONE),
	CFG_STR("from", "", CFGF_NONE),
	CFG_STR("relay", "127.0.0.1:25", CFGF_NONE),
	CFG_STR("window", "1h", CFGF_NONE),
	CFG_INT("max_queue", 10000, CFGF_NONE),
	CFG_STR_LIST("languages", "{}", CFGF_NONE),
	CFG_SEC("domain", notify_domain_opts, CFGF_MULTI | CFGF_TITLE |
	    CFGF_NO_TITLE_DUPES),
	CFG_END()
};

static cfg_opt_t partner_opts[] = {
	CFG_STR_LIST("domains", "{}", CFGF_NONE),
	CFG_END()
};

static cfg_opt_t group_opts[] = {
	CFG_STR_LIST("members", "{}", CFGF_NONE),
	CFG_STR("file", "", CFGF_NONE),
	CFG_END()
};

static cfg_opt_t exemption_opts[] = {
	CFG_STR("sender", "", CFGF_NONE),
	CFG_STR_LIST("recipient_domains", "{}", CFGF_NONE),
	CFG_END()
};

static cfg_opt_t rule_opts[] = {
	CFG_INT("records", 0, CFGF_NONE),
	CFG_STR("list", "", CFGF_NONE),
	CFG_STR_LIST("detectors", "{}", CFGF_NONE),
	CFG_BOOL("canary", cfg_false, CFGF_NONE),
	CFG_BOOL("unscannable", cfg_false, CFGF_NONE),
	CFG_BOOL("keywords", cfg_false, CFGF_NONE),
	CFG_STR("recipients", "any", CFGF_NONE),
	CFG_STR("sender_group", "", CFGF_NONE),
	CFG_STR("window", "", CFGF_NONE),
	CFG_INT("history_records", 0, CFGF_NONE),
	CFG_INT("history_messages", 0, CFGF_NONE),
	CFG_INT("history_recipients", 0, CFGF_NONE),
	CFG_STR("action", "tag", CFGF_NONE),
	CFG_STR("template", "", CFGF_NONE),
	CFG_STR("mode", "", CFGF_NONE),
	CFG_END()
};

static cfg_opt_t history_opts[] = {
	CFG_STR_LIST("windows", "{\"1h\", \"1d\", \"7d\"}", CFGF_NONE),
	CFG_END()
};

static cfg_opt_t redis_opts[] = {
	CFG_STR("socket", "", CFGF_NONE),
	CFG_STR("host", "127.0.0.1", CFGF_NONE),
	CFG_INT("port", 6379, CFGF_NONE),
	CFG_STR("password", "", CFGF_NONE),
	CFG_INT("db", 0, CFGF_NONE),
	CFG_STR("prefix", "custos:", CFGF_NONE),
	CFG_INT("connect_timeout", 50, CFGF_NONE),
	CFG_INT("command_timeout", 50, CFGF_NONE),
	CFG_INT("stream_maxlen", 100000, CFGF_NONE),
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
	CFG_STR("pdftotext", "/usr/bin/pdftotext", CFGF_NONE),
	CFG_INT_CB("max_scan_size", 50L << 20, CFGF_NONE, conf_size_cb),
	CFG_SEC("milter", milter_opts, CFGF_NONE),
	CFG_SEC("limits", limits_opts, CFGF_NONE),
	/* Fixed FHS paths, not prefix-relative: the shipped custos.conf
	 * documents exactly these. */
	CFG_STR("key_file", "/etc/custos/list.key", CFGF_NONE),
	CFG_STR("database", "/var/lib/custos/lists.db", CFGF_NONE),
	CFG_INT("proximity", 300, CFGF_NONE),
	CFG_INT("weak_max_records", 4, CFGF_NONE),
	CFG_INT("max_samples", 5, CFGF_NONE),
	CFG_BOOL("cn_id_legacy", cfg_false, CFGF_NONE),
	CFG_STR_LIST("keywords", "{\"机密\", \"绝密\", \"内部资料\", "
	    "\"客户名单\", \"confidential\", \"customer list\"}", CFGF_NONE),
	CFG_SEC("list", list_opts, CFGF_MULTI | CFGF_TITLE |
	    CFGF_NO_TITLE_DUPES),
	CFG_SEC("detector", detector_opts, CFGF_MULTI | CFGF_TITLE |
	    CFGF_NO_TITLE_DUPES),
	CFG_STR("mode", "enforce", CFGF_NONE),
	CFG_STR_LIST("internal_domains", "{}", CFGF_NONE),
	CFG_SEC("partner", partner_opts, CFGF_MULTI | CFGF_TITLE |
	    CFGF_NO_TITLE_DUPES),
	CFG_SEC("sender_group", group_opts, CFGF_MULTI | CFGF_TITLE |
	    CFGF_NO_TITLE_DUPES),
	CFG_SEC("exemption", exemption_opts, CFGF_MULTI | CFGF_TITLE |
	    CFGF_NO_TITLE_DUPES),
	CFG_SEC("rule", rule_opts, CFGF_MULTI | CFGF_TITLE |
	    CFGF_NO_TITLE_DUPES),
	CFG_SEC("history", history_opts, CFGF_NONE),
	CFG_STR("store", "memory", CFGF_NONE),
	CFG_SEC("redis", redis_opts, CFGF_NONE),
	CFG_STR("on_store_error", "continue", CFGF_NONE),
	CFG_STR("audit_log", "", CFGF_NONE),
	CFG_STR("templates", PKGDATADIR "/templates", CFGF_NONE),
	CFG_STR_LIST("reply_languages", "{\"zh_CN\", \"en\"}", CFGF_NONE),
	CFG_STR("contact", "your security team", CFGF_NONE),
	CFG_SEC("quarantine", quarantine_opts, CFGF_NONE),
	CFG_SEC("notify", notify_opts, CFGF_NONE),
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
	(void)xcache_free(c->limits.cache);
	store_free(c->history);
	template_free(c->explain);
	qstore_close(c->qstore);
	if (c->qkey != NULL)
		qkey_clear(c->qkey);
	free(c->qkey);
	conf_free_policy(c);
	conf_free_lists(c);
	free(c->key_file);
	free(c->database);
	free(c->path);
	free(c->socket);
	free(c->user);
	free(c->pidfile);
	free(c->node);
	free(c->spool_dir);
	free(c->pdftotext);
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
	c->weak_max_records = (size_t)cfg_getint(cfg, "weak_max_records");
	c->max_samples = (size_t)cfg_getint(cfg, "max_samples");
	c->cn_id_legacy = cfg_getbool(cfg, "cn_id_legacy");
	return c->key_file != NULL && c->database != NULL ? 0 : -1;
}

static void
conf_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A copy of a string list option, lower-cased when lower. */
static char **
conf_strv(cfg_t *sec, const char *name, bool lower, size_t *n)
{
	size_t i, count = cfg_size(sec, name);
	char **v;

	*n = 0;		/* nothing for conf_strv_free until it is all here */
	if ((v = calloc(count + 1, sizeof *v)) == NULL)
		return NULL;
	for (i = 0; i < count; i++) {
		char *s = lower ? g_ascii_strdown(cfg_getnstr(sec, name,
		    (unsigned)i), -1) : g_strdup(cfg_getnstr(sec, name,
		    (unsigned)i));

		v[i] = strdup(s);
		g_free(s);
		if (v[i] == NULL) {
			conf_strv_free(v, i);
			return NULL;
		}
	}
	*n = count;
	return v;
}

/* Appends the members listed in file, one per line (# comments). */
static int
conf_group_file(struct policy_group *g, const char *file, char *err,
    size_t errlen)
{
	char *text = NULL, **lines, **grown;
	size_t i, n = 0;
	GError *ge = NULL;

	if (!g_file_get_contents(file, &text, NULL, &ge)) {
		(void)snprintf(err, errlen, "sender_group \"%s\": %s", g->name,
		    ge->message);
		g_error_free(ge);
		return -1;
	}
	lines = g_strsplit(text, "\n", -1);
	g_free(text);
	for (i = 0; lines[i] != NULL; i++)
		n++;
	grown = realloc(g->members, (g->nmembers + n + 1) * sizeof *grown);
	if (grown == NULL) {
		g_strfreev(lines);
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	g->members = grown;
	for (i = 0; lines[i] != NULL; i++) {
		char *l = g_strstrip(lines[i]);

		if (*l == '\0' || *l == '#')
			continue;
		l = g_ascii_strdown(l, -1);
		g->members[g->nmembers++] = strdup(l);
		g_free(l);
	}
	g_strfreev(lines);
	return 0;
}

static int
conf_partner_index(const struct policy_conf *pc, const char *name)
{
	size_t i;

	for (i = 0; i < pc->npartners; i++)
		if (strcmp(pc->partners[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
conf_group_index(const struct policy_conf *pc, const char *name)
{
	size_t i;

	for (i = 0; i < pc->ngroups; i++)
		if (strcmp(pc->groups[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* One rule, its references resolved.  Returns 0 or -1 with err. */
static int
conf_rule(cfg_t *rs, struct conf *c, struct policy_rule *r, char *err,
    size_t errlen)
{
	struct policy_conf *pc = &c->policy;
	const char *v;
	enum detector d;
	unsigned long min;
	unsigned w;
	size_t i;

	r->name = strdup(cfg_title(rs));
	r->template = strdup(cfg_getstr(rs, "template"));
	if (r->name == NULL || r->template == NULL)
		goto nomem;
	r->records_min = (size_t)cfg_getint(rs, "records");
	r->list = -1;
	if (*(v = cfg_getstr(rs, "list")) != '\0') {
		for (i = 0; i < c->nlists; i++)
			if (strcmp(c->lists[i].name, v) == 0)
				r->list = (int)i;
		if (r->list < 0) {
			(void)snprintf(err, errlen, "rule \"%s\": no list \"%s\"",
			    r->name, v);
			return -1;
		}
	}
	for (i = 0; i < cfg_size(rs, "detectors"); i++)
		if (conf_parse_detector_min(cfg_getnstr(rs, "detectors",
		    (unsigned)i), &d, &min) == 0)
			r->detector_min[d] = min;
	r->canary = cfg_getbool(rs, "canary");
	r->unscannable = cfg_getbool(rs, "unscannable");
	r->keyword = cfg_getbool(rs, "keywords");
	r->partner = -1;
	v = cfg_getstr(rs, "recipients");
	if (strcmp(v, "external") == 0)
		r->recipients = COND_RCPT_EXTERNAL;
	else if (strcmp(v, "not-internal") == 0)
		r->recipients = COND_RCPT_NOT_INTERNAL;
	else if (strcmp(v, "internal-only") == 0)
		r->recipients = COND_RCPT_INTERNAL_ONLY;
	else if (strncmp(v, "partner", 7) == 0) {
		r->recipients = COND_RCPT_PARTNER;
		if (v[7] == ':' &&
		    (r->partner = conf_partner_index(pc, v + 8)) < 0) {
			(void)snprintf(err, errlen, "rule \"%s\": no partner "
			    "\"%s\"", r->name, v + 8);
			return -1;
		}
	}
	r->group = -1;
	if (*(v = cfg_getstr(rs, "sender_group")) != '\0') {
		r->not_in_group = *v == '!';
		if ((r->group = conf_group_index(pc,
		    v + r->not_in_group)) < 0) {
			(void)snprintf(err, errlen, "rule \"%s\": no sender_group "
			    "\"%s\"", r->name, v + r->not_in_group);
			return -1;
		}
	}
	r->window = -1;
	if (*(v = cfg_getstr(rs, "window")) != '\0') {
		(void)conf_parse_duration(v, &w);
		for (i = 0; i < pc->nwindows; i++)
			if (pc->windows[i] == w)
				r->window = (int)i;
		if (r->window < 0) {
			(void)snprintf(err, errlen, "rule \"%s\": window \"%s\" "
			    "is not one of history's windows", r->name, v);
			return -1;
		}
	}
	r->history_records_min = (uint64_t)cfg_getint(rs, "history_records");
	r->history_messages_min = (uint64_t)cfg_getint(rs, "history_messages");
	r->history_recipients_min = (uint64_t)cfg_getint(rs,
	    "history_recipients");
	if (r->window < 0 && (r->history_records_min ||
	    r->history_messages_min || r->history_recipients_min)) {
		(void)snprintf(err, errlen, "rule \"%s\": history_* needs a "
		    "window", r->name);
		return -1;
	}
	(void)action_parse(cfg_getstr(rs, "action"), &r->action);
	v = cfg_getstr(rs, "mode");
	r->monitor = strcmp(v, "monitor") == 0;
	return 0;
nomem:
	(void)snprintf(err, errlen, "out of memory");
	return -1;
}

/* The quarantine store and the notices.  0 or -1 with err. */
static int
conf_quarantine_from_cfg(cfg_t *cfg, struct conf *c, char *err,
    size_t errlen)
{
	cfg_t *q = cfg_getsec(cfg, "quarantine"), *n = cfg_getsec(cfg, "notify");
	struct conf_quarantine *cq = &c->quarantine;
	struct conf_notify *cn = &c->notify;
	size_t i, nd;

	cq->store.dir = strdup(cfg_getstr(q, "dir"));
	cq->key_file = strdup(cfg_getstr(q, "key_file"));
	cq->relay = strdup(cfg_getstr(q, "relay"));
	cq->postsuper = strdup(cfg_getstr(q, "postsuper"));
	cq->postfix_config = strdup(cfg_getstr(q, "postfix_config"));
	if (!cq->store.dir || !cq->key_file || !cq->relay || !cq->postsuper ||
	    !cq->postfix_config)
		goto nomem;
	cq->store.body_in_redis = strcmp(cfg_getstr(q, "store"), "redis") == 0;
	cq->store.redis_max_size = (size_t)cfg_getint(q, "redis_max_size");
	cq->store.redis = c->store.redis ? &c->store : NULL;
	(void)conf_parse_duration(cfg_getstr(q, "retention"), &cq->retention);
	if (cq->store.body_in_redis && !c->store.redis) {
		(void)snprintf(err, errlen, "quarantine: store = redis needs "
		    "store = redis and a redis section");
		return -1;
	}

	cn->sender = cfg_getbool(n, "sender");
	cn->from = strdup(cfg_getstr(n, "from"));
	cn->relay = strdup(cfg_getstr(n, "relay"));
	if (cn->from == NULL || cn->relay == NULL ||
	    (cn->officers = conf_strv(n, "officers", false,
	    &cn->nofficers)) == NULL ||
	    (cn->languages = conf_strv(n, "languages", false,
	    &cn->nlanguages)) == NULL)
		goto nomem;
	(void)conf_parse_duration(cfg_getstr(n, "window"), &cn->window);
	cn->max_queue = (size_t)cfg_getint(n, "max_queue");
	nd = cfg_size(n, "domain");
	if ((cn->domains = calloc(nd + 1, sizeof *cn->domains)) == NULL)
		goto nomem;
	for (i = 0; i < nd; i++) {
		cfg_t *s = cfg_getnsec(n, "domain", (unsigned)i);
		struct conf_notify_domain *d = &cn->domains[cn->ndomains++];

		if ((d->domain = g_ascii_strdown(cfg_title(s), -1)) == NULL ||
		    (d->languages = conf_strv(s, "languages", false,
		    &d->nlanguages)) == NULL)
			goto nomem;
	}
	if (*cn->from == '\0') {
		/* A From header the employee can recognise and that no
		 * one can reply into a loop with. */
		free(cn->from);
		if ((cn->from = g_strdup_printf("custos@%s", c->node)) == NULL)
			goto nomem;
	}
	return 0;
nomem:
	(void)snprintf(err, errlen, "out of memory");
	return -1;
}

/* Policy, store, audit and explanation settings.  Returns 0 or -1 with
 * err (a reference to something not defined, a group file missing). */
static int
conf_policy_from_cfg(cfg_t *cfg, struct conf *c, char *err, size_t errlen)
{
	struct policy_conf *pc = &c->policy;
	struct store_conf *sc = &c->store;
	cfg_t *h = cfg_getsec(cfg, "history"), *rd = cfg_getsec(cfg, "redis");
	size_t i, n;

	pc->monitor = strcmp(cfg_getstr(cfg, "mode"), "monitor") == 0;
	if ((pc->internal_domains = conf_strv(cfg, "internal_domains", true,
	    &pc->ninternal)) == NULL)
		goto nomem;
	for (i = 0; i < cfg_size(h, "windows"); i++)
		(void)conf_parse_duration(cfg_getnstr(h, "windows",
		    (unsigned)i), &pc->windows[pc->nwindows++]);
	n = cfg_size(cfg, "partner");
	if (n > POLICY_MAX_PARTNERS) {
		(void)snprintf(err, errlen, "more than %d partners",
		    POLICY_MAX_PARTNERS);
		return -1;
	}
	if ((pc->partners = calloc(n + 1, sizeof *pc->partners)) == NULL)
		goto nomem;
	/* Each entry is counted before it is filled, so an error half way
	 * leaves nothing conf_free_policy does not see. */
	for (i = 0; i < n; i++) {
		cfg_t *s = cfg_getnsec(cfg, "partner", (unsigned)i);
		struct policy_partner *p = &pc->partners[pc->npartners++];

		if ((p->name = strdup(cfg_title(s))) == NULL ||
		    (p->domains = conf_strv(s, "domains", true,
		    &p->ndomains)) == NULL)
			goto nomem;
	}
	n = cfg_size(cfg, "sender_group");
	if ((pc->groups = calloc(n + 1, sizeof *pc->groups)) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		cfg_t *s = cfg_getnsec(cfg, "sender_group", (unsigned)i);
		struct policy_group *g = &pc->groups[pc->ngroups++];

		if ((g->name = strdup(cfg_title(s))) == NULL ||
		    (g->members = conf_strv(s, "members", true,
		    &g->nmembers)) == NULL)
			goto nomem;
		if (*cfg_getstr(s, "file") != '\0' &&
		    conf_group_file(g, cfg_getstr(s, "file"), err, errlen) != 0)
			return -1;
	}
	n = cfg_size(cfg, "exemption");
	if ((pc->exemptions = calloc(n + 1, sizeof *pc->exemptions)) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		cfg_t *s = cfg_getnsec(cfg, "exemption", (unsigned)i);
		struct policy_exemption *x = &pc->exemptions[pc->nexemptions++];
		char *snd = g_ascii_strdown(cfg_getstr(s, "sender"), -1);

		x->name = strdup(cfg_title(s));
		x->sender = strdup(snd);
		g_free(snd);
		if (x->name == NULL || x->sender == NULL ||
		    (x->rcpt_domains = conf_strv(s, "recipient_domains", true,
		    &x->nrcpt_domains)) == NULL)
			goto nomem;
		/* Narrow by construction: both halves must be named. */
		if (*x->sender == '\0' || x->nrcpt_domains == 0) {
			(void)snprintf(err, errlen, "exemption \"%s\": needs a "
			    "sender and recipient_domains", x->name);
			return -1;
		}
	}
	n = cfg_size(cfg, "rule");
	if ((pc->rules = calloc(n + 1, sizeof *pc->rules)) == NULL)
		goto nomem;
	for (i = 0; i < n; i++)
		if (conf_rule(cfg_getnsec(cfg, "rule", (unsigned)i), c,
		    &pc->rules[pc->nrules++], err, errlen) != 0)
			return -1;

	sc->redis = strcmp(cfg_getstr(cfg, "store"), "redis") == 0;
	sc->socket = strdup(cfg_getstr(rd, "socket"));
	sc->host = strdup(cfg_getstr(rd, "host"));
	sc->password = strdup(cfg_getstr(rd, "password"));
	sc->prefix = strdup(cfg_getstr(rd, "prefix"));
	if (sc->socket == NULL || sc->host == NULL || sc->password == NULL ||
	    sc->prefix == NULL)
		goto nomem;
	sc->port = (int)cfg_getint(rd, "port");
	sc->db = (int)cfg_getint(rd, "db");
	sc->connect_timeout_ms = (int)cfg_getint(rd, "connect_timeout");
	sc->command_timeout_ms = (int)cfg_getint(rd, "command_timeout");
	sc->stream_maxlen = (size_t)cfg_getint(rd, "stream_maxlen");
	memcpy(sc->windows, pc->windows, sizeof sc->windows);
	sc->nwindows = pc->nwindows;
	c->store_error_tempfail =
	    strcmp(cfg_getstr(cfg, "on_store_error"), "tempfail") == 0;
	c->audit_log = strdup(cfg_getstr(cfg, "audit_log"));
	c->templates = strdup(cfg_getstr(cfg, "templates"));
	c->contact = strdup(cfg_getstr(cfg, "contact"));
	if (c->audit_log == NULL || c->templates == NULL || c->contact == NULL ||
	    (c->languages = conf_strv(cfg, "reply_languages", false,
	    &c->nlanguages)) == NULL)
		goto nomem;
	return conf_quarantine_from_cfg(cfg, c, err, errlen);
nomem:
	(void)snprintf(err, errlen, "out of memory");
	return -1;
}

static void
conf_free_policy(struct conf *c)
{
	struct policy_conf *pc = &c->policy;
	size_t i;

	conf_strv_free(pc->internal_domains, pc->ninternal);
	for (i = 0; i < pc->npartners; i++) {
		free(pc->partners[i].name);
		conf_strv_free(pc->partners[i].domains,
		    pc->partners[i].ndomains);
	}
	free(pc->partners);
	for (i = 0; i < pc->ngroups; i++) {
		free(pc->groups[i].name);
		conf_strv_free(pc->groups[i].members, pc->groups[i].nmembers);
	}
	free(pc->groups);
	for (i = 0; i < pc->nexemptions; i++) {
		free(pc->exemptions[i].name);
		free(pc->exemptions[i].sender);
		conf_strv_free(pc->exemptions[i].rcpt_domains,
		    pc->exemptions[i].nrcpt_domains);
	}
	free(pc->exemptions);
	for (i = 0; i < pc->nrules; i++) {
		free(pc->rules[i].name);
		free(pc->rules[i].template);
	}
	free(pc->rules);
	free(c->store.socket);
	free(c->store.host);
	free(c->store.password);
	free(c->store.prefix);
	free(c->audit_log);
	free(c->templates);
	free(c->contact);
	conf_strv_free(c->languages, c->nlanguages);
	free(c->quarantine.store.dir);
	free(c->quarantine.key_file);
	free(c->quarantine.relay);
	free(c->quarantine.postsuper);
	free(c->quarantine.postfix_config);
	free(c->notify.from);
	free(c->notify.relay);
	conf_strv_free(c->notify.officers, c->notify.nofficers);
	conf_strv_free(c->notify.languages, c->notify.nlanguages);
	for (i = 0; i < c->notify.ndomains; i++) {
		g_free(c->notify.domains[i].domain);
		conf_strv_free(c->notify.domains[i].languages,
		    c->notify.domains[i].nlanguages);
	}
	free(c->notify.domains);
}

/* milter { max_scans }: 0 means one scan per online CPU, resolved here
 * so the snapshot says what is in force.  A scan is CPU-bound (GMime,
 * Hyperscan), so more at once than CPUs only adds memory. */
static int
conf_max_scans(int v)
{
	long n;

	if (v > 0)
		return v;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 100000 ? 100000 : (int)n;
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
	c->pdftotext = conf_strdup(cfg, "pdftotext");
	if (!c->path || !c->socket || !c->user || !c->pidfile || !c->node ||
	    !c->spool_dir || !c->pdftotext) {
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
	c->max_scans = conf_max_scans((int)cfg_getint(m, "max_scans"));
	c->drain_timeout = (int)cfg_getint(m, "drain_timeout");
	c->limits.max_depth = (size_t)cfg_getint(l, "mime_depth");
	c->limits.max_parts = (size_t)cfg_getint(l, "mime_parts");
	c->limits.max_header_bytes = (size_t)cfg_getint(l, "header_size");
	c->limits.max_text_bytes = (size_t)cfg_getint(l, "text_size");
	c->limits.max_seconds = (double)cfg_getint(l, "scan_time");
	extract_limits_default(&c->limits.extract);
	c->limits.extract.max_depth = (size_t)cfg_getint(l, "archive_depth");
	c->limits.extract.max_members = (size_t)cfg_getint(l,
	    "archive_members");
	c->limits.extract.max_bytes = (size_t)cfg_getint(l, "extract_size");
	c->limits.extract.max_ratio = (unsigned)cfg_getint(l,
	    "expansion_ratio");
	c->limits.extract.max_xml_depth = (size_t)cfg_getint(l, "xml_depth");
	c->limits.extract.max_pdf_pages = (unsigned)cfg_getint(l,
	    "pdf_pages");
	c->limits.extract.pdf_seconds = (unsigned)cfg_getint(l, "pdf_time");
	c->limits.extract.pdf_memory = (size_t)cfg_getint(l, "pdf_memory");
	c->limits.extract.pdftotext = c->pdftotext;
	/* Each snapshot its own: a reload's new limits never meet texts
	 * read under the old ones. */
	c->limits.cache_bytes = (size_t)cfg_getint(l, "extract_cache");
	c->limits.cache = xcache_new(c->limits.cache_bytes);
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
	cfg_set_validate_func(cfg, "rule", conf_validate_rule);
	cfg_set_validate_func(cfg, "history|windows", conf_validate_windows);
	cfg_set_validate_func(cfg, "mode", conf_validate_choice);
	cfg_set_validate_func(cfg, "store", conf_validate_choice);
	cfg_set_validate_func(cfg, "on_store_error", conf_validate_choice);
	cfg_set_validate_func(cfg, "quarantine|store", conf_validate_qstore);
	cfg_set_validate_func(cfg, "redis|socket", conf_validate_redis_socket);
	cfg_set_validate_func(cfg, "quarantine|retention",
	    conf_validate_duration);
	cfg_set_validate_func(cfg, "quarantine|relay", conf_validate_relay);
	cfg_set_validate_func(cfg, "notify|relay", conf_validate_relay);
	cfg_set_validate_func(cfg, "notify|window", conf_validate_duration);
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
	if ((c = conf_from_cfg(cfg, path)) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	{
		char why[400];

		if (conf_policy_from_cfg(cfg, c, why, sizeof why) != 0) {
			(void)snprintf(err, errlen, "%s: %s", path, why);
			conf_free(c);
			c = NULL;
		}
	}
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
	size_t i;
	bool templates = false;

	if ((c = conf_load(path, err, errlen)) == NULL)
		return NULL;
	if ((c->engine = engine_load(c, err, errlen)) == NULL)
		goto fail;
	if ((c->history = store_new(&c->store, err, errlen)) == NULL)
		goto fail;
	/* Explanations are loaded when a rule names one or notices are
	 * sent; a missing one is a start-up error, not a blank bounce
	 * later. */
	for (i = 0; i < c->policy.nrules; i++)
		templates |= *c->policy.rules[i].template != '\0';
	templates |= conf_notices(c);
	if (templates) {
		if ((c->explain = template_load(c->templates,
		    (const char *const *)c->languages, c->nlanguages, err,
		    errlen)) == NULL)
			goto fail;
		for (i = 0; i < c->policy.nrules; i++) {
			const char *t = c->policy.rules[i].template;

			if (*t != '\0' && !template_has(c->explain, t)) {
				(void)snprintf(err, errlen, "%s: rule \"%s\": no "
				    "template \"%s\" in %s", path,
				    c->policy.rules[i].name, t, c->templates);
				goto fail;
			}
		}
		for (i = 0; conf_notices(c) && conf_notice_templates[i]; i++)
			if (!template_has(c->explain,
			    conf_notice_templates[i])) {
				(void)snprintf(err, errlen, "%s: notify: no "
				    "template \"%s\" in %s", path,
				    conf_notice_templates[i], c->templates);
				goto fail;
			}
	}
	return c;
fail:
	conf_unref(c);
	return NULL;
}

bool
conf_stops_mail(const struct conf *c)
{
	size_t i;

	for (i = 0; i < c->policy.nrules; i++)
		if (c->policy.rules[i].action == ACTION_HOLD ||
		    c->policy.rules[i].action == ACTION_QUARANTINE ||
		    c->policy.rules[i].action == ACTION_REJECT)
			return true;
	return false;
}

bool
conf_notices(const struct conf *c)
{
	return conf_stops_mail(c) &&
	    (c->notify.sender || c->notify.nofficers > 0);
}

const char *
conf_list_name(const struct conf *c, size_t list)
{
	return c != NULL && list < c->nlists ? c->lists[list].name : "?";
}

int
conf_open_quarantine(struct conf *c, bool create, char *err, size_t errlen)
{
	char why[400];

	if (c->qstore != NULL)
		return 0;
	if ((c->qkey = calloc(1, sizeof *c->qkey)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (qkey_load(c->quarantine.key_file, create, c->qkey, why,
	    sizeof why) != 0) {
		(void)snprintf(err, errlen, "%s: quarantine key_file: %s",
		    c->path, why);
		goto fail;
	}
	if ((c->qstore = qstore_open(&c->quarantine.store, c->qkey, why,
	    sizeof why)) == NULL) {
		(void)snprintf(err, errlen, "%s: quarantine: %s", c->path,
		    why);
		goto fail;
	}
	return 0;
fail:
	qkey_clear(c->qkey);
	free(c->qkey);
	c->qkey = NULL;
	return -1;
}
