/* milter.c - libmilter callbacks (see milter.h).
 *
 * The raw message is rebuilt from what libmilter hands us: each header
 * as "Name:value" with its leading space kept (SMFIP_HDR_LEADSPC), CRLF
 * line ends as on the wire, the blank line, then the body chunks as they
 * come.  It is spooled (spool.h) so memory per message stays bounded.
 *
 * Owns each connctx and msgctx.  Errors end in milter_fail(), which is
 * where a failure becomes an SMTP result, once. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "audit.h"
#include "conf.h"
#include "envelope.h"
#include "explain.h"
#include "log.h"
#include "milter.h"
#include "notice.h"
#include "pipeline.h"
#include "qstore.h"
#include "scangate.h"
#include "spool.h"
#include "store.h"
#include "template.h"
#include "token.h"
#include "version.h"

struct msgctx {
	struct spool	*spool;
	double		 start_ms;
	bool		 failed;	/* spooling failed: on_error at eom */
	char		 why[256];	/* what failed */
	/* custos' own headers, when the message carries exactly one of
	 * a kind (two of a kind: neither is trusted). */
	char		 release[TOKEN_MAX];
	char		 notice[TOKEN_MAX];
	int		 nrelease, nnotice;
};

struct connctx {
	struct conf	*conf;		/* snapshot for this connection */
	struct envelope	 env;
	struct msgctx	*msg;
	bool		 leadspc;	/* MTA keeps header leading space */
	unsigned long	 nr;		/* steps the MTA reads no answer to */
	/* A failure in such a step, kept for the first step it waits on
	 * (milter_answer): the connection's stays, the message's goes with
	 * the next MAIL. */
	sfsistat	 conn_kept, msg_kept;
};

/* The steps custos asks the MTA not to wait on (SMFIP_NR_*): before end
 * of message it has nothing to say but a failure, and that can wait for
 * DATA.  Each step answered is a round trip, two context switches on each
 * side; a 5 KB message has about twenty of them (doc/performance.md). */
#define MILTER_NR_STEPS	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
	SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

/* Connections open (bounded by max_connections), messages in flight, and
 * whether we are draining for a stop: all under one lock. */
static pthread_mutex_t	active_lock = PTHREAD_MUTEX_INITIALIZER;
static struct notifier	*milter_notifier;	/* set before smfi_main */

void
milter_set_notifier(struct notifier *nf)
{
	milter_notifier = nf;
}

static pthread_cond_t	active_cond = PTHREAD_COND_INITIALIZER;
static int		active;
static int		in_flight;
static bool		draining;

/* Parsing and scanning: at most max_scans messages at once, whatever the
 * number of connections (scangate.h).  One gate for the process, made
 * at the worker's start and resized by each reload, so a new max_scans
 * holds for every message that reaches end of message after it. */
static struct scangate	*milter_gate;
static pthread_once_t	 milter_gate_once = PTHREAD_ONCE_INIT;

static void
milter_gate_init(void)
{
	milter_gate = scangate_new(1);
}

void
milter_set_max_scans(int n)
{
	(void)pthread_once(&milter_gate_once, milter_gate_init);
	scangate_resize(milter_gate, n);
}

int
milter_in_flight(void)
{
	int n;

	(void)pthread_mutex_lock(&active_lock);
	n = in_flight;
	(void)pthread_mutex_unlock(&active_lock);
	return n;
}

int
milter_drain(int timeout)
{
	struct timespec until;
	int n;

	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout;
	(void)pthread_mutex_lock(&active_lock);
	draining = true;
	while (in_flight > 0 &&
	    pthread_cond_timedwait(&active_cond, &active_lock, &until) == 0)
		;
	n = in_flight;
	(void)pthread_mutex_unlock(&active_lock);
	return n;
}

/* Counts a connection in; refuses when max_connections are open or when
 * draining. */
static bool
milter_admit(int max)
{
	bool ok;

	(void)pthread_mutex_lock(&active_lock);
	if ((ok = active < max && !draining))
		active++;
	(void)pthread_mutex_unlock(&active_lock);
	return ok;
}

static void
milter_leave(void)
{
	(void)pthread_mutex_lock(&active_lock);
	active--;
	(void)pthread_mutex_unlock(&active_lock);
}

/* Counts a message in, unless draining.  Returns false when refused. */
static bool
milter_msg_begin(void)
{
	bool ok;

	(void)pthread_mutex_lock(&active_lock);
	if ((ok = !draining))
		in_flight++;
	(void)pthread_mutex_unlock(&active_lock);
	return ok;
}

static void
milter_msg_end(void)
{
	(void)pthread_mutex_lock(&active_lock);
	if (--in_flight == 0)
		(void)pthread_cond_broadcast(&active_cond);
	(void)pthread_mutex_unlock(&active_lock);
}

/* Frees everything one message owns.  Safe to call twice. */
static void
milter_msg_free(struct connctx *cc)
{
	if (cc == NULL || cc->msg == NULL)
		return;
	cc->msg->spool = spool_free(cc->msg->spool);
	free(cc->msg);
	cc->msg = NULL;
	envelope_clear_message(&cc->env);
	milter_msg_end();
}

