/* test_conf.c - the config table: defaults, the shipped custos.conf,
 * sizes, bounds and file:line errors, snapshots. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"

/* Writes text to a temp file; returns its path (static buffer). */
static const char *
write_conf(const char *text)
{
	static char path[64];
	FILE *fp;
	int fd;

	(void)snprintf(path, sizeof path, "/tmp/custos-test-conf.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	(void)fputs(text, fp);
	(void)fclose(fp);
	return path;
}

static struct conf *
load_text(const char *text, char *err, size_t errlen)
{
	const char *path = write_conf(text);
	struct conf *c = conf_load(path, err, errlen);

	(void)unlink(path);
	return c;
}

/* A config text that must be refused, and what the error must say. */
struct error_row {
	const char	*text, *want;
};

static void
expect_errors(const struct error_row *rows, size_t n)
{
	char err[512];
	size_t i;

	for (i = 0; i < n; i++) {
		struct conf *c = load_text(rows[i].text, err, sizeof err);

		if (c != NULL || strstr(err, rows[i].want) == NULL)
			fail_msg("row %zu: got \"%s\", want ...%s", i,
			    c ? "a config" : err, rows[i].want);
	}
}

static void
test_defaults(void **state)
{
	char err[512];
	struct conf *c = load_text("", err, sizeof err);

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->socket, "unix:/run/custos/custos.sock");
	assert_int_equal(c->on_error, ACTION_TEMPFAIL);
	assert_false(c->add_header);
	assert_int_equal(c->spool_memory_limit, 1 << 20);
	assert_int_equal(c->max_scan_size, 50 << 20);
	assert_int_equal(c->limits.max_depth, 20);
	assert_int_equal(c->limits.max_parts, 1000);
	assert_int_equal(c->milter_timeout, 300);
	assert_true(c->node[0] != '\0');	/* the host name */
	conf_unref(c);
}

/* The annotated file we ship must load and agree with the built-in
 * defaults, option for option. */
