/* custos-milter.c - the daemon: options, config, socket, privileges,
 * supervisor and worker, smfi_main.
 *
 * Order matters, as in Postfix's pre_init/post_init: read and check the
 * config, open the socket as root, then drop privileges, then fork the
 * worker that serves connections.  Startup failures log and exit with a
 * sysexits.h code; after that nothing here exits on its own. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include <glib.h>
#include <libmilter/mfapi.h>

#include "audit.h"
#include "conf.h"
#include "daemon.h"
#include "engine.h"
#include "extract/xcache.h"
#include "log.h"
#include "message.h"
#include "milter.h"
#include "notice.h"
#include "notify.h"
#include "version.h"

struct options {
	const char	*config;
	const char	*socket;	/* -p overrides the config */
	const char	*user;		/* -u overrides the config */
	const char	*pidfile;	/* -P overrides the config */
	bool		 foreground;
	bool		 check;
	bool		 verbose;
};

static struct options	opt;
static struct notifier	*notifier;	/* the worker's, once started */

static void
usage(FILE *fp)
{
	(void)fprintf(fp,
"usage: custos-milter [-ftv] [-c config] [-p socket] [-u user[:group]]\n"
"                     [-P pidfile]\n"
"  -c config   configuration file (default " CONF_DEFAULT_PATH ")\n"
"  -f          stay in the foreground and log to stderr\n"
"  -t          check the configuration and exit (0 = good)\n"
"  -p socket   listen on unix:/path or inet:PORT@ADDRESS\n"
"  -u user     run as this user (and group) after opening the socket\n"
"  -P pidfile  write the supervisor's pid here\n"
"  -v          log at debug level\n"
"  --version   print the version and exit\n"
"  --help      print this help and exit\n"
"Signals to the pid in the pid file: HUP reloads the configuration,\n"
"TERM stops after the messages in flight.\n");
}

static void
parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	opt.config = CONF_DEFAULT_PATH;
	while ((c = getopt_long(argc, argv, "c:fhtp:u:P:vV", longopts,
	    NULL)) != -1)
		switch (c) {
		case 'c': opt.config = optarg; break;
		case 'f': opt.foreground = true; break;
		case 't': opt.check = true; break;
		case 'p': opt.socket = optarg; break;
		case 'u': opt.user = optarg; break;
		case 'P': opt.pidfile = optarg; break;
		case 'v': opt.verbose = true; break;
		case 'V':
			(void)printf("custos-milter %s\n", CUSTOS_VERSION);
			exit(EX_OK);
		case 'h':
			usage(stdout);
			exit(EX_OK);
		default:
			usage(stderr);
			exit(EX_USAGE);
		}
	if (optind != argc) {
		usage(stderr);
		exit(EX_USAGE);
	}
}

/* A config snapshot with its engine, and the quarantine store and key
 * when a rule can stop mail.  create: make the key and the store's
 * directory when missing (at start, not for -t). */
static struct conf *
load_snapshot(bool create, char *err, size_t errlen)
{
	struct conf *c;

	if ((c = conf_load_all(opt.config, err, errlen)) == NULL)
		return NULL;
	/* -t before the first start: the key does not exist yet, and the
	 * start will make it. */
	if (!create && access(c->quarantine.key_file, F_OK) != 0)
		return c;
	if (conf_stops_mail(c) &&
	    conf_open_quarantine(c, create, err, errlen) != 0) {
		conf_unref(c);
		return NULL;
	}
	return c;
}

/* The key and the store's directory, made by root at start, belong to
 * the user the worker runs as: it reads the key again at each reload
 * and writes the store. */
static void
quarantine_owner(const struct conf *c, uid_t uid, gid_t gid)
{
	if (c->qstore == NULL)
		return;
	if (chown(c->quarantine.key_file, uid, gid) != 0)
		log_warn("chown %s: %s", c->quarantine.key_file,
		    strerror(errno));
	if (chown(c->quarantine.store.dir, uid, gid) != 0)
		log_warn("chown %s: %s", c->quarantine.store.dir,
		    strerror(errno));
}

/* The notifier's settings from a snapshot; false (logged) when they
 * cannot be used. */
static bool
notifier_conf(const struct conf *c, struct notify_conf *nc)
{
	char err[256];

	if (notice_notify_conf(c, nc, err, sizeof err) != 0) {
		log_err("notices: %s", err);
		return false;
	}
	return true;
}

/* Drains the messages in flight, then lets libmilter stop (SIGTERM to
 * ourselves: its signal thread takes it). */
static void
worker_stop(void)
{
	struct conf *c = conf_current();
	int drain = c != NULL ? c->drain_timeout : 60, left;

	conf_unref(c);
	if (milter_in_flight() > 0)
		log_info("waiting up to %ds for %d messages in flight", drain,
		    milter_in_flight());
	if ((left = milter_drain(drain)) > 0) {
		/* Not accepted by us: the MTA applies milter_default_action
		 * (tempfail) and the client retries.  Delayed, not lost. */
		log_warn("stopping with %d messages still in flight", left);
	}
	(void)kill(getpid(), SIGTERM);
}

