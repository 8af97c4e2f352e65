/* daemon.c - privileges, pid file, detaching, supervisor (see daemon.h).
 * Owns nothing.  Errors: -1 with err text; never exits except in the
 * forked worker. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

int
daemon_lookup_user(const char *spec, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	char name[256], *colon;
	struct passwd *pw;
	struct group *gr;

	if (snprintf(name, sizeof name, "%s", spec) >= (int)sizeof name) {
		(void)snprintf(err, errlen, "user name too long");
		return -1;
	}
	if ((colon = strchr(name, ':')) != NULL)
		*colon++ = '\0';
	if ((pw = getpwnam(name)) == NULL) {
		(void)snprintf(err, errlen, "no such user: %s", name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (colon != NULL && *colon != '\0') {
		if ((gr = getgrnam(colon)) == NULL) {
			(void)snprintf(err, errlen, "no such group: %s", colon);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

int
daemon_drop_privileges(const char *spec, uid_t uid, gid_t gid, char *err,
    size_t errlen)
{
	char name[256], *colon;

	(void)snprintf(name, sizeof name, "%s", spec);
	if ((colon = strchr(name, ':')) != NULL)
		*colon = '\0';
	if (initgroups(name, gid) != 0 || setgid(gid) != 0 ||
	    setuid(uid) != 0) {
		(void)snprintf(err, errlen, "cannot become %s: %s", spec,
		    strerror(errno));
		return -1;
	}
	/* A setuid that "worked" but left us able to get root back is a
	 * failure too. */
	if (uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		(void)snprintf(err, errlen, "could not drop root privileges");
		return -1;
	}
	return 0;
}

int
daemon_detach(char *err, size_t errlen)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0) {
		(void)snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	if (setsid() < 0) {
		(void)snprintf(err, errlen, "setsid: %s", strerror(errno));
		return -1;
	}
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		(void)dup2(fd, 0);
		(void)dup2(fd, 1);
		(void)dup2(fd, 2);
		if (fd > 2)
			(void)close(fd);
	}
	(void)chdir("/");
	return 0;
}

int
daemon_write_pidfile(const char *path, char *err, size_t errlen)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL) {
		(void)snprintf(err, errlen, "pid file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	(void)fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0) {
		(void)snprintf(err, errlen, "pid file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
daemon_signal_set(sigset_t *set)
{
	(void)sigemptyset(set);
	(void)sigaddset(set, SIGHUP);
	(void)sigaddset(set, SIGUSR1);
	(void)sigaddset(set, SIGUSR2);
	(void)sigaddset(set, SIGTERM);
	(void)sigaddset(set, SIGINT);
	(void)sigaddset(set, SIGCHLD);
}

void
daemon_block_signals(void)
{
	sigset_t set;

	daemon_signal_set(&set);
	(void)sigprocmask(SIG_BLOCK, &set, NULL);
}

static int
daemon_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int
daemon_supervise(int (*worker_main)(void *), void *arg)
{
	sigset_t set;
	siginfo_t si;
	pid_t worker, parent = getpid();
	int status, stopping = 0;

	daemon_signal_set(&set);
	if ((worker = fork()) < 0) {
		log_err("fork: %s", strerror(errno));
		return 1;
	}
	if (worker == 0) {
		sigset_t chld;

		/* If the supervisor is killed outright, do not linger
		 * holding the socket. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		(void)sigemptyset(&chld);
		(void)sigaddset(&chld, SIGCHLD);
		(void)sigprocmask(SIG_UNBLOCK, &chld, NULL);
		exit(worker_main(arg));
	}
	for (;;) {
		if (sigwaitinfo(&set, &si) < 0) {
			if (errno == EINTR)
				continue;
			log_err("sigwaitinfo: %s", strerror(errno));
			(void)kill(worker, SIGTERM);
			stopping = 1;
			continue;
		}
		switch (si.si_signo) {
		case SIGHUP:
		case SIGUSR1:
			log_info("reload requested (signal %d)", si.si_signo);
			(void)kill(worker, SIGUSR1);
			break;
		case SIGTERM:
		case SIGINT:
			/* A second TERM means "now": libmilter's own stop. */
			if (stopping) {
				(void)kill(worker, SIGTERM);
				break;
			}
			log_info("stopping: finishing messages in flight");
			stopping = 1;
			(void)kill(worker, SIGUSR2);
			break;
		case SIGCHLD:
			if (waitpid(worker, &status, WNOHANG) != worker)
				break;
			if (stopping)
				return daemon_status(status);
			/* Never report an unasked-for stop as success: a
			 * service manager must restart us. */
			log_err("worker exited unexpectedly (status %d)",
			    daemon_status(status));
			return daemon_status(status) ? daemon_status(status) :
			    EX_SOFTWARE;
		}
	}
}