static void
test_shipped_conf_matches_defaults(void **state)
{
	char path[4096], err[512];
	struct conf *shipped, *builtin;
	const char *srcdir = getenv("top_srcdir");

	(void)state;
	(void)snprintf(path, sizeof path, "%s/conf/custos.conf",
	    srcdir ? srcdir : ".");
	shipped = conf_load(path, err, sizeof err);
	if (shipped == NULL)
		fail_msg("got error %s loading the shipped config", err);
	builtin = load_text("", err, sizeof err);
	assert_non_null(builtin);
	assert_string_equal(shipped->socket, builtin->socket);
	assert_string_equal(shipped->user, builtin->user);
	assert_string_equal(shipped->spool_dir, builtin->spool_dir);
	assert_int_equal(shipped->on_error, builtin->on_error);
	assert_int_equal(shipped->log_level, builtin->log_level);
	assert_int_equal(shipped->add_header, builtin->add_header);
	assert_int_equal(shipped->spool_memory_limit,
	    builtin->spool_memory_limit);
	assert_int_equal(shipped->max_scan_size, builtin->max_scan_size);
	assert_int_equal(shipped->milter_timeout, builtin->milter_timeout);
	assert_int_equal(shipped->milter_backlog, builtin->milter_backlog);
	assert_int_equal(shipped->max_connections, builtin->max_connections);
	assert_int_equal(shipped->max_scans, builtin->max_scans);
	assert_int_equal(shipped->drain_timeout, builtin->drain_timeout);
	{
		/* The helper's path is compared as a string, the caches
		 * (each snapshot's own) by their size; the rest of the
		 * limits byte for byte. */
		struct message_limits a = shipped->limits, b = builtin->limits;

		assert_string_equal(a.extract.pdftotext, b.extract.pdftotext);
		a.extract.pdftotext = b.extract.pdftotext = NULL;
		assert_int_equal(a.cache_bytes, 32 << 20);
		assert_non_null(a.cache);
		assert_non_null(b.cache);
		assert_ptr_not_equal(a.cache, b.cache);
		a.cache = b.cache = NULL;
		assert_memory_equal(&a, &b, sizeof a);
	}
	assert_string_equal(shipped->key_file, builtin->key_file);
	assert_string_equal(shipped->database, builtin->database);
	assert_int_equal(shipped->proximity, builtin->proximity);
	assert_int_equal(shipped->max_samples, builtin->max_samples);
	assert_int_equal(shipped->cn_id_legacy, builtin->cn_id_legacy);
	assert_int_equal(shipped->nkeywords, builtin->nkeywords);
	{
		size_t i;

		for (i = 0; i < shipped->nkeywords; i++)
			assert_string_equal(shipped->keywords[i],
			    builtin->keywords[i]);
	}
	assert_memory_equal(shipped->detector_on, builtin->detector_on,
	    sizeof shipped->detector_on);
	assert_int_equal(shipped->policy.monitor, builtin->policy.monitor);
	assert_int_equal(shipped->policy.nwindows, builtin->policy.nwindows);
	assert_memory_equal(shipped->policy.windows, builtin->policy.windows,
	    sizeof shipped->policy.windows);
	assert_int_equal(shipped->store.redis, builtin->store.redis);
	assert_string_equal(shipped->store.socket, builtin->store.socket);
	assert_string_equal(shipped->store.host, builtin->store.host);
	assert_int_equal(shipped->store.port, builtin->store.port);
	assert_string_equal(shipped->store.prefix, builtin->store.prefix);
	assert_int_equal(shipped->store.connect_timeout_ms,
	    builtin->store.connect_timeout_ms);
	assert_int_equal(shipped->store.command_timeout_ms,
	    builtin->store.command_timeout_ms);
	assert_int_equal(shipped->store.stream_maxlen,
	    builtin->store.stream_maxlen);
	assert_int_equal(shipped->store_error_tempfail,
	    builtin->store_error_tempfail);
	assert_string_equal(shipped->audit_log, builtin->audit_log);
	assert_string_equal(shipped->contact, builtin->contact);
	assert_int_equal(shipped->nlanguages, builtin->nlanguages);
	assert_string_equal(shipped->quarantine.store.dir,
	    builtin->quarantine.store.dir);
	assert_string_equal(shipped->quarantine.key_file,
	    builtin->quarantine.key_file);
	assert_int_equal(shipped->quarantine.store.body_in_redis,
	    builtin->quarantine.store.body_in_redis);
	assert_int_equal(shipped->quarantine.store.redis_max_size,
	    builtin->quarantine.store.redis_max_size);
	assert_int_equal(shipped->quarantine.retention,
	    builtin->quarantine.retention);
	assert_string_equal(shipped->quarantine.relay,
	    builtin->quarantine.relay);
	assert_string_equal(shipped->quarantine.postsuper,
	    builtin->quarantine.postsuper);
	assert_string_equal(shipped->quarantine.postfix_config,
	    builtin->quarantine.postfix_config);
	assert_int_equal(shipped->notify.sender, builtin->notify.sender);
	assert_int_equal(shipped->notify.nofficers, builtin->notify.nofficers);
	assert_string_equal(shipped->notify.from, builtin->notify.from);
	assert_string_equal(shipped->notify.relay, builtin->notify.relay);
	assert_int_equal(shipped->notify.window, builtin->notify.window);
	assert_int_equal(shipped->notify.max_queue, builtin->notify.max_queue);
	assert_int_equal(shipped->notify.nlanguages,
	    builtin->notify.nlanguages);
	conf_unref(shipped);
	conf_unref(builtin);
}

static void
test_values(void **state)
{
	char err[512];
	struct conf *c = load_text(
	    "socket = \"inet:8891@127.0.0.1\"\n"
	    "on_error = accept\n"
	    "add_header = true\n"
	    "spool_memory_limit = 64K\n"
	    "max_scan_size = 2G\n"
	    "limits {\n  mime_depth = 5\n  text_size = 10M\n}\n"
	    "milter {\n  max_connections = 7\n}\n", err, sizeof err);

	(void)state;
	if (c == NULL)
		fail_msg("got error %s", err);
	assert_string_equal(c->socket, "inet:8891@127.0.0.1");
	assert_int_equal(c->on_error, ACTION_PASS);
	assert_true(c->add_header);
	assert_int_equal(c->spool_memory_limit, 64 * 1024);
	assert_int_equal(c->max_scan_size, 2UL << 30);
	assert_int_equal(c->limits.max_depth, 5);
	assert_int_equal(c->limits.max_text_bytes, 10 << 20);
	assert_int_equal(c->max_connections, 7);
	conf_unref(c);
}