static const char *
milter_qid(const struct connctx *cc)
{
	return cc->env.qid != NULL ? cc->env.qid : "NOQUEUE";
}

/* The one place a failure becomes an SMTP result: on_error decides. */
static sfsistat
milter_fail(SMFICTX *ctx, struct connctx *cc, const char *why)
{
	enum action a = cc != NULL && cc->conf != NULL ?
	    cc->conf->on_error : ACTION_TEMPFAIL;

	switch (a) {
	case ACTION_PASS:
		log_err("%s: %s; accepting unscanned (on_error = accept)",
		    cc ? milter_qid(cc) : "NOQUEUE", why);
		return SMFIS_ACCEPT;
	case ACTION_REJECT:
		log_err("%s: %s; rejecting (on_error = reject)",
		    cc ? milter_qid(cc) : "NOQUEUE", why);
		(void)smfi_setreply(ctx, "550", "5.7.1",
		    "Message could not be checked by the content filter");
		return SMFIS_REJECT;
	default:
		log_err("%s: %s; deferring", cc ? milter_qid(cc) : "NOQUEUE",
		    why);
		(void)smfi_setreply(ctx, "451", "4.3.0",
		    "Content scan failed, try again later");
		return SMFIS_TEMPFAIL;
	}
}

static sfsistat
milter_no_memory(SMFICTX *ctx, struct connctx *cc)
{
	return milter_fail(ctx, cc, "out of memory");
}

/* What a step answers.  One the MTA reads no answer to (its SMFIP_NR_*
 * bit negotiated) says SMFIS_NOREPLY, and its result, when not to go on,
 * is kept for DATA or end of message, the steps the MTA waits on; the
 * reply text of smfi_setreply waits with it in libmilter.  Only the first
 * is kept: what fails after it follows from it. */
static sfsistat
milter_answer(struct connctx *cc, unsigned long step, sfsistat rc)
{
	sfsistat *kept;

	if (cc == NULL || (cc->nr & step) == 0)
		return rc;
	kept = (step & (SMFIP_NR_CONN | SMFIP_NR_HELO)) != 0 ?
	    &cc->conn_kept : &cc->msg_kept;
	if (rc != SMFIS_CONTINUE && *kept == SMFIS_CONTINUE)
		*kept = rc;
	return SMFIS_NOREPLY;
}

/* The result kept from the unanswered steps before (milter_answer):
 * the connection's first, then the message's; SMFIS_CONTINUE if none. */
static sfsistat
milter_kept(const struct connctx *cc)
{
	if (cc == NULL)
		return SMFIS_CONTINUE;
	return cc->conn_kept != SMFIS_CONTINUE ? cc->conn_kept : cc->msg_kept;
}

/* A message step that finds no message.  When MAIL failed in a step the
 * MTA did not wait on, that failure is kept and this one follows from it:
 * nothing more to log.  Otherwise the MTA broke the protocol. */
static sfsistat
milter_no_message(SMFICTX *ctx, struct connctx *cc, unsigned long step,
    const char *why)
{
	if (cc != NULL && (cc->nr & step) != 0 &&
	    milter_kept(cc) != SMFIS_CONTINUE)
		return SMFIS_NOREPLY;
	return milter_answer(cc, step, milter_fail(ctx, cc, why));
}

static void
milter_addr_string(const struct sockaddr *sa, char *buf, size_t len)
{
	if (sa == NULL) {
		(void)snprintf(buf, len, "local");
		return;
	}
	switch (sa->sa_family) {
	case AF_INET:
		(void)inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    buf, (socklen_t)len);
		break;
	case AF_INET6:
		(void)inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    buf, (socklen_t)len);
		break;
	default:
		(void)snprintf(buf, len, "local");
	}
}

/* Opens the connection context: admission, config snapshot.  Called from
 * negotiate (the first step of a milter session) or, for an MTA that does
 * not negotiate, from connect.  Returns NULL with *rc set when refused. */
