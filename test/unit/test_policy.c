/* test_policy.c - unit tests for the policy (policy.c).
 *
 * One fixed config (internal domains, two partners, a group, two
 * exemptions) built in C, no config file.  Tables of rows: recipient
 * classes, sender identity, group members, exemptions, each rule
 * condition alone and together, severity and reason order, monitor
 * mode, sender history known and unknown, the slow-drip scenario, and
 * the cap on matched rule indexes.  Run under ASan: findings, segments,
 * envelopes and verdicts are all freed. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "policy.h"

/* The fixture config. */
static char *internal_domains[] = { "example.com", "Corp.Example.NET" };
/* partner.example.com is also internal: internal wins.  shared.org is
 * under both partners: the first wins. */
static char *acme_domains[] = { "acme.com", "partner.example.com",
	"shared.org" };
static char *globex_domains[] = { "globex.com", "@globex.org",
	"shared.org" };
static struct policy_partner partners[] = {
	{ "acme", acme_domains, 3 },
	{ "globex", globex_domains, 3 },
};
static char *finance_members[] = {
	"alice@example.com",		/* that address */
	"@finance.example.com",		/* that domain */
	"treasury.example.com",		/* that domain */
	".payroll.example.com",		/* it and its subdomains */
};
static struct policy_group groups[] = {
	{ "finance", finance_members, 4 },
};
static char *audit_domains[] = { "auditor.com", "acme.com" };
static struct policy_exemption exemptions[] = {
	{ "audit-firm", "bob@example.com", audit_domains, 2 },
	/* Must never exempt the null sender. */
	{ "empty", "", audit_domains, 2 },
};

#define NELEM(a)	(sizeof (a) / sizeof (a)[0])

static void
conf_init(struct policy_conf *pc, struct policy_rule *rules, size_t nrules)
{
	memset(pc, 0, sizeof *pc);
	pc->internal_domains = internal_domains;
	pc->ninternal = NELEM(internal_domains);
	pc->partners = partners;
	pc->npartners = NELEM(partners);
	pc->groups = groups;
	pc->ngroups = NELEM(groups);
	pc->exemptions = exemptions;
	pc->nexemptions = NELEM(exemptions);
	pc->rules = rules;
	pc->nrules = nrules;
	pc->windows[0] = 3600;
	pc->windows[1] = 86400;
	pc->nwindows = 2;
}

/* A rule that tests nothing, as conf.c would start one. */
static void
rule_init(struct policy_rule *r, char *name, enum action a)
{
	memset(r, 0, sizeof *r);
	r->name = name;
	r->list = -1;
	r->partner = -1;
	r->group = -1;
	r->window = -1;
	r->action = a;
}

/* One message: envelope, what was found, what the store says. */
enum hist_state { HIST_NULL = 0, HIST_UNKNOWN, HIST_KNOWN };

struct msg {
	const char	*auth;
	const char	*from;
	const char	*rcpt[7];	/* NULL-terminated */
	unsigned	 records[3];	/* distinct records in lists 0..2 */
	unsigned	 canaries;	/* more records, canaries, list 0 */
	size_t		 det[DET_COUNT];
	const char	*keyword;
	const char	*uns;		/* an unscannable reason */
	enum hist_state	 hist;
	uint64_t	 hrec, hmsg, hrcpt;	/* window w has (w + 1) times */
};

struct built {
	struct envelope		 env;
	struct findings		 f;
	struct textseg		*t;
	struct policy_history	 h;
	struct verdict		 v;
	struct policy_outcome	 out;
};

static void
msg_build(const struct msg *m, struct built *b)
{
	uint32_t rec = 0;
	unsigned list, i;
	size_t w;

	envelope_init(&b->env);
	assert_int_equal(envelope_set(&b->env.auth_user, m->auth), 0);
	/* envelope_set keeps a literal "<>", which policy_sender must
	 * also read as the null sender. */
	assert_int_equal(envelope_set(&b->env.mail_from, m->from), 0);
	for (i = 0; m->rcpt[i] != NULL; i++)
		assert_int_equal(envelope_add_rcpt(&b->env, m->rcpt[i]), 0);

	assert_int_equal(findings_init(&b->f, 0), 0);
	for (list = 0; list < NELEM(m->records); list++)
		for (i = 0; i < m->records[list]; i++, rec++)
			assert_int_equal(findings_add_record(&b->f, rec, "id",
			    (uint16_t)list, false, 0, KIND_MOBILE), 1);
	for (i = 0; i < m->canaries; i++, rec++)
		assert_int_equal(findings_add_record(&b->f, rec, "canary", 0,
		    true, 0, KIND_EMAIL), 1);
	memcpy(b->f.detector_values, m->det, sizeof m->det);
	if (m->keyword != NULL)
		assert_int_equal(findings_keyword(&b->f, m->keyword), 0);

	assert_non_null(b->t = textseg_new());
	if (m->uns != NULL)
		assert_int_equal(textseg_unscannable(b->t, m->uns, "message"),
		    0);

	memset(&b->h, 0, sizeof b->h);
	b->h.known = m->hist == HIST_KNOWN;
	for (w = 0; w < POLICY_MAX_WINDOWS; w++) {
		b->h.records[w] = m->hrec * (w + 1);
		b->h.messages[w] = m->hmsg * (w + 1);
		b->h.recipients[w] = m->hrcpt * (w + 1);
	}
	verdict_init(&b->v);
	/* Garbage, so a field policy forgets to set shows. */
	memset(&b->out, 0xa5, sizeof b->out);
}

static void
msg_decide(const struct policy_conf *pc, const struct msg *m,
    struct built *b)
{
	msg_build(m, b);
	assert_int_equal(policy_decide(pc, &b->env, &b->f, b->t,
	    m->hist == HIST_NULL ? NULL : &b->h, &b->v, &b->out), 0);
}

static void
built_free(struct built *b)
{
	envelope_clear(&b->env);
	findings_free(&b->f);
	b->t = textseg_free(b->t);
	verdict_clear(&b->v);
}