/* quarantine { }, notify { } and the extraction limits, as given. */
static void
test_quarantine_notify(void **state)
{
	char err[512];
	struct conf *c = load_text(
	    "node = \"gw7\"\n"
	    "store = redis\n"
	    "limits { archive_depth = 2  extract_size = 5M  pdf_pages = 9\n"
	    "  extract_cache = 0 }\n"
	    "pdftotext = \"/opt/bin/pdftotext\"\n"
	    "quarantine {\n  dir = \"/q\"  key_file = \"/k\"  store = redis\n"
	    "  redis_max_size = 2M  retention = \"7d\"  relay = \"[::1]:2525\"\n"
	    "  postfix_config = \"/etc/postfix-out\"\n}\n"
	    "notify {\n  sender = false  officers = {\"soc@example.com\", "
	    "\"ciso@example.com\"}\n  window = \"10m\"  max_queue = 50\n"
	    "  languages = {\"en\"}\n"
	    "  domain \"HK.example.com\" { languages = {\"en\", \"zh_CN\"} }\n}\n",
	    err, sizeof err);

	(void)state;
	if (c == NULL)
		fail_msg("got error %s", err);
	assert_string_equal(c->quarantine.store.dir, "/q");
	assert_string_equal(c->quarantine.key_file, "/k");
	assert_true(c->quarantine.store.body_in_redis);
	assert_ptr_equal(c->quarantine.store.redis, &c->store);
	assert_int_equal(c->quarantine.store.redis_max_size, 2 << 20);
	assert_int_equal(c->quarantine.retention, 7 * 86400);
	assert_string_equal(c->quarantine.relay, "[::1]:2525");
	assert_string_equal(c->quarantine.postfix_config, "/etc/postfix-out");
	assert_false(c->notify.sender);
	assert_int_equal(c->notify.nofficers, 2);
	assert_string_equal(c->notify.officers[1], "ciso@example.com");
	assert_int_equal(c->notify.window, 600);
	assert_int_equal(c->notify.max_queue, 50);
	/* No from given: custos@NODE, an address the employee recognises. */
	assert_string_equal(c->notify.from, "custos@gw7");
	assert_int_equal(c->notify.ndomains, 1);
	assert_string_equal(c->notify.domains[0].domain, "hk.example.com");
	assert_int_equal(c->notify.domains[0].nlanguages, 2);
	assert_int_equal(c->limits.extract.max_depth, 2);
	assert_int_equal(c->limits.extract.max_bytes, 5 << 20);
	assert_int_equal(c->limits.extract.max_pdf_pages, 9);
	assert_string_equal(c->limits.extract.pdftotext, "/opt/bin/pdftotext");
	assert_int_equal(c->limits.cache_bytes, 0);
	assert_null(c->limits.cache);		/* turned off */
	conf_unref(c);
}

/* milter { max_scans }: 0 (the default) is one per online CPU, resolved
 * at load; a number is kept as given; bounds as the other options. */
static void
test_max_scans(void **state)
{
	static const struct error_row rows[] = {
		{ "milter { max_scans = -1 }", "out of range" },
		{ "milter { max_scans = 100001 }", "out of range" },
	};
	static const struct {
		const char	*text;
		int		 want;	/* 0: the CPUs online */
	} good[] = {
		{ "", 0 },
		{ "milter { max_scans = 0 }", 0 },
		{ "milter { max_scans = 1 }", 1 },
		{ "milter { max_scans = 8 }", 8 },
		{ "milter { max_scans = 100000 }", 100000 },
	};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	char err[512];
	size_t i;

	(void)state;
	if (cpus < 1)
		cpus = 1;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct conf *c = load_text(good[i].text, err, sizeof err);
		int want = good[i].want ? good[i].want : (int)cpus;

		if (c == NULL)
			fail_msg("row %zu: got error %s", i, err);
		if (c->max_scans != want)
			fail_msg("row %zu: got max_scans %d, want %d", i,
			    c->max_scans, want);
		conf_unref(c);
	}
	expect_errors(rows, sizeof rows / sizeof rows[0]);
}

