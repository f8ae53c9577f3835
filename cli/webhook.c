/*
 * webhook.c — latchkey webhook list|create|show|enable|disable|delete|rotate|test|messages,
 * and latchkey deliver --once: webhook endpoints and one delivery pass from the shell.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "base/fields.h"
#include "base/outbound.h"
#include "cli.h"
#include "model/webhooks.h"

/* webhook list [--account ACCT_ID|me] */
static int
webhook_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	struct lk_account	 acct;
	const char		*account = "me";
	json_t			*all;
	int			 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'a')
			return cli_usage(NULL);
		account = optarg;
	}
	if ((rc = cli_operands(argc, argv, 0, NULL)) != 0 ||
	    (rc = cli_account(account, &acct)) != 0 ||
	    (rc = cli_list_all(lk_webhooks_list, &acct, "webhook list", &all)) != 0)
		return rc;
	return cli_print_json(all);
}

/* webhook create --url URL [--account ACCT_ID|me] [--events "a b"] [--description TEXT] */
static int
webhook_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ "url", required_argument, NULL, 'u' },
		{ "events", required_argument, NULL, 'e' },
		{ "description", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct lk_account		 acct;
	struct lk_webhook		 w;
	const char			*account = "me", *url = NULL, *events = "*", *desc = NULL;
	char				 why[256];
	json_t				*o;
	enum lk_err			 e;
	int				 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a')
			account = optarg;
		else if (c == 'u')
			url = optarg;
		else if (c == 'e')
			events = optarg;
		else if (c == 'd')
			desc = optarg;
		else
			return cli_usage(NULL);
	}
	if ((rc = cli_operands(argc, argv, 0, NULL)) != 0)
		return rc;
	if (url == NULL)
		return cli_usage("webhook create: give --url");
	if (desc != NULL && !lk_fields_text_ok(desc, LK_WEBHOOK_DESC_MAX))
		return cli_usage("--description: 1-200 characters without control characters");
	if (strcmp(events, "*") != 0 && !lk_webhook_events_ok(events, why, sizeof(why))) {
		fprintf(stderr, "latchkey: --events: %s\n", why);
		return CLI_EXIT_USAGE;
	}
	/* The same rule as the API: checked after resolving, per webhook_allow_private. */
	if (lk_outbound_check(url, cli_conf.webhook_allow_private, why, sizeof(why)) != LK_OK) {
		fprintf(stderr, "latchkey: --url refused: %s\n", why);
		return 1;
	}
	if ((rc = cli_account(account, &acct)) != 0)
		return rc;
	if ((e = lk_webhooks_create(cli_db, &cli_actor, &acct, url, desc, events, time(NULL),
	    &w)) != LK_OK)
		return cli_failed(e, "webhook create");
	o = lk_webhook_json(&w);
	json_object_set_new(o, "secret", json_string(w.secret));
	OPENSSL_cleanse(w.secret, sizeof(w.secret));
	return cli_print_json(o);
}

/* The endpoint ID names; prints why not and returns 1. */
static int
find(const char *id, struct lk_webhook *w)
{
	enum lk_err e = lk_webhooks_get(cli_db, id, w);

	if (e == LK_ERR_NOT_FOUND) {
		fprintf(stderr, "latchkey: no webhook %s\n", id);
		return 1;
	}
	return cli_failed(e, "webhook");
}

/* webhook show|enable|disable|delete|rotate|test|messages ID */
static int
webhook_one(int argc, char **argv)
{
	struct lk_webhook_patch	 pt = { 0 };
	struct lk_webhook	 w;
	struct lk_page		 page;
	char			 msg[LK_PUBLIC_ID_MAX];
	const char		*sub = argv[1];
	enum lk_err		 e;
	int			 rc;

	optind = 2;
	if ((rc = cli_operands(argc, argv, 1, "give one webhook id")) != 0 ||
	    (rc = find(argv[optind], &w)) != 0)
		return rc;
	if (strcmp(sub, "show") == 0)
		return cli_print_json(lk_webhook_json(&w));
	if (strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0) {
		pt.has_enabled = true;
		pt.enabled = strcmp(sub, "enable") == 0;
		if ((e = lk_webhooks_update(cli_db, &cli_actor, &w, &pt, time(NULL))) != LK_OK)
			return cli_failed(e, sub);
		return cli_print_json(lk_webhook_json(&w));
	}
	if (strcmp(sub, "delete") == 0)
		return cli_failed(lk_webhooks_delete(cli_db, &cli_actor, &w, time(NULL)),
		    "webhook delete");
	if (strcmp(sub, "rotate") == 0) {
		if ((e = lk_webhooks_rotate(cli_db, &cli_actor, &w, cli_conf.webhook_secret_overlap,
		    time(NULL))) != LK_OK)
			return cli_failed(e, "webhook rotate");
		printf("%s\n", w.secret);
		OPENSSL_cleanse(w.secret, sizeof(w.secret));
		return 0;
	}
	if (strcmp(sub, "test") == 0) {
		if ((e = lk_webhooks_send_test(cli_db, &w, time(NULL), msg)) != LK_OK)
			return cli_failed(e, "webhook test");
		printf("%s\n", msg);
		return 0;
	}
	lk_page_init(&page, LK_PAGE_MAX);
	if ((e = lk_webhooks_messages(cli_db, &w, &page)) == LK_OK)
		rc = cli_print_json(json_incref(page.data));
	lk_page_free(&page);
	return e != LK_OK ? cli_failed(e, "webhook messages") : rc;
}

int
cmd_webhook(int argc, char **argv)
{
	static const char *const one[] = { "show", "enable", "disable", "delete", "rotate",
	    "test", "messages", NULL };
	size_t i;

	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return webhook_list(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return webhook_create(argc, argv);
	for (i = 0; argc >= 2 && one[i] != NULL; i++)
		if (strcmp(argv[1], one[i]) == 0)
			return webhook_one(argc, argv);
	return cli_usage("webhook: expected list, create, show, enable, disable, delete, "
	    "rotate, test or messages");
}

/* deliver --once: one delivery pass (latchkey-deliver --once), for cron-only hosts. */
int
cmd_deliver(int argc, char **argv)
{
	int		done = 0, total = 0;
	enum lk_err	e;

	if (argc != 2 || strcmp(argv[1], "--once") != 0)
		return cli_usage("deliver takes --once (the worker that keeps running is "
		    "latchkey-deliver)");
	/* Every message due now, a batch at a time. */
	do {
		e = lk_webhooks_deliver(cli_db, 10, &done);
		total += done;
	} while (e == LK_OK && done > 0);
	if (e != LK_OK)
		return cli_failed(e, "deliver");
	fprintf(stderr, "deliver: %d message(s) attempted\n", total);
	return 0;
}
