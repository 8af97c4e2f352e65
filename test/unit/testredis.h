/* testredis.h - a private redis-server for the unit tests that need a
 * real one (test_store, test_qstore, test_affected): found on
 * $REDIS_SERVER or PATH, started on a free loopback port in a directory
 * the caller owns (no persistence, log in DIR/redis.log), optionally
 * with --requirepass, and stopped again.
 *
 * Owns: the redis-server child process, from testredis_start or
 * testredis_restart until testredis_stop or testredis_kill.  The caller
 * owns the directory (creates it before, removes it after) and the
 * password string, which must outlive the server.
 *
 * Errors: the server functions return -1 and print nothing, so setup
 * functions can call them and decide; a failed start leaves no process
 * behind.  The client functions (testredis_need, testredis_client,
 * testredis_int) are for test bodies: they fail or skip the running
 * cmocka test.  Not thread-safe. */
#ifndef CUSTOS_TESTREDIS_H
#define CUSTOS_TESTREDIS_H

#include <sys/types.h>

#include <hiredis/hiredis.h>

struct testredis {
	pid_t		 pid;		/* > 0 while the server runs */
	int		 port;		/* 127.0.0.1:port */
	char		 dir[256];	/* --dir, and redis.log */
	char		 sock[108];	/* and DIR/redis.sock; "" when the
					   path would be too long */
	const char	*password;	/* --requirepass; NULL: none */
};

/* ------------------------------------------------ the server */

/* The redis-server to start: $REDIS_SERVER when set (NULL if it is not
 * executable), else the first redis-server on PATH, else NULL.  The
 * result may point to a static buffer, valid until the next call. */
const char	*testredis_path(void);

/* A loopback TCP port nobody listens on right now, or -1. */
int		 testredis_free_port(void);

/* Starts redis-server in dir (which may be srv->dir) on a free port it
 * chooses, requiring password unless NULL, and waits (up to about 5 s)
 * until it answers PING (NOAUTH is an answer).  Fills *srv.  Returns 0,
 * or -1 with srv->pid 0: no redis-server, dir too long, or it did not
 * come up (srv->port then holds the last port tried). */
int		 testredis_start(struct testredis *srv, const char *dir,
		    const char *password);

/* Starts it again on the same port and dir with srv->password (which
 * the caller may change in between), after testredis_stop or
 * testredis_kill: Redis coming back, for a client that keeps its
 * address.  Stops a server still running first.  0 or -1, as above. */
int		 testredis_restart(struct testredis *srv);

/* Stops it: SIGTERM, then SIGKILL if it has not exited within 5 s;
 * reaps it.  Safe on a server that is not running, and twice. */
void		 testredis_stop(struct testredis *srv);

/* Kills it at once (SIGKILL) and reaps it, to simulate Redis dying;
 * port, dir and password stay for testredis_restart. */
void		 testredis_kill(struct testredis *srv);

/* ------------------------------------------ in test bodies */

/* Returns if srv is running; else fails the test when CI=true (CI must
 * never pass blind) and skips it otherwise. */
void		 testredis_need(const struct testredis *srv);

/* A checking client, as an analyst's redis-cli would be: connected,
 * authenticated when srv->password is set, on database db.  Fails the
 * test on any error.  The caller redisFree()s it. */
redisContext	*testredis_client(const struct testredis *srv, int db);

/* The integer reply to a command (printf-style, as redisCommand);
 * fails the test on any other reply. */
long long	 testredis_int(redisContext *c, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

#endif /* CUSTOS_TESTREDIS_H */