static void
test_quarantine_notify_errors(void **state)
{
	static const struct error_row rows[] = {
		{ "quarantine { store = disk }", "must be dir or redis" },
		{ "quarantine { store = redis }", "store = redis needs" },
		{ "quarantine { relay = \"a:b:c\" }", "is not host:port" },
		{ "quarantine { retention = \"soon\" }", "is not a duration" },
		{ "quarantine { redis_max_size = 1 }", "out of range" },
		{ "notify { relay = \"host:99999\" }", "is not host:port" },
		{ "notify { window = \"0\" }", "is not a duration" },
		{ "notify { max_queue = 0 }", "out of range" },
		{ "limits { expansion_ratio = 1 }", "out of range" },
		{ "limits { extract_size = 10 }", "out of range" },
	};

	(void)state;
	expect_errors(rows, sizeof rows / sizeof rows[0]);
}

/* Each bad config names the file, the line and what is wrong. */
static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *want;
	} rows[] = {
		{ "log_level = info\nbogus = 1\n", 2, "bogus" },
		{ "\n\nsocket = \"tcp:25\"\n", 3, "socket" },
		{ "on_error = maybe\n", 1, "on_error" },
		{ "spool_memory_limit = lots\n", 1, "not a size" },
		{ "limits {\n mime_depth = 0\n}\n", 2, "out of range" },
		{ "milter {\n\n timeout = 99999\n}\n", 3, "out of range" },
		{ "add_header = perhaps\n", 1, "add_header" },
		{ "log_level = loud\n", 1, "log_level" },
	};
	char err[512], want[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *path = write_conf(rows[i].text);
		struct conf *c = conf_load(path, err, sizeof err);

		(void)snprintf(want, sizeof want, "%s:%d: ", path,
		    rows[i].line);
		(void)unlink(path);
		if (c != NULL)
			fail_msg("row %zu: got a config, want an error", i);
		if (strncmp(err, want, strlen(want)) != 0 ||
		    strstr(err, rows[i].want) == NULL)
			fail_msg("row %zu: got \"%s\", want \"%s...%s\"", i,
			    err, want, rows[i].want);
	}
}

static void
test_lists(void **state)
{
	char err[512];
	struct conf *c = load_text(
	    "list \"crm\" {\n"
	    "  file = \"/x.csv\"\n  encoding = \"gbk\"\n"
	    "  field \"手机\" { kind = \"mobile\" }\n"
	    "  field \"name\" { kind = \"name\" }\n"
	    "  field \"cust\" { kind = \"custom\" strength = \"strong\" }\n"
	    "}\n"
	    "detector \"email\" { enabled = false }\n"
	    "detector \"payment_card\" { threshold = 3 }\n"
	    "keywords = {\"Secret\"}\n", err, sizeof err);

	(void)state;
	if (c == NULL)
		fail_msg("got error %s", err);
	assert_int_equal(c->nlists, 1);
	assert_string_equal(c->lists[0].name, "crm");
	assert_string_equal(c->lists[0].encoding, "gbk");
	assert_int_equal(c->lists[0].nfields, 3);
	assert_string_equal(c->lists[0].fields[0].column, "手机");
	assert_true(c->lists[0].fields[0].strong);
	assert_false(c->lists[0].fields[1].strong);
	assert_true(c->lists[0].fields[2].strong);
	assert_false(c->detector_on[DET_EMAIL]);
	assert_true(c->detector_on[DET_IBAN]);
	assert_int_equal(c->detector_threshold[DET_PAYMENT_CARD], 3);
	assert_int_equal(c->nkeywords, 1);
	assert_string_equal(c->keywords[0], "secret");	/* lower-cased */
	conf_unref(c);
}

