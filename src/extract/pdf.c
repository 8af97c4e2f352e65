/* pdf.c - the text of a PDF, page by page, read by poppler's pdftotext
 * in a child process.
 *
 * A PDF reader is a large parser of hostile input: it runs outside the
 * milter, under resource limits (address space pdf_memory, CPU
 * pdf_seconds, no file writes, few descriptors, no core), in its own
 * process group, with a wall-clock deadline of twice pdf_seconds after
 * which the group is killed.  The PDF reaches it as /dev/fd/3, an
 * anonymous memory file (memfd) or, where that is missing, an unlinked
 * temporary file in $TMPDIR or /var/tmp; its output comes back through
 * a pipe, counted against max_bytes as it arrives.
 *
 * pdftotext ends every page with a form feed, so asking for one page
 * more than max_pdf_pages tells whether the PDF is longer without a
 * second helper (pdfinfo): the extra page is dropped and "pdf-pages"
 * noted.  Each page becomes a segment, source `WHERE > page N`.
 *
 * Notes: "unsupported" (no helper), "encrypted" (a user password),
 * "time" (deadline or CPU limit), "damaged" (unreadable, crashed,
 * killed), "pdf-pages".  Text read before a failure is kept.
 *
 * Thread-safe: after fork() the child makes only async-signal-safe
 * calls before exec.  Errors: -1 only when out of memory. */
#include "config.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "extract/extract.h"
#include "fdio.h"

#define PDF_TYPE	"application/pdf"
#define PDF_NOFILE	32	/* descriptors the helper may hold */
#define PDF_ERRTAIL	1024	/* the end of its stderr is kept */
#define PDF_FD		3	/* where the child finds the PDF */
#define PDF_HIGHFD	10	/* parent's descriptors sit above 0..3 */

enum pdf_end { PDF_DONE, PDF_TIMEOUT, PDF_STOPPED, PDF_FAILED };

struct pdf_run {
	pid_t		 pid;
	int		 out, err;	/* pipes from the child, or -1 */
	unsigned char	*text;		/* its stdout */
	size_t		 len, cap;
	char		 tail[PDF_ERRTAIL];	/* the end of its stderr */
	size_t		 taillen;
	int		 status;
	bool		 reaped;
};

static int64_t
pdf_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CPU seconds of the helper; its wall clock gets twice that. */
static unsigned
pdf_secs(const struct extract_limits *l)
{
	return l->pdf_seconds > 0 ? l->pdf_seconds : 1;
}

