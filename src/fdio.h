/* fdio.h - writes that finish, and SIGPIPE held off while a thread
 * talks to a peer that may have gone away.
 *
 * Every module that writes a file (the spool, the audit log, the list
 * table, the quarantine store, pdftotext's input) wants a write that
 * goes on after EINTR and short writes; every module that talks to
 * Redis through hiredis (which writes with write(2)) must not let a
 * closed connection's SIGPIPE kill the gateway.
 *
 * Thread-safe: fd_sigpipe_* act on the calling thread's mask only. */
#ifndef CUSTOS_FDIO_H
#define CUSTOS_FDIO_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* Writes all of buf, in pieces of at most 1 GiB (Linux writes at most
 * about 2 GiB a call).  0, or -1 with errno. */
int	fd_write_all(int fd, const void *buf, size_t len);

/* The calling thread's mask before fd_sigpipe_block, and whether a
 * SIGPIPE was already pending (it is not ours to swallow). */
struct fd_sigpipe {
	sigset_t	 old;
	bool		 was_pending;
};

/* Blocks SIGPIPE in this thread. */
void	fd_sigpipe_block(struct fd_sigpipe *);
/* Drops a SIGPIPE raised since the block, restores the mask. */
void	fd_sigpipe_restore(struct fd_sigpipe *);

#endif