static void
test_list_errors(void **state)
{
	static const struct error_row rows[] = {
		{ "list \"a\" {\n field \"m\" { kind = \"mobil\" }\n file=\"/x\"\n}\n",
		    ":2: kind: \"mobil\"" },
		{ "list \"a\" {\n file = \"/x\"\n}\n", "no field" },
		{ "list \"a\" {\n field \"m\" { kind = \"mobile\" }\n}\n",
		    "no file" },
		{ "detector \"visa\" { }\n", "no such detector" },
		{ "detector \"email\" { threshold = 0 }\n", "out of range" },
		{ "list \"a\" {\n file = \"/x\"\n field \"m\" { strength = \"very\" }\n}\n",
		    "strength" },
	};
	(void)state;
	expect_errors(rows, sizeof rows / sizeof rows[0]);
}

static void
test_policy(void **state)
{
	char err[512];
	struct conf *c = load_text(
	    "mode = \"monitor\"\n"
	    "internal_domains = {\"Example.COM\"}\n"
	    "partner \"auditor\" { domains = {\"audit.example.net\"} }\n"
	    "sender_group \"finance\" { members = {\"@finance.example.com\"} }\n"
	    "exemption \"crm\" { sender = \"CRM@example.com\"\n"
	    "  recipient_domains = {\"example.net\"} }\n"
	    "history { windows = {\"30m\", \"1d\"} }\n"
	    "rule \"r1\" { records = 10  recipients = \"partner:auditor\"\n"
	    "  sender_group = \"!finance\"  detectors = {\"iban:2\"}\n"
	    "  window = \"1d\"  history_records = 200\n"
	    "  action = \"reject\"  mode = \"enforce\" }\n"
	    "store = \"redis\"\n"
	    "redis { port = 6390  prefix = \"x:\"\n"
	    "  socket = \"/run/redis/redis-server.sock\" }\n"
	    "on_store_error = \"tempfail\"\n", err, sizeof err);
	const struct policy_rule *r;

	(void)state;
	if (c == NULL)
		fail_msg("got error %s", err);
	assert_true(c->policy.monitor);
	assert_string_equal(c->policy.internal_domains[0], "example.com");
	assert_int_equal(c->policy.npartners, 1);
	assert_int_equal(c->policy.nwindows, 2);
	assert_int_equal(c->policy.windows[0], 1800);
	assert_int_equal(c->policy.windows[1], 86400);
	assert_string_equal(c->policy.exemptions[0].sender, "crm@example.com");
	r = &c->policy.rules[0];
	assert_int_equal(r->records_min, 10);
	assert_int_equal(r->recipients, COND_RCPT_PARTNER);
	assert_int_equal(r->partner, 0);
	assert_int_equal(r->group, 0);
	assert_true(r->not_in_group);
	assert_int_equal(r->detector_min[DET_IBAN], 2);
	assert_int_equal(r->window, 1);
	assert_int_equal(r->history_records_min, 200);
	assert_int_equal(r->action, ACTION_REJECT);
	assert_false(r->monitor);
	assert_true(c->store.redis);
	assert_int_equal(c->store.port, 6390);
	assert_string_equal(c->store.socket, "/run/redis/redis-server.sock");
	assert_string_equal(c->store.prefix, "x:");
	assert_true(c->store_error_tempfail);
	conf_unref(c);
}

/* 120 bytes: longer than a unix socket address holds. */
#define LONG_PATH	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void
test_policy_errors(void **state)
{
	static const struct error_row rows[] = {
		{ "rule \"a\" {\n action = \"drop\"\n}\n", ":3: rule \"a\": action" },
		{ "rule \"a\" { recipients = \"outside\" }\n", "recipients" },
		{ "rule \"a\" { recipients = \"partner:nobody\" }\n", "no partner" },
		{ "rule \"a\" { sender_group = \"ghosts\" }\n", "no sender_group" },
		{ "rule \"a\" { window = \"2d\" history_records = 5 }\n", "not one of history" },
		{ "rule \"a\" { history_records = 5 }\n", "needs a window" },
		{ "rule \"a\" { detectors = {\"visa:2\"} }\n", "detectors" },
		{ "rule \"a\" { list = \"crm\" }\n", "no list" },
		{ "exemption \"e\" { sender = \"a@b.c\" }\n", "needs a sender and" },
		{ "mode = \"audit\"\n", "mode" },
		{ "store = \"sql\"\n", "store" },
		{ "history { windows = {\"1x\"} }\n", "windows" },
		{ "redis { socket = \"run/redis.sock\" }\n", "redis socket" },
		{ "redis { socket = \"/" LONG_PATH "\" }\n", "at most 107" },
		{ "sender_group \"g\" { file = \"/nonexistent/g.txt\" }\n",
		    "sender_group \"g\"" },
	};
	(void)state;
	expect_errors(rows, sizeof rows / sizeof rows[0]);
}

