/*
 * pool.h — a prefork pool for any FastCGI program, outside the web server
 * (the PHP-FPM way): one listening socket, N workers that each run the
 * program with that socket as their FastCGI listen socket (fd 0).
 */
#ifndef LK_POOL_H
#define LK_POOL_H

#include <stdbool.h>
#include <stddef.h>

#define LK_POOL_WORKERS_MAX	256
#define LK_POOL_STOP_GRACE	30	/* seconds a stopping worker may take before SIGKILL */

struct lk_pool {
	char		  bind[256];	/* what FCGX_OpenSocket gets: "127.0.0.1:9000" or a path */
	bool		  is_unix;
	unsigned int	  workers;
	int		  socket_mode;	/* mode a unix socket is created with; -1: the umask's */
	const char	 *pid_file;	/* NULL: none */
	char *const	 *argv;		/* the program and its arguments, NULL-terminated */
};

/*
 * Parse a --listen value: "unix:/absolute/path" or "HOST:PORT" with HOST an
 * IPv4 address or "localhost". A HOST outside 127.0.0.0/8 is refused unless
 * allow_remote (libfcgi has a known flaw with crafted records: never expose
 * the socket). Fills p->bind and p->is_unix; on false, why says what is wrong.
 */
bool	lk_pool_listen(struct lk_pool *p, const char *spec, bool allow_remote,
	    char *why, size_t whysz);

/*
 * Open the socket, write the pid file, start p->workers workers and supervise
 * them until SIGTERM or SIGINT:
 *   a worker that dies is replaced (at most one start a second while they keep dying);
 *   SIGHUP starts a new set of workers (a new exec: new binaries, new config),
 *   then asks the old ones to stop: each finishes the request it is serving;
 *   SIGTERM/SIGINT asks every worker to stop the same way, waits for all of them
 *   (SIGKILL after LK_POOL_STOP_GRACE s), removes the socket and the pid file.
 * Returns the process exit status (0 after a clean stop).
 */
int	lk_pool_run(const struct lk_pool *p);

#endif
