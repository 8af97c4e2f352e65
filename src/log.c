/* log.c - syslog or stderr logging with a level filter.
 *
 * Owns nothing but the level and the destination, set once at start (the
 * level may change on reload; an int store is atomic enough for a filter).
 * Never fails: a line that cannot be written is lost, mail is not. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static volatile int	log_level = LOG_LEVEL_INFO;
static int		log_to_stderr = 1;
static const char	*log_ident = "custos";

static const struct {
	const char	*name;
	int		 facility;
} facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static const char *const level_names[] = { "err", "warning", "info", "debug" };

void
log_open(const char *ident, int to_stderr, int facility)
{
	log_ident = ident;
	log_to_stderr = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	if (strcasecmp(s, "error") == 0 || strcasecmp(s, "warn") == 0) {
		*out = s[0] == 'e' || s[0] == 'E' ? LOG_LEVEL_ERR : LOG_LEVEL_WARN;
		return 0;
	}
	return -1;
}

int
log_facility_parse(const char *s, int *out)
{
	size_t i;

	for (i = 0; i < sizeof facilities / sizeof facilities[0]; i++)
		if (strcasecmp(s, facilities[i].name) == 0) {
			*out = facilities[i].facility;
			return 0;
		}
	return -1;
}

static void
log_emit(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[4096];

	if ((int)level > log_level)
		return;
	(void)vsnprintf(line, sizeof line, fmt, ap);
	if (log_to_stderr) {
		char stamp[32];
		struct tm tm;
		time_t now = time(NULL);

		(void)strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S",
		    localtime_r(&now, &tm));
		/* One fprintf per line, so threads do not interleave. */
		(void)fprintf(stderr, "%s %s[%s]: %s\n", stamp, log_ident,
		    level_names[level], line);
		return;
	}
	syslog(prio[level], "%s", line);
}

#define LOG_FN(name, level)					\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	log_emit(level, fmt, ap);				\
	va_end(ap);						\
}

LOG_FN(log_err, LOG_LEVEL_ERR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

char *
log_safe(const char *in, char *buf, size_t len)
{
	size_t i, n;

	if (len == 0)
		return buf;
	n = in == NULL ? 0 : strlen(in);
	for (i = 0; i < n && i + 1 < len; i++) {
		unsigned char c = (unsigned char)in[i];

		/* Keep UTF-8 (>= 0x80) so Chinese names stay readable;
		 * replace what could forge or break a log line. */
		buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	/* Cut: do not leave half a UTF-8 character at the end. */
	if (i < n)
		while (i > 0 && ((unsigned char)in[i] & 0xc0) == 0x80)
			i--;
	buf[i] = '\0';
	return buf;
}