static struct connctx *
milter_conn_open(SMFICTX *ctx, sfsistat *rc)
{
	struct connctx *cc;
	struct conf *c;

	if ((cc = smfi_getpriv(ctx)) != NULL)
		return cc;
	if ((c = conf_current()) == NULL) {
		*rc = milter_fail(ctx, NULL, "no configuration loaded");
		return NULL;
	}
	if (!milter_admit(c->max_connections)) {
		log_warn("connection refused: %d connections open "
		    "(milter max_connections), or stopping",
		    c->max_connections);
		conf_unref(c);
		(void)smfi_setreply(ctx, "421", "4.3.2",
		    "Content filter busy, try again later");
		*rc = SMFIS_TEMPFAIL;
		return NULL;
	}
	if ((cc = calloc(1, sizeof *cc)) == NULL) {
		conf_unref(c);
		milter_leave();
		*rc = milter_fail(ctx, NULL, "out of memory");
		return NULL;
	}
	cc->conf = c;
	envelope_init(&cc->env);
	(void)smfi_setpriv(ctx, cc);
	return cc;
}

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/* Steps we never look at are switched off, when the MTA can; not
	 * DATA: without its round trip, Postfix sends the DATA macros on
	 * their own and its next write waits (Nagle) for our delayed ACK,
	 * about 40 ms a message over inet: (doc/performance.md).  The steps
	 * before DATA and between DATA and end of message go unanswered
	 * (MILTER_NR_STEPS): Postfix then holds them in its buffer and
	 * writes them with the next step it waits on, DATA or end of
	 * message, one write instead of one round trip each. */
	unsigned long want = SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC |
	    MILTER_NR_STEPS;
	struct connctx *cc;
	sfsistat rc = SMFIS_TEMPFAIL;

	(void)f2;
	(void)f3;
	if ((cc = milter_conn_open(ctx, &rc)) == NULL)
		return rc;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_QUARANTINE);
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	cc->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	cc->nr = *pf1 & MILTER_NR_STEPS;
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
	struct connctx *cc;
	sfsistat rc = SMFIS_TEMPFAIL;
	char addr[INET6_ADDRSTRLEN + 1];

	if ((cc = milter_conn_open(ctx, &rc)) == NULL)
		return rc;
	milter_addr_string(hostaddr, addr, sizeof addr);
	if (envelope_set(&cc->env.client_addr, addr) != 0 ||
	    envelope_set(&cc->env.client_name, hostname) != 0)
		return milter_answer(cc, SMFIP_NR_CONN,
		    milter_no_memory(ctx, cc));
	return milter_answer(cc, SMFIP_NR_CONN, SMFIS_CONTINUE);
}

static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL)
		return milter_fail(ctx, NULL, "helo without connection");
	if (envelope_set(&cc->env.helo, helo) != 0)
		return milter_answer(cc, SMFIP_NR_HELO,
		    milter_no_memory(ctx, cc));
	return milter_answer(cc, SMFIP_NR_HELO, SMFIS_CONTINUE);
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL)
		return milter_fail(ctx, NULL, "MAIL FROM without connection");
	milter_msg_free(cc);
	cc->msg_kept = SMFIS_CONTINUE;
	if (!milter_msg_begin()) {
		(void)smfi_setreply(ctx, "421", "4.3.2",
		    "Content filter restarting, try again later");
		return milter_answer(cc, SMFIP_NR_MAIL, SMFIS_TEMPFAIL);
	}
	if ((cc->msg = calloc(1, sizeof *cc->msg)) == NULL) {
		milter_msg_end();
		return milter_answer(cc, SMFIP_NR_MAIL,
		    milter_no_memory(ctx, cc));
	}
	cc->msg->start_ms = pipeline_now_ms();
	cc->msg->spool = spool_new(cc->conf->spool_memory_limit,
	    cc->conf->spool_dir);
	if (cc->msg->spool == NULL ||
	    envelope_set_addr(&cc->env.mail_from, argv[0]) != 0 ||
	    envelope_set(&cc->env.auth_user,
	    smfi_getsymval(ctx, "{auth_authen}")) != 0 ||
	    envelope_set(&cc->env.qid, smfi_getsymval(ctx, "i")) != 0)
		return milter_answer(cc, SMFIP_NR_MAIL,
		    milter_no_memory(ctx, cc));
	return milter_answer(cc, SMFIP_NR_MAIL, SMFIS_CONTINUE);
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL || cc->msg == NULL)
		return milter_no_message(ctx, cc, SMFIP_NR_RCPT,
		    "RCPT TO without MAIL FROM");
	if (envelope_add_rcpt(&cc->env, argv[0]) != 0)
		return milter_answer(cc, SMFIP_NR_RCPT,
		    milter_no_memory(ctx, cc));
	return milter_answer(cc, SMFIP_NR_RCPT, SMFIS_CONTINUE);
}

/* Appends to the spool; a failure is remembered and acted on at end of
 * message, so the rest of the transaction stays simple. */
static void
milter_spool(struct msgctx *m, const void *buf, size_t len)
{
	if (m->failed)
		return;
	if (spool_write(m->spool, buf, len, m->why, sizeof m->why) != 0)
		m->failed = true;
}

/* Keeps the value of a release or notice header for the check at end of
 * message. */
static void
milter_own_header(struct msgctx *m, const char *name, const char *value)
{
	char *dst;

	if (strcasecmp(name, TOKEN_RELEASE_HEADER) == 0) {
		dst = m->release;
		m->nrelease++;
	} else if (strcasecmp(name, TOKEN_NOTICE_HEADER) == 0) {
		dst = m->notice;
		m->nnotice++;
	} else
		return;
	/* Longer than any token: kept empty, so it cannot verify. */
	if (strlen(value) < TOKEN_MAX)
		(void)snprintf(dst, TOKEN_MAX, "%s", value);
	else
		dst[0] = '\0';
}

/* The first step the MTA waits on: a failure kept from the steps before
 * is answered here, before the message is sent.  Answering it at all is
 * what keeps the MTA's writes from waiting on delayed ACKs (see
 * mlfi_negotiate). */
