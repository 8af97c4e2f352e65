/* redisconn.c - a connection to the configured Redis (redisconn.h). */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/time.h>

#include "redisconn.h"

static struct timeval
redisconn_tv(int ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* One handshake command; its reply must not be an error.  The error
 * names the command, not its argument (AUTH's is the password). */
static int
redisconn_call(redisContext *c, const char *where, int argc,
    const char **argv, char *err, size_t errlen)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);

	if (r == NULL) {
		(void)snprintf(err, errlen, "redis %s: %s: %s", where, argv[0],
		    c->errstr[0] != '\0' ? c->errstr : "no reply");
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		(void)snprintf(err, errlen, "redis %s: %s: %.*s", where,
		    argv[0], (int)r->len, r->str != NULL ? r->str : "");
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

redisContext *
redisconn_connect(const struct redisconn_target *t, char *err,
    size_t errlen)
{
	redisContext *c;
	const char *argv[2];
	char db[16], where[160];
	bool unix_socket = t->socket != NULL && *t->socket != '\0';

	if (unix_socket) {
		(void)snprintf(where, sizeof where, "%s", t->socket);
		c = redisConnectUnixWithTimeout(t->socket,
		    redisconn_tv(t->connect_ms));
	} else {
		(void)snprintf(where, sizeof where, "%s:%d",
		    t->host != NULL ? t->host : "", t->port);
		c = redisConnectWithTimeout(t->host != NULL ? t->host : "",
		    t->port, redisconn_tv(t->connect_ms));
	}
	if (c == NULL || c->err != 0) {
		(void)snprintf(err, errlen, "redis %s: %s", where,
		    c != NULL ? c->errstr : "out of memory");
		goto fail;
	}
	if (redisSetTimeout(c, redisconn_tv(t->command_ms)) != REDIS_OK ||
	    (!unix_socket && redisEnableKeepAlive(c) != REDIS_OK)) {
		(void)snprintf(err, errlen, "redis %s: %s", where, c->errstr);
		goto fail;
	}
	if (t->password != NULL && *t->password != '\0') {
		argv[0] = "AUTH";
		argv[1] = t->password;
		if (redisconn_call(c, where, 2, argv, err, errlen) != 0)
			goto fail;
	}
	if (t->db != 0) {
		(void)snprintf(db, sizeof db, "%d", t->db);
		argv[0] = "SELECT";
		argv[1] = db;
		if (redisconn_call(c, where, 2, argv, err, errlen) != 0)
			goto fail;
	}
	return c;
fail:
	if (c != NULL)
		redisFree(c);
	return NULL;
}
