/* test_pipeline.c - raw message to verdict: size limit, MIME walk,
 * reasons, incident ids; the path the milter and the CLI share. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "engine.h"
#include "pipeline.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_limits_from_config),
		cmocka_unit_test(test_incidents_differ),
		cmocka_unit_test(test_html_and_parts),
	};
	int rc;

	message_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	message_shutdown();
	return rc;
}