static sfsistat
mlfi_data(SMFICTX *ctx)
{
	return milter_kept(smfi_getpriv(ctx));
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL || cc->msg == NULL)
		return milter_no_message(ctx, cc, SMFIP_NR_HDR,
		    "header without MAIL FROM");
	milter_own_header(cc->msg, name, value);
	milter_spool(cc->msg, name, strlen(name));
	/* Without SMFIP_HDR_LEADSPC the MTA ate the space after the colon;
	 * put the usual one back. */
	milter_spool(cc->msg, cc->leadspc ? ":" : ": ", cc->leadspc ? 1 : 2);
	milter_spool(cc->msg, value, strlen(value));
	milter_spool(cc->msg, "\r\n", 2);
	return milter_answer(cc, SMFIP_NR_HDR, SMFIS_CONTINUE);
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL || cc->msg == NULL)
		return milter_no_message(ctx, cc, SMFIP_NR_EOH,
		    "end of headers without MAIL FROM");
	milter_spool(cc->msg, "\r\n", 2);
	return milter_answer(cc, SMFIP_NR_EOH, SMFIS_CONTINUE);
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL || cc->msg == NULL)
		return milter_no_message(ctx, cc, SMFIP_NR_BODY,
		    "body without MAIL FROM");
	milter_spool(cc->msg, chunk, len);
	return milter_answer(cc, SMFIP_NR_BODY, SMFIS_CONTINUE);
}

/* "a; b; c" of the verdict's reasons, for logs and headers. */
static void
milter_reasons(const struct verdict *v, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < v->nreasons && o < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? "; " : "",
		    v->reasons[i]);

		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* "cn_mobile:3,payment_card:1" (counts only), or "-". */
