/* conf.h - the configuration: one libconfuse table, bounds checked while
 * parsing, turned into an immutable, reference-counted snapshot.
 *
 * A reload builds a new snapshot or keeps the old one; a connection keeps
 * the snapshot it started with until it closes (conf_ref/conf_unref).
 *
 * Errors: conf_load returns NULL with "file:line: message" in err.
 * Thread-safe: snapshots are read-only; conf_current/conf_replace lock. */
#ifndef CUSTOS_CONF_H
#define CUSTOS_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "findings.h"
#include "kinds.h"
#include "log.h"
#include "message.h"
#include "policy.h"
#include "qstore.h"
#include "store.h"
#include "verdict.h"

struct engine;
struct template_set;

/* One column of a customer list that custos looks for. */
struct conf_field {
	char		*column;	/* header name in the CSV */
	enum field_kind	 kind;
	bool		 strong;	/* identifies a record alone */
};

/* One customer list (a CSV export). */
struct conf_list {
	char		*name;
	char		*file;
	char		*encoding;	/* "utf-8", "gbk", ... */
	char		*id_column;
	char		*canary_column;	/* "" = none */
	struct conf_field *fields;
	size_t		 nfields;
};

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONF_DEFAULT_PATH	SYSCONFDIR "/custos.conf"

/* quarantine { }: where stopped messages are kept and how officers
 * release them. */
struct conf_quarantine {
	struct qstore_conf	 store;		/* dir, body in Redis, cap */
	char			*key_file;	/* qkey, mode 0600 */
	unsigned		 retention;	/* seconds, for purge */
	char			*relay;		/* release re-injection */
	char			*postsuper;	/* for held messages */
	char			*postfix_config;	/* postsuper -c; "" */
};

/* Notice languages for senders of one domain (and its subdomains). */
struct conf_notify_domain {
	char			*domain;	/* lower case */
	char			**languages;
	size_t			 nlanguages;
};

/* notify { }: notices to senders and alerts to officers. */
struct conf_notify {
	bool			 sender;	/* tell the sender */
	char			**officers;	/* alert addresses */
	size_t			 nofficers;
	char			*from;
	char			*relay;
	unsigned		 window;	/* seconds per key */
	size_t			 max_queue;
	char			**languages;	/* default: reply_languages */
	size_t			 nlanguages;
	struct conf_notify_domain *domains;
	size_t			 ndomains;
};

struct conf {
	int			 refs;		/* under conf's lock */
	char			*path;		/* file it came from */

	char			*socket;	/* libmilter connection spec */
	char			*user;		/* "" = stay who we are */
	char			*pidfile;	/* "" = none */
	char			*node;		/* this gateway's name */
	enum log_level		 log_level;
	int			 syslog_facility;
	enum action		 on_error;	/* tempfail, accept or reject */
	bool			 add_header;	/* X-Custos on every message */

	size_t			 spool_memory_limit;
	char			*spool_dir;
	char			*pdftotext;	/* the PDF helper program */
	size_t			 max_scan_size;
	struct message_limits	 limits;

	int			 milter_timeout;	/* seconds, MTA I/O */
	int			 milter_backlog;
	int			 max_connections;
	int			 max_scans;	/* parsed and scanned at once;
						   0 in the file: online CPUs */
	int			 drain_timeout;	/* seconds at shutdown */

	/* Customer lists and the detection engine. */
	struct conf_list	*lists;
	size_t			 nlists;
	char			*key_file;	/* list key, mode 0600 */
	char			*database;	/* compiled table */
	size_t			 proximity;	/* weak-field corroboration */
	size_t			 weak_max_records; /* weak-only evidence: ambiguous above */
	size_t			 max_samples;
	bool			 detector_on[DET_COUNT];
	unsigned		 detector_threshold[DET_COUNT];
	bool			 cn_id_legacy;	/* also 15-digit IDs */
	char			**keywords;	/* classification keywords */
	size_t			 nkeywords;

	/* Policy, history, audit, explanations. */
	struct policy_conf	 policy;
	struct store_conf	 store;
	bool			 store_error_tempfail;	/* on_store_error */
	char			*audit_log;	/* "" = none */
	char			*templates;	/* directory */
	char			**languages;	/* reply languages, in order */
	size_t			 nlanguages;
	char			*contact;	/* for explanations */
	struct conf_quarantine	 quarantine;
	struct conf_notify	 notify;

	struct engine		*engine;	/* set by engine_load's caller */
	struct store		*history;	/* set by conf_load_all */
	struct template_set	*explain;	/* set by conf_load_all */
	struct qkey		*qkey;		/* set by conf_load_all when
						   quarantine, hold or notices
						   are in use; else NULL */
	struct qstore		*qstore;	/* likewise */
};

/* Reads and checks path.  Returns a snapshot with one reference, or NULL
 * with "path:line: message" in err. */
struct conf	*conf_load(const char *path, char *err, size_t errlen);

struct conf	*conf_ref(struct conf *);
void		 conf_unref(struct conf *);		/* NULL-safe */

/* Reads the config and loads its engine (engine.h) into one snapshot:
 * what the milter serves with and `custos scan` uses.  NULL with err. */
struct conf	*conf_load_all(const char *path, char *err, size_t errlen);

/* Whether a rule can hold, quarantine or reject mail; whether notices
 * are to be sent about it. */
bool		 conf_stops_mail(const struct conf *);
bool		 conf_notices(const struct conf *);

/* The name of list number list (a finding's), or "?" when c is NULL or
 * has no such list (a table compiled from another configuration). */
const char	*conf_list_name(const struct conf *c, size_t list);

/* Loads the quarantine key (creating it when create and missing) and
 * opens the quarantine store into c->qkey / c->qstore: what the milter
 * does at start when conf_stops_mail(), and the officers' tool always.
 * 0 or -1 with "path: why". */
int		 conf_open_quarantine(struct conf *, bool create, char *err,
		    size_t errlen);

/* The snapshot new connections get.  conf_current returns a new
 * reference (NULL before the first conf_replace); conf_replace installs
 * c (taking over the caller's reference) and drops the old one. */
struct conf	*conf_current(void);
void		 conf_replace(struct conf *c);

/* Parses "90s", "30m", "1h", "7d" (or bare seconds).  Returns 0/-1. */
int		 conf_parse_duration(const char *, unsigned *);

/* Parses "10M", "512k", "1G", "4096" into bytes.  Returns 0 or -1. */
int		 conf_parse_size(const char *, size_t *);

/* Checks a libmilter socket spec: unix:/path, local:/path,
 * inet:port@host, inet6:port@host.  Returns 0 or -1. */
int		 conf_check_socket(const char *);

#endif
