/* fdio.c - writes that finish; SIGPIPE held off (see fdio.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"

#define FD_WRITE_MAX	((size_t)1 << 30)

int
fd_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len < FD_WRITE_MAX ? len : FD_WRITE_MAX);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static bool
fd_sigpipe_pending(void)
{
	sigset_t pend;

	return sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1;
}

void
fd_sigpipe_block(struct fd_sigpipe *sp)
{
	sigset_t set;

	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGPIPE);
	(void)pthread_sigmask(SIG_BLOCK, &set, &sp->old);
	sp->was_pending = fd_sigpipe_pending();
}

void
fd_sigpipe_restore(struct fd_sigpipe *sp)
{
	sigset_t set;
	struct timespec zero = { 0, 0 };

	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGPIPE);
	/* One we raised is pending now: take it, or unblocking would
	 * deliver it. */
	if (!sp->was_pending && fd_sigpipe_pending())
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	(void)pthread_sigmask(SIG_SETMASK, &sp->old, NULL);
}
