/* log.h - logging to syslog (mail facility) or to stderr.
 *
 * The level filter lives here, not at call sites.  Per-message lines start
 * with the Postfix queue id.  Strings that came off the wire go through
 * log_safe() first.  Never pass an identifier found in mail: only record
 * ids, counts and masked samples.
 *
 * Thread-safe (syslog(3) and stdio are). */
#ifndef CUSTOS_LOG_H
#define CUSTOS_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

/* Starts logging as ident.  to_stderr: write lines to stderr instead of
 * syslog (the daemon's -f, and the CLI).  facility: a LOG_* facility. */
void	log_open(const char *ident, int to_stderr, int facility);
void	log_set_level(enum log_level);

/* Parses "err", "warning", "info", "debug"; returns 0 or -1. */
int	log_level_parse(const char *, enum log_level *);
/* Parses a syslog facility name ("mail", "daemon", "local0".."local7"). */
int	log_facility_parse(const char *, int *);

void	log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Copies an untrusted string into buf (size len, always NUL-terminated),
 * replacing control characters and bytes that are not printable ASCII
 * or UTF-8 continuation-safe with '?', and cutting it to fit.  A NULL
 * input gives "".  Returns buf, so it can sit in an argument list. */
char	*log_safe(const char *in, char *buf, size_t len);

#endif
