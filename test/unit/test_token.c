/* test_token.c - release and notice tokens: a token verifies only with
 * its key, its body and its incident; anything malformed is "not valid",
 * never a crash or a yes. */
#include "config.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "qkey.h"
#include "token.h"

static const char msg_a[] =
    "From: a@example.com\r\nSubject: one\r\n\r\nfirst body\r\nline 2\r\n";
static const char msg_b[] =
    "From: a@example.com\r\nSubject: one\r\n\r\nsecond body\r\n";

static void
key_fill(struct qkey *k, unsigned char seed)
{
	memset(k->seal, seed, sizeof k->seal);
	memset(k->release, seed + 1, sizeof k->release);
	memset(k->notice, seed + 2, sizeof k->notice);
}

static void
digest_of(const char *raw, unsigned char d[TOKEN_DIGEST_BYTES])
{
	token_body_digest(raw, strlen(raw), d);
}

static void
test_release_roundtrip(void **state)
{
	struct qkey k;
	unsigned char d[TOKEN_DIGEST_BYTES];
	char tok[TOKEN_MAX], id[INCIDENT_ID_SIZE];
	int r;

	(void)state;
	key_fill(&k, 1);
	digest_of(msg_a, d);
	assert_int_equal(token_release_make(&k, "7K2M-Q9XD-3F0A", d, tok,
	    sizeof tok), 0);
	if (strncmp(tok, "v1 7K2M-Q9XD-3F0A ", 18) != 0)
		fail_msg("token: got \"%s\", want \"v1 7K2M-Q9XD-3F0A ...\"",
		    tok);
	memset(id, 'x', sizeof id);
	if ((r = token_release_check(&k, tok, d, id)) != 1)
		fail_msg("check of fresh token: got %d, want 1", r);
	if (strcmp(id, "7K2M-Q9XD-3F0A") != 0)
		fail_msg("incident: got \"%s\", want \"7K2M-Q9XD-3F0A\"", id);
}

static void
test_notice_roundtrip(void **state)
{
	struct qkey k;
	unsigned char d[TOKEN_DIGEST_BYTES];
	char t1[TOKEN_MAX], t2[TOKEN_MAX];
	int r;

	(void)state;
	key_fill(&k, 7);
	digest_of(msg_a, d);
	assert_int_equal(token_notice_make(&k, d, t1, sizeof t1), 0);
	assert_int_equal(token_notice_make(&k, d, t2, sizeof t2), 0);
	if ((r = token_notice_check(&k, t1, d)) != 1)
		fail_msg("notice check \"%s\": got %d, want 1", t1, r);
	if (strcmp(t1, t2) == 0)
		fail_msg("two notices got the same token \"%s\": want fresh "
		    "nonces", t1);
	/* A notice token is not a release token, and the other way. */
	{
		char id[INCIDENT_ID_SIZE], rel[TOKEN_MAX];

		if ((r = token_release_check(&k, t1, d, id)) != 0)
			fail_msg("notice token as release: got %d, want 0", r);
		assert_int_equal(token_release_make(&k, "7K2M-Q9XD-3F0A", d,
		    rel, sizeof rel), 0);
		if ((r = token_notice_check(&k, rel, d)) != 0)
			fail_msg("release token as notice: got %d, want 0", r);
	}
}

