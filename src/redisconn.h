/* redisconn.h - a connection to the configured Redis, for the history
 * store (store.c), the quarantine (qstore.c) and `custos stats`.
 *
 * Why: a Redis on the gateway itself can listen on a unix socket alone
 * (port 0), whose file mode decides who may talk to it; on loopback TCP
 * every local user could read the senders' history or reset a sender's
 * counters to slip under a rule.  `redis { socket }` names it; host and
 * port are then not used.  (It is not faster here: the worker's CPU a
 * message was the same either way, doc/performance.md.)
 *
 * No state; thread-safe.  Errors: hiredis' own (NULL when out of
 * memory, else the context's err and errstr). */
#ifndef CUSTOS_REDISCONN_H
#define CUSTOS_REDISCONN_H

#include <stddef.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

/* Connects within timeout: to the unix socket at path when path is set
 * (not NULL or ""), else to host:port over TCP.  The caller checks
 * ->err, and frees the context either way. */
redisContext	*redisconn_open(const char *path, const char *host, int port,
		    struct timeval timeout);

/* Turns TCP keepalive on, so that the kernel finds a peer that vanished
 * without a word (a firewall forgot the connection); nothing to do on a
 * unix socket.  REDIS_OK or REDIS_ERR, as hiredis. */
int		 redisconn_keepalive(redisContext *);

/* Where Redis is, for messages: the socket's path, or "host:port".  In
 * buf, which it returns. */
const char	*redisconn_where(const char *path, const char *host, int port,
		    char *buf, size_t len);

#endif
