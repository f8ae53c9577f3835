/*
 * latchkey-pool — run any latchkey program (or any FastCGI program) as a
 * prefork pool outside the web server:
 *   latchkey-pool --listen 127.0.0.1:9000|unix:/path [--workers 4]
 *       [--socket-mode 0660] [--pid-file FILE] [--allow-remote] -- PROGRAM [ARGS]
 * The workers inherit the environment (LATCHKEY_CONF, LATCHKEY_AUTHZ_SCOPES).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

static const char usage_text[] =
"usage: latchkey-pool --listen ADDR [--workers N] [--socket-mode MODE]\n"
"                     [--pid-file FILE] [--allow-remote] -- PROGRAM [ARGS...]\n"
"\n"
"  --listen ADDR        unix:/absolute/path or 127.0.0.1:PORT (loopback only unless\n"
"                       --allow-remote)\n"
"  --workers N          prefork workers, 1-256 (default 4)\n"
"  --socket-mode MODE   octal permissions of a unix socket (e.g. 0660)\n"
"  --pid-file FILE      write the pool's pid there (removed on exit)\n"
"\n"
"Signals: SIGHUP starts new workers and retires the old ones after their current\n"
"request; SIGTERM/SIGINT stop every worker the same way, then the pool.\n";

static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "latchkey-pool: %s\n\n", why);
	fputs(usage_text, stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "allow-remote", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lk_pool	 pool = { .workers = 4, .socket_mode = -1 };
	const char	*listen = NULL;
	char		 why[256], *end;
	bool		 remote = false;
	long		 n;
	int		 c;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1)
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'w':
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > LK_POOL_WORKERS_MAX)
				return usage("--workers takes a number from 1 to 256");
			pool.workers = (unsigned int)n;
			break;
		case 'm':
			n = strtol(optarg, &end, 8);
			if (*end != '\0' || n < 0 || n > 0777)
				return usage("--socket-mode takes octal permissions such as 0660");
			pool.socket_mode = (int)n;
			break;
		case 'p':
			pool.pid_file = optarg;
			break;
		case 'r':
			remote = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return usage(NULL);
		}
	if (listen == NULL)
		return usage("--listen is required");
	if (optind >= argc)
		return usage("no program given (after --)");
	if (!lk_pool_listen(&pool, listen, remote, why, sizeof(why)))
		return usage(why);
	pool.argv = argv + optind;
	return lk_pool_run(&pool);
}