/* The verdict's reasons, in order, against a NULL-terminated list. */
static void
check_reasons(const char *name, const struct verdict *v,
    const char *const *want)
{
	size_t i, n;

	for (n = 0; want[n] != NULL; n++)
		;
	if (v->nreasons != n)
		fail_msg("%s: got %zu reasons (first %s), want %zu", name,
		    v->nreasons, v->nreasons ? v->reasons[0] : "none", n);
	for (i = 0; i < n; i++)
		if (strcmp(v->reasons[i], want[i]) != 0)
			fail_msg("%s: reason %zu: got \"%s\", want \"%s\"",
			    name, i, v->reasons[i], want[i]);
}

#define EXT	"x@gmail.com"

/*
 * Recipient classes.
 */

static void
test_rcpt_class(void **state)
{
	static const struct {
		const char	*addr;
		enum rcpt_class	 class;
		int		 partner;
	} rows[] = {
		{ "a@example.com", RCPT_INTERNAL, -1 },
		{ "a@EXAMPLE.COM", RCPT_INTERNAL, -1 },
		{ "A.B@Sub.Example.Com", RCPT_INTERNAL, -1 },
		{ "a@deep.sub.example.com", RCPT_INTERNAL, -1 },
		{ "a@corp.example.net", RCPT_INTERNAL, -1 },
		{ "a@x.CORP.example.net", RCPT_INTERNAL, -1 },
		/* A suffix is not a subdomain. */
		{ "a@badexample.com", RCPT_EXTERNAL, -1 },
		{ "a@example.com.evil.org", RCPT_EXTERNAL, -1 },
		{ "a@example.net", RCPT_EXTERNAL, -1 },
		/* Local delivery. */
		{ "postmaster", RCPT_INTERNAL, -1 },
		{ "", RCPT_INTERNAL, -1 },
		/* The domain is after the last '@'. */
		{ "\"a@example.com\"@evil.org", RCPT_EXTERNAL, -1 },
		{ "@example.com:a@evil.org", RCPT_EXTERNAL, -1 },
		{ "\"a@evil.org\"@example.com", RCPT_INTERNAL, -1 },
		{ "a@", RCPT_EXTERNAL, -1 },
		{ "a@acme.com", RCPT_PARTNER, 0 },
		{ "a@mail.ACME.com", RCPT_PARTNER, 0 },
		{ "a@notacme.com", RCPT_EXTERNAL, -1 },
		{ "a@globex.com", RCPT_PARTNER, 1 },
		/* "@globex.org" in a domain list means globex.org. */
		{ "a@globex.org", RCPT_PARTNER, 1 },
		{ "a@eu.globex.org", RCPT_PARTNER, 1 },
		/* Internal before partner; first partner before second. */
		{ "a@partner.example.com", RCPT_INTERNAL, -1 },
		{ "a@shared.org", RCPT_PARTNER, 0 },
		{ "a@gmail.com", RCPT_EXTERNAL, -1 },
	};
	struct policy_conf pc;
	enum rcpt_class c;
	size_t i;
	int p;

	(void)state;
	conf_init(&pc, NULL, 0);
	for (i = 0; i < NELEM(rows); i++) {
		p = 99;
		c = policy_rcpt_class(&pc, rows[i].addr, &p);
		if (c != rows[i].class || p != rows[i].partner)
			fail_msg("%s: got class %d partner %d, want %d %d",
			    rows[i].addr, (int)c, p, (int)rows[i].class,
			    rows[i].partner);
		/* The partner pointer is optional. */
		if (policy_rcpt_class(&pc, rows[i].addr, NULL) != c)
			fail_msg("%s: got another class without partner",
			    rows[i].addr);
	}
	/* No domains configured: everything with a domain is external. */
	memset(&pc, 0, sizeof pc);
	c = policy_rcpt_class(&pc, "a@example.com", &p);
	if (c != RCPT_EXTERNAL || p != -1)
		fail_msg("empty conf: got class %d partner %d, want %d -1",
		    (int)c, p, (int)RCPT_EXTERNAL);
}

static void
test_classify(void **state)
{
	static const struct msg m = {
		.from = "carol@example.com",
		.rcpt = { "a@example.com", "b", "c@acme.com", "d@globex.org",
		    "e@gmail.com", "f@sub.acme.com", NULL },
	};
	struct policy_conf pc;
	struct built b;
	struct policy_outcome out;

	(void)state;
	conf_init(&pc, NULL, 0);
	msg_build(&m, &b);
	memset(&out, 0xa5, sizeof out);
	policy_classify(&pc, &b.env, &out);
	if (out.rcpt_count[RCPT_INTERNAL] != 2 ||
	    out.rcpt_count[RCPT_PARTNER] != 3 ||
	    out.rcpt_count[RCPT_EXTERNAL] != 1)
		fail_msg("got counts %zu/%zu/%zu, want 2/3/1",
		    out.rcpt_count[0], out.rcpt_count[1], out.rcpt_count[2]);
	if (out.partners_hit != 0x3)
		fail_msg("got partners_hit %#x, want 0x3",
		    (unsigned)out.partners_hit);
	assert_string_equal(out.sender, "carol@example.com");

	/* policy_decide classes the same way. */
	assert_int_equal(policy_decide(&pc, &b.env, &b.f, b.t, NULL, &b.v,
	    &b.out), 0);
	if (memcmp(b.out.rcpt_count, out.rcpt_count, sizeof out.rcpt_count)
	    != 0 || b.out.partners_hit != out.partners_hit)
		fail_msg("decide: got other counts than classify");
	if (b.out.nmatched != 0 || b.out.exemption != NULL ||
	    b.out.would != ACTION_PASS || b.out.monitored ||
	    b.out.history_unknown || b.v.action != ACTION_PASS)
		fail_msg("no rules: got nmatched %zu would %d action %d, "
		    "want 0 pass pass", b.out.nmatched, (int)b.out.would,
		    (int)b.v.action);
	built_free(&b);
}