static void
pdf_close(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

/* Moves fd above PDF_HIGHFD, close-on-exec, so the child's dup2() onto
 * 0..3 always makes a fresh, inheritable descriptor. */
static int
pdf_high(int fd)
{
	int h;

	if (fd < 0)
		return -1;
	h = fcntl(fd, F_DUPFD_CLOEXEC, PDF_HIGHFD);
	(void)close(fd);
	return h;
}

/* A descriptor holding data for the child, and the name it opens it by
 * (path, pathlen).  *tmp is set when path is a file to unlink after the
 * run.  -1 when neither a memfd nor a temporary file could be made. */
static int
pdf_input(const unsigned char *data, size_t len, char *path, size_t pathlen,
    bool *tmp)
{
	const char *dir;
	int fd = -1;

	*tmp = false;
#ifdef MFD_CLOEXEC
	/* /dev/fd/N of a memfd opens the memfd itself (through /proc);
	 * without /proc it would not, so check that it is there. */
	if (access("/dev/fd/", X_OK) == 0)
		fd = memfd_create("custos-pdf", MFD_CLOEXEC);
#endif
	if (fd >= 0) {
		(void)snprintf(path, pathlen, "/dev/fd/%d", PDF_FD);
	} else {
		if ((dir = getenv("TMPDIR")) == NULL || *dir != '/')
			dir = "/var/tmp";
		(void)snprintf(path, pathlen, "%s/custos-pdf.XXXXXX", dir);
		/* mode 0600; close-on-exec at once, as other threads
		 * may fork */
		if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
			return -1;
		*tmp = true;
	}
	if (fd_write_all(fd, data, len) != 0 || (fd = pdf_high(fd)) < 0) {
		if (fd >= 0)
			(void)close(fd);
		if (*tmp)
			(void)unlink(path);
		return -1;
	}
	return fd;
}

/* The child, between fork and exec: async-signal-safe calls only. */
static void
pdf_child(const char *prog, char *const argv[], char *const envp[], int in,
    int out, int err, int devnull, int maxfd, const struct extract_limits *l)
{
	struct sigaction sa;
	struct rlimit rl;
	sigset_t none;
	int fd, sig;

	(void)setpgid(0, 0);
	/* Ignored signals stay ignored across exec, and the milter's
	 * threads block some: the helper gets the defaults. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
	    dup2(in, PDF_FD) < 0)
		_exit(127);
	/* Descriptors the milter opened without close-on-exec (its
	 * socket, connections) must not reach the helper. */
#ifdef SYS_close_range
	if (syscall(SYS_close_range, PDF_FD + 1, ~0U, 0) != 0)
#endif
		for (fd = PDF_FD + 1; fd < maxfd; fd++)
			(void)close(fd);

	if (l->pdf_memory > 0) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)l->pdf_memory;
		(void)setrlimit(RLIMIT_AS, &rl);
	}
	rl.rlim_cur = pdf_secs(l);
	rl.rlim_max = (rlim_t)pdf_secs(l) + 1;	/* SIGXCPU first */
	(void)setrlimit(RLIMIT_CPU, &rl);
	rl.rlim_cur = rl.rlim_max = 0;
	(void)setrlimit(RLIMIT_FSIZE, &rl);
	(void)setrlimit(RLIMIT_CORE, &rl);
	rl.rlim_cur = rl.rlim_max = PDF_NOFILE;
	(void)setrlimit(RLIMIT_NOFILE, &rl);

	(void)execve(prog, argv, envp);
	_exit(127);
}

/* Starts the helper on descriptor in.  0, or -1 (errno) when it could
 * not be started. */
static int
pdf_start(struct pdf_run *r, const struct extract_limits *l, int in,
    const char *path)
{
	static char *const envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
	char pages[24], *argv[10];
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, devnull, maxfd, saved;
	sigset_t all, old;
	struct rlimit rl;
	pid_t pid;

	(void)snprintf(pages, sizeof pages, "%lu",
	    (unsigned long)l->max_pdf_pages + 1);
	argv[0] = (char *)l->pdftotext;
	argv[1] = "-enc";
	argv[2] = "UTF-8";
	argv[3] = "-f";
	argv[4] = "1";
	argv[5] = "-l";
	argv[6] = pages;
	argv[7] = (char *)path;
	argv[8] = "-";
	argv[9] = NULL;
	/* getrlimit is not async-signal-safe: ask before fork. */
	maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (1u << 20) ?
	    (int)rl.rlim_cur : (1 << 20);

	devnull = pdf_high(open("/dev/null", O_RDONLY | O_CLOEXEC));
	if (devnull < 0 || pipe2(op, O_CLOEXEC) != 0 ||
	    pipe2(ep, O_CLOEXEC) != 0)
		goto fail;
	if ((op[1] = pdf_high(op[1])) < 0 || (ep[1] = pdf_high(ep[1])) < 0)
		goto fail;

	/* No signal handler of the milter may run in the child. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		pdf_child(l->pdftotext, argv, envp, in, op[1], ep[1], devnull,
		    maxfd, l);
	saved = errno;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		errno = saved;
		goto fail;
	}
	(void)setpgid(pid, pid);	/* either of us may win the race */
	(void)close(devnull);
	(void)close(op[1]);
	(void)close(ep[1]);
	r->pid = pid;
	r->out = op[0];
	r->err = ep[0];
	(void)fcntl(r->out, F_SETFL, O_NONBLOCK);
	(void)fcntl(r->err, F_SETFL, O_NONBLOCK);
	return 0;
fail:
	saved = errno;
	pdf_close(&devnull);
	pdf_close(&op[0]);
	pdf_close(&op[1]);
	pdf_close(&ep[0]);
	pdf_close(&ep[1]);
	errno = saved;
	return -1;
}