static void
test_wrong_body_key_incident(void **state)
{
	struct qkey k, other;
	unsigned char da[TOKEN_DIGEST_BYTES], db[TOKEN_DIGEST_BYTES];
	char ta[TOKEN_MAX], tb[TOKEN_MAX], id[INCIDENT_ID_SIZE], *mod;
	int r;

	(void)state;
	key_fill(&k, 1);
	key_fill(&other, 2);
	digest_of(msg_a, da);
	digest_of(msg_b, db);
	assert_int_equal(token_release_make(&k, "7K2M-Q9XD-3F0A", da, ta,
	    sizeof ta), 0);
	assert_int_equal(token_release_make(&k, "AAAA-BBBB-CCCC", db, tb,
	    sizeof tb), 0);

	/* One byte of the body changed. */
	mod = strdup(msg_a);
	assert_non_null(mod);
	mod[strlen(mod) - 3] ^= 1;
	{
		unsigned char dm[TOKEN_DIGEST_BYTES];

		digest_of(mod, dm);
		if ((r = token_release_check(&k, ta, dm, id)) != 0)
			fail_msg("modified body: got %d, want 0", r);
	}
	free(mod);
	if ((r = token_release_check(&other, ta, da, id)) != 0)
		fail_msg("another key: got %d, want 0", r);
	/* The token of incident A pasted onto body B. */
	if ((r = token_release_check(&k, ta, db, id)) != 0)
		fail_msg("token of A on body B: got %d, want 0", r);
	/* B's MAC with A's incident id in front. */
	{
		char swapped[TOKEN_MAX];

		(void)snprintf(swapped, sizeof swapped, "v1 7K2M-Q9XD-3F0A %s",
		    tb + strlen("v1 AAAA-BBBB-CCCC "));
		if ((r = token_release_check(&k, swapped, db, id)) != 0)
			fail_msg("incident id swapped: got %d, want 0", r);
	}
	/* Headers may change: only the body counts. */
	{
		unsigned char dh[TOKEN_DIGEST_BYTES];

		digest_of("Received: from x\r\nFrom: a@example.com\r\n"
		    "Subject: one\r\n\r\nfirst body\r\nline 2\r\n", dh);
		if ((r = token_release_check(&k, ta, dh, id)) != 1)
			fail_msg("header added: got %d, want 1", r);
	}
	/* Notices: another key, another body. */
	{
		char tn[TOKEN_MAX];

		assert_int_equal(token_notice_make(&k, da, tn, sizeof tn), 0);
		if ((r = token_notice_check(&other, tn, da)) != 0)
			fail_msg("notice, another key: got %d, want 0", r);
		if ((r = token_notice_check(&k, tn, db)) != 0)
			fail_msg("notice, another body: got %d, want 0", r);
	}
}

static void
test_malformed(void **state)
{
	struct qkey k;
	unsigned char d[TOKEN_DIGEST_BYTES];
	char good[TOKEN_MAX], lower[TOKEN_MAX], buf[256];
	char id[INCIDENT_ID_SIZE], *mac;
	size_t i;
	int r;

	(void)state;
	key_fill(&k, 3);
	digest_of(msg_a, d);
	assert_int_equal(token_release_make(&k, "7K2M-Q9XD-3F0A", d, good,
	    sizeof good), 0);
	mac = strrchr(good, ' ') + 1;
	assert_int_equal(strlen(mac), 64);

	{
		const char *rows[] = {
			"",
			"   ",
			"v1",
			"v1 7K2M-Q9XD-3F0A",
			"garbage",
		};

		for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
			if ((r = token_release_check(&k, rows[i], d, id)) != 0)
				fail_msg("\"%s\": got %d, want 0", rows[i], r);
	}
	/* Wrong version. */
	(void)snprintf(buf, sizeof buf, "v2 7K2M-Q9XD-3F0A %s", mac);
	if ((r = token_release_check(&k, buf, d, id)) != 0)
		fail_msg("\"%s\": got %d, want 0", buf, r);
	(void)snprintf(buf, sizeof buf, "V1 7K2M-Q9XD-3F0A %s", mac);
	if ((r = token_release_check(&k, buf, d, id)) != 0)
		fail_msg("\"%s\": got %d, want 0", buf, r);
	/* An extra field. */
	(void)snprintf(buf, sizeof buf, "%s x", good);
	if ((r = token_release_check(&k, buf, d, id)) != 0)
		fail_msg("\"%s\": got %d, want 0", buf, r);
	/* A MAC one digit short, one digit long, truncated to 32. */
	(void)snprintf(buf, sizeof buf, "%.*s", (int)strlen(good) - 1, good);
	if ((r = token_release_check(&k, buf, d, id)) != 0)
		fail_msg("short MAC \"%s\": got %d, want 0", buf, r);
	(void)snprintf(buf, sizeof buf, "%s0", good);
	if ((r = token_release_check(&k, buf, d, id)) != 0)
		fail_msg("long MAC \"%s\": got %d, want 0", buf, r);
	(void)snprintf(buf, sizeof buf, "v1 7K2M-Q9XD-3F0A %.32s", mac);
	if ((r = token_release_check(&k, buf, d, id)) != 0)
		fail_msg("half MAC \"%s\": got %d, want 0", buf, r);
	/* The MAC in upper case: the same bytes, but not what we make. */
	(void)snprintf(buf, sizeof buf, "%s", good);
	for (i = strlen(buf) - 64; buf[i] != '\0'; i++)
		if (buf[i] >= 'a' && buf[i] <= 'f')
			buf[i] = (char)(buf[i] - 'a' + 'A');
	if (strcmp(buf, good) != 0 &&
	    (r = token_release_check(&k, buf, d, id)) != 0)
		fail_msg("upper-case MAC: got %d, want 0", r);
	/* Only canonical incident ids are signed: anything else would be a
	 * token the check refuses anyway. */
	{
		static const char *const bad[] = { "7K2M-Q9XD-3F0A-ZZZZ",
		    "7k2m-q9xd-3f0a", "7K2MQ9XD3F0A", "not-an-id", "" };

		for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
			if ((r = token_release_make(&k, bad[i], d, lower,
			    sizeof lower)) != -1)
				fail_msg("make for \"%s\": got %d, want -1",
				    bad[i], r);
	}
	/* A well-formed token whose id is not canonical (as one signed
	 * before this rule would be): lower case does not verify. */
	(void)snprintf(lower, sizeof lower, "%s", good);
	for (i = 3; i < 17; i++)
		lower[i] = (char)tolower((unsigned char)lower[i]);
	if ((r = token_release_check(&k, lower, d, id)) != 0)
		fail_msg("lower-case id \"%s\": got %d, want 0", lower, r);
	/* Notices: a nonce too long, a stray field. */
	{
		char tn[TOKEN_MAX];

		assert_int_equal(token_notice_make(&k, d, tn, sizeof tn), 0);
		(void)snprintf(buf, sizeof buf, "%s extra", tn);
		if ((r = token_notice_check(&k, buf, d)) != 0)
			fail_msg("notice \"%s\": got %d, want 0", buf, r);
		if ((r = token_notice_check(&k, "", d)) != 0)
			fail_msg("empty notice: got %d, want 0", r);
	}
	/* Too small an output buffer is an error, not a cut token. */
	if ((r = token_release_make(&k, "7K2M-Q9XD-3F0A", d, buf, 40)) != -1)
		fail_msg("make into 40 bytes: got %d, want -1", r);
}

