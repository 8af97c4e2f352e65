/* stats.c - `custos stats` (see stats.h).  Reads only; owns its Redis
 * connection for the duration of one call. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hiredis.h>

#include "json.h"
#include "redisconn.h"
#include "stats.h"

static redisContext *
stats_connect(const struct store_conf *sc, char *err, size_t errlen)
{
	const struct redisconn_target t = {
		.socket = sc->socket, .host = sc->host, .port = sc->port,
		.password = sc->password, .db = sc->db,
		.connect_ms = 2000, .command_ms = 2000
	};

	return redisconn_connect(&t, err, errlen);
}

/* One counters hash as a JSON object or "field value" lines. */
static void
stats_hash(redisContext *r, const char *key, const char *title, bool json,
    struct json *j, FILE *out)
{
	redisReply *rep = redisCommand(r, "HGETALL %s", key);
	size_t i;

	if (json) {
		json_key(j, title);
		json_object_begin(j);
	} else
		(void)fprintf(out, "%s (%s)\n", title, key);
	for (i = 0; rep != NULL && rep->type == REDIS_REPLY_ARRAY &&
	    i + 1 < rep->elements; i += 2) {
		if (json) {
			json_key(j, rep->element[i]->str);
			json_string(j, rep->element[i + 1]->str);
		} else
			(void)fprintf(out, "  %-28s %s\n", rep->element[i]->str,
			    rep->element[i + 1]->str);
	}
	if (json)
		json_object_end(j);
	if (rep != NULL)
		freeReplyObject(rep);
}

int
stats_print(const struct conf *c, time_t now, bool json, size_t incidents,
    FILE *out, char *err, size_t errlen)
{
	const struct store_conf *sc = &c->store;
	redisContext *r;
	redisReply *rep;
	struct json j;
	struct tm tm;
	char hour[16], day[16], key[256], count[24];
	size_t i, k;

	if (!sc->redis) {
		(void)snprintf(err, errlen, "store is not redis: the in-process "
		    "store's counters live in the milter only");
		return -1;
	}
	if ((r = stats_connect(sc, err, errlen)) == NULL)
		return -1;
	(void)gmtime_r(&now, &tm);
	(void)strftime(hour, sizeof hour, "%Y%m%d%H", &tm);
	(void)strftime(day, sizeof day, "%Y%m%d", &tm);
	if (json) {
		json_init(&j);
		json_object_begin(&j);
	}
	(void)snprintf(key, sizeof key, "%sstats:{stats}:hour:%s", sc->prefix,
	    hour);
	stats_hash(r, key, "hour", json, &j, out);
	(void)snprintf(key, sizeof key, "%sstats:{stats}:day:%s", sc->prefix,
	    day);
	stats_hash(r, key, "day", json, &j, out);

	(void)snprintf(key, sizeof key, "%sstats:{stats}:senders:%s",
	    sc->prefix, day);
	rep = redisCommand(r, "ZREVRANGE %s 0 9 WITHSCORES", key);
	if (json) {
		json_key(&j, "top_senders");
		json_array_begin(&j);
	} else
		(void)fprintf(out, "top senders by records today (%s)\n", key);
	for (i = 0; rep != NULL && rep->type == REDIS_REPLY_ARRAY &&
	    i + 1 < rep->elements; i += 2) {
		if (json) {
			json_object_begin(&j);
			json_kv_string(&j, "sender", rep->element[i]->str);
			json_kv_string(&j, "records", rep->element[i + 1]->str);
			json_object_end(&j);
		} else
			(void)fprintf(out, "  %-40s %s\n", rep->element[i]->str,
			    rep->element[i + 1]->str);
	}
	if (json)
		json_array_end(&j);
	if (rep != NULL)
		freeReplyObject(rep);

	(void)snprintf(key, sizeof key, "%sstats:{stats}:incidents",
	    sc->prefix);
	/* hiredis formats only a few printf conversions: pass the count
	 * as a string. */
	(void)snprintf(count, sizeof count, "%zu", incidents);
	rep = redisCommand(r, "XREVRANGE %s + - COUNT %s", key, count);
	if (json) {
		json_key(&j, "incidents");
		json_array_begin(&j);
	} else
		(void)fprintf(out, "latest entries of the incident stream "
		    "(%s)\n", key);
	for (i = 0; rep != NULL && rep->type == REDIS_REPLY_ARRAY &&
	    i < rep->elements; i++) {
		redisReply *e = rep->element[i], *f;

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
			continue;
		f = e->element[1];
		if (json)
			json_object_begin(&j);
		else
			(void)fprintf(out, "  %s", e->element[0]->str);
		for (k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements;
		    k += 2) {
			if (json)
				json_kv_string(&j, f->element[k]->str,
				    f->element[k + 1]->str);
			else if (strcmp(f->element[k]->str, "record_ids") != 0)
				/* The ids are for `custos incidents
				 * affected`; the count is already there. */
				(void)fprintf(out, " %s=%s", f->element[k]->str,
				    f->element[k + 1]->str);
		}
		if (json)
			json_object_end(&j);
		else
			(void)fputc('\n', out);
	}
	if (json)
		json_array_end(&j);
	if (rep != NULL)
		freeReplyObject(rep);
	redisFree(r);
	if (json) {
		char *s;
		size_t len;

		json_object_end(&j);
		s = json_finish(&j, &len);
		(void)fwrite(s, 1, len, out);
		(void)fputc('\n', out);
		g_free(s);
	}
	return 0;
}