static void
pdf_tail(struct pdf_run *r, const char *p, size_t n)
{
	if (n >= sizeof r->tail) {
		memcpy(r->tail, p + n - sizeof r->tail, sizeof r->tail);
		r->taillen = sizeof r->tail;
		return;
	}
	if (r->taillen + n > sizeof r->tail) {
		size_t drop = r->taillen + n - sizeof r->tail;

		memmove(r->tail, r->tail + drop, r->taillen - drop);
		r->taillen -= drop;
	}
	memcpy(r->tail + r->taillen, p, n);
	r->taillen += n;
}

/* Reads what is ready on one pipe.  0 goes on, 1 budget spent (stop),
 * -1 out of memory. */
static int
pdf_drain(struct extract *ex, struct pdf_run *r, int *fd, bool is_out,
    const char *where)
{
	char buf[16384];
	unsigned char *t;
	ssize_t n;

	for (;;) {
		n = read(*fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			pdf_close(fd);
			return 0;
		}
		if (!is_out) {
			pdf_tail(r, buf, (size_t)n);
			continue;
		}
		if (extract_take(ex, (size_t)n, where) != 0)
			return 1;
		if (r->len + (size_t)n > r->cap) {
			size_t cap = r->cap ? r->cap : 65536;

			while (cap < r->len + (size_t)n)
				cap *= 2;
			if ((t = realloc(r->text, cap)) == NULL)
				return -1;
			r->text = t;
			r->cap = cap;
		}
		memcpy(r->text + r->len, buf, (size_t)n);
		r->len += (size_t)n;
	}
}

static void
pdf_kill(struct pdf_run *r)
{
	if (r->reaped)
		return;
	(void)kill(-r->pid, SIGKILL);
	(void)kill(r->pid, SIGKILL);	/* if setpgid lost */
	while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
		;
	r->reaped = true;
}

/* Reaps the child if it has ended; true when it has. */
static bool
pdf_reap(struct pdf_run *r)
{
	pid_t p;

	if (r->reaped)
		return true;
	while ((p = waitpid(r->pid, &r->status, WNOHANG)) < 0 &&
	    errno == EINTR)
		;
	if (p == 0)
		return false;
	if (p < 0)	/* ECHILD: someone ignores SIGCHLD; trust the pipes */
		r->status = 0;
	r->reaped = true;
	return true;
}

/* Collects output until the child ends, the deadline passes, the budget
 * is spent or the message's time is up; the child is reaped in every
 * case.  -1 only when out of memory. */
static int
pdf_collect(struct extract *ex, struct pdf_run *r, const char *where,
    enum pdf_end *end)
{
	int64_t deadline = pdf_now_ms() + 2000 * (int64_t)pdf_secs(ex->lim);
	struct pollfd pfd[2];
	int64_t left;
	nfds_t n;
	int rc;

	*end = PDF_DONE;
	for (;;) {
		if (extract_stopped(ex, where)) {
			*end = PDF_STOPPED;
			break;
		}
		if ((left = deadline - pdf_now_ms()) <= 0) {
			*end = PDF_TIMEOUT;
			break;
		}
		if (r->out < 0 && r->err < 0) {
			/* Output closed: wait for the exit itself. */
			if (pdf_reap(r))
				break;
			(void)poll(NULL, 0, left < 10 ? (int)left : 10);
			continue;
		}
		n = 0;
		if (r->out >= 0) {
			pfd[n].fd = r->out;
			pfd[n++].events = POLLIN;
		}
		if (r->err >= 0) {
			pfd[n].fd = r->err;
			pfd[n++].events = POLLIN;
		}
		/* Wake up now and then to look at the message's clock. */
		if (poll(pfd, n, left < 200 ? (int)left : 200) < 0 &&
		    errno != EINTR) {
			*end = PDF_FAILED;
			break;
		}
		if (r->out >= 0 && (rc = pdf_drain(ex, r, &r->out, true,
		    where)) != 0) {
			if (rc < 0) {
				pdf_kill(r);
				return -1;
			}
			*end = PDF_STOPPED;
			break;
		}
		if (r->err >= 0)
			(void)pdf_drain(ex, r, &r->err, false, where);
	}
	pdf_kill(r);	/* no-op when reaped */
	return 0;
}

