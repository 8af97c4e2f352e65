/* policy.h - findings x envelope x sender history -> verdict.
 *
 * Pure: no I/O, no clock, no globals.  The caller gathers the inputs
 * (the engine's findings, the envelope, the sender's history from the
 * store) and gets back the verdict with every matching rule as a reason.
 *
 * Recipients are classed by domain: internal (internal_domains, and
 * their subdomains), partner (a partner's domains), else external.  The
 * sender is the authenticated user when there is one, else the envelope
 * sender.  Sender groups name who may send what where; exemptions are
 * narrow (sender AND recipient domain) and reported on every use.
 *
 * Rules are ordered; every rule whose conditions all hold matches; the
 * most severe action among matching rules wins (pass < tag < hold <
 * quarantine < reject < tempfail).  A rule in monitor mode (or every
 * rule under the global monitor mode) is reported as matching but does
 * not raise the action.
 *
 * Thread-safe: reads only its arguments. */
#ifndef CUSTOS_POLICY_H
#define CUSTOS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "findings.h"
#include "textseg.h"
#include "verdict.h"

#define POLICY_MAX_WINDOWS	4
#define POLICY_MAX_PARTNERS	32

enum rcpt_class {
	RCPT_INTERNAL = 0,
	RCPT_PARTNER,
	RCPT_EXTERNAL
};

/* Which recipients a rule is about. */
enum rcpt_cond {
	COND_RCPT_ANY = 0,	/* not tested */
	COND_RCPT_EXTERNAL,	/* at least one external recipient */
	COND_RCPT_PARTNER,	/* at least one partner recipient (any, or
				   rule.partner) */
	COND_RCPT_NOT_INTERNAL,	/* at least one partner or external */
	COND_RCPT_INTERNAL_ONLY	/* every recipient internal */
};

struct policy_partner {
	char	*name;
	char	**domains;
	size_t	 ndomains;
};

/* Members: "user@example.com" (that address), "@example.com" or
 * "example.com" (that domain), ".example.com" (its subdomains too). */
struct policy_group {
	char	*name;
	char	**members;
	size_t	 nmembers;
};

/* Applies when the sender is this address (case-insensitively) and
 * every recipient that is not internal is in rcpt_domains (subdomains
 * included); the first that applies wins.  An empty sender never
 * applies: it would exempt every bounce. */
struct policy_exemption {
	char	*name;
	char	*sender;		/* exact address */
	char	**rcpt_domains;
	size_t	 nrcpt_domains;
};

struct policy_rule {
	char		*name;
	/* Conditions; each holds when not tested, so a rule that tests
	 * nothing matches every message (a default tag rule).  An index
	 * out of range (list, partner, group, window) never holds. */
	size_t		 records_min;	/* 0: not tested */
	int		 list;		/* -1: all lists */
	size_t		 detector_min[DET_COUNT];	/* 0: not tested; the
						   condition holds when ANY
						   tested detector reaches
						   its minimum */
	bool		 canary;	/* a canary record was hit */
	bool		 unscannable;	/* something was not scanned */
	bool		 keyword;	/* a classification keyword */
	enum rcpt_cond	 recipients;
	int		 partner;	/* -1: any partner */
	int		 group;		/* -1: not tested */
	bool		 not_in_group;	/* "!finance": sender NOT in group */
	int		 window;	/* -1: no history condition */
	uint64_t	 history_records_min;	/* each 0: not tested */
	uint64_t	 history_messages_min;
	uint64_t	 history_recipients_min;
	/* What happens. */
	enum action	 action;
	char		*template;	/* explanation template name */
	bool		 monitor;
};

struct policy_conf {
	bool			 monitor;	/* global mode = monitor */
	char			**internal_domains;
	size_t			 ninternal;
	struct policy_partner	*partners;
	size_t			 npartners;
	struct policy_group	*groups;
	size_t			 ngroups;
	struct policy_exemption	*exemptions;
	size_t			 nexemptions;
	struct policy_rule	*rules;
	size_t			 nrules;
	unsigned		 windows[POLICY_MAX_WINDOWS];	/* seconds */
	size_t			 nwindows;
};

/* The sender's history over each configured window, the current
 * message included.  known = false when the store could not answer:
 * history conditions then do not hold, and the decision says so. */
struct policy_history {
	bool		known;
	uint64_t	records[POLICY_MAX_WINDOWS];
	uint64_t	messages[POLICY_MAX_WINDOWS];
	uint64_t	recipients[POLICY_MAX_WINDOWS];
};

/* What the caller needs besides the verdict: for logs, audit, stats. */
struct policy_outcome {
	const char	*sender;	/* auth user or envelope sender */
	size_t		 rcpt_count[3];	/* by enum rcpt_class */
	uint32_t	 partners_hit;	/* bit per partner */
	const char	*exemption;	/* name of the exemption used, or NULL */
	enum action	 would;		/* action without monitor mode */
	bool		 monitored;	/* a monitor-mode rule matched */
	bool		 history_unknown;	/* a rule whose other
						   conditions held needed
						   history the store could
						   not give */
	size_t		 matched[64];	/* indexes of matching rules */
	size_t		 nmatched;
};

/* The class of one recipient address. */
enum rcpt_class	 policy_rcpt_class(const struct policy_conf *,
		    const char *addr, int *partner);
/* The sender identity: env->auth_user if set, else env->mail_from
 * ("" for the null sender). */
const char	*policy_sender(const struct envelope *env);
/* 1 when addr is in group g, else 0. */
int		 policy_in_group(const struct policy_conf *, size_t g,
		    const char *addr);

/* Classes recipients and reports them in out (so the caller can update
 * history with the external recipients before deciding): clears out,
 * then sets sender, rcpt_count and partners_hit. */
void		 policy_classify(const struct policy_conf *,
		    const struct envelope *, struct policy_outcome *out);

/* Decides.  v gets the action, with each matching rule's name as a
 * reason ("rule NAME" or "rule NAME (monitor)") in rule order, or only
 * "exemption NAME" (action pass, no rule evaluated) when an exemption
 * applies.  v is only raised, never lowered or cleared.  hist NULL
 * means unknown.  Returns 0, -1 on no memory (v then holds the reasons
 * raised so far). */
int		 policy_decide(const struct policy_conf *,
		    const struct envelope *, const struct findings *,
		    const struct textseg *, const struct policy_history *,
		    struct verdict *v, struct policy_outcome *out);

#endif
