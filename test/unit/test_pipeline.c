/* test_pipeline.c - raw message to verdict: size limit, MIME walk,
 * reasons, incident ids; the path the milter and the CLI share. */
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
#include "engine.h"
#include "envelope.h"
#include "listbuild.h"
#include "pipeline.h"
#include "store.h"

static struct conf *
conf_with(const char *text)
{
	char path[] = "/tmp/custos-test-pipe.XXXXXX", err[512];
	struct conf *c;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	(void)close(fd);
	c = conf_load(path, err, sizeof err);
	(void)unlink(path);
	if (c == NULL)
		fail_msg("config: %s", err);
	return c;
}

static int
run(const struct conf *c, const char *raw, struct pipeline_result *r)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(raw, strlen(raw));
	char err[256];
	int rc;

	pipeline_result_init(r);
	rc = pipeline_run(c, st, raw, strlen(raw), NULL, false, r, err,
	    sizeof err);
	g_object_unref(st);
	return rc;
}

static const char simple[] =
    "From: a@example.com\r\nSubject: hello\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\nbody text\r\n";

static void
test_pass(void **state)
{
	struct conf *c = conf_with("");
	struct pipeline_result r;

	(void)state;
	assert_int_equal(run(c, simple, &r), 0);
	assert_int_equal(r.verdict.action, ACTION_PASS);
	assert_true(r.parsed);
	assert_int_equal(r.size, strlen(simple));
	assert_int_equal(r.verdict.nreasons, 0);
	assert_int_equal(strlen(r.verdict.incident), 14);
	assert_int_equal(r.text->nseg, 2);
	assert_string_equal(r.text->seg[1].source, "body text/plain");
	pipeline_result_clear(&r);
	assert_null(r.text);
	conf_unref(c);
}