/* Partners past the 32-bit map get no bit, yet a rule naming one must
 * still see its recipients. */
static void
test_partner_beyond_bitmap(void **state)
{
	static char *far_domains[] = { "far.org" };
	struct policy_partner many[POLICY_MAX_PARTNERS + 2];
	static const struct msg m = {
		.from = "carol@example.com",
		.rcpt = { "x@far.org", NULL },
	};
	struct policy_rule rule;
	struct policy_conf pc;
	struct built b;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(many); i++) {
		many[i].name = "filler";
		many[i].domains = NULL;
		many[i].ndomains = 0;
	}
	many[NELEM(many) - 1].domains = far_domains;
	many[NELEM(many) - 1].ndomains = 1;
	rule_init(&rule, "far", ACTION_HOLD);
	rule.recipients = COND_RCPT_PARTNER;
	rule.partner = (int)NELEM(many) - 1;
	conf_init(&pc, &rule, 1);
	pc.partners = many;
	pc.npartners = NELEM(many);
	msg_decide(&pc, &m, &b);
	if (b.out.partners_hit != 0 || b.out.rcpt_count[RCPT_PARTNER] != 1)
		fail_msg("got partners_hit %#x partner count %zu, want 0 1",
		    (unsigned)b.out.partners_hit,
		    b.out.rcpt_count[RCPT_PARTNER]);
	if (b.v.action != ACTION_HOLD)
		fail_msg("got action %s, want hold", action_name(b.v.action));
	built_free(&b);
}

/*
 * Sender identity and groups.
 */

static void
test_sender(void **state)
{
	static const struct {
		const char	*auth;
		const char	*from;
		const char	*want;
	} rows[] = {
		{ NULL, "a@example.com", "a@example.com" },
		{ "u@example.com", "a@example.com", "u@example.com" },
		{ "u@example.com", NULL, "u@example.com" },
		{ "", "a@example.com", "a@example.com" },
		{ NULL, NULL, "" },
		{ NULL, "", "" },
		{ NULL, "<>", "" },
		{ "", "<>", "" },
	};
	struct envelope env;
	const char *got;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(rows); i++) {
		envelope_init(&env);
		assert_int_equal(envelope_set(&env.auth_user, rows[i].auth),
		    0);
		assert_int_equal(envelope_set(&env.mail_from, rows[i].from),
		    0);
		got = policy_sender(&env);
		if (got == NULL || strcmp(got, rows[i].want) != 0)
			fail_msg("auth %s from %s: got \"%s\", want \"%s\"",
			    rows[i].auth ? rows[i].auth : "NULL",
			    rows[i].from ? rows[i].from : "NULL",
			    got ? got : "NULL", rows[i].want);
		envelope_clear(&env);
	}
}

static void
test_groups(void **state)
{
	static const struct {
		const char	*addr;
		int		 want;
	} rows[] = {
		{ "alice@example.com", 1 },
		{ "ALICE@Example.COM", 1 },
		{ "alice@sub.example.com", 0 },
		{ "malice@example.com", 0 },
		{ "carol@example.com", 0 },
		{ "x@finance.example.com", 1 },
		{ "x@FINANCE.example.com", 1 },
		{ "x@eu.finance.example.com", 0 },
		{ "x@treasury.example.com", 1 },
		{ "x@a.treasury.example.com", 0 },
		{ "x@payroll.example.com", 1 },
		{ "x@a.b.Payroll.example.com", 1 },
		{ "x@notpayroll.example.com", 0 },
		{ "finance.example.com", 0 },
		{ "alice", 0 },
		{ "", 0 },
	};
	struct policy_conf pc;
	size_t i;
	int got;

	(void)state;
	conf_init(&pc, NULL, 0);
	for (i = 0; i < NELEM(rows); i++) {
		got = policy_in_group(&pc, 0, rows[i].addr);
		if (got != rows[i].want)
			fail_msg("%s: got %d, want %d", rows[i].addr, got,
			    rows[i].want);
	}
	if ((got = policy_in_group(&pc, 1, "alice@example.com")) != 0)
		fail_msg("group out of range: got %d, want 0", got);
}

/*
 * Exemptions.
 */

static void
test_exemption(void **state)
{
	static const struct {
		const char	*name;
		struct msg	 m;
		bool		 exempt;
	} rows[] = {
		{ "partner domain", { .from = "bob@example.com",
		    .rcpt = { "x@auditor.com", NULL } }, true },
		{ "subdomain and internal", { .from = "bob@example.com",
		    .rcpt = { "x@auditor.com", "y@eu.acme.com",
		    "z@example.com", "postmaster", NULL } }, true },
		{ "internal only", { .from = "bob@example.com",
		    .rcpt = { "z@example.com", NULL } }, true },
		{ "sender case", { .from = "Bob@EXAMPLE.com",
		    .rcpt = { "x@AUDITOR.com", NULL } }, true },
		{ "auth user counts", { .auth = "bob@example.com",
		    .from = "other@example.com",
		    .rcpt = { "x@auditor.com", NULL } }, true },
		{ "one recipient outside", { .from = "bob@example.com",
		    .rcpt = { "x@auditor.com", EXT, NULL } }, false },
		{ "look-alike domain", { .from = "bob@example.com",
		    .rcpt = { "x@evilauditor.com", NULL } }, false },
		{ "other sender", { .from = "carol@example.com",
		    .rcpt = { "x@auditor.com", NULL } }, false },
		{ "auth user is not the sender", { .auth = "carol@example.com",
		    .from = "bob@example.com",
		    .rcpt = { "x@auditor.com", NULL } }, false },
		{ "null sender", { .from = "<>",
		    .rcpt = { "x@auditor.com", NULL } }, false },
	};
	static const char *const exempt_reasons[] = {
		"exemption audit-firm", NULL
	};
	static const char *const rule_reasons[] = { "rule all", NULL };
	struct policy_rule rule;
	struct policy_conf pc;
	struct built b;
	size_t i;

	(void)state;
	rule_init(&rule, "all", ACTION_REJECT);
	conf_init(&pc, &rule, 1);
	for (i = 0; i < NELEM(rows); i++) {
		msg_decide(&pc, &rows[i].m, &b);
		if (rows[i].exempt) {
			if (b.out.exemption == NULL ||
			    strcmp(b.out.exemption, "audit-firm") != 0)
				fail_msg("%s: got exemption %s, want "
				    "audit-firm", rows[i].name,
				    b.out.exemption ? b.out.exemption :
				    "NULL");
			if (b.v.action != ACTION_PASS ||
			    b.out.would != ACTION_PASS || b.out.nmatched != 0)
				fail_msg("%s: got action %s would %s "
				    "nmatched %zu, want pass pass 0",
				    rows[i].name, action_name(b.v.action),
				    action_name(b.out.would), b.out.nmatched);
			check_reasons(rows[i].name, &b.v, exempt_reasons);
		} else {
			if (b.out.exemption != NULL)
				fail_msg("%s: got exemption %s, want none",
				    rows[i].name, b.out.exemption);
			if (b.v.action != ACTION_REJECT)
				fail_msg("%s: got action %s, want reject",
				    rows[i].name, action_name(b.v.action));
			check_reasons(rows[i].name, &b.v, rule_reasons);
		}
		built_free(&b);
	}
}