static void
test_whitespace(void **state)
{
	struct qkey k;
	unsigned char d[TOKEN_DIGEST_BYTES];
	char good[TOKEN_MAX], buf[256], id[INCIDENT_ID_SIZE];
	static const struct {
		const char	*pre, *post;
	} rows[] = {
		{ " ", "" }, { "", " " }, { "  ", "  " }, { "\t", "\t" },
		{ " ", "\r\n" },
	};
	size_t i;
	int r;

	(void)state;
	key_fill(&k, 4);
	digest_of(msg_a, d);
	assert_int_equal(token_release_make(&k, "7K2M-Q9XD-3F0A", d, good,
	    sizeof good), 0);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		(void)snprintf(buf, sizeof buf, "%s%s%s", rows[i].pre, good,
		    rows[i].post);
		if ((r = token_release_check(&k, buf, d, id)) != 1)
			fail_msg("\"%s\": got %d, want 1", buf, r);
	}
	/* Two spaces between fields, as a folded header may leave. */
	{
		char *sp = strchr(good, ' ');

		(void)snprintf(buf, sizeof buf, "v1  %s", sp + 1);
		if ((r = token_release_check(&k, buf, d, id)) != 1)
			fail_msg("\"%s\": got %d, want 1", buf, r);
	}
}

/* token.h: the digest is over the body bytes after the first empty
 * line, whatever the header's line ends; the body's own line ends
 * count. */