/* How much the attachment caches of snapshot c saved (limits {
 * extract_cache }): said when it is replaced and at stop, so that an
 * admin can size them. */
static void
log_caches(const struct conf *c)
{
	struct xcache_stats xs;
	struct blobcache_stats ss;

	if (c == NULL || c->limits.cache == NULL)
		return;
	xcache_get_stats(c->limits.cache, &xs);
	engine_kept_scans(c->engine, &ss);
	log_info("attachment cache: %llu files read, %llu read again from "
	    "memory, %zu kept (%zu KB, %llu dropped); scans of their texts "
	    "played back %llu times, %zu kept (%zu KB)",
	    (unsigned long long)xs.misses, (unsigned long long)xs.hits,
	    xs.entries, xs.bytes / 1024, (unsigned long long)xs.evicted,
	    (unsigned long long)ss.hits, ss.entries, ss.bytes / 1024);
}

/* The worker's control thread.  SIGUSR1 (the supervisor's relay of HUP):
 * install a new config snapshot, or keep the running one when the new
 * config fails.  SIGUSR2 (the supervisor's relay of TERM): stop. */
static void *
control_thread(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGUSR1);
	(void)sigaddset(&set, SIGUSR2);
	for (;;) {
		struct conf *c, *old;
		char err[512];

		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR2) {
			worker_stop();
			return NULL;
		}
		if ((c = load_snapshot(true, err, sizeof err)) == NULL) {
			log_err("reload failed, keeping the running "
			    "configuration: %s", err);
			continue;
		}
		old = conf_current();
		if (old != NULL && (strcmp(old->socket, c->socket) != 0 ||
		    strcmp(old->user, c->user) != 0))
			log_warn("reload: socket and user changes take "
			    "effect at the next restart");
		log_caches(old);
		conf_unref(old);
		if (!opt.verbose)
			log_set_level(c->log_level);
		/* Opened again even when the path is the same: this is how
		 * logrotate's new file is picked up. */
		if (audit_open(c->audit_log, err, sizeof err) != 0)
			log_err("audit log: %s", err);
		if (notifier != NULL) {
			struct notify_conf nc;

			if (notifier_conf(c, &nc)) {
				if (notify_configure(notifier, &nc, err,
				    sizeof err) != 0)
					log_err("notices: %s", err);
				g_free(nc.relay.host);
			}
		}
		milter_set_max_scans(c->max_scans);
		conf_replace(c);
		log_info("configuration reloaded from %s", opt.config);
	}
	return NULL;
}

/* The worker process: serve connections until told to stop, then let
 * the messages in flight finish. */
static int
worker_main(void *arg)
{
	struct notify_conf nc;
	struct conf *c;
	pthread_t tid;
	char err[256];
	int rc = EX_OK;

	(void)arg;
	/* Threads belong to this process: the supervisor forked it. */
	c = conf_current();
	if (c != NULL)
		milter_set_max_scans(c->max_scans);
	if (c != NULL && notifier_conf(c, &nc)) {
		if ((notifier = notify_start(&nc, err, sizeof err)) == NULL)
			log_err("notices: %s", err);
		g_free(nc.relay.host);
	}
	conf_unref(c);
	milter_set_notifier(notifier);
	if (pthread_create(&tid, NULL, control_thread, NULL) != 0) {
		log_err("cannot start the control thread");
		return EX_OSERR;
	}
	(void)pthread_detach(tid);
	log_info("custos-milter %s serving (pid %ld)", CUSTOS_VERSION,
	    (long)getpid());
	if (smfi_main() != MI_SUCCESS) {
		log_err("libmilter stopped with an error");
		rc = EX_SOFTWARE;
	}
	/* Digests still waiting go out now, briefly: notices are best
	 * effort, the incidents are in the audit log. */
	notifier = notify_stop(notifier, 10);
	c = conf_current();
	log_caches(c);
	conf_unref(c);
	if (rc == EX_OK)
		log_info("stopped");
	return rc;
}

/* libmilter never sets TCP_NODELAY, and writes a reply a packet; when
 * end of message is answered with two (a header, then accept), the
 * second waits for the MTA's delayed ACK, about 40 ms over inet:.
 * Accepted sockets inherit TCP_NODELAY from the listening socket on
 * Linux, and libmilter does not give us its descriptor: find it. */
static void
socket_nodelay(void)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, on, one = 1;

	for (fd = 0; fd < 1024; fd++) {
		sl = sizeof on;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &sl) != 0 ||
		    !on)
			continue;
		sl = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof one) != 0)
			log_warn("TCP_NODELAY on the milter socket: %s",
			    strerror(errno));
	}
}

/* libmilter creates a unix socket with our umask; Postfix's user must be
 * able to connect, and nobody else. */
