/*
 * latchkey-deliver — the webhook delivery worker: claims due messages from
 * the outbox (webhook_messages), posts them signed per Standard Webhooks,
 * records each outcome, and waits webhook_poll_ms when nothing is due.
 *   latchkey-deliver [--config FILE] [--once] [--batch N]
 * Any number may run, on any hosts sharing the database: each message is
 * claimed by one worker at a time (a lease of webhook_lease seconds; a worker
 * killed mid-delivery loses nothing, the message is due again after it).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/conf.h"
#include "base/db.h"
#include "base/log.h"
#include "model/webhooks.h"

static const char usage_text[] =
"usage: latchkey-deliver [--config FILE] [--once] [--batch N]\n"
"\n"
"  --config FILE  the latchkey config (default $LATCHKEY_CONF)\n"
"  --once         one pass over the due messages, then exit (for cron)\n"
"  --batch N      messages claimed at a time, 1-100 (default 10)\n"
"\n"
"SIGTERM/SIGINT: finish the message being delivered, then exit.\n";

static volatile sig_atomic_t stop;

static void
on_stop(int sig __attribute__((unused)))
{
	stop = 1;
}

static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "latchkey-deliver: %s\n\n", why);
	fputs(usage_text, stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct lk_conf	 conf;
	struct sigaction	 sa = { .sa_handler = on_stop };
	struct lk_db		*db;
	const char		*path = NULL;
	char			 err[512], *end;
	bool			 once = false;
	long			 batch = 10;
	int			 c, done = 0;
	enum lk_err		 e = LK_OK;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			once = true;
			break;
		case 'b':
			batch = strtol(optarg, &end, 10);
			if (*end != '\0' || batch < 1 || batch > 100)
				return usage("--batch takes a number from 1 to 100");
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return usage(NULL);
		}
	if (optind != argc)
		return usage("unexpected argument");
	if ((path != NULL ? lk_conf_load(&conf, path, err, sizeof(err)) :
	    lk_conf_load_env(&conf, err, sizeof(err))) != LK_OK) {
		fprintf(stderr, "latchkey-deliver: %s\n", err);
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((db = lk_db_open(&conf)) == NULL)
		return 1;
	if (!once)
		lk_log_info("latchkey-deliver: started");
	while (!stop) {
		e = lk_webhooks_deliver(db, (int)batch, &done);
		if (once)
			break;
		/* Nothing due (or the database is away): wait, then look again. */
		if (e != LK_OK || done == 0) {
			struct timespec ts = { conf.webhook_poll_ms / 1000,
			    (long)(conf.webhook_poll_ms % 1000) * 1000000L };

			while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop)
				;
		}
	}
	lk_db_close(db);
	if (once && e != LK_OK) {
		fprintf(stderr, "latchkey-deliver: the pass failed (see the log above)\n");
		return 1;
	}
	if (once)
		printf("delivered: %d message(s) attempted\n", done);
	return 0;
}
