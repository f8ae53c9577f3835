/* pool.c — prefork supervisor: one socket, N exec'd workers, restart, SIGHUP reload, SIGTERM stop. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "base/log.h"
#include "pool.h"

#define SLOTS	(LK_POOL_WORKERS_MAX * 4)	/* current workers + ones still finishing after reloads */

struct slot {
	pid_t		 pid;	/* 0: free */
	unsigned int	 gen;
	time_t		 started;
};

bool
lk_pool_listen(struct lk_pool *p, const char *spec, bool allow_remote, char *why,
    size_t whysz)
{
	struct in_addr	 a;
	const char	*colon;
	char		 host[64], *end;
	unsigned long	 port;

	if (strncmp(spec, "unix:", 5) == 0) {
		if (spec[5] != '/' || strlen(spec + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(why, whysz, "unix:PATH needs an absolute path shorter than 108 bytes");
			return false;
		}
		snprintf(p->bind, sizeof(p->bind), "%s", spec + 5);
		p->is_unix = true;
		return true;
	}
	if ((colon = strrchr(spec, ':')) == NULL || (size_t)(colon - spec) >= sizeof(host)) {
		snprintf(why, whysz, "--listen takes unix:/PATH or HOST:PORT (e.g. 127.0.0.1:9000)");
		return false;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    port < 1 || port > 65535) {
		snprintf(why, whysz, "bad port in '%s'", spec);
		return false;
	}
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &a) != 1) {
		snprintf(why, whysz, "HOST must be an IPv4 address or localhost, not '%s'", host);
		return false;
	}
	if ((ntohl(a.s_addr) >> 24) != 127 && !allow_remote) {
		snprintf(why, whysz, "%s is not a loopback address: FastCGI sockets must not "
		    "be reachable from other hosts (give --allow-remote to insist)", host);
		return false;
	}
	snprintf(p->bind, sizeof(p->bind), "%s:%lu", host, port);
	p->is_unix = false;
	return true;
}

/* True if something already accepts connections on the unix socket path. */
static bool
unix_in_use(const char *path)
{
	struct sockaddr_un	 sa;
	int			 fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

static pid_t
spawn(const struct lk_pool *p, int fd, const sigset_t *mask)
{
	pid_t	 parent = getpid(), pid;

	if ((pid = fork()) != 0) {
		if (pid < 0)
			lk_log_err("pool: fork: %s", strerror(errno));
		return pid < 0 ? 0 : pid;
	}
	/* The worker: default signals, dies with the pool, the socket as fd 0 (FCGI_LISTENSOCK_FILENO). */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
	if (fd != 0 && (dup2(fd, 0) < 0 || close(fd) < 0))
		_exit(126);
	execv(p->argv[0], p->argv);
	lk_log_err("pool: cannot run %s: %s", p->argv[0], strerror(errno));
	_exit(127);
}

static void
signal_gen(struct slot *s, int sig, unsigned int below_gen)
{
	int i;

	for (i = 0; i < SLOTS; i++)
		if (s[i].pid != 0 && s[i].gen < below_gen)
			kill(s[i].pid, sig);
}

static void
write_pid_file(const char *path)
{
	FILE *f;

	if (path == NULL)
		return;
	if ((f = fopen(path, "w")) == NULL) {
		lk_log_err("pool: cannot write pid file %s: %s", path, strerror(errno));
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

int
lk_pool_run(const struct lk_pool *p)
{
	static struct slot	 s[SLOTS];
	struct timespec		 tick = { 1, 0 };
	sigset_t		 set, orig;
	unsigned int		 gen = 0, live, cur;
	time_t			 now, stop_at = 0, last_death = 0;
	bool			 stopping = false, killed = false, retire = false;
	int			 fd, err, sig, status, i;
	mode_t			 mask;
	pid_t			 pid;

	if (access(p->argv[0], X_OK) != 0) {
		lk_log_err("pool: %s is not an executable program", p->argv[0]);
		return 1;
	}
	if (p->is_unix && unix_in_use(p->bind)) {
		lk_log_err("pool: %s is in use by a running server", p->bind);
		return 1;
	}
	/*
	 * bind() creates a unix socket with mode 0777 & ~umask: with the umask
	 * the mode asks for, the socket never exists with more permissions
	 * (no window between bind and a chmod). The workers get the old umask.
	 */
	mask = umask(0);
	umask(p->is_unix && p->socket_mode >= 0 ? (mode_t)(0777 & ~p->socket_mode) : mask);
	fd = FCGX_Init() == 0 ? FCGX_OpenSocket(p->bind, 128) : -1;
	err = errno;
	umask(mask);
	if (fd < 0) {
		lk_log_err("pool: cannot listen on %s: %s", p->bind, strerror(err));
		return 1;
	}
	write_pid_file(p->pid_file);

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &orig);
	lk_log_info("pool: %u workers of %s on %s%s", p->workers, p->argv[0],
	    p->is_unix ? "unix:" : "", p->bind);

	for (;;) {
		now = time(NULL);
		/* Keep the current generation at full strength (slowly while workers keep dying). */
		for (cur = 0, i = 0; i < SLOTS; i++)
			cur += s[i].pid != 0 && s[i].gen == gen;
		for (i = 0; !stopping && cur < p->workers && i < SLOTS; i++) {
			if (s[i].pid != 0)
				continue;
			if (last_death != 0 && now - last_death < 1)
				break;
			if ((s[i].pid = spawn(p, fd, &orig)) == 0)
				break;
			s[i].gen = gen;
			s[i].started = now;
			cur++;
		}
		/* After a reload the old workers go once the new ones exist (the backlog holds requests meanwhile). */
		if (retire) {
			signal_gen(s, SIGTERM, gen);
			retire = false;
		}
		sig = sigtimedwait(&set, NULL, &tick);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < SLOTS; i++) {
				if (s[i].pid != pid)
					continue;
				if (!stopping && s[i].gen == gen) {
					lk_log_err("pool: worker %ld %s %d; starting another", (long)pid,
					    WIFSIGNALED(status) ? "killed by signal" : "exited with",
					    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
					if (time(NULL) - s[i].started < 1)
						last_death = time(NULL);
				}
				s[i].pid = 0;
			}
		if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
			lk_log_info("pool: stopping (workers finish their current request)");
			stopping = true;
			stop_at = time(NULL);
			signal_gen(s, SIGTERM, gen + 1);
		} else if (sig == SIGHUP && !stopping) {
			lk_log_info("pool: reload: new workers, the old ones finish their current request");
			gen++;
			last_death = 0;
			retire = true;
		}
		if (!stopping)
			continue;
		for (live = 0, i = 0; i < SLOTS; i++)
			live += s[i].pid != 0;
		if (live == 0)
			break;
		if (!killed && time(NULL) - stop_at >= LK_POOL_STOP_GRACE) {
			lk_log_err("pool: %u workers still busy after %d s: SIGKILL", live,
			    LK_POOL_STOP_GRACE);
			signal_gen(s, SIGKILL, gen + 1);
			killed = true;
		}
	}
	close(fd);
	if (p->is_unix)
		unlink(p->bind);
	if (p->pid_file != NULL)
		unlink(p->pid_file);
	lk_log_info("pool: stopped");
	return 0;
}