static void
test_durations(void **state)
{
	static const struct {
		const char *in;
		unsigned want;	/* 0: error */
	} rows[] = {
		{ "90", 90 }, { "90s", 90 }, { "30m", 1800 }, { "1h", 3600 },
		{ "1d", 86400 }, { "7d", 604800 }, { "1w", 604800 },
		{ "0", 0 }, { "h", 0 }, { "1y", 0 }, { "-1h", 0 }, { "", 0 },
	};
	unsigned got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int ok = conf_parse_duration(rows[i].in, &got) == 0;

		if (ok != (rows[i].want != 0) || (ok && got != rows[i].want))
			fail_msg("\"%s\": got %d/%u, want %u", rows[i].in, ok,
			    ok ? got : 0, rows[i].want);
	}
}

static void
test_missing_file(void **state)
{
	char err[512];

	(void)state;
	assert_null(conf_load("/nonexistent/custos.conf", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/custos.conf"));
}

static void
test_sizes(void **state)
{
	static const struct {
		const char *in;
		int ok;
		size_t want;
	} rows[] = {
		{ "4096", 1, 4096 }, { "1k", 1, 1024 }, { "1K", 1, 1024 },
		{ "3M", 1, 3 << 20 }, { "1G", 1, 1UL << 30 }, { "2MB", 1, 2 << 20 },
		{ "", 0, 0 }, { "-1", 0, 0 }, { "1T", 0, 0 }, { "M", 0, 0 },
		{ "99999999999999999999", 0, 0 },
	};
	size_t i, got;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int ok = conf_parse_size(rows[i].in, &got) == 0;

		if (ok != rows[i].ok || (ok && got != rows[i].want))
			fail_msg("\"%s\": got ok=%d %zu, want ok=%d %zu",
			    rows[i].in, ok, ok ? got : 0, rows[i].ok,
			    rows[i].want);
	}
}

static void
test_sockets(void **state)
{
	static const struct {
		const char *in;
		int ok;
	} rows[] = {
		{ "unix:/run/custos.sock", 1 }, { "local:/x", 1 },
		{ "inet:8891@127.0.0.1", 1 }, { "inet:8891", 1 },
		{ "inet6:8891@[::1]", 1 }, { "/run/x.sock", 1 },
		{ "unix:relative", 0 }, { "inet:@127.0.0.1", 0 },
		{ "inet:99999@h", 0 }, { "inet:abc@h", 0 }, { "tcp:1", 0 },
		{ "", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if ((conf_check_socket(rows[i].in) == 0) != rows[i].ok)
			fail_msg("\"%s\": got %d, want %d", rows[i].in,
			    !rows[i].ok, rows[i].ok);
}

/* A connection keeps its snapshot after a reload replaced it. */
static void
test_snapshots(void **state)
{
	char err[512];
	struct conf *a = load_text("node = \"a\"\n", err, sizeof err);
	struct conf *b = load_text("node = \"b\"\n", err, sizeof err);
	struct conf *held;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_null(conf_current());
	conf_replace(a);
	held = conf_current();
	assert_string_equal(held->node, "a");
	conf_replace(b);
	assert_string_equal(held->node, "a");	/* still valid */
	conf_unref(held);
	held = conf_current();
	assert_string_equal(held->node, "b");
	conf_unref(held);
	conf_replace(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_shipped_conf_matches_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_quarantine_notify),
		cmocka_unit_test(test_max_scans),
		cmocka_unit_test(test_quarantine_notify_errors),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_list_errors),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_policy_errors),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_snapshots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