/*
 * Each condition alone, and together: one rule, match or not.
 */

#define SET_LIST	0x1
#define SET_PARTNER	0x2
#define SET_GROUP	0x4
#define SET_WINDOW	0x8

static const struct cond_row {
	const char		*name;
	/* list, partner, group and window are taken only when set says
	 * so; otherwise they stay -1 (not tested). */
	struct policy_rule	 rule;
	unsigned		 set;
	struct msg		 m;
	bool			 match;
} cond_rows[] = {
	{ "no condition, empty message", { .records_min = 0 }, 0,
	    { .rcpt = { "a@example.com", NULL } }, true },

	{ "records 1 < 2", { .records_min = 2 }, 0,
	    { .rcpt = { EXT, NULL }, .records = { 1 } }, false },
	{ "records 2 >= 2", { .records_min = 2 }, 0,
	    { .rcpt = { EXT, NULL }, .records = { 1, 1 } }, true },
	{ "records count canaries", { .records_min = 2 }, 0,
	    { .rcpt = { EXT, NULL }, .records = { 1 }, .canaries = 1 },
	    true },
	{ "list 1: 2 records elsewhere", { .records_min = 2, .list = 1 },
	    SET_LIST, { .rcpt = { EXT, NULL }, .records = { 2, 0, 2 } },
	    false },
	{ "list 1: 1 of 2", { .records_min = 2, .list = 1 }, SET_LIST,
	    { .rcpt = { EXT, NULL }, .records = { 1, 1 } }, false },
	{ "list 1: 2 of 2", { .records_min = 2, .list = 1 }, SET_LIST,
	    { .rcpt = { EXT, NULL }, .records = { 0, 2 } }, true },
	{ "list out of range", { .records_min = 1,
	    .list = FINDINGS_MAX_LISTS }, SET_LIST,
	    { .rcpt = { EXT, NULL }, .records = { 3, 3, 3 } }, false },

	{ "card 2 < 3", { .detector_min[DET_PAYMENT_CARD] = 3 }, 0,
	    { .rcpt = { EXT, NULL }, .det[DET_PAYMENT_CARD] = 2 }, false },
	{ "card 3 >= 3", { .detector_min[DET_PAYMENT_CARD] = 3 }, 0,
	    { .rcpt = { EXT, NULL }, .det[DET_PAYMENT_CARD] = 3 }, true },
	{ "other detector does not count",
	    { .detector_min[DET_PAYMENT_CARD] = 3 }, 0,
	    { .rcpt = { EXT, NULL }, .det[DET_IBAN] = 9 }, false },
	{ "any of: id reaches",
	    { .detector_min = { [DET_PAYMENT_CARD] = 3,
	    [DET_CN_RESIDENT_ID] = 2 } }, 0,
	    { .rcpt = { EXT, NULL }, .det = { [DET_PAYMENT_CARD] = 1,
	    [DET_CN_RESIDENT_ID] = 2 } }, true },
	{ "any of: card reaches",
	    { .detector_min = { [DET_PAYMENT_CARD] = 3,
	    [DET_CN_RESIDENT_ID] = 2 } }, 0,
	    { .rcpt = { EXT, NULL }, .det[DET_PAYMENT_CARD] = 5 }, true },
	{ "any of: neither reaches",
	    { .detector_min = { [DET_PAYMENT_CARD] = 3,
	    [DET_CN_RESIDENT_ID] = 2 } }, 0,
	    { .rcpt = { EXT, NULL }, .det = { [DET_PAYMENT_CARD] = 2,
	    [DET_CN_RESIDENT_ID] = 1 } }, false },

	{ "canary: none", { .canary = true }, 0,
	    { .rcpt = { EXT, NULL }, .records = { 5 } }, false },
	{ "canary: hit", { .canary = true }, 0,
	    { .rcpt = { EXT, NULL }, .canaries = 1 }, true },
	{ "unscannable: none", { .unscannable = true }, 0,
	    { .rcpt = { EXT, NULL } }, false },
	{ "unscannable: too-large", { .unscannable = true }, 0,
	    { .rcpt = { EXT, NULL }, .uns = "too-large" }, true },
	{ "keyword: none", { .keyword = true }, 0,
	    { .rcpt = { EXT, NULL } }, false },
	{ "keyword: CONFIDENTIAL", { .keyword = true }, 0,
	    { .rcpt = { EXT, NULL }, .keyword = "CONFIDENTIAL" }, true },

	{ "external: gmail", { .recipients = COND_RCPT_EXTERNAL }, 0,
	    { .rcpt = { "a@example.com", EXT, NULL } }, true },
	{ "external: internal only", { .recipients = COND_RCPT_EXTERNAL },
	    0, { .rcpt = { "a@example.com", "b", NULL } }, false },
	{ "external: partner only", { .recipients = COND_RCPT_EXTERNAL },
	    0, { .rcpt = { "a@acme.com", NULL } }, false },
	{ "partner: acme", { .recipients = COND_RCPT_PARTNER }, 0,
	    { .rcpt = { "a@acme.com", NULL } }, true },
	{ "partner: gmail", { .recipients = COND_RCPT_PARTNER }, 0,
	    { .rcpt = { EXT, NULL } }, false },
	{ "partner globex: acme",
	    { .recipients = COND_RCPT_PARTNER, .partner = 1 }, SET_PARTNER,
	    { .rcpt = { "a@acme.com", NULL } }, false },
	{ "partner globex: globex",
	    { .recipients = COND_RCPT_PARTNER, .partner = 1 }, SET_PARTNER,
	    { .rcpt = { "a@acme.com", "b@x.globex.org", NULL } }, true },
	{ "partner out of range",
	    { .recipients = COND_RCPT_PARTNER, .partner = 7 }, SET_PARTNER,
	    { .rcpt = { "a@acme.com", "b@globex.com", NULL } }, false },
	{ "not internal: partner", { .recipients = COND_RCPT_NOT_INTERNAL },
	    0, { .rcpt = { "a@example.com", "b@acme.com", NULL } }, true },
	{ "not internal: external",
	    { .recipients = COND_RCPT_NOT_INTERNAL }, 0,
	    { .rcpt = { EXT, NULL } }, true },
	{ "not internal: internal",
	    { .recipients = COND_RCPT_NOT_INTERNAL }, 0,
	    { .rcpt = { "a@example.com", "b@sub.example.com", NULL } },
	    false },
	{ "internal only: internal",
	    { .recipients = COND_RCPT_INTERNAL_ONLY }, 0,
	    { .rcpt = { "a@example.com", "b@corp.example.net", "root",
	    NULL } }, true },
	{ "internal only: a partner too",
	    { .recipients = COND_RCPT_INTERNAL_ONLY }, 0,
	    { .rcpt = { "a@example.com", "b@acme.com", NULL } }, false },
	{ "internal only: external too",
	    { .recipients = COND_RCPT_INTERNAL_ONLY }, 0,
	    { .rcpt = { "a@example.com", EXT, NULL } }, false },

	{ "group: member", { .group = 0 }, SET_GROUP,
	    { .from = "alice@example.com", .rcpt = { EXT, NULL } }, true },
	{ "group: not member", { .group = 0 }, SET_GROUP,
	    { .from = "carol@example.com", .rcpt = { EXT, NULL } }, false },
	{ "group: auth user is member", { .group = 0 }, SET_GROUP,
	    { .auth = "alice@example.com", .from = "carol@example.com",
	    .rcpt = { EXT, NULL } }, true },
	{ "group: forged MAIL FROM", { .group = 0 }, SET_GROUP,
	    { .auth = "carol@example.com", .from = "alice@example.com",
	    .rcpt = { EXT, NULL } }, false },
	{ "!group: member", { .group = 0, .not_in_group = true }, SET_GROUP,
	    { .from = "x@payroll.example.com", .rcpt = { EXT, NULL } },
	    false },
	{ "!group: not member", { .group = 0, .not_in_group = true },
	    SET_GROUP, { .from = "carol@example.com", .rcpt = { EXT, NULL } },
	    true },
	{ "!group: null sender", { .group = 0, .not_in_group = true },
	    SET_GROUP, { .from = "<>", .rcpt = { EXT, NULL } }, true },
	{ "group out of range", { .group = 3 }, SET_GROUP,
	    { .from = "alice@example.com", .rcpt = { EXT, NULL } }, false },
	{ "!group out of range", { .group = 3, .not_in_group = true },
	    SET_GROUP, { .from = "carol@example.com", .rcpt = { EXT, NULL } },
	    false },

	{ "history records 200 >= 200",
	    { .window = 0, .history_records_min = 200 }, SET_WINDOW,
	    { .rcpt = { EXT, NULL }, .hist = HIST_KNOWN, .hrec = 200 }, true },
	{ "history records 199 < 200",
	    { .window = 0, .history_records_min = 200 }, SET_WINDOW,
	    { .rcpt = { EXT, NULL }, .hist = HIST_KNOWN, .hrec = 199 },
	    false },
	{ "history messages", { .window = 0, .history_messages_min = 10 },
	    SET_WINDOW, { .rcpt = { EXT, NULL }, .hist = HIST_KNOWN,
	    .hmsg = 10 }, true },
	{ "history messages short",
	    { .window = 0, .history_messages_min = 10 }, SET_WINDOW,
	    { .rcpt = { EXT, NULL }, .hist = HIST_KNOWN, .hmsg = 9 }, false },
	{ "history recipients",
	    { .window = 0, .history_recipients_min = 50 }, SET_WINDOW,
	    { .rcpt = { EXT, NULL }, .hist = HIST_KNOWN, .hrcpt = 50 }, true },
	{ "history recipients short",
	    { .window = 0, .history_recipients_min = 50 }, SET_WINDOW,
	    { .rcpt = { EXT, NULL }, .hist = HIST_KNOWN, .hrcpt = 49,
	    .hrec = 1000, .hmsg = 1000 }, false },
	{ "history all three, one short",
	    { .window = 0, .history_records_min = 10,
	    .history_messages_min = 10, .history_recipients_min = 10 },
	    SET_WINDOW, { .rcpt = { EXT, NULL }, .hist = HIST_KNOWN,
	    .hrec = 10, .hmsg = 10, .hrcpt = 9 }, false },
	{ "history window 1 (twice window 0)",
	    { .window = 1, .history_records_min = 400 }, SET_WINDOW,
	    { .rcpt = { EXT, NULL }, .hist = HIST_KNOWN, .hrec = 200 }, true },
	{ "history window 1 short",
	    { .window = 1, .history_records_min = 400 }, SET_WINDOW,
	    { .rcpt = { EXT, NULL }, .hist = HIST_KNOWN, .hrec = 199 },
	    false },
	{ "history window not configured",
	    { .window = 2, .history_records_min = 1 }, SET_WINDOW,
	    { .rcpt = { EXT, NULL }, .hist = HIST_KNOWN, .hrec = 1000 },
	    false },
	{ "history unknown", { .window = 0, .history_records_min = 1 },
	    SET_WINDOW, { .rcpt = { EXT, NULL }, .hist = HIST_UNKNOWN,
	    .hrec = 1000 }, false },
	{ "history NULL", { .window = 0, .history_records_min = 1 },
	    SET_WINDOW, { .rcpt = { EXT, NULL }, .hist = HIST_NULL }, false },

	/* AND of conditions. */
	{ "and: all hold",
	    { .records_min = 1, .canary = true,
	    .recipients = COND_RCPT_EXTERNAL, .group = 0,
	    .not_in_group = true }, SET_GROUP,
	    { .from = "carol@example.com", .rcpt = { EXT, NULL },
	    .records = { 1 }, .canaries = 1 }, true },
	{ "and: no canary",
	    { .records_min = 1, .canary = true,
	    .recipients = COND_RCPT_EXTERNAL, .group = 0,
	    .not_in_group = true }, SET_GROUP,
	    { .from = "carol@example.com", .rcpt = { EXT, NULL },
	    .records = { 3 } }, false },
	{ "and: internal",
	    { .records_min = 1, .canary = true,
	    .recipients = COND_RCPT_EXTERNAL, .group = 0,
	    .not_in_group = true }, SET_GROUP,
	    { .from = "carol@example.com", .rcpt = { "a@example.com",
	    NULL }, .records = { 1 }, .canaries = 1 }, false },
	{ "and: sender in group",
	    { .records_min = 1, .canary = true,
	    .recipients = COND_RCPT_EXTERNAL, .group = 0,
	    .not_in_group = true }, SET_GROUP,
	    { .from = "alice@example.com", .rcpt = { EXT, NULL },
	    .records = { 1 }, .canaries = 1 }, false },
	{ "and: records and detector, detector short",
	    { .records_min = 1, .detector_min[DET_US_SSN] = 2 }, 0,
	    { .rcpt = { EXT, NULL }, .records = { 4 },
	    .det[DET_US_SSN] = 1 }, false },
	{ "and: records, keyword, unscannable, history",
	    { .records_min = 2, .keyword = true, .unscannable = true,
	    .window = 0, .history_messages_min = 3 }, SET_WINDOW,
	    { .rcpt = { EXT, NULL }, .records = { 2 }, .keyword = "secret",
	    .uns = "depth", .hist = HIST_KNOWN, .hmsg = 3 }, true },
};