static void
test_body_digest(void **state)
{
	static const struct {
		const char	*a, *b;
		int		 same;
	} rows[] = {
		/* CRLF header or LF header, same body bytes. */
		{ "A: 1\r\nB: 2\r\n\r\nbody\r\n", "A: 1\nB: 2\n\nbody\r\n", 1 },
		/* Headers differ, body the same. */
		{ "A: 1\r\n\r\nbody\r\n", "A: 2\r\nC: 3\r\n\r\nbody\r\n", 1 },
		/* LF body is not the CRLF body. */
		{ "A: 1\r\n\r\nbody\r\nx\r\n", "A: 1\n\nbody\nx\n", 0 },
		/* No blank line: an empty body. */
		{ "A: 1\r\nB: 2\r\n", "", 1 },
		{ "A: 1\r\nB: 2\r\n", "C: 3\n", 1 },
		/* A message starting with the blank line: all body. */
		{ "\r\nbody\r\n", "X: y\r\n\r\nbody\r\n", 1 },
		{ "\nbody\n", "X: y\n\nbody\n", 1 },
		/* The blank line is the last thing: empty body. */
		{ "A: 1\r\n\r\n", "", 1 },
		{ "A: 1\n\n", "", 1 },
		/* A second blank line belongs to the body. */
		{ "A: 1\r\n\r\n\r\nbody\r\n", "A: 1\r\n\r\nbody\r\n", 0 },
		/* Trailing line end matters. */
		{ "A: 1\r\n\r\nbody", "A: 1\r\n\r\nbody\r\n", 0 },
	};
	unsigned char da[TOKEN_DIGEST_BYTES], db[TOKEN_DIGEST_BYTES];
	size_t i;
	int same;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		digest_of(rows[i].a, da);
		digest_of(rows[i].b, db);
		same = memcmp(da, db, sizeof da) == 0;
		if (same != rows[i].same)
			fail_msg("row %zu: digests same=%d, want %d", i, same,
			    rows[i].same);
	}
	/* The empty body is BLAKE2b-256 of nothing. */
	{
		unsigned char want[TOKEN_DIGEST_BYTES];

		crypto_generichash(want, sizeof want, NULL, 0, NULL, 0);
		token_body_digest("", 0, da);
		if (memcmp(da, want, sizeof da) != 0)
			fail_msg("empty message: got another digest, want "
			    "BLAKE2b(\"\")");
		crypto_generichash(want, sizeof want,
		    (const unsigned char *)"body\r\n", 6, NULL, 0);
		digest_of("A: 1\r\n\r\nbody\r\n", da);
		if (memcmp(da, want, sizeof da) != 0)
			fail_msg("body digest: got another digest, want "
			    "BLAKE2b(\"body\\r\\n\")");
	}
	/* A token made over the CRLF body does not pass the LF body. */
	{
		struct qkey k;
		char tok[TOKEN_MAX];
		int r;

		key_fill(&k, 5);
		digest_of("A: 1\r\n\r\nbody\r\nx\r\n", da);
		digest_of("A: 1\n\nbody\nx\n", db);
		assert_int_equal(token_notice_make(&k, da, tok, sizeof tok), 0);
		if ((r = token_notice_check(&k, tok, db)) != 0)
			fail_msg("LF body with CRLF token: got %d, want 0", r);
		if ((r = token_notice_check(&k, tok, da)) != 1)
			fail_msg("CRLF body, CRLF token: got %d, want 1", r);
	}
}

/* The same with a key from a file, as the daemon loads it. */
static void
test_key_file(void **state)
{
	char dir[] = "/tmp/custos-test-token.XXXXXX", path[256], err[256];
	struct qkey k1, k2;
	unsigned char d[TOKEN_DIGEST_BYTES];
	char tok[TOKEN_MAX], id[INCIDENT_ID_SIZE];
	int r;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof path, "%s/q.key", dir);
	if (qkey_load(path, 1, &k1, err, sizeof err) != 0)
		fail_msg("qkey_load create: %s", err);
	if (qkey_load(path, 0, &k2, err, sizeof err) != 0)
		fail_msg("qkey_load: %s", err);
	digest_of(msg_b, d);
	assert_int_equal(token_release_make(&k1, "7K2M-Q9XD-3F0A", d, tok,
	    sizeof tok), 0);
	if ((r = token_release_check(&k2, tok, d, id)) != 1)
		fail_msg("key reloaded from file: got %d, want 1", r);
	/* The subkeys differ from each other. */
	if (memcmp(k1.release, k1.notice, QKEY_BYTES) == 0 ||
	    memcmp(k1.release, k1.seal, QKEY_BYTES) == 0)
		fail_msg("subkeys: got equal subkeys, want independent ones");
	qkey_clear(&k1);
	qkey_clear(&k2);
	(void)unlink(path);
	(void)rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_roundtrip),
		cmocka_unit_test(test_notice_roundtrip),
		cmocka_unit_test(test_wrong_body_key_incident),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_body_digest),
		cmocka_unit_test(test_key_file),
	};

	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
