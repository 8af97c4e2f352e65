/* custos.c - the command-line tool.
 *
 *   custos scan [-c config] [--text] FILE...   (- reads stdin)
 *   custos check-config [-c config]
 *   custos compile | stats | quarantine ... | incidents ...
 *
 * The officers' commands (quarantine, incidents) live in officer.c.
 * `scan` spools each file exactly as the milter spools a message and runs
 * the same pipeline, so it gives the verdict the milter would.  Output is
 * one JSON object per message, one per line.
 * Exit: 0 all scanned; 1 a file could not be read or scanned; 2 usage;
 * 78 (EX_CONFIG) a bad config. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "engine.h"
#include "envelope.h"
#include "json.h"
#include "listbuild.h"
#include "log.h"
#include "message.h"
#include "officer.h"
#include "pipeline.h"
#include "report.h"
#include "spool.h"
#include "stats.h"
#include "version.h"

static void
usage(FILE *fp)
{
	(void)fprintf(fp,
"usage: custos scan [-c config] [--text] [--from ADDR] [--to ADDR]...\n"
"                   [--auth USER] FILE...   (- for stdin)\n"
"       custos compile [-c config]\n"
"       custos stats [-c config] [--json] [-n INCIDENTS]\n"
"       custos check-config [-c config]\n"
"       custos quarantine list|show|release|delete|purge ...\n"
"       custos incidents affected --sender ADDR ...\n"
"       custos --version | --help\n"
"  scan          run the milter's pipeline on stored messages; one JSON\n"
"                object per message on stdout\n"
"  --text        also print the text extracted from each segment\n"
"  --from, --to, --auth  the envelope the policy sees (as the milter\n"
"                would); the sender's history is not read or changed\n"
"  compile       build the customer-list table the milter loads\n"
"  stats         counters, top senders and incidents from Redis\n"
"  check-config  check the configuration, like custos-milter -t\n"
"  quarantine    review, release and delete stopped mail (custos\n"
"                quarantine --help)\n"
"  incidents     the customer records one sender exposed (custos\n"
"                incidents --help)\n"
"  -c config     configuration file (default " CONF_DEFAULT_PATH ";\n"
"                built-in defaults when it does not exist)\n");
}

/* The config to use: -c, else the default file, else built-in defaults
 * (so `custos scan` works on a machine with nothing installed). */
static struct conf *
load_config(const char *path)
{
	struct conf *c;
	char err[512];

	if (path == NULL) {
		path = CONF_DEFAULT_PATH;
		if (access(path, F_OK) != 0)
			path = "/dev/null";
	}
	if ((c = conf_load_all(path, err, sizeof err)) == NULL)
		(void)fprintf(stderr, "%s\n", err);
	return c;
}

/* Spools one file as the milter would.  Returns the spool or NULL. */
static struct spool *
read_message(const struct conf *c, const char *file)
{
	struct spool *sp;
	char buf[65536], err[256];
	ssize_t n;
	int fd;

	fd = strcmp(file, "-") == 0 ? 0 : open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		(void)fprintf(stderr, "custos: %s: %s\n", file,
		    strerror(errno));
		return NULL;
	}
	if ((sp = spool_new(c->spool_memory_limit, c->spool_dir)) == NULL) {
		(void)fprintf(stderr, "custos: out of memory\n");
		goto fail;
	}
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			(void)fprintf(stderr, "custos: %s: %s\n", file,
			    strerror(errno));
			goto fail;
		}
		if (spool_write(sp, buf, (size_t)n, err, sizeof err) != 0) {
			(void)fprintf(stderr, "custos: %s: %s\n", file, err);
			goto fail;
		}
	}
	if (fd != 0)
		(void)close(fd);
	return sp;
fail:
	if (fd > 0)
		(void)close(fd);
	return spool_free(sp);
}

static int
scan_one(const struct conf *c, const char *file, const struct envelope *env,
    bool with_text)
{
	struct pipeline_result r;
	struct spool *sp;
	struct json j;
	GMimeStream *st = NULL;
	const char *raw;
	char err[256], *out;
	size_t len;
	int rc = 1;

	pipeline_result_init(&r);
	if ((sp = read_message(c, file)) == NULL)
		return 1;
	if ((st = spool_stream(sp, &raw, &len, err, sizeof err)) == NULL ||
	    pipeline_run(c, st, raw, len, env, false, &r, err,
	    sizeof err) != 0) {
		(void)fprintf(stderr, "custos: %s: %s (the milter would "
		    "apply on_error = %s)\n", file, err,
		    c->on_error == ACTION_PASS ? "accept" :
		    action_name(c->on_error));
		goto out;
	}
	json_init(&j);
	report_json(&j, strcmp(file, "-") == 0 ? "(stdin)" : file, &r, c,
	    with_text);
	out = json_finish(&j, &len);
	(void)fwrite(out, 1, len, stdout);
	(void)fputc('\n', stdout);
	g_free(out);
	rc = 0;
out:
	if (st != NULL)
		g_object_unref(st);
	pipeline_result_clear(&r);
	spool_free(sp);
	return rc;
}

