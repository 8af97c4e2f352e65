/* test_audit.c - the JSON audit log: fields and privacy of one entry,
 * officers' lines, whole lines under concurrent writers, reopen after
 * logrotate, write errors. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "audit.h"
#include "incident.h"
#include "mask.h"

/* ---------------------------------------------------------------- JSON
 * GLib has no JSON parser; this checks RFC 8259 syntax, which is what
 * a SIEM needs of a line. */
static const char *json_value(const char *p, int depth);

static const char *
json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *
json_str(const char *p)
{
	int i;

	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (i = 1; i <= 4; i++)
					if (!g_ascii_isxdigit(p[i]))
						return NULL;
				p += 5;
				continue;
			}
			if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0')
				return NULL;
		}
		p++;
	}
	return p + 1;
}

static const char *
json_num(const char *p)
{
	const char *start;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (g_ascii_isdigit(*p))
			p++;
	else
		return NULL;
	if (*p == '.') {
		start = ++p;
		while (g_ascii_isdigit(*p))
			p++;
		if (p == start)
			return NULL;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		start = p;
		while (g_ascii_isdigit(*p))
			p++;
		if (p == start)
			return NULL;
	}
	return p;
}

static const char *
json_value(const char *p, int depth)
{
	char close;

	if (depth > 64)
		return NULL;
	p = json_ws(p);
	if (*p == '"')
		return json_str(p);
	if (strncmp(p, "true", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (strncmp(p, "null", 4) == 0)
		return p + 4;
	if (*p != '{' && *p != '[')
		return json_num(p);
	close = *p == '{' ? '}' : ']';
	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			if ((p = json_str(json_ws(p))) == NULL)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if ((p = json_value(p, depth + 1)) == NULL)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static bool
json_valid(const char *s)
{
	const char *end = json_value(s, 0);

	return end != NULL && *json_ws(end) == '\0';
}

/* ------------------------------------------------------------- fixture */
struct fixture {
	struct conf		 conf;
	struct conf_list	 lists[2];
	char			*internal[1];
	struct policy_partner	 partners[1];
	char			*partner_domains[1];
	struct policy_rule	 rules[2];
	struct envelope		 env;
	struct pipeline_result	 r;
	struct policy_outcome	 o;
	struct audit_entry	 e;
	char			 dir[64];
	char			 path[128];
};

static int
setup(void **state)
{
	static const char *const rcpts[] = {
		"carol.secret@gmail.com", "Dave.Hidden@GMAIL.com.",
		"erin.partner@acme.example", "frank.inside@corp.example",
		"bob@sub.corp.example", "\"odd@local\"@gmail.com", "postmaster"
	};
	struct fixture *fx = g_new0(struct fixture, 1);
	struct textseg *t;
	char masked[MASK_MAX];
	size_t i;

	fx->lists[0].name = (char *)"customers";
	fx->lists[1].name = (char *)"vip";
	fx->conf.lists = fx->lists;
	fx->conf.nlists = 2;
	fx->conf.node = (char *)"gw1";
	fx->internal[0] = (char *)"corp.example";
	fx->conf.policy.internal_domains = fx->internal;
	fx->conf.policy.ninternal = 1;
	fx->partner_domains[0] = (char *)"acme.example";
	fx->partners[0].name = (char *)"acme";
	fx->partners[0].domains = fx->partner_domains;
	fx->partners[0].ndomains = 1;
	fx->conf.policy.partners = fx->partners;
	fx->conf.policy.npartners = 1;
	fx->rules[0].name = (char *)"records-external";
	fx->rules[1].name = (char *)"canary";
	fx->conf.policy.rules = fx->rules;
	fx->conf.policy.nrules = 2;

	envelope_init(&fx->env);
	assert_int_equal(envelope_set(&fx->env.client_addr, "10.0.0.5"), 0);
	assert_int_equal(envelope_set(&fx->env.client_name, "pc17.corp"), 0);
	assert_int_equal(envelope_set(&fx->env.auth_user, "alice"), 0);
	assert_int_equal(envelope_set_addr(&fx->env.mail_from,
	    "<alice@corp.example>"), 0);
	assert_int_equal(envelope_set(&fx->env.qid, "4ABC123DEF"), 0);
	for (i = 0; i < sizeof rcpts / sizeof rcpts[0]; i++)
		assert_int_equal(envelope_add_rcpt(&fx->env, rcpts[i]), 0);

	/* By hand, not pipeline_result_init: this test links no pipeline. */
	verdict_init(&fx->r.verdict);
	fx->r.text = t = textseg_new();
	assert_non_null(textseg_add(t, "header Subject", NULL, NULL, NULL,
	    "Q3", 2));
	assert_non_null(textseg_add(t, "attachment \"客户.xlsx\"",
	    "application/vnd.ms-excel", NULL, "base64", "x", 1));
	assert_int_equal(textseg_unscannable(t, "encrypted",
	    "attachment \"secret.zip\""), 0);
	assert_int_equal(findings_init(&fx->r.findings, 4), 0);
	assert_int_equal(findings_add_record(&fx->r.findings, 7, "C-1001", 0,
	    false, 1, KIND_MOBILE), 1);
	assert_int_equal(findings_add_record(&fx->r.findings, 9, "C-1002", 0,
	    false, 1, KIND_CN_ID), 1);
	assert_int_equal(findings_add_record(&fx->r.findings, 3, "V-7", 1,
	    true, 0, KIND_NAME), 1);
	fx->r.findings.detector_values[DET_CN_RESIDENT_ID] = 3;
	fx->r.findings.detector_values[DET_PAYMENT_CARD] = 1;
	(void)findings_keyword(&fx->r.findings, "机密");
	(void)findings_keyword(&fx->r.findings, "confidential");
	(void)findings_keyword(&fx->r.findings, "机密");
	mask_value(KIND_MOBILE, "13812345678", 11, masked);
	findings_sample(&fx->r.findings, false, KIND_MOBILE, masked, 1);
	mask_value(KIND_CN_ID, "11010519491231002X", 18, masked);
	findings_sample(&fx->r.findings, true, DET_CN_RESIDENT_ID, masked, 1);
	(void)g_strlcpy(fx->r.findings.list_version, "v42",
	    sizeof fx->r.findings.list_version);
	assert_int_equal(verdict_raise(&fx->r.verdict, ACTION_REJECT,
	    "rule records-external"), 0);
	(void)g_strlcpy(fx->r.verdict.incident, "7K2M-Q9XD-3F0A",
	    sizeof fx->r.verdict.incident);
	fx->r.size = 123456;

	fx->o.sender = "alice";
	fx->o.would = ACTION_REJECT;
	fx->o.matched[0] = 0;
	fx->o.matched[1] = 1;
	fx->o.nmatched = 2;

	fx->e.when = 1700000000;	/* 2023-11-14T22:13:20Z */
	fx->e.conf = &fx->conf;
	fx->e.env = &fx->env;
	fx->e.result = &fx->r;
	fx->e.outcome = &fx->o;
	fx->e.elapsed_ms = 12.3456;

	(void)g_strlcpy(fx->dir, "/tmp/custos-test-audit.XXXXXX",
	    sizeof fx->dir);
	assert_non_null(g_mkdtemp(fx->dir));
	(void)g_snprintf(fx->path, sizeof fx->path, "%s/audit.log", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char p[160];

	audit_close();
	(void)g_unlink(fx->path);
	(void)g_snprintf(p, sizeof p, "%s.1", fx->path);
	(void)g_unlink(p);
	(void)g_rmdir(fx->dir);
	envelope_clear(&fx->env);
	fx->r.text = textseg_free(fx->r.text);
	verdict_clear(&fx->r.verdict);
	findings_free(&fx->r.findings);
	g_free(fx);
	return 0;
}

static void
want(const char *json, const char *part)
{
	if (strstr(json, part) == NULL)
		fail_msg("got %s, want it to contain %s", json, part);
}

static void
want_not(const char *json, const char *part)
{
	if (strstr(json, part) != NULL)
		fail_msg("got %s, want it not to contain %s", json, part);
}

/* Reads the file into lines; each must end in '\n'. */
static char **
read_lines(const char *path, size_t *n)
{
	char *text, **lines;
	gsize len;

	assert_true(g_file_get_contents(path, &text, &len, NULL));
	assert_true(len == 0 || text[len - 1] == '\n');
	if (len > 0)
		text[len - 1] = '\0';	/* no empty last element */
	lines = len > 0 ? g_strsplit(text, "\n", -1) : g_new0(char *, 1);
	*n = g_strv_length(lines);
	g_free(text);
	return lines;
}

/* ---------------------------------------------------------------- tests */
/* The checker itself, so a pass below means something. */
static void
test_checker(void **state)
{
	static const struct {
		const char	*text;
		bool		 valid;
	} rows[] = {
		{ "{\"a\":[1,2.5,-3e2,0,true,false,null,\"\\u00e9\\n\"]}",
		  true },
		{ "{}", true },
		{ "{\"a\":{\"b\":[]}}", true },
		{ "{\"a\":1,}", false },
		{ "{\"a\" 1}", false },
		{ "{\"a\":01}", false },
		{ "[1 2]", false },
		{ "{\"a\":\"\x01\"}", false },
		{ "{\"a\":\"\\x\"}", false },
		{ "{", false },
		{ "{\"a\":1}}", false },
		{ "{\"a\":1.}", false },
		{ "{a:1}", false },
		{ "", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (json_valid(rows[i].text) != rows[i].valid)
			fail_msg("%s: got %d, want %d", rows[i].text,
			    !rows[i].valid, rows[i].valid);
}

static void
test_fields(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *j = audit_json(&fx->e, &len);

	assert_int_equal(strlen(j), len);
	if (!json_valid(j))
		fail_msg("not JSON: %s", j);
	assert_true(j[0] == '{' && j[len - 1] == '}');
	assert_null(strchr(j, '\n'));
	/* "type" first, so a SIEM can route on the line's start. */
	want(j, "{\"type\":\"decision\",\"time\":"
	    "\"2023-11-14T22:13:20.000Z\",\"node\":\"gw1\",");
	want(j, "\"node\":\"gw1\"");
	want(j, "\"queue_id\":\"4ABC123DEF\"");
	want(j, "\"incident\":\"7K2M-Q9XD-3F0A\"");
	want(j, "\"sender\":\"alice@corp.example\"");
	want(j, "\"auth_user\":\"alice\"");
	want(j, "\"client\":\"10.0.0.5\"");
	want(j, "\"client_name\":\"pc17.corp\"");
	/* Recipients by domain, in order first seen, counted. */
	want(j, "\"recipients\":["
	    "{\"domain\":\"gmail.com\",\"class\":\"external\",\"count\":3},"
	    "{\"domain\":\"acme.example\",\"class\":\"partner\","
	    "\"partner\":\"acme\",\"count\":1},"
	    "{\"domain\":\"corp.example\",\"class\":\"internal\",\"count\":1},"
	    "{\"domain\":\"sub.corp.example\",\"class\":\"internal\","
	    "\"count\":1},"
	    "{\"domain\":\"\",\"class\":\"internal\",\"count\":1}]");
	want(j, "\"size\":123456");
	want(j, "\"action\":\"reject\"");
	want(j, "\"mode\":\"enforce\"");
	want(j, "\"would\":\"reject\"");
	want(j, "\"rules\":[\"records-external\",\"canary\"]");
	want(j, "\"exemption\":null");
	want(j, "\"records\":3");
	want(j, "\"canaries\":1");
	want(j, "\"per_list\":{\"customers\":2,\"vip\":1}");
	want(j, "\"record_ids\":["
	    "{\"id\":\"C-1001\",\"list\":\"customers\","
	    "\"where\":\"attachment \\\"客户.xlsx\\\"\"},"
	    "{\"id\":\"C-1002\",\"list\":\"customers\","
	    "\"where\":\"attachment \\\"客户.xlsx\\\"\"},"
	    "{\"id\":\"V-7\",\"list\":\"vip\",\"where\":\"header Subject\","
	    "\"canary\":true}]");
	want(j, "\"detectors\":{\"cn_resident_id\":3,\"payment_card\":1}");
	want(j, "\"keywords\":{\"confidential\":1,\"机密\":2}");
	want(j, "\"samples\":["
	    "{\"kind\":\"mobile\",\"sample\":\"138****5678\","
	    "\"where\":\"attachment \\\"客户.xlsx\\\"\"},"
	    "{\"detector\":\"cn_resident_id\","
	    "\"sample\":\"110***********002X\",");
	want(j, "\"unscannable\":[{\"reason\":\"encrypted\","
	    "\"where\":\"attachment \\\"secret.zip\\\"\"}]");
	want(j, "\"list_version\":\"v42\"");
	want(j, "\"store_error\":false");
	want(j, "\"elapsed_ms\":12.346}");

	/* Never a recipient's local part, never a value in clear. */
	want_not(j, "carol");
	want_not(j, "Dave");
	want_not(j, "erin");
	want_not(j, "frank");
	want_not(j, "bob");
	want_not(j, "odd");
	want_not(j, "postmaster");
	want_not(j, "@gmail");
	want_not(j, "13812345678");
	want_not(j, "11010519491231002X");
	g_free(j);
}

static void
test_modes(void **state)
{
	struct fixture *fx = *state;
	char *j;

	/* A monitor-mode rule matched: nothing enforced, "would" says
	 * what would have been. */
	fx->r.verdict.action = ACTION_PASS;
	fx->o.monitored = true;
	fx->o.exemption = "ceo-to-auditor";
	fx->e.store_error = true;
	j = audit_json(&fx->e, NULL);
	assert_true(json_valid(j));
	want(j, "\"action\":\"pass\",\"mode\":\"monitor\","
	    "\"would\":\"reject\"");
	want(j, "\"exemption\":\"ceo-to-auditor\"");
	want(j, "\"store_error\":true");
	g_free(j);

	/* Global monitor mode, no rule matched. */
	fx->o.monitored = false;
	fx->o.nmatched = 0;
	fx->o.would = ACTION_PASS;
	fx->conf.policy.monitor = true;
	j = audit_json(&fx->e, NULL);
	want(j, "\"mode\":\"monitor\"");
	want(j, "\"rules\":[]");
	g_free(j);

	/* A matched index out of range is skipped, not read. */
	fx->conf.policy.monitor = false;
	fx->o.matched[0] = 99;
	fx->o.nmatched = 1;
	j = audit_json(&fx->e, NULL);
	want(j, "\"mode\":\"enforce\"");
	want(j, "\"rules\":[]");
	g_free(j);

	/* Time now: RFC 3339 with real milliseconds. */
	fx->e.when = 0;
	j = audit_json(&fx->e, NULL);
	{
		const char *t = strstr(j, "\"time\":\"");

		assert_non_null(t);
		t += 8;
		assert_true(g_ascii_isdigit(t[0]) && t[4] == '-' &&
		    t[7] == '-' && t[10] == 'T' && t[13] == ':' &&
		    t[16] == ':' && t[19] == '.' &&
		    g_ascii_isdigit(t[20]) && g_ascii_isdigit(t[22]) &&
		    t[23] == 'Z' && t[24] == '"');
	}
	g_free(j);
}

/* The CLI has no envelope, an early failure no outcome or config. */
static void
test_missing_parts(void **state)
{
	struct fixture *fx = *state;
	struct audit_entry e;
	char *j;

	memset(&e, 0, sizeof e);
	e.when = 1700000000;
	j = audit_json(&e, NULL);
	if (!json_valid(j))
		fail_msg("not JSON: %s", j);
	want(j, "\"node\":null,\"queue_id\":null,\"incident\":null");
	want(j, "\"recipients\":[]");
	want(j, "\"action\":\"pass\",\"mode\":\"enforce\","
	    "\"would\":\"pass\",\"rules\":[],\"exemption\":null");
	g_free(j);

	e.env = &fx->env;
	e.result = &fx->r;
	j = audit_json(&e, NULL);
	if (!json_valid(j))
		fail_msg("not JSON: %s", j);
	/* No config: domains without a class, lists unnamed. */
	want(j, "{\"domain\":\"gmail.com\",\"count\":3}");
	want(j, "\"list\":\"?\"");
	want(j, "\"per_list\":{}");
	want(j, "\"would\":\"reject\"");
	want_not(j, "carol");
	g_free(j);
}

/* Many records: the line stays bounded and says how many ids it left
 * out. */
static void
test_record_cap(void **state)
{
	struct fixture *fx = *state;
	char **ids, *j;
	uint32_t i, n = 1500;

	ids = g_new0(char *, n + 1);
	for (i = 0; i < n; i++) {
		ids[i] = g_strdup_printf("R%05u", i);
		(void)findings_add_record(&fx->r.findings, 100 + i, ids[i], 0,
		    false, 0, KIND_MOBILE);
	}
	j = audit_json(&fx->e, NULL);
	assert_true(json_valid(j));
	want(j, "\"records\":1503");
	want(j, "\"record_ids_omitted\":503");
	want(j, "\"id\":\"R00000\"");
	want_not(j, "\"id\":\"R01499\"");
	g_free(j);
	findings_clear(&fx->r.findings);	/* before the ids go */
	g_strfreev(ids);
}

static void
test_write_file(void **state)
{
	struct fixture *fx = *state;
	struct stat st;
	char err[256], **lines;
	size_t n, i;
	mode_t old = umask(022);

	/* No log open: nothing to do, not an error. */
	assert_int_equal(audit_write(&fx->e, err, sizeof err), 0);
	assert_int_equal(audit_open(fx->path, err, sizeof err), 0);
	(void)umask(old);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	for (i = 0; i < 3; i++)
		assert_int_equal(audit_write(&fx->e, err, sizeof err), 0);
	lines = read_lines(fx->path, &n);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++)
		assert_true(json_valid(lines[i]));
	g_strfreev(lines);

	/* Open again appends; "" closes. */
	assert_int_equal(audit_open(fx->path, err, sizeof err), 0);
	assert_int_equal(audit_write(&fx->e, err, sizeof err), 0);
	assert_int_equal(audit_open("", err, sizeof err), 0);
	assert_int_equal(audit_write(&fx->e, err, sizeof err), 0);
	assert_int_equal(audit_reopen(err, sizeof err), 0);
	assert_int_equal(audit_write(&fx->e, err, sizeof err), 0);
	lines = read_lines(fx->path, &n);
	assert_int_equal(n, 4);
	g_strfreev(lines);

	/* A path that cannot be opened leaves the log as it was. */
	assert_int_equal(audit_open(fx->path, err, sizeof err), 0);
	assert_int_equal(audit_open("/nonexistent/custos/audit.log", err,
	    sizeof err), -1);
	want(err, "/nonexistent/custos/audit.log");
	assert_int_equal(audit_write(&fx->e, err, sizeof err), 0);
	lines = read_lines(fx->path, &n);
	assert_int_equal(n, 5);
	g_strfreev(lines);
}

/* A full disk is reported, not hidden. */
static void
test_write_error(void **state)
{
	struct fixture *fx = *state;
	char err[256];

	(void)fx;
	if (access("/dev/full", W_OK) != 0)
		skip();
	assert_int_equal(audit_open("/dev/full", err, sizeof err), 0);
	err[0] = '\0';
	assert_int_equal(audit_write(&fx->e, err, sizeof err), -1);
	want(err, "/dev/full");
	want(err, g_strerror(ENOSPC));
	audit_close();
}

/* logrotate: rename the file, signal, and new lines go to a new file
 * while nothing is lost in between. */
static void
test_reopen(void **state)
{
	struct fixture *fx = *state;
	char err[256], rotated[160], **lines;
	size_t n;

	(void)g_snprintf(rotated, sizeof rotated, "%s.1", fx->path);
	assert_int_equal(audit_open(fx->path, err, sizeof err), 0);
	assert_int_equal(audit_write(&fx->e, err, sizeof err), 0);
	assert_int_equal(rename(fx->path, rotated), 0);
	/* Before the signal, lines still go to the renamed file. */
	assert_int_equal(audit_write(&fx->e, err, sizeof err), 0);
	assert_int_equal(audit_reopen(err, sizeof err), 0);
	assert_int_equal(audit_write(&fx->e, err, sizeof err), 0);
	lines = read_lines(rotated, &n);
	assert_int_equal(n, 2);
	g_strfreev(lines);
	lines = read_lines(fx->path, &n);
	assert_int_equal(n, 1);
	assert_true(json_valid(lines[0]));
	g_strfreev(lines);

	/* Reopen fails (the directory is gone): keep writing to the file
	 * we have rather than lose lines. */
	assert_int_equal(rename(fx->path, rotated), 0);
	{
		char moved[160];

		(void)g_snprintf(moved, sizeof moved, "%s.gone", fx->dir);
		assert_int_equal(rename(fx->dir, moved), 0);
		assert_int_equal(audit_reopen(err, sizeof err), -1);
		want(err, fx->path);
		assert_int_equal(audit_write(&fx->e, err, sizeof err), 0);
		assert_int_equal(rename(moved, fx->dir), 0);
	}
	lines = read_lines(rotated, &n);
	assert_int_equal(n, 2);
	g_strfreev(lines);
}

/* An officer's line: every member, in order; what the officer typed
 * goes through as text, escaped, whatever it holds. */
static void
test_officer(void **state)
{
	struct fixture *fx = *state;
	struct audit_officer o = {
		.event = "release", .incident = "7K2M-Q9XD-3F0A",
		.officer = "carol", .node = "gw1", .ok = true,
		.reason = "customer \"asked\"\n\\ok\x01 \xff<b>",
		.detail = "to bob@partner.example",
	};
	char err[256], **lines, *j;
	size_t len, n;

	j = audit_officer_json(&o, &len);
	assert_int_equal(strlen(j), len);
	if (!json_valid(j))
		fail_msg("not JSON: %s", j);
	assert_null(strchr(j, '\n'));
	want(j, "{\"type\":\"officer\",\"time\":\"");
	want(j, "Z\",\"node\":\"gw1\",\"event\":\"release\","
	    "\"incident\":\"7K2M-Q9XD-3F0A\",\"officer\":\"carol\","
	    "\"reason\":\"customer \\\"asked\\\"\\n\\\\ok\\u0001 "
	    "\xef\xbf\xbd<b>\",\"detail\":\"to bob@partner.example\","
	    "\"ok\":true,\"error\":null}");
	g_free(j);

	/* A failed action, nothing optional given. */
	memset(&o, 0, sizeof o);
	o.event = "release-refused";
	o.error = "recipient refused: 550 5.1.1";
	j = audit_officer_json(&o, NULL);
	if (!json_valid(j))
		fail_msg("not JSON: %s", j);
	want(j, "\"node\":null,\"event\":\"release-refused\","
	    "\"incident\":null,\"officer\":null,\"reason\":null,"
	    "\"detail\":null,\"ok\":false,"
	    "\"error\":\"recipient refused: 550 5.1.1\"}");
	g_free(j);

	/* To the file, between decisions; nothing open is not an error. */
	assert_int_equal(audit_write_officer(&o, err, sizeof err), 0);
	assert_int_equal(audit_open(fx->path, err, sizeof err), 0);
	assert_int_equal(audit_write(&fx->e, err, sizeof err), 0);
	assert_int_equal(audit_write_officer(&o, err, sizeof err), 0);
	assert_int_equal(audit_write(&fx->e, err, sizeof err), 0);
	lines = read_lines(fx->path, &n);
	assert_int_equal(n, 3);
	assert_true(json_valid(lines[1]));
	want(lines[0], "{\"type\":\"decision\",");
	want(lines[1], "{\"type\":\"officer\",");
	want(lines[2], "{\"type\":\"decision\",");
	g_strfreev(lines);
	audit_close();

	/* A full disk is reported. */
	if (access("/dev/full", W_OK) != 0)
		return;
	assert_int_equal(audit_open("/dev/full", err, sizeof err), 0);
	err[0] = '\0';
	assert_int_equal(audit_write_officer(&o, err, sizeof err), -1);
	want(err, "/dev/full");
	audit_close();
}

#define WRITERS	8
#define PER	1000

/* Decisions, and every tenth line an officer's: both kinds of line
 * share the one-write discipline. */
static void *
writer(void *arg)
{
	static int failed;
	const struct audit_entry *e = arg;
	const struct audit_officer o = { .event = "show-raw",
	    .incident = "7K2M-Q9XD-3F0A", .officer = "carol",
	    .reason = "checking", .ok = true };
	char err[256];
	int i;

	for (i = 0; i < PER; i++)
		if ((i % 10 == 9 ? audit_write_officer(&o, err, sizeof err) :
		    audit_write(e, err, sizeof err)) != 0)
			return &failed;
	return NULL;
}

/* 8 threads, 1000 lines each, a rotation in the middle: every line
 * whole, none lost. */
static void
test_concurrent(void **state)
{
	struct fixture *fx = *state;
	pthread_t th[WRITERS];
	char err[256], rotated[160], **lines;
	size_t n, total = 0, f, i;
	void *rv;
	int t;

	(void)g_snprintf(rotated, sizeof rotated, "%s.1", fx->path);
	assert_int_equal(audit_open(fx->path, err, sizeof err), 0);
	for (t = 0; t < WRITERS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, writer, &fx->e),
		    0);
	g_usleep(20000);
	assert_int_equal(rename(fx->path, rotated), 0);
	assert_int_equal(audit_reopen(err, sizeof err), 0);
	for (t = 0; t < WRITERS; t++) {
		assert_int_equal(pthread_join(th[t], &rv), 0);
		assert_null(rv);
	}
	audit_close();
	for (f = 0; f < 2; f++) {
		lines = read_lines(f == 0 ? rotated : fx->path, &n);
		for (i = 0; i < n; i++) {
			if (lines[i][0] != '{' || !json_valid(lines[i]))
				fail_msg("file %zu line %zu: got %.80s..., "
				    "want a JSON object", f, i, lines[i]);
		}
		total += n;
		g_strfreev(lines);
	}
	assert_int_equal(total, WRITERS * PER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker),
		cmocka_unit_test_setup_teardown(test_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_parts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record_cap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_officer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
