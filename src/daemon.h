/* daemon.h - process plumbing for custos-milter: privilege drop, pid file,
 * detaching, and the supervisor that owns the signals.
 *
 * Why a supervisor: libmilter's own signal thread treats SIGHUP as "stop",
 * but admins (and systemd's ExecReload) send SIGHUP to reload.  So the
 * process named in the pid file is a small supervisor: it turns SIGHUP
 * (and SIGUSR1) into SIGUSR1 for the worker, which reloads.  SIGTERM and
 * SIGINT become SIGUSR2 for the worker, which stops taking new messages,
 * lets those in flight finish (libmilter's own stop would cut them off),
 * then stops libmilter and exits; a second TERM stops it at once.  The
 * supervisor exits with the worker's status.
 *
 * Errors: -1 with text in err; the caller logs and exits. */
#ifndef CUSTOS_DAEMON_H
#define CUSTOS_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

/* Resolves "user" or "user:group".  Returns 0 or -1. */
int	daemon_lookup_user(const char *spec, uid_t *, gid_t *, char *err,
	    size_t errlen);
/* setgroups/setgid/setuid to the looked-up ids; refuses to stay root. */
int	daemon_drop_privileges(const char *spec, uid_t, gid_t, char *err,
	    size_t errlen);

/* Detaches from the terminal (fork, setsid, stdio to /dev/null). */
int	daemon_detach(char *err, size_t errlen);

/* Writes our pid to path (created 0644).  Returns 0 or -1. */
int	daemon_write_pidfile(const char *path, char *err, size_t errlen);

/* Blocks the signals the supervisor waits for; call before any thread
 * or fork, so the worker inherits the mask. */
void	daemon_block_signals(void);

/* Forks the worker, which runs worker_main() and exits with its value;
 * the parent waits and relays signals as described above, then returns
 * the worker's exit status (128+N if it died of signal N). */
int	daemon_supervise(int (*worker_main)(void *), void *arg);

#endif
