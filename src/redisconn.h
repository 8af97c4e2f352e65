/* redisconn.h - a connection to the configured Redis, for the history
 * store (store.c), the quarantine (qstore.c) and `custos stats`.
 *
 * Why one place: the three connect the same way (socket or host:port,
 * timeouts, AUTH, SELECT) and should fail the same way; `custos stats`
 * once ignored a refused SELECT and read database 0.
 *
 * A Redis on the gateway itself can listen on a unix socket alone (port
 * 0), whose file mode decides who may talk to it; on loopback TCP every
 * local user could read the senders' history or reset a sender's
 * counters to slip under a rule.  `redis { socket }` names it; host and
 * port are then not used.  (It is not faster here: the worker's CPU a
 * message was the same either way, doc/performance.md.)
 *
 * No state; thread-safe.  Error texts name where Redis is and never
 * carry the password. */
#ifndef CUSTOS_REDISCONN_H
#define CUSTOS_REDISCONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

struct redisconn_target {
	const char	*socket;	/* unix socket path; NULL or "": TCP */
	const char	*host;
	int		 port;
	const char	*password;	/* NULL or "": no AUTH */
	int		 db;		/* 0: no SELECT */
	int		 connect_ms;	/* to connect */
	int		 command_ms;	/* each command after */
};

/* Connects within connect_ms, sets the command timeout, turns TCP
 * keepalive on (the kernel, not a command's timeout, finds a peer that
 * vanished without a FIN: a firewall forgot the connection), then sends
 * AUTH and SELECT as configured.  The context, or NULL with err
 * ("redis WHERE: why"). */
redisContext	*redisconn_connect(const struct redisconn_target *,
		    char *err, size_t errlen);

#endif
