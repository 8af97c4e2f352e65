/* testredis.c - a private redis-server for the unit tests: find it,
 * pick a free loopback port, fork and exec it in the caller's
 * directory, wait until it answers PING, stop it; and the few client
 * checks the tests share.
 *
 * Owns the child it forked, until testredis_stop or testredis_kill
 * reaps it.  Errors: the server functions return -1, print nothing and
 * leave no child behind; the client functions fail or skip the running
 * cmocka test (they are for test bodies, not setup functions). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>

#include "testredis.h"

#define TESTREDIS_PINGS		250	/* attempts to PING, 20 ms apart */
#define TESTREDIS_STOP_MS	5000	/* SIGTERM's grace before SIGKILL */
#define TESTREDIS_PORTS		3	/* ports tried by testredis_start */

/* ------------------------------------------------ the server */

static int
executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

const char *
testredis_path(void)
{
	static char found[4096];
	const char *e = getenv("REDIS_SERVER"), *p, *end;
	size_t n;
	int len;

	if (e != NULL && *e != '\0')
		return access(e, X_OK) == 0 ? e : NULL;
	if ((p = getenv("PATH")) == NULL)
		return NULL;
	for (;; p = end + 1) {
		if ((end = strchr(p, ':')) == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		/* An empty PATH element is the current directory. */
		len = n == 0 ? snprintf(found, sizeof found, "./redis-server") :
		    snprintf(found, sizeof found, "%.*s/redis-server", (int)n,
		    p);
		if (len > 0 && (size_t)len < sizeof found && executable(found))
			return found;
		if (*end == '\0')
			return NULL;
	}
}

int
testredis_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	(void)close(fd);
	return port;
}

/* Forks redis-server on srv->port in srv->dir and waits until it
 * answers PING.  0 up; 1 it exited at once (the port may have been
 * taken meanwhile); -1 no redis-server, no fork, or no answer in time
 * (then it is killed).  srv->pid is 0 unless 0 is returned. */
static int
spawn(struct testredis *srv)
{
	const char *bin = testredis_path(), *argv[24];
	char port[16], logf[sizeof srv->dir + 16];
	redisContext *c;
	redisReply *r;
	struct timeval tv = { 0, 200000 };
	int i, n = 0, fd;

	srv->pid = 0;
	if (bin == NULL || srv->port <= 0)
		return -1;
	(void)snprintf(port, sizeof port, "%d", srv->port);
	(void)snprintf(logf, sizeof logf, "%s/redis.log", srv->dir);
	argv[n++] = bin;
	argv[n++] = "--port";
	argv[n++] = port;
	argv[n++] = "--bind";
	argv[n++] = "127.0.0.1";
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--appendonly";
	argv[n++] = "no";
	argv[n++] = "--dir";
	argv[n++] = srv->dir;
	if ((size_t)snprintf(srv->sock, sizeof srv->sock, "%s/redis.sock",
	    srv->dir) >= sizeof srv->sock)
		srv->sock[0] = '\0';
	if (srv->sock[0] != '\0') {
		argv[n++] = "--unixsocket";
		argv[n++] = srv->sock;
		argv[n++] = "--unixsocketperm";
		argv[n++] = "700";
	}
	if (srv->password != NULL) {
		argv[n++] = "--requirepass";
		argv[n++] = srv->password;
	}
	argv[n] = NULL;

	if ((srv->pid = fork()) < 0) {
		srv->pid = 0;
		return -1;
	}
	if (srv->pid == 0) {
		/* Only async-signal-safe calls until exec. */
		if ((fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0600))
		    >= 0) {
			(void)dup2(fd, 1);
			(void)dup2(fd, 2);
		}
		(void)execv(bin, (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < TESTREDIS_PINGS; i++) {
		if (waitpid(srv->pid, NULL, WNOHANG) == srv->pid) {
			srv->pid = 0;
			return 1;
		}
		/* NOAUTH is an answer too: it is up. */
		if ((c = redisConnectWithTimeout("127.0.0.1", srv->port, tv))
		    != NULL && c->err == 0 &&
		    (r = redisCommand(c, "PING")) != NULL) {
			freeReplyObject(r);
			redisFree(c);
			return 0;
		}
		if (c != NULL)
			redisFree(c);
		(void)usleep(20000);
	}
	testredis_kill(srv);
	return -1;
}

int
testredis_start(struct testredis *srv, const char *dir,
    const char *password)
{
	size_t len;
	int i, rc = -1;

	srv->pid = 0;
	srv->port = 0;
	srv->password = password;
	if (dir == NULL || (len = strlen(dir)) >= sizeof srv->dir)
		return -1;
	memmove(srv->dir, dir, len + 1);
	/* The port is free when we look, not necessarily when redis-server
	 * binds it: a server that exits at once gets another port. */
	for (i = 0; i < TESTREDIS_PORTS; i++) {
		if ((srv->port = testredis_free_port()) < 0)
			return -1;
		if ((rc = spawn(srv)) != 1)
			break;
	}
	return rc == 0 ? 0 : -1;
}

int
testredis_restart(struct testredis *srv)
{
	testredis_stop(srv);
	return spawn(srv) == 0 ? 0 : -1;
}

void
testredis_stop(struct testredis *srv)
{
	pid_t w;
	int i;

	if (srv->pid <= 0)
		return;
	(void)kill(srv->pid, SIGTERM);
	for (i = 0; i < TESTREDIS_STOP_MS / 10; i++) {
		w = waitpid(srv->pid, NULL, WNOHANG);
		if (w == srv->pid || (w < 0 && errno != EINTR)) {
			srv->pid = 0;
			return;
		}
		(void)usleep(10000);
	}
	testredis_kill(srv);
}

void
testredis_kill(struct testredis *srv)
{
	if (srv->pid <= 0)
		return;
	(void)kill(srv->pid, SIGKILL);
	while (waitpid(srv->pid, NULL, 0) < 0 && errno == EINTR)
		continue;
	srv->pid = 0;
}

/* ------------------------------------------ in test bodies */

void
testredis_need(const struct testredis *srv)
{
	const char *ci = getenv("CI");

	if (srv->pid > 0)
		return;
	if (ci != NULL && strcmp(ci, "true") == 0)
		fail_msg("redis-server not found and CI=true");
	skip();
}

redisContext *
testredis_client(const struct testredis *srv, int db)
{
	redisContext *c;
	redisReply *r;

	c = redisConnect("127.0.0.1", srv->port);
	assert_non_null(c);
	assert_int_equal(c->err, 0);
	if (srv->password != NULL) {
		r = redisCommand(c, "AUTH %s", srv->password);
		assert_non_null(r);
		assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
		freeReplyObject(r);
	}
	r = redisCommand(c, "SELECT %d", db);
	assert_non_null(r);
	assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
	freeReplyObject(r);
	return c;
}

long long
testredis_int(redisContext *c, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;
	long long v;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	if (r->type != REDIS_REPLY_INTEGER)
		fail_msg("%s: got reply type %d, want an integer", fmt,
		    r->type);
	v = r->integer;
	freeReplyObject(r);
	return v;
}