static int
cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "text", no_argument, NULL, 'T' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'R' },
		{ "auth", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = NULL;
	struct envelope env;
	struct conf *c;
	bool with_text = false;
	int ch, i, rc = 0;

	envelope_init(&env);
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1)
		switch (ch) {
		case 'c': config = optarg; break;
		case 'T': with_text = true; break;
		case 'F': (void)envelope_set_addr(&env.mail_from, optarg); break;
		case 'R': (void)envelope_add_rcpt(&env, optarg); break;
		case 'A': (void)envelope_set(&env.auth_user, optarg); break;
		case 'h': usage(stdout); envelope_clear(&env); return 0;
		default: usage(stderr); envelope_clear(&env); return 2;
		}
	if (optind == argc) {
		usage(stderr);
		envelope_clear(&env);
		return 2;
	}
	if ((c = load_config(config)) == NULL) {
		envelope_clear(&env);
		return EX_CONFIG;
	}
	message_init();
	for (i = optind; i < argc; i++)
		if (scan_one(c, argv[i], &env, with_text) != 0)
			rc = 1;
	(void)fflush(stdout);
	message_shutdown();
	conf_unref(c);
	envelope_clear(&env);
	return rc;
}

static int
cmd_compile(int argc, char **argv)
{
	const char *config = CONF_DEFAULT_PATH;
	struct listbuild_stats st;
	struct conf *c;
	char err[512];
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:")) != -1)
		switch (ch) {
		case 'c': config = optarg; break;
		default: usage(stderr); return 2;
		}
	/* The config alone: loading the engine would compile it already. */
	if ((c = conf_load(config, err, sizeof err)) == NULL) {
		(void)fprintf(stderr, "%s\n", err);
		return EX_CONFIG;
	}
	rc = listbuild_run(c, isatty(2), &st, err, sizeof err);
	if (rc != 0) {
		(void)fprintf(stderr, "custos compile: %s (the previous build, "
		    "if any, is untouched)\n", err);
		conf_unref(c);
		return 1;
	}
	(void)printf("%s: version %s\n"
	    "  %zu rows, %zu bad, %zu records\n"
	    "  %zu strong values, %zu weak values (%zu heads), %zu bytes\n"
	    "  %.2f s\n", c->database, st.version, st.rows, st.bad_rows,
	    st.records, st.strong_values, st.weak_values, st.weak_heads,
	    st.table_bytes, st.seconds);
	conf_unref(c);
	return 0;
}

static int
cmd_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = CONF_DEFAULT_PATH;
	struct conf *c;
	char err[512];
	size_t n = 10;
	bool json = false;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:n:", longopts, NULL)) != -1)
		switch (ch) {
		case 'c': config = optarg; break;
		case 'n': n = (size_t)strtoul(optarg, NULL, 10); break;
		case 'j': json = true; break;
		default: usage(stderr); return 2;
		}
	if ((c = conf_load(config, err, sizeof err)) == NULL) {
		(void)fprintf(stderr, "%s\n", err);
		return EX_CONFIG;
	}
	rc = stats_print(c, time(NULL), json, n, stdout, err, sizeof err);
	if (rc != 0)
		(void)fprintf(stderr, "custos stats: %s\n", err);
	conf_unref(c);
	return rc == 0 ? 0 : 1;
}

static int
cmd_check_config(int argc, char **argv)
{
	const char *config = CONF_DEFAULT_PATH;
	struct conf *c;
	int ch;

	while ((ch = getopt(argc, argv, "c:")) != -1)
		switch (ch) {
		case 'c': config = optarg; break;
		default: usage(stderr); return 2;
		}
	engine_verify_tables(true);
	if ((c = load_config(config)) == NULL)
		return 1;
	(void)printf("%s: configuration OK\n", config);
	conf_unref(c);
	return 0;
}

int
main(int argc, char **argv)
{
	log_open("custos", 1, 0);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0) {
		(void)printf("custos %s\n", CUSTOS_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	/* Subcommands parse their own options from argv[1] on. */
	if (strcmp(argv[1], "scan") == 0)
		return cmd_scan(argc - 1, argv + 1);
	if (strcmp(argv[1], "check-config") == 0)
		return cmd_check_config(argc - 1, argv + 1);
	if (strcmp(argv[1], "compile") == 0)
		return cmd_compile(argc - 1, argv + 1);
	if (strcmp(argv[1], "stats") == 0)
		return cmd_stats(argc - 1, argv + 1);
	if (strcmp(argv[1], "quarantine") == 0)
		return officer_quarantine(argc - 1, argv + 1);
	if (strcmp(argv[1], "incidents") == 0)
		return officer_incidents(argc - 1, argv + 1);
	(void)fprintf(stderr, "custos: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