static void
socket_permissions(const char *spec, uid_t uid, gid_t gid, bool chown_it)
{
	const char *path = NULL;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0)
		path = strchr(spec, ':') + 1;
	else if (spec[0] == '/')
		path = spec;
	if (path == NULL)
		return;
	if (chown_it && chown(path, uid, gid) != 0)
		log_warn("chown %s: %s", path, strerror(errno));
	if (chmod(path, 0660) != 0)
		log_warn("chmod %s: %s", path, strerror(errno));
}

int
main(int argc, char **argv)
{
	struct conf *c;
	const char *sockspec, *user, *pidfile;
	uid_t uid = 0;
	gid_t gid = 0;
	char err[512];
	bool gmime = false;
	int rc;

	parse_options(argc, argv);
	/* As Postfix does: a peer that went away is EPIPE, never a signal.
	 * Before the configuration is loaded: a store made in a process
	 * that ignores SIGPIPE skips blocking it around each message's
	 * Redis I/O (store.h), four system calls a message.  pdftotext
	 * gets the default back (pdf.c); smtp.c sends with MSG_NOSIGNAL
	 * and the other Redis users block SIGPIPE anyway. */
	(void)signal(SIGPIPE, SIG_IGN);
	log_open("custos-milter", opt.foreground || opt.check, LOG_MAIL);
	/* A check reads the whole compiled table; a start maps it. */
	engine_verify_tables(opt.check);
	if ((c = load_snapshot(!opt.check, err, sizeof err)) == NULL) {
		/* -t prints exactly "file:line: message" for editors and
		 * scripts; a daemon also tells syslog. */
		(void)fprintf(stderr, "%s\n", err);
		if (!opt.check && !opt.foreground)
			log_err("%s", err);
		return opt.check ? 1 : EX_CONFIG;
	}
	sockspec = opt.socket ? opt.socket : c->socket;
	user = opt.user ? opt.user : c->user;
	pidfile = opt.pidfile ? opt.pidfile : c->pidfile;
	if (conf_check_socket(sockspec) != 0) {
		log_err("socket %s: not unix:/path or inet:PORT@ADDRESS",
		    sockspec);
		rc = opt.check ? 1 : EX_USAGE;
		goto out;
	}
	if (*user != '\0' &&
	    daemon_lookup_user(user, &uid, &gid, err, sizeof err) != 0) {
		log_err("%s", err);
		rc = opt.check ? 1 : EX_NOUSER;
		goto out;
	}
	if (opt.check) {
		(void)printf("%s: configuration OK\n", opt.config);
		rc = 0;
		goto out;
	}
	if (!opt.foreground)
		log_open("custos-milter", 0, c->syslog_facility);
	log_set_level(opt.verbose ? LOG_LEVEL_DEBUG : c->log_level);

	message_init();
	gmime = true;
	if (smfi_register(milter_desc) == MI_FAILURE ||
	    smfi_setconn((char *)sockspec) == MI_FAILURE ||
	    smfi_settimeout(c->milter_timeout) == MI_FAILURE ||
	    smfi_setbacklog(c->milter_backlog) == MI_FAILURE) {
		log_err("libmilter refused the settings for %s", sockspec);
		rc = EX_SOFTWARE;
		goto out;
	}
	/* As root, before dropping privileges: the socket may live where
	 * only root can create it.  true: remove a stale unix socket. */
	if (smfi_opensocket(true) == MI_FAILURE) {
		log_err("cannot listen on %s (in use, or no permission?)",
		    sockspec);
		rc = EX_UNAVAILABLE;
		goto out;
	}
	socket_permissions(sockspec, uid, gid, *user != '\0' && geteuid() == 0);
	socket_nodelay();
	if (!opt.foreground && daemon_detach(err, sizeof err) != 0) {
		log_err("%s", err);
		rc = EX_OSERR;
		goto out;
	}
	if (*pidfile != '\0' &&
	    daemon_write_pidfile(pidfile, err, sizeof err) != 0) {
		log_err("%s", err);
		rc = EX_CANTCREAT;
		goto out;
	}
	/* As root: the log's directory may be root's. */
	if (audit_open(c->audit_log, err, sizeof err) != 0) {
		log_err("audit log: %s", err);
		rc = EX_CANTCREAT;
		goto out;
	}
	if (*user != '\0' && geteuid() == 0)
		quarantine_owner(c, uid, gid);
	if (*user != '\0' && geteuid() == 0 &&
	    daemon_drop_privileges(user, uid, gid, err, sizeof err) != 0) {
		log_err("%s", err);
		rc = EX_NOPERM;
		goto out;
	}
	/* The first snapshot, with main's reference: the worker never
	 * comes back here (daemon_supervise exits in it), so a reference
	 * kept here would pin this snapshot, list table and all, in the
	 * worker for good.  pidfile stays valid: the supervisor keeps the
	 * snapshot current until conf_replace(NULL) below. */
	conf_replace(c);
	c = NULL;
	daemon_block_signals();
	log_info("listening on %s", sockspec);
	rc = daemon_supervise(worker_main, NULL);
	if (*pidfile != '\0')
		(void)unlink(pidfile);
	conf_replace(NULL);
out:
	conf_unref(c);
	if (gmime)
		message_shutdown();
	return rc;
}