static void
test_conditions(void **state)
{
	const struct cond_row *row;
	const char *reasons[2];
	struct policy_rule rule;
	struct policy_conf pc;
	struct built b;
	char want[128];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cond_rows); i++) {
		row = &cond_rows[i];
		rule = row->rule;
		rule.name = "r";
		rule.action = ACTION_QUARANTINE;
		if (!(row->set & SET_LIST))
			rule.list = -1;
		if (!(row->set & SET_PARTNER))
			rule.partner = -1;
		if (!(row->set & SET_GROUP))
			rule.group = -1;
		if (!(row->set & SET_WINDOW))
			rule.window = -1;
		conf_init(&pc, &rule, 1);
		msg_decide(&pc, &row->m, &b);
		if ((b.out.nmatched == 1) != row->match ||
		    b.out.nmatched > 1)
			fail_msg("%s: got %zu matches, want %d", row->name,
			    b.out.nmatched, (int)row->match);
		if (row->match && b.out.matched[0] != 0)
			fail_msg("%s: got matched[0] %zu, want 0", row->name,
			    b.out.matched[0]);
		if (b.v.action != (row->match ? ACTION_QUARANTINE :
		    ACTION_PASS) || b.out.would != b.v.action)
			fail_msg("%s: got action %s would %s, want %s",
			    row->name, action_name(b.v.action),
			    action_name(b.out.would),
			    row->match ? "quarantine" : "pass");
		(void)snprintf(want, sizeof want, "rule r");
		reasons[0] = row->match ? want : NULL;
		reasons[1] = NULL;
		check_reasons(row->name, &b.v, reasons);
		if (b.out.exemption != NULL || b.out.monitored)
			fail_msg("%s: got exemption %s monitored %d, want "
			    "none 0", row->name, b.out.exemption ?
			    b.out.exemption : "NULL", (int)b.out.monitored);
		built_free(&b);
	}
}

