/* redisconn.c - a connection to the configured Redis (redisconn.h). */
#include "config.h"

#include <stdio.h>

#include "redisconn.h"

redisContext *
redisconn_open(const char *path, const char *host, int port,
    struct timeval timeout)
{
	if (path != NULL && *path != '\0')
		return redisConnectUnixWithTimeout(path, timeout);
	return redisConnectWithTimeout(host, port, timeout);
}

int
redisconn_keepalive(redisContext *c)
{
	if (c->connection_type != REDIS_CONN_TCP)
		return REDIS_OK;
	return redisEnableKeepAlive(c);
}

const char *
redisconn_where(const char *path, const char *host, int port, char *buf,
    size_t len)
{
	if (path != NULL && *path != '\0')
		(void)snprintf(buf, len, "%s", path);
	else
		(void)snprintf(buf, len, "%s:%d", host != NULL ? host : "",
		    port);
	return buf;
}
