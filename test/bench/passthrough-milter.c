/* passthrough-milter.c - the smallest real libmilter filter: takes every
 * step custos takes (connect to end of message, body included) and accepts
 * everything.  The baseline for test/bench/run-milter.sh: what libmilter
 * and the socket cost before custos does any work.  Exits 1 on a bad
 * option or when libmilter will not start.
 *
 *   cc -O2 -o passthrough-milter passthrough-milter.c -lmilter -lpthread
 *   passthrough-milter -p unix:/tmp/pt.sock [-D] [-H] [-N]
 *
 * -D: keep the DATA step (no SMFIP_NODATA).  Postfix then waits for a
 * reply to DATA instead of leaving its DATA macros unanswered on the
 * socket, which over TCP costs a delayed ACK (~40 ms) per message.
 * -H: add a header at end of message, as custos does with add_header =
 * true (two replies to BODYEOB: SMFIR_ADDHEADER, then SMFIR_ACCEPT).
 * -N: ask for no replies to connect, HELO, MAIL, RCPT, headers, end of
 * headers and body chunks (SMFIP_NR_*), where the MTA offers it. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static int	opt_data, opt_header, opt_noreply;

static sfsistat
pt_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/* Like custos: skip the steps nobody looks at, keep the rest. */
	unsigned long want = SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_HDR_LEADSPC;

	(void)ctx;
	(void)f2;
	(void)f3;
	if (opt_data)
		want &= ~SMFIP_NODATA;
	if (opt_noreply)
		want |= SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
		    SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;
	*pf0 = f0 & SMFIF_ADDHDRS;
	*pf1 = f1 & want;
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

/* Every step but the last: nothing to do, as a filter that only looks at
 * the body would.  With -N the MTA reads no answer to them, and libmilter
 * wants SMFIS_NOREPLY (anything else is logged as an error, every step). */
static sfsistat
pt_step(void)
{
	return opt_noreply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
pt_conn(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx, (void)host, (void)addr;
	return pt_step();
}

static sfsistat
pt_str(SMFICTX *ctx, char *s)
{
	(void)ctx, (void)s;
	return pt_step();
}

static sfsistat
pt_argv(SMFICTX *ctx, char **argv)
{
	(void)ctx, (void)argv;
	return pt_step();
}

static sfsistat
pt_hdr(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx, (void)name, (void)value;
	return pt_step();
}

static sfsistat
pt_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return pt_step();
}

static sfsistat
pt_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx, (void)chunk, (void)len;
	return pt_step();
}

/* DATA (with -D), abort and close: answered, or no answer expected. */
static sfsistat
pt_ctx(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
pt_eom(SMFICTX *ctx)
{
	if (opt_header &&
	    smfi_addheader(ctx, "X-Passthrough", " ok") != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return SMFIS_ACCEPT;
}

static struct smfiDesc pt_desc = {
	.xxfi_name = "passthrough",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_connect = pt_conn,
	.xxfi_helo = pt_str,
	.xxfi_envfrom = pt_argv,
	.xxfi_envrcpt = pt_argv,
	.xxfi_header = pt_hdr,
	.xxfi_eoh = pt_eoh,
	.xxfi_body = pt_body,
	.xxfi_eom = pt_eom,
	.xxfi_abort = pt_ctx,
	.xxfi_close = pt_ctx,
	.xxfi_negotiate = pt_negotiate,
};

int
main(int argc, char **argv)
{
	const char *sock = NULL;
	int c;

	while ((c = getopt(argc, argv, "p:DHN")) != -1)
		switch (c) {
		case 'p': sock = optarg; break;
		case 'D': opt_data = 1; break;
		case 'H': opt_header = 1; break;
		case 'N': opt_noreply = 1; break;
		default: goto usage;
		}
	if (sock == NULL || optind != argc)
		goto usage;
	if (smfi_register(pt_desc) == MI_FAILURE ||
	    smfi_setconn((char *)sock) == MI_FAILURE ||
	    smfi_setbacklog(128) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		(void)fprintf(stderr, "passthrough-milter: cannot listen on %s\n",
		    sock);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
usage:
	(void)fprintf(stderr, "usage: passthrough-milter -p socket [-D] [-H] [-N]\n");
	return 1;
}