/*
 * History the store could not give.
 */

static void
test_history_unknown(void **state)
{
	static const struct {
		const char	*name;
		bool		 canary;	/* rule also wants a canary */
		int		 window;
		struct msg	 m;
		bool		 match, unknown;
	} rows[] = {
		{ "NULL history", false, 0,
		    { .rcpt = { EXT, NULL }, .hist = HIST_NULL }, false, true },
		{ "store down, counts ignored", false, 0,
		    { .rcpt = { EXT, NULL }, .hist = HIST_UNKNOWN,
		    .hrec = 5000 }, false, true },
		{ "known", false, 0,
		    { .rcpt = { EXT, NULL }, .hist = HIST_KNOWN, .hrec = 200 },
		    true, false },
		{ "known, short", false, 0,
		    { .rcpt = { EXT, NULL }, .hist = HIST_KNOWN, .hrec = 1 },
		    false, false },
		/* Only a rule the missing history decided is reported. */
		{ "store down, other condition fails", true, 0,
		    { .rcpt = { EXT, NULL }, .hist = HIST_UNKNOWN }, false,
		    false },
		{ "store down, other condition holds", true, 0,
		    { .rcpt = { EXT, NULL }, .hist = HIST_UNKNOWN,
		    .canaries = 1 }, false, true },
		{ "no history condition, store down", false, -1,
		    { .rcpt = { EXT, NULL }, .hist = HIST_NULL }, true, false },
	};
	struct policy_rule rules[2];
	struct policy_conf pc;
	struct built b;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(rows); i++) {
		rule_init(&rules[0], "drip", ACTION_HOLD);
		rules[0].window = rows[i].window;
		rules[0].history_records_min = rows[i].window >= 0 ? 200 : 0;
		rules[0].canary = rows[i].canary;
		/* A rule after it is still evaluated. */
		rule_init(&rules[1], "tag", ACTION_TAG);
		conf_init(&pc, rules, 2);
		msg_decide(&pc, &rows[i].m, &b);
		if (b.out.history_unknown != rows[i].unknown)
			fail_msg("%s: got history_unknown %d, want %d",
			    rows[i].name, (int)b.out.history_unknown,
			    (int)rows[i].unknown);
		if (b.v.action != (rows[i].match ? ACTION_HOLD : ACTION_TAG))
			fail_msg("%s: got action %s, want %s", rows[i].name,
			    action_name(b.v.action),
			    rows[i].match ? "hold" : "tag");
		if (b.out.nmatched != (rows[i].match ? 2u : 1u))
			fail_msg("%s: got %zu matches, want %d", rows[i].name,
			    b.out.nmatched, rows[i].match ? 2 : 1);
		built_free(&b);
	}
}

