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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "audit.h"
#include "conf.h"
#include "envelope.h"
#include "explain.h"
#include "store.h"
#include "template.h"
#include "log.h"
#include "milter.h"
#include "pipeline.h"
#include "spool.h"
#include "version.h"

struct msgctx {
	struct spool	*spool;
	double		 start_ms;
	bool		 failed;	/* spooling failed: on_error at eom */
	char		 why[256];	/* what failed */
};

struct connctx {
	struct conf	*conf;		/* snapshot for this connection */
	struct envelope	 env;
	struct msgctx	*msg;
	bool		 leadspc;	/* MTA keeps header leading space */
};

/* Connections open (bounded by max_connections), messages in flight, and
 * whether we are draining for a stop: all under one lock. */
static pthread_mutex_t	active_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	active_cond = PTHREAD_COND_INITIALIZER;
static int		active;
static int		in_flight;
static bool		draining;

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
	/* Steps we never look at are switched off, when the MTA can. */
	unsigned long want = SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_HDR_LEADSPC;
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
		return milter_no_memory(ctx, cc);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL)
		return milter_fail(ctx, NULL, "helo without connection");
	if (envelope_set(&cc->env.helo, helo) != 0)
		return milter_no_memory(ctx, cc);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL)
		return milter_fail(ctx, NULL, "MAIL FROM without connection");
	milter_msg_free(cc);
	if (!milter_msg_begin()) {
		(void)smfi_setreply(ctx, "421", "4.3.2",
		    "Content filter restarting, try again later");
		return SMFIS_TEMPFAIL;
	}
	if ((cc->msg = calloc(1, sizeof *cc->msg)) == NULL) {
		milter_msg_end();
		return milter_no_memory(ctx, cc);
	}
	cc->msg->start_ms = pipeline_now_ms();
	cc->msg->spool = spool_new(cc->conf->spool_memory_limit,
	    cc->conf->spool_dir);
	if (cc->msg->spool == NULL ||
	    envelope_set_addr(&cc->env.mail_from, argv[0]) != 0 ||
	    envelope_set(&cc->env.auth_user,
	    smfi_getsymval(ctx, "{auth_authen}")) != 0 ||
	    envelope_set(&cc->env.qid, smfi_getsymval(ctx, "i")) != 0)
		return milter_no_memory(ctx, cc);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL || cc->msg == NULL)
		return milter_fail(ctx, cc, "RCPT TO without MAIL FROM");
	if (envelope_add_rcpt(&cc->env, argv[0]) != 0)
		return milter_no_memory(ctx, cc);
	return SMFIS_CONTINUE;
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

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL || cc->msg == NULL)
		return milter_fail(ctx, cc, "header without MAIL FROM");
	milter_spool(cc->msg, name, strlen(name));
	/* Without SMFIP_HDR_LEADSPC the MTA ate the space after the colon;
	 * put the usual one back. */
	milter_spool(cc->msg, cc->leadspc ? ":" : ": ", cc->leadspc ? 1 : 2);
	milter_spool(cc->msg, value, strlen(value));
	milter_spool(cc->msg, "\r\n", 2);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL || cc->msg == NULL)
		return milter_fail(ctx, cc, "end of headers without MAIL FROM");
	milter_spool(cc->msg, "\r\n", 2);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct connctx *cc = smfi_getpriv(ctx);

	if (cc == NULL || cc->msg == NULL)
		return milter_fail(ctx, cc, "body without MAIL FROM");
	milter_spool(cc->msg, chunk, len);
	return SMFIS_CONTINUE;
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

/* Turns a verdict into what the MTA is told: the one place, like
 * OpenDKIM's dkimf_libstatus. */
static sfsistat
milter_act(SMFICTX *ctx, struct connctx *cc, const struct pipeline_result *r)
{
	const struct verdict *v = &r->verdict;
	char why[512], reasons[256], id[INCIDENT_ID_SIZE + 1];

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
	case ACTION_QUARANTINE:
		/* XXX quarantine behaves as hold until the quarantine store
		 * exists: the message waits in Postfix's hold queue. */
		(void)snprintf(why, sizeof why, "custos %s incident %s: %s",
		    action_name(v->action), v->incident, reasons);
		(void)snprintf(id, sizeof id, "%s%s", cc->leadspc ? " " : "",
		    v->incident);
		if (milter_tag(ctx, cc, r) != 0 ||
		    smfi_addheader(ctx, "X-Custos-Incident", id) != MI_SUCCESS ||
		    smfi_quarantine(ctx, why) != MI_SUCCESS)
			return milter_fail(ctx, cc, "cannot hold message");
		return SMFIS_ACCEPT;
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
	const char *rules[64];
	struct store_event ev;
	struct audit_entry ae;
	char err[256];
	size_t i;

	memset(&ev, 0, sizeof ev);
	ev.when = time(NULL);
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
	if (cc->conf->history != NULL &&
	    store_account(cc->conf->history, &ev, err, sizeof err) != 0)
		log_debug("%s: stats not recorded: %s", milter_qid(cc), err);

	memset(&ae, 0, sizeof ae);
	ae.when = 0;	/* now, with milliseconds */
	ae.conf = cc->conf;
	ae.env = &cc->env;
	ae.result = r;
	ae.outcome = &r->outcome;
	ae.store_error = r->store_error;
	ae.elapsed_ms = pipeline_now_ms() - cc->msg->start_ms;
	if (audit_write(&ae, err, sizeof err) != 0)
		log_err("%s: audit log: %s", milter_qid(cc), err);
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
	sfsistat rc;

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
	if ((stream = spool_stream(cc->msg->spool, &raw, &len, err,
	    sizeof err)) == NULL ||
	    pipeline_run(cc->conf, stream, raw, len, &cc->env, true, &r, err,
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
	rc = milter_act(ctx, cc, &r);
	action = rc == SMFIS_ACCEPT ? action_name(r.verdict.action) :
	    rc == SMFIS_REJECT ? "reject" : rc == SMFIS_TEMPFAIL ?
	    "tempfail" : "?";
	milter_record(cc, &r, action);
	milter_summary(cc, &r, action);
out:
	if (stream != NULL)
		g_object_unref(stream);
	pipeline_result_clear(&r);
	milter_msg_free(cc);
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
};