/* Gives the pages to the sink: text up to each form feed is a page;
 * pages past max_pdf_pages are dropped (pdf-pages).  0, 1 stop, -1. */
static int
pdf_pages(struct extract *ex, const struct extract_file *f,
    const unsigned char *t, size_t len)
{
	const unsigned char *end, *ff;
	unsigned page = 0;
	size_t n, i;
	char *src;
	int rc = 0;

	if (len == 0)
		return 0;	/* t may be NULL */
	end = t + len;
	while (t < end && rc == 0) {
		if ((ff = memchr(t, '\f', (size_t)(end - t))) == NULL)
			ff = end;	/* a last page cut short */
		n = (size_t)(ff - t);
		if (++page > ex->lim->max_pdf_pages)
			return extract_note(ex, "pdf-pages", f->where);
		for (i = 0; i < n && g_ascii_isspace(t[i]); i++)
			;
		if (i < n) {
			src = g_strdup_printf("%s > page %u", f->where, page);
			if (g_utf8_validate((const char *)t, (gssize)n, NULL))
				rc = extract_text(ex, src, PDF_TYPE,
				    (const char *)t, n);
			else	/* cut mid-character when killed */
				rc = extract_text_bytes(ex, src, PDF_TYPE,
				    "UTF-8", t, n);
			g_free(src);
		}
		t = ff + 1;
	}
	return rc;
}

/* Why the helper's run gave no (or partial) text: a note's reason, or
 * NULL when it went well. */
static const char *
pdf_verdict(const struct pdf_run *r, enum pdf_end end)
{
	int st = r->status;

	if (end == PDF_STOPPED)
		return NULL;	/* the budget's or the clock's note is in */
	if (end == PDF_TIMEOUT)
		return "time";
	if (end == PDF_FAILED)
		return "damaged";
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGXCPU ? "time" : "damaged";
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 0)
		return NULL;
	/* pdftotext: 1 cannot open (a password, or damage), 3 copying
	 * not permitted (only with ENFORCE_PERMISSIONS builds). */
	if ((WEXITSTATUS(st) == 1 && memmem(r->tail, r->taillen,
	    "Incorrect password", 18) != NULL) || WEXITSTATUS(st) == 3)
		return "encrypted";
	if (WEXITSTATUS(st) == 127 && r->len == 0)
		return "unsupported";	/* exec failed */
	return "damaged";
}

int
extract_pdf(struct extract *ex, const struct extract_file *f)
{
	struct pdf_run r;
	enum pdf_end end;
	char path[PATH_MAX];
	const char *why;
	bool tmp;
	int in, rc = -1;

	memset(&r, 0, sizeof r);
	r.out = r.err = -1;
	if (ex->lim->pdftotext == NULL || *ex->lim->pdftotext != '/' ||
	    access(ex->lim->pdftotext, X_OK) != 0)
		return extract_note(ex, "unsupported", f->where) < 0 ? -1 : 1;
	if ((in = pdf_input(f->data, f->len, path, sizeof path, &tmp)) < 0)
		return errno == ENOMEM ? -1 : extract_note(ex, "unsupported",
		    f->where) < 0 ? -1 : 1;
	if (pdf_start(&r, ex->lim, in, path) != 0) {
		rc = errno == ENOMEM ? -1 : extract_note(ex, "unsupported",
		    f->where) < 0 ? -1 : 1;
		goto out;
	}
	if (pdf_collect(ex, &r, f->where, &end) != 0)
		goto out;
	if (pdf_pages(ex, f, r.text, r.len) < 0)
		goto out;
	if ((why = pdf_verdict(&r, end)) != NULL &&
	    extract_note(ex, why, f->where) != 0)
		goto out;
	rc = 1;
out:
	pdf_close(&r.out);
	pdf_close(&r.err);
	(void)close(in);
	if (tmp)
		(void)unlink(path);
	free(r.text);
	return rc;
}