/* Slow drip: a sender leaks a few records per message, each message
 * under every per-message threshold; the hourly history catches the
 * message that takes the total to 200. */
static void
test_drip(void **state)
{
	static const struct {
		uint64_t	 records0;
		enum action	 want;
	} rows[] = {
		{ 2, ACTION_PASS },
		{ 199, ACTION_PASS },
		{ 200, ACTION_HOLD },
		{ 201, ACTION_HOLD },
	};
	static const char *const hold_reasons[] = { "rule drip", NULL };
	static const char *const no_reasons[] = { NULL };
	struct policy_rule rules[2];
	struct policy_conf pc;
	struct msg m;
	struct built b;
	size_t i;

	(void)state;
	rule_init(&rules[0], "bulk", ACTION_REJECT);
	rules[0].records_min = 50;
	rule_init(&rules[1], "drip", ACTION_HOLD);
	rules[1].window = 0;
	rules[1].history_records_min = 200;
	rules[1].recipients = COND_RCPT_NOT_INTERNAL;
	conf_init(&pc, rules, 2);
	for (i = 0; i < NELEM(rows); i++) {
		memset(&m, 0, sizeof m);
		m.from = "carol@example.com";
		m.rcpt[0] = EXT;
		m.records[0] = 2;
		m.hist = HIST_KNOWN;
		m.hrec = rows[i].records0;
		msg_decide(&pc, &m, &b);
		if (b.v.action != rows[i].want)
			fail_msg("records[0] %llu: got %s, want %s",
			    (unsigned long long)rows[i].records0,
			    action_name(b.v.action),
			    action_name(rows[i].want));
		check_reasons("drip", &b.v, rows[i].want == ACTION_HOLD ?
		    hold_reasons : no_reasons);
		built_free(&b);
	}
}

/*
 * Several rules: severity, order, monitor mode.
 */

static void
test_severity(void **state)
{
	static const struct {
		const char	*name;
		struct msg	 m;
		enum action	 want;
		size_t		 matched[4], nmatched;
		const char	*reasons[5];
	} rows[] = {
		{ "all four", { .rcpt = { EXT, NULL }, .records = { 4 },
		    .canaries = 1 }, ACTION_REJECT, { 0, 1, 2, 3 }, 4,
		    { "rule tag-all", "rule hold-5", "rule reject-canary",
		    "rule quarantine-ext", NULL } },
		{ "hold and quarantine", { .rcpt = { EXT, NULL },
		    .records = { 5 } }, ACTION_QUARANTINE, { 0, 1, 3 }, 3,
		    { "rule tag-all", "rule hold-5", "rule quarantine-ext",
		    NULL } },
		{ "internal, few", { .rcpt = { "a@example.com", NULL },
		    .records = { 1 } }, ACTION_TAG, { 0 }, 1,
		    { "rule tag-all", NULL } },
		{ "canary inside", { .rcpt = { "a@example.com", NULL },
		    .canaries = 1 }, ACTION_REJECT, { 0, 2 }, 2,
		    { "rule tag-all", "rule reject-canary", NULL } },
	};
	struct policy_rule rules[4];
	struct policy_conf pc;
	struct built b;
	size_t i, j;

	(void)state;
	rule_init(&rules[0], "tag-all", ACTION_TAG);
	rule_init(&rules[1], "hold-5", ACTION_HOLD);
	rules[1].records_min = 5;
	rule_init(&rules[2], "reject-canary", ACTION_REJECT);
	rules[2].canary = true;
	rule_init(&rules[3], "quarantine-ext", ACTION_QUARANTINE);
	rules[3].recipients = COND_RCPT_EXTERNAL;
	conf_init(&pc, rules, NELEM(rules));
	for (i = 0; i < NELEM(rows); i++) {
		msg_decide(&pc, &rows[i].m, &b);
		if (b.v.action != rows[i].want || b.out.would != rows[i].want)
			fail_msg("%s: got action %s would %s, want %s",
			    rows[i].name, action_name(b.v.action),
			    action_name(b.out.would),
			    action_name(rows[i].want));
		if (b.out.nmatched != rows[i].nmatched)
			fail_msg("%s: got %zu matches, want %zu", rows[i].name,
			    b.out.nmatched, rows[i].nmatched);
		for (j = 0; j < rows[i].nmatched; j++)
			if (b.out.matched[j] != rows[i].matched[j])
				fail_msg("%s: matched[%zu]: got %zu, want %zu",
				    rows[i].name, j, b.out.matched[j],
				    rows[i].matched[j]);
		check_reasons(rows[i].name, &b.v, rows[i].reasons);
		built_free(&b);
	}
}