static void
test_too_large(void **state)
{
	struct conf *c = conf_with("max_scan_size = 1K\n");
	struct pipeline_result r;
	char big[4096];

	(void)state;
	(void)snprintf(big, sizeof big, "%s", simple);
	memset(big + strlen(simple), 'x', sizeof big - strlen(simple) - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(run(c, big, &r), 0);
	assert_false(r.parsed);
	assert_int_equal(r.text->nseg, 0);
	assert_int_equal(r.text->nuns, 1);
	assert_string_equal(r.text->uns[0].reason, "too-large");
	assert_int_equal(r.verdict.action, ACTION_PASS);
	assert_int_equal(r.verdict.nreasons, 1);
	assert_string_equal(r.verdict.reasons[0], "unscannable: too-large");
	pipeline_result_clear(&r);
	conf_unref(c);
}

/* A limit from the config reaches the MIME walk. */
static void
test_limits_from_config(void **state)
{
	struct conf *c = conf_with("limits {\n mime_depth = 1\n}\n");
	struct pipeline_result r;
	static const char nested[] =
	    "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	    "Content-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n"
	    "Content-Type: text/plain\r\n\r\ndeep\r\n--c--\r\n--b--\r\n--a--\r\n";

	(void)state;
	assert_int_equal(run(c, nested, &r), 0);
	assert_true(textseg_has_unscannable(r.text, "depth"));
	assert_string_equal(r.verdict.reasons[0], "unscannable: depth");
	pipeline_result_clear(&r);
	conf_unref(c);
}

static void
test_incidents_differ(void **state)
{
	struct conf *c = conf_with("");
	struct pipeline_result a, b;

	(void)state;
	assert_int_equal(run(c, simple, &a), 0);
	assert_int_equal(run(c, simple, &b), 0);
	assert_string_not_equal(a.verdict.incident, b.verdict.incident);
	pipeline_result_clear(&a);
	pipeline_result_clear(&b);
	conf_unref(c);
}

/* Evasions that live in the MIME and HTML layers reach the detectors
 * joined: tags, comments and character references inside a number.  A
 * number cut across two parts is two halves, not a number. */
static void
test_html_and_parts(void **state)
{
	static const char html[] =
	    "Content-Type: text/html; charset=utf-8\r\n\r\n"
	    "<p>a <span>139</span><span>1234</span><b>5601</b></p>"
	    "<p>b &#49;&#51;&#57;&#49;&#50;&#51;&#52;&#53;&#54;&#48;&#50;</p>"
	    "<p>c 139<!-- hidden -->1234 5603</p>\r\n";
	static const char parts[] =
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nnumber 13912\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\n345604 end\r\n"
	    "--b--\r\n";
	struct conf *c = conf_with("");
	struct pipeline_result r;
	char err[256];

	(void)state;
	if ((c->engine = engine_load(c, err, sizeof err)) == NULL)
		fail_msg("engine: %s", err);
	assert_int_equal(run(c, html, &r), 0);
	if (r.findings.detector_values[DET_CN_MOBILE] != 3)
		fail_msg("html: got %zu mobiles, want 3",
		    r.findings.detector_values[DET_CN_MOBILE]);
	pipeline_result_clear(&r);
	assert_int_equal(run(c, parts, &r), 0);
	assert_int_equal(r.findings.detector_values[DET_CN_MOBILE], 0);
	pipeline_result_clear(&r);
	conf_unref(c);
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Records sent outside go into the sender's history by list and id: one
 * id on two lists is two records, the same record in a second message
 * is not counted again, and a message to the company alone adds none. */
static void
test_history_record_keys(void **state)
{
	static const char msg[] =
	    "From: a@example.com\r\nSubject: contacts\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
	    "13800138001 13800138002 13900139001\r\n";
	static const char msg2[] =
	    "From: a@example.com\r\nSubject: more\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
	    "13800138001 13800138003\r\n";
	char dir[] = "/tmp/custos-test-pipe-hist.XXXXXX", path[300],
	    text[1500], err[512], cmd[320];
	struct listbuild_stats st;
	struct envelope out, in;
	struct pipeline_result r;
	struct conf *c;
	GMimeStream *m;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof path, "%s/a.csv", dir);
	write_text(path, "id,mobile\nC1,13800138001\nC2,13800138002\n"
	    "C3,13800138003\n");
	(void)snprintf(path, sizeof path, "%s/b.csv", dir);
	write_text(path, "id,mobile\nC1,13900139001\n");
	(void)snprintf(text, sizeof text,
	    "key_file = \"%s/list.key\"\n"
	    "database = \"%s/lists.db\"\n"
	    "internal_domains = {\"example.com\"}\n"
	    "list \"a\" { file = \"%s/a.csv\"\n"
	    "  field \"mobile\" { kind = \"mobile\" } }\n"
	    "list \"b\" { file = \"%s/b.csv\"\n"
	    "  field \"mobile\" { kind = \"mobile\" } }\n"
	    "history { windows = {\"1h\"} }\n"
	    "rule \"trickle\" { window = \"1h\"  history_records = 100\n"
	    "  action = \"hold\" }\n", dir, dir, dir, dir);
	(void)snprintf(path, sizeof path, "%s/custos.conf", dir);
	write_text(path, text);
	if ((c = conf_load(path, err, sizeof err)) == NULL)
		fail_msg("config: %s", err);
	if (listbuild_run(c, false, &st, err, sizeof err) != 0)
		fail_msg("compile: %s", err);
	if ((c->engine = engine_load(c, err, sizeof err)) == NULL)
		fail_msg("engine: %s", err);
	/* The memory store: the keys are the pipeline's, whatever holds them. */
	if ((c->history = store_new(&c->store, err, sizeof err)) == NULL)
		fail_msg("store: %s", err);

	envelope_init(&out);
	envelope_init(&in);
	assert_int_equal(envelope_set_addr(&out.mail_from, "a@example.com"), 0);
	assert_int_equal(envelope_add_rcpt(&out, "x@example.net"), 0);
	assert_int_equal(envelope_set_addr(&in.mail_from, "a@example.com"), 0);
	assert_int_equal(envelope_add_rcpt(&in, "b@example.com"), 0);
	{
		const struct envelope *env[3] = { &out, &out, &in };
		const char *raw[3] = { msg, msg2, msg2 };
		/* a:C1, a:C2, b:C1; then a:C3 new; then nothing added. */
		const uint64_t want[3] = { 3, 4, 4 };

		for (i = 0; i < 3; i++) {
			m = g_mime_stream_mem_new_with_buffer(raw[i],
			    strlen(raw[i]));
			pipeline_result_init(&r);
			if (pipeline_run(c, m, raw[i], strlen(raw[i]), env[i],
			    true, &r, err, sizeof err) != 0)
				fail_msg("run %d: %s", i, err);
			g_object_unref(m);
			assert_true(r.history.known);
			if (r.history.records[0] != want[i])
				fail_msg("message %d: history has %llu records, "
				    "want %llu", i,
				    (unsigned long long)r.history.records[0],
				    (unsigned long long)want[i]);
			pipeline_result_clear(&r);
		}
	}
	envelope_clear(&out);
	envelope_clear(&in);
	conf_unref(c);
	(void)snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_limits_from_config),
		cmocka_unit_test(test_incidents_differ),
		cmocka_unit_test(test_html_and_parts),
		cmocka_unit_test(test_history_record_keys),
	};
	int rc;

	message_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	message_shutdown();
	return rc;
}
