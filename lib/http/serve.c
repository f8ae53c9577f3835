/* serve.c — config and database once, then accept → parse → handle → respond → free. */
#define _GNU_SOURCE	/* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <jansson.h>
#include <malloc.h>

#include "base/crypto.h"
#include "base/kcache.h"
#include "base/log.h"
#include "http/resp.h"
#include "http/serve.h"

static bool			conf_ok;
static char			conf_err[512];	/* why the config did not load, for every request's log */
static volatile sig_atomic_t	stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Wait for a connection on the FastCGI listen socket (fd 0). The stop signals
 * (SIGTERM, SIGINT, SIGHUP) are blocked everywhere else, so a worker asked to
 * stop finishes the request it is serving and leaves here, never mid-request.
 * False once asked to stop.
 */
static bool
wait_for_connection(const sigset_t *open)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };

	while (!stopping)
		if (ppoll(&p, 1, NULL, open) > 0)
			return true;
	return false;
}

/* Block the stop signals (delivered only inside wait_for_connection); open gets the mask to wait with. */
static void
stop_signals(sigset_t *open)
{
	struct sigaction	 sa;
	sigset_t		 set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, open);
	sigdelset(open, SIGTERM);
	sigdelset(open, SIGINT);
	sigdelset(open, SIGHUP);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/*
 * Jansson's free: wipe before freeing, so a plaintext key that passed
 * through a JSON string does not linger in freed heap memory.
 */
static void
wiping_free(void *p)
{
	if (p != NULL) {
		lk_crypto_wipe(p, malloc_usable_size(p));
		free(p);
	}
}

static void
handle(FCGX_Request *fcgx, const struct lk_conf *conf, struct lk_db *db,
    lk_handler_fn handler, const char *base)
{
	struct lk_req	 req;
	enum lk_err	 e;

	/*
	 * A broken config still answers (503), so clients never see a dead
	 * backend; the reason is logged again under this request's id.
	 */
	if ((e = lk_req_init_at(&req, fcgx, conf, db, base)) == LK_OK && !conf_ok) {
		lk_log_err("configuration: %s", conf_err);
		e = LK_ERR_UNAVAILABLE;
	} else if (e == LK_OK)
		e = handler(&req);
	/* The change is committed: drop its verify cache entries again before the answer leaves. */
	lk_kcache_settle();
	if (e != LK_OK)
		lk_resp_error(&req, e);
	else if (!req.responded)
		lk_resp_error(&req, LK_ERR_INTERNAL);
	lk_req_free(&req);
}

int
lk_serve(lk_handler_fn handler)
{
	return lk_serve_at(handler, "");
}

int
lk_serve_at(lk_handler_fn handler, const char *base)
{
	static struct lk_conf	 conf;
	struct lk_db		*db;
	FCGX_Request		 fcgx;
	sigset_t		 open;
	int			 rc;

	signal(SIGPIPE, SIG_IGN);
	json_set_alloc_funcs(malloc, wiping_free);
	conf_ok = lk_conf_load_env(&conf, conf_err, sizeof(conf_err)) == LK_OK;
	if (!conf_ok)
		lk_log_err("configuration: %s", conf_err);
	if ((db = lk_db_open(conf_ok ? &conf : NULL)) == NULL)
		return 1;
	if (base != NULL && *base == '\0')	/* lk_serve: the config's base_path */
		base = conf.base_path;
	if (FCGX_IsCGI()) {
		handle(NULL, &conf, db, handler, base);
		fflush(stdout);
		lk_kcache_run_deferred();
		lk_db_close(db);
		return 0;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgx, 0, 0) != 0) {
		lk_log_err("FastCGI initialisation failed");
		return 1;
	}
	/*
	 * Several processes may share the listen socket (latchkey-pool): all wake
	 * up, one gets the connection, the others see EAGAIN and wait again.
	 */
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	stop_signals(&open);
	while (wait_for_connection(&open)) {
		if ((rc = FCGX_Accept_r(&fcgx)) < 0) {
			if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR ||
			    rc == -ECONNABORTED)
				continue;
			lk_log_err("FastCGI accept failed: %s", strerror(-rc));
			break;
		}
		handle(&fcgx, &conf, db, handler, base);
		FCGX_Finish_r(&fcgx);
		lk_kcache_run_deferred();	/* the answer has left: the cache's routine sync */
	}
	lk_db_close(db);
	return 0;
}