static void
test_monitor(void **state)
{
	static const struct {
		const char	*name;
		bool		 global;
		bool		 monitor[2];	/* per rule: tag, reject */
		bool		 canary;	/* the message has one */
		enum action	 action, would;
		bool		 monitored;
		const char	*reasons[3];
	} rows[] = {
		{ "enforce", false, { false, false }, true,
		    ACTION_REJECT, ACTION_REJECT, false,
		    { "rule tag", "rule reject", NULL } },
		{ "reject rule in monitor", false, { false, true }, true,
		    ACTION_TAG, ACTION_REJECT, true,
		    { "rule tag", "rule reject (monitor)", NULL } },
		{ "tag rule in monitor", false, { true, false }, true,
		    ACTION_REJECT, ACTION_REJECT, true,
		    { "rule tag (monitor)", "rule reject", NULL } },
		{ "global monitor", true, { false, false }, true,
		    ACTION_PASS, ACTION_REJECT, true,
		    { "rule tag (monitor)", "rule reject (monitor)", NULL } },
		{ "global and rule monitor", true, { false, true }, true,
		    ACTION_PASS, ACTION_REJECT, true,
		    { "rule tag (monitor)", "rule reject (monitor)", NULL } },
		{ "monitor rule does not match", false, { false, true },
		    false, ACTION_TAG, ACTION_TAG, false,
		    { "rule tag", NULL } },
		{ "global monitor, tag only", true, { false, false }, false,
		    ACTION_PASS, ACTION_TAG, true,
		    { "rule tag (monitor)", NULL } },
	};
	struct policy_rule rules[2];
	struct policy_conf pc;
	struct msg m;
	struct built b;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(rows); i++) {
		rule_init(&rules[0], "tag", ACTION_TAG);
		rules[0].monitor = rows[i].monitor[0];
		rule_init(&rules[1], "reject", ACTION_REJECT);
		rules[1].canary = true;
		rules[1].monitor = rows[i].monitor[1];
		conf_init(&pc, rules, 2);
		pc.monitor = rows[i].global;
		memset(&m, 0, sizeof m);
		m.from = "carol@example.com";
		m.rcpt[0] = EXT;
		m.canaries = rows[i].canary ? 1 : 0;
		msg_decide(&pc, &m, &b);
		if (b.v.action != rows[i].action ||
		    b.out.would != rows[i].would ||
		    b.out.monitored != rows[i].monitored)
			fail_msg("%s: got action %s would %s monitored %d, "
			    "want %s %s %d", rows[i].name,
			    action_name(b.v.action), action_name(b.out.would),
			    (int)b.out.monitored, action_name(rows[i].action),
			    action_name(rows[i].would), (int)rows[i].monitored);
		check_reasons(rows[i].name, &b.v, rows[i].reasons);
		built_free(&b);
	}
}

/* More matching rules than outcome->matched holds: the first ones are
 * kept, and every one is still a reason. */
static void
test_matched_cap(void **state)
{
	static const struct msg m = { .rcpt = { EXT, NULL } };
	struct policy_rule rules[70];
	struct policy_conf pc;
	struct built b;
	size_t i, cap = NELEM(b.out.matched);

	(void)state;
	for (i = 0; i < NELEM(rules); i++)
		rule_init(&rules[i], "many", i == 69 ? ACTION_HOLD :
		    ACTION_TAG);
	conf_init(&pc, rules, NELEM(rules));
	msg_decide(&pc, &m, &b);
	if (b.out.nmatched != cap)
		fail_msg("got nmatched %zu, want %zu", b.out.nmatched, cap);
	for (i = 0; i < cap; i++)
		if (b.out.matched[i] != i)
			fail_msg("matched[%zu]: got %zu, want %zu", i,
			    b.out.matched[i], i);
	if (b.v.nreasons != NELEM(rules))
		fail_msg("got %zu reasons, want %zu", b.v.nreasons,
		    NELEM(rules));
	/* The rule past the cap still counts. */
	if (b.v.action != ACTION_HOLD || b.out.would != ACTION_HOLD)
		fail_msg("got action %s would %s, want hold hold",
		    action_name(b.v.action), action_name(b.out.would));
	built_free(&b);
}

/* A verdict that already carries a reason keeps it: policy adds. */
static void
test_verdict_adds(void **state)
{
	static const struct msg m = { .rcpt = { EXT, NULL } };
	static const char *const reasons[] = { "unscannable: too-large",
		"rule tag", NULL };
	struct policy_rule rule;
	struct policy_conf pc;
	struct built b;

	(void)state;
	rule_init(&rule, "tag", ACTION_TAG);
	conf_init(&pc, &rule, 1);
	msg_build(&m, &b);
	assert_int_equal(verdict_raise(&b.v, ACTION_HOLD,
	    "unscannable: too-large"), 0);
	assert_int_equal(policy_decide(&pc, &b.env, &b.f, b.t, NULL, &b.v,
	    &b.out), 0);
	if (b.v.action != ACTION_HOLD || b.out.would != ACTION_TAG)
		fail_msg("got action %s would %s, want hold tag",
		    action_name(b.v.action), action_name(b.out.would));
	check_reasons("adds", &b.v, reasons);
	built_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rcpt_class),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_partner_beyond_bitmap),
		cmocka_unit_test(test_sender),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_exemption),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_history_unknown),
		cmocka_unit_test(test_drip),
		cmocka_unit_test(test_severity),
		cmocka_unit_test(test_monitor),
		cmocka_unit_test(test_matched_cap),
		cmocka_unit_test(test_verdict_adds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