static void
milter_detectors(const struct findings *f, char *buf, size_t len)
{
	size_t i, o = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < DET_COUNT && o < len; i++) {
		if (f->detector_values[i] == 0)
			continue;
		n = snprintf(buf + o, len - o, "%s%s:%zu", o ? "," : "",
		    detector_name((enum detector)i), f->detector_values[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	if (o == 0)
		(void)snprintf(buf, len, "-");
}

static void
milter_summary(const struct connctx *cc, const struct pipeline_result *r,
    const char *action)
{
	char from[256], client[256], reasons[512], dets[256];

	milter_reasons(&r->verdict, reasons, sizeof reasons);
	/* elapsed: since MAIL FROM, the client's pace included; scan:
	 * what custos itself spent at end of message. */
	milter_detectors(&r->findings, dets, sizeof dets);
	log_info("%s: client=%s[%s] from=<%s> rcpts=%zu (ext=%zu) size=%zu "
	    "action=%s%s%s incident=%s segments=%zu records=%zu "
	    "canaries=%zu detectors=%s list=%s reasons=\"%s\" "
	    "elapsed=%.1fms scan=%.2fms", milter_qid(cc),
	    log_safe(cc->env.client_name, client, sizeof client),
	    cc->env.client_addr ? cc->env.client_addr : "?",
	    log_safe(cc->env.mail_from, from, sizeof from),
	    cc->env.nrcpt, r->outcome.rcpt_count[RCPT_PARTNER] +
	    r->outcome.rcpt_count[RCPT_EXTERNAL], r->size, action,
	    r->outcome.monitored ? " would=" : "",
	    r->outcome.monitored ? action_name(r->outcome.would) : "",
	    r->verdict.incident,
	    r->text != NULL ? r->text->nseg : 0,
	    findings_records(&r->findings), r->findings.canaries, dets,
	    r->findings.list_version[0] ? r->findings.list_version : "-",
	    reasons, pipeline_now_ms() - cc->msg->start_ms, r->elapsed_ms);
}

/* X-Custos: the verdict, incident id, counts and rule names; never a
 * value. */
static int
milter_tag(SMFICTX *ctx, struct connctx *cc, const struct pipeline_result *r)
{
	GString *h = g_string_new(cc->leadspc ? " " : "");
	size_t i;
	int rc;

	/* With SMFIP_HDR_LEADSPC negotiated the MTA adds no space after
	 * the colon: we do. */
	g_string_append_printf(h, "%s; incident=%s; records=%zu",
	    action_name(r->verdict.action), r->verdict.incident,
	    findings_records(&r->findings));
	for (i = 0; i < r->outcome.nmatched; i++)
		g_string_append_printf(h, "%s%s", i ? "," : "; rules=",
		    cc->conf->policy.rules[r->outcome.matched[i]].name);
	g_string_append_printf(h, "; node=%s; version=%s", cc->conf->node,
	    CUSTOS_VERSION);
	rc = smfi_addheader(ctx, "X-Custos", h->str);
	g_string_free(h, TRUE);
	return rc == MI_SUCCESS ? 0 : -1;
}

/* The reject reply: the explanation template, or a plain line. */
static void
milter_reject_reply(SMFICTX *ctx, struct connctx *cc,
    const struct pipeline_result *r)
{
	char *l[TEMPLATE_MAX_LINES + 1], **lines = NULL, err[256], one[256];
	int n, i;

	n = explain_lines(cc->conf, r, &lines, err, sizeof err);
	if (n < 0)
		log_warn("%s: explanation: %s", milter_qid(cc), err);
	if (n <= 0) {
		(void)snprintf(one, sizeof one, "Message refused by the "
		    "data-loss filter, incident %s", r->verdict.incident);
		(void)smfi_setreply(ctx, "550", "5.7.1", one);
		return;
	}
	/* smfi_setmlreply stops at the first NULL line. */
	for (i = 0; i <= TEMPLATE_MAX_LINES; i++)
		l[i] = i < n ? lines[i] : NULL;
	if (smfi_setmlreply(ctx, "550", "5.7.1", l[0], l[1], l[2], l[3],
	    l[4], l[5], l[6], l[7], l[8], l[9], l[10], l[11], l[12], l[13],
	    l[14], l[15], l[16], l[17], l[18], l[19], l[20], l[21], l[22],
	    l[23], l[24], l[25], l[26], l[27], l[28], l[29], l[30], l[31],
	    (char *)NULL) != MI_SUCCESS) {
		(void)snprintf(one, sizeof one, "Message refused by the "
		    "data-loss filter, incident %s", r->verdict.incident);
		(void)smfi_setreply(ctx, "550", "5.7.1", one);
	}
	explain_free(lines, n);
}

static void
milter_audit_entry(struct connctx *cc, const struct pipeline_result *r,
    struct audit_entry *ae)
{
	memset(ae, 0, sizeof *ae);
	ae->when = 0;	/* now, with milliseconds */
	ae->conf = cc->conf;
	ae->env = &cc->env;
	ae->result = r;
	ae->outcome = &r->outcome;
	ae->store_error = r->store_error;
	ae->elapsed_ms = pipeline_now_ms() - cc->msg->start_ms;
}

/* What the quarantine store keeps about a decision: what the audit log
 * holds (recipients as domains), and the body digest release tokens are
 * made over.  The strings are m's own (qmeta_clear). */
static void
milter_qmeta(struct connctx *cc, const struct pipeline_result *r,
    enum qstatus status, const char *raw, size_t len, struct qmeta *m)
{
	struct audit_entry ae;
	GString *rcpts = g_string_new(NULL), *rules = g_string_new(NULL);
	size_t i;

	memset(m, 0, sizeof *m);
	(void)snprintf(m->id, sizeof m->id, "%s", r->verdict.incident);
	m->when = time(NULL);
	m->status = status;
	m->node = g_strdup(cc->conf->node);
	m->queue_id = g_strdup(cc->env.qid != NULL ? cc->env.qid : "");
	m->sender = g_strdup(r->outcome.sender != NULL ? r->outcome.sender :
	    "");
	for (i = 0; i < cc->env.nrcpt; i++) {
		const char *at = strrchr(cc->env.rcpt[i], '@');
		char *dom = g_ascii_strdown(at != NULL ? at + 1 :
		    cc->env.rcpt[i], -1);
		char *seen = g_strdup_printf(",%s,", rcpts->str);
		char *want = g_strdup_printf(",%s,", dom);

		/* Domains only, once each, as the audit log has them. */
		if (strstr(seen, want) == NULL)
			g_string_append_printf(rcpts, "%s%s",
			    rcpts->len ? "," : "", dom);
		g_free(seen);
		g_free(want);
		g_free(dom);
	}
	for (i = 0; i < r->outcome.nmatched; i++)
		g_string_append_printf(rules, "%s%s", i ? "," : "",
		    cc->conf->policy.rules[r->outcome.matched[i]].name);
	m->recipients = g_string_free(rcpts, FALSE);
	m->rules = g_string_free(rules, FALSE);
	m->action = g_strdup(action_name(r->verdict.action));
	m->records = findings_records(&r->findings);
	m->size = len;
	token_body_digest(raw, len, m->body_digest);
	milter_audit_entry(cc, r, &ae);
	m->audit = audit_json(&ae, NULL);
}

/* Stores the message, sealed with its envelope, in the quarantine.
 * 0 only once the store says it is durable. */
static int
milter_quarantine_store(struct connctx *cc, const struct pipeline_result *r,
    const char *raw, size_t len, char *err, size_t errlen)
{
	struct qmeta m;
	GByteArray *blob;
	char *env;
	size_t elen;
	int rc;

	if (cc->conf->qstore == NULL) {
		(void)snprintf(err, errlen, "no quarantine store open");
		return -1;
	}
	milter_qmeta(cc, r, QSTATUS_QUARANTINED, raw, len, &m);
	env = envelope_seal_header(&cc->env, &elen);
	blob = g_byte_array_sized_new((guint)(elen + len));
	g_byte_array_append(blob, (const guint8 *)env, (guint)elen);
	g_byte_array_append(blob, (const guint8 *)raw, (guint)len);
	rc = qstore_put(cc->conf->qstore, &m, blob->data, blob->len, err,
	    errlen);
	g_byte_array_unref(blob);
	g_free(env);
	qmeta_clear(&m);
	return rc;
}

/* A held message stays in Postfix's hold queue; the store gets its
 * metadata so officers list and release it like the others.  Losing
 * that entry loses no mail: logged only. */
static void
milter_hold_record(struct connctx *cc, const struct pipeline_result *r,
    const char *raw, size_t len)
{
	struct qmeta m;
	char err[256];

	if (cc->conf->qstore == NULL)
		return;
	milter_qmeta(cc, r, QSTATUS_HELD, raw, len, &m);
	if (qstore_put(cc->conf->qstore, &m, NULL, 0, err, sizeof err) != 0)
		log_err("%s: held, but not recorded in the quarantine store "
		    "(%s): release it with postsuper -H", milter_qid(cc), err);
	qmeta_clear(&m);
}

/* Turns a verdict into what the MTA is told: the one place, like
 * OpenDKIM's dkimf_libstatus. */
static sfsistat
milter_act(SMFICTX *ctx, struct connctx *cc, const struct pipeline_result *r,
    const char *raw, size_t len)
{
	const struct verdict *v = &r->verdict;
	char why[512], reasons[256], id[INCIDENT_ID_SIZE + 1], err[256];

	milter_reasons(v, reasons, sizeof reasons);
	switch (v->action) {
	case ACTION_PASS:
		if (cc->conf->add_header && milter_tag(ctx, cc, r) != 0)
			return milter_fail(ctx, cc, "cannot add header");
		return SMFIS_ACCEPT;
	case ACTION_TAG:
		if (milter_tag(ctx, cc, r) != 0)
			return milter_fail(ctx, cc, "cannot add header");
		return SMFIS_ACCEPT;
	case ACTION_HOLD:
		(void)snprintf(why, sizeof why, "custos %s incident %s: %s",
		    action_name(v->action), v->incident, reasons);
		(void)snprintf(id, sizeof id, "%s%s", cc->leadspc ? " " : "",
		    v->incident);
		if (milter_tag(ctx, cc, r) != 0 ||
		    smfi_addheader(ctx, "X-Custos-Incident", id) != MI_SUCCESS ||
		    smfi_quarantine(ctx, why) != MI_SUCCESS)
			return milter_fail(ctx, cc, "cannot hold message");
		milter_hold_record(cc, r, raw, len);
		return SMFIS_ACCEPT;
	case ACTION_QUARANTINE:
		/* Discarded only once stored: a store that fails defers the
		 * message, never drops it. */
		if (milter_quarantine_store(cc, r, raw, len, err,
		    sizeof err) != 0) {
			/* Whatever on_error says: accepting would leak what
			 * the policy stops, rejecting would lose it. */
			log_err("%s: quarantine store: %s; deferring",
			    milter_qid(cc), err);
			(void)smfi_setreply(ctx, "451", "4.3.0", "Quarantine "
			    "unavailable, try again later");
			return SMFIS_TEMPFAIL;
		}
		return SMFIS_DISCARD;
	case ACTION_REJECT:
		milter_reject_reply(ctx, cc, r);
		return SMFIS_REJECT;
	case ACTION_TEMPFAIL:
	default:
		(void)smfi_setreply(ctx, "451", "4.7.1",
		    "Message deferred by the content filter, try again later");
		return SMFIS_TEMPFAIL;
	}
}

/* The decision goes to the SOC counters, the incident stream and the
 * audit log.  Failures are logged, never a reason to hold mail back. */
static void
milter_record(struct connctx *cc, const struct pipeline_result *r,
    const char *enforced)
{
	const struct finding_record **recs;
	struct store_record *ids;
	struct timespec now;
	const char *rules[64];
	struct store_event ev;
	struct audit_entry ae;
	char err[256];
	size_t i, n;

	/* One clock reading: the audit line and the incident stream say
	 * the same second, so reports from either agree. */
	(void)clock_gettime(CLOCK_REALTIME, &now);
	memset(&ev, 0, sizeof ev);
	ev.when = now.tv_sec;
	ev.node = cc->conf->node;
	ev.sender = r->outcome.sender != NULL ? r->outcome.sender : "";
	ev.incident = r->verdict.action != ACTION_PASS ||
	    r->outcome.monitored ? r->verdict.incident : NULL;
	ev.action = enforced;
	ev.monitor = r->outcome.monitored;
	ev.would = action_name(r->outcome.would);
	ev.bytes = r->size;
	ev.records = findings_records(&r->findings);
	for (i = 0; i < r->outcome.nmatched && i < 64; i++)
		rules[i] = cc->conf->policy.rules[r->outcome.matched[i]].name;
	ev.rules = rules;
	ev.nrules = i;
	ev.detectors = r->findings.detector_values;
	ev.store_error = r->store_error;
	/* Record ids (never values) in the order the audit log has them,
	 * so both keep the same first ones when a message carries more
	 * than they keep. */
	recs = findings_sorted(&r->findings, &n);
	ids = g_new0(struct store_record, n + 1);
	for (i = 0; i < n; i++) {
		ids[i].list = conf_list_name(cc->conf, recs[i]->list);
		ids[i].id = recs[i]->id;
		ids[i].canary = recs[i]->canary;
	}
	ev.mail_from = cc->env.mail_from;
	ev.record_ids = ids;
	ev.nrecord_ids = n;
	if (cc->conf->history != NULL &&
	    store_account(cc->conf->history, &ev, err, sizeof err) != 0)
		log_debug("%s: stats not recorded: %s", milter_qid(cc), err);
	g_free(ids);
	g_free(recs);

	milter_audit_entry(cc, r, &ae);
	ae.when = now.tv_sec;
	ae.when_ms = (int)(now.tv_nsec / 1000000);
	if (audit_write(&ae, err, sizeof err) != 0)
		log_err("%s: audit log: %s", milter_qid(cc), err);
}

/* An officer's action or custos' own event, for the audit log. */
static void
milter_audit_event(struct connctx *cc, const char *event,
    const char *incident, bool ok, const char *error)
{
	struct audit_officer ev;
	char err[256];

	memset(&ev, 0, sizeof ev);
	ev.event = event;
	ev.incident = incident;
	ev.officer = "custos-milter";
	ev.node = cc->conf->node;
	ev.detail = cc->env.qid;
	ev.ok = ok;
	ev.error = error;
	if (audit_write_officer(&ev, err, sizeof err) != 0)
		log_err("%s: audit log: %s", milter_qid(cc), err);
	if (cc->conf->history != NULL) {
		struct store_officer_event se;

		memset(&se, 0, sizeof se);
		se.event = ev.event;
		se.incident = ev.incident;
		se.officer = ev.officer;
		se.node = ev.node;
		se.detail = ev.detail;
		se.ok = ev.ok;
		se.error = ev.error;
		if (store_officer(cc->conf->history, &se, err,
		    sizeof err) != 0)
			log_warn("%s: incident stream: %s", milter_qid(cc),
			    err);
	}
}

/* custos' own mail: a notice it sent, or a message an officer released.
 * A valid notice token passes; a valid release token passes once (the
 * store marks it used, across nodes).  Anything else, a forged, copied,
 * replayed or doubled header, is scanned like any message.  Returns
 * true with *rc set when the message was dealt with here. */
static bool
milter_own_mail(SMFICTX *ctx, struct connctx *cc, const char *raw,
    size_t len, sfsistat *rc)
{
	const struct msgctx *m = cc->msg;
	const struct qkey *k = cc->conf->qkey;
	unsigned char digest[TOKEN_DIGEST_BYTES];
	char incident[INCIDENT_ID_SIZE], err[256], why[320];

	if (m->nrelease == 0 && m->nnotice == 0)
		return false;
	if (k == NULL || cc->conf->qstore == NULL) {
		log_info("%s: custos token header, but no quarantine key in "
		    "this configuration: scanning", milter_qid(cc));
		return false;
	}
	token_body_digest(raw, len, digest);
	if (m->nnotice == 1 && m->nrelease == 0 &&
	    token_notice_check(k, m->notice, digest) == 1) {
		log_info("%s: custos notice: passed unscanned",
		    milter_qid(cc));
		*rc = SMFIS_ACCEPT;
		return true;
	}
	if (m->nrelease == 1 && m->nnotice == 0 &&
	    token_release_check(k, m->release, digest, incident) == 1) {
		switch (qstore_claim(cc->conf->qstore, incident, err,
		    sizeof err)) {
		case 1:
			log_info("%s: release of incident %s: passed "
			    "unscanned", milter_qid(cc), incident);
			milter_audit_event(cc, "release-delivered", incident,
			    true, NULL);
			*rc = SMFIS_ACCEPT;
			return true;
		case 0:
			log_warn("%s: release token of incident %s was used "
			    "before (or the entry is gone): scanning",
			    milter_qid(cc), incident);
			milter_audit_event(cc, "release-refused", incident,
			    false, "token used before, or no such entry");
			return false;
		default:
			/* Not knowing whether it was used: neither pass it
			 * unscanned nor stop it for good. */
			(void)snprintf(why, sizeof why, "release of incident "
			    "%s: %s", incident, err);
			*rc = milter_fail(ctx, cc, why);
			return true;
		}
	}
	log_warn("%s: custos token header that does not verify: scanning",
	    milter_qid(cc));
	return false;
}

/* Whether the MTA was told what the verdict asked: notices describe
 * what happened, not what was meant to. */
static bool
milter_enforced(const struct pipeline_result *r, sfsistat rc)
{
	switch (r->verdict.action) {
	case ACTION_HOLD:	return rc == SMFIS_ACCEPT;
	case ACTION_QUARANTINE:	return rc == SMFIS_DISCARD;
	case ACTION_REJECT:	return rc == SMFIS_REJECT;
	default:		return false;
	}
}

/* Waits for a scan slot, at most milter.timeout (which mirrors the
 * MTA's end-of-message timeout, Postfix's milter_content_timeout, 300 s)
 * less twice limits.scan_time: the MIME walk's bound, and as much again
 * for scanning, policy and acting.  260 s with the defaults.  An answer
 * after the MTA gave up is worth nothing; a tempfail in time is a retry.
 * Returns false with *rc set when no slot freed in time. */
static bool
milter_gate_enter(SMFICTX *ctx, struct connctx *cc, sfsistat *rc)
{
	int wait = cc->conf->milter_timeout -
	    2 * (int)cc->conf->limits.max_seconds;
	double t0 = pipeline_now_ms(), waited;
	char why[128];

	if (wait < 1)
		wait = 1;
	/* Made by the worker's start; one slot if nothing sized it. */
	(void)pthread_once(&milter_gate_once, milter_gate_init);
	if (scangate_enter(milter_gate, wait * 1000) != 0) {
		(void)snprintf(why, sizeof why, "no scan slot free within "
		    "%d s (milter max_scans = %d)", wait,
		    scangate_slots(milter_gate));
		*rc = milter_fail(ctx, cc, why);
		return false;
	}
	/* A queue of messages is normal in a burst; one that waits for
	 * seconds says max_scans or the hardware is short for the load. */
	if ((waited = pipeline_now_ms() - t0) >= 1000)
		log_info("%s: waited %.1f s for a scan slot (milter "
		    "max_scans = %d)", milter_qid(cc), waited / 1000,
		    scangate_slots(milter_gate));
	return true;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct connctx *cc = smfi_getpriv(ctx);
	struct pipeline_result r;
	GMimeStream *stream = NULL;
	const char *raw, *action;
	size_t len;
	char err[256];
	bool slot = false;
	sfsistat rc;

	/* Kept from a step the MTA did not wait on, when it skipped DATA. */
	if ((rc = milter_kept(cc)) != SMFIS_CONTINUE) {
		milter_msg_free(cc);
		return rc;
	}
	if (cc == NULL || cc->msg == NULL)
		return milter_fail(ctx, cc, "end of message without MAIL FROM");
	pipeline_result_init(&r);
	/* Postfix knows the queue id for sure only now. */
	if (envelope_set(&cc->env.qid, smfi_getsymval(ctx, "i")) != 0) {
		rc = milter_no_memory(ctx, cc);
		goto out;
	}
	if (cc->msg->failed) {
		rc = milter_fail(ctx, cc, cc->msg->why);
		goto out;
	}
	if (!(slot = milter_gate_enter(ctx, cc, &rc)))
		goto out;
	if ((stream = spool_stream(cc->msg->spool, &raw, &len, err,
	    sizeof err)) == NULL) {
		rc = milter_fail(ctx, cc, err);
		goto out;
	}
	if (milter_own_mail(ctx, cc, raw, len, &rc))
		goto out;
	if (pipeline_run(cc->conf, stream, raw, len, &cc->env, true, &r, err,
	    sizeof err) != 0) {
		rc = milter_fail(ctx, cc, err);
		goto out;
	}
	if (r.store_error)
		log_warn("%s: sender history unavailable (%s); on_store_error "
		    "= %s", milter_qid(cc), r.store_why,
		    cc->conf->store_error_tempfail ? "tempfail" : "continue");
	if (r.outcome.exemption != NULL)
		log_info("%s: exemption \"%s\" applied", milter_qid(cc),
		    r.outcome.exemption);
	rc = milter_act(ctx, cc, &r, raw, len);
	action = rc == SMFIS_ACCEPT ? action_name(r.verdict.action) :
	    rc == SMFIS_DISCARD ? "quarantine" : rc == SMFIS_REJECT ?
	    "reject" : rc == SMFIS_TEMPFAIL ? "tempfail" : "?";
	milter_record(cc, &r, action);
	milter_summary(cc, &r, action);
	if (milter_enforced(&r, rc) && notice_submit(milter_notifier,
	    cc->conf, &r, &cc->env, err, sizeof err) != 0)
		log_warn("%s: notice not queued: %s", milter_qid(cc), err);
out:
	if (stream != NULL)
		g_object_unref(stream);
	pipeline_result_clear(&r);
	milter_msg_free(cc);
	/* Last: the slot stands for the scan's memory, all freed above. */
	if (slot)
		scangate_leave(milter_gate);
	return rc;
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	milter_msg_free(smfi_getpriv(ctx));
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL)
		return SMFIS_CONTINUE;
	milter_msg_free(cc);
	envelope_clear(&cc->env);
	conf_unref(cc->conf);
	free(cc);
	(void)smfi_setpriv(ctx, NULL);
	milter_leave();
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
	.xxfi_name = "custos",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = mlfi_connect,
	.xxfi_helo = mlfi_helo,
	.xxfi_envfrom = mlfi_envfrom,
	.xxfi_envrcpt = mlfi_envrcpt,
	.xxfi_header = mlfi_header,
	.xxfi_eoh = mlfi_eoh,
	.xxfi_body = mlfi_body,
	.xxfi_eom = mlfi_eom,
	.xxfi_abort = mlfi_abort,
	.xxfi_close = mlfi_close,
	.xxfi_negotiate = mlfi_negotiate,
	.xxfi_data = mlfi_data,
};
