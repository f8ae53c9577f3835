/*
 * latchkey — the operator's command: migrate, init, accounts and keys.
 * Acts with full rights as actor "cli"; every change is audited like an API call.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "keys.h"
#include "migrate.h"
#include "req.h"
#include "timefmt.h"

#define EXIT_USAGE	2

static const char usage_text[] =
"usage: latchkey [--config FILE] COMMAND [ARGS]\n"
"\n"
"  migrate                          apply pending schema migrations\n"
"  init                             migrate, create the root account and an admin key\n"
"  account create NAME [--parent ACCT_ID] [--plan free|pro|enterprise]\n"
"  key create --account ACCT_ID --label LABEL [--scopes \"a b\"] [--env live|test]\n"
"             [--expires-in 90d]\n"
"  key list --account ACCT_ID\n"
"  key revoke|reactivate|delete KEY_ID\n"
"  key rotate KEY_ID [--grace 1h]\n"
"\n"
"The config file is --config FILE or $LATCHKEY_CONF. A new key's plaintext is\n"
"printed once, alone on its line on stdout; nothing else goes to stdout with it.\n";

static struct lk_conf	 conf;
static struct lk_db	*db;
static const struct lk_actor actor = { "cli", "", "" };

static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "latchkey: %s\n\n", why);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

/* Print the outcome of a library call; returns the exit status. */
static int
failed(enum lk_err e, const char *what)
{
	switch (e) {
	case LK_OK:
		return 0;
	case LK_ERR_NOT_FOUND:
		fprintf(stderr, "latchkey: %s: not found\n", what);
		break;
	case LK_ERR_CONFLICT:
		fprintf(stderr, "latchkey: %s: not possible in the current state\n", what);
		break;
	case LK_ERR_UNAVAILABLE:
		fprintf(stderr, "latchkey: %s: the database is unreachable or refused "
		    "the change (see the log lines above)\n", what);
		break;
	default:
		fprintf(stderr, "latchkey: %s: %s\n", what, lk_err_message(e));
		break;
	}
	return 1;
}

static void
progress(const char *name)
{
	fprintf(stderr, "applying migration %s\n", name);
}

static int
cmd_migrate(void)
{
	int		 n;
	enum lk_err	 e = lk_migrate(db, lk_migrations, progress, &n);

	if (e != LK_OK)
		return failed(e, "migrate");
	fprintf(stderr, n == 0 ? "schema is up to date\n" :
	    "applied %d migration(s)\n", n);
	return 0;
}

/* Create a key and print its plaintext alone on stdout. */
static int
create_key(const struct lk_key_new *nk)
{
	struct lk_key	 k;
	char		 plaintext[LK_KEY_MAX + 1];
	enum lk_err	 e;

	e = lk_keys_create(db, &actor, conf.key_prefix, nk, time(NULL), &k,
	    plaintext, sizeof(plaintext));
	if (e != LK_OK)
		return failed(e, "key create");
	fprintf(stderr, "created %s in %s (the key is shown once)\n",
	    k.public_id, k.account_public);
	printf("%s\n", plaintext);
	fflush(stdout);
	lk_crypto_wipe(plaintext, sizeof(plaintext));
	return 0;
}

static int
cmd_init(void)
{
	struct lk_account	 root;
	struct lk_key		 k;
	struct lk_key_new	 nk;
	char			 plaintext[LK_KEY_MAX + 1];
	enum lk_err		 e;
	int			 rc;

	if ((rc = cmd_migrate()) != 0)
		return rc;
	if ((e = lk_accounts_root(db, &root)) == LK_OK) {
		fprintf(stderr, "already initialised (root account %s); no new key "
		    "was made. Use 'latchkey key create' for more keys.\n", root.public_id);
		return 0;
	}
	if (e != LK_ERR_NOT_FOUND)
		return failed(e, "init");
	if ((e = lk_accounts_create(db, &actor, NULL, "root", "enterprise",
	    time(NULL), &root)) != LK_OK)
		return failed(e, "init: root account");
	nk = (struct lk_key_new){ &root, "Initial admin key", "admin", "live", 0, 0, 0, "{}" };
	e = lk_keys_create(db, &actor, conf.key_prefix, &nk, time(NULL), &k,
	    plaintext, sizeof(plaintext));
	if (e != LK_OK)
		return failed(e, "init: admin key");
	printf("account_id=%s\nkey_id=%s\n%s\n", root.public_id, k.public_id, plaintext);
	fflush(stdout);
	lk_crypto_wipe(plaintext, sizeof(plaintext));
	fprintf(stderr, "initialised: root account %s, admin key %s "
	    "(its plaintext above is shown only this once)\n", root.public_id, k.public_id);
	return 0;
}

static int
cmd_account(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "parent", required_argument, NULL, 'p' },
		{ "plan", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct lk_account	 parent, a;
	const char		*parent_id = NULL, *plan = "free";
	enum lk_err		 e;
	int			 c;

	if (argc < 2 || strcmp(argv[1], "create") != 0)
		return usage("account: expected 'account create NAME'");
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p')
			parent_id = optarg;
		else if (c == 'P')
			plan = optarg;
		else
			return usage(NULL);
	}
	if (optind != argc - 1)
		return usage("account create: give exactly one NAME");
	if (!lk_text_ok(argv[optind], LK_ACCOUNT_NAME_MAX))
		return usage("account create: NAME must be 1-100 characters without control characters");
	if (lk_plan_rate(plan) == 0)
		return usage("--plan must be free, pro or enterprise");
	e = parent_id != NULL ? lk_accounts_get(db, parent_id, &parent) :
	    lk_accounts_root(db, &parent);
	if (e != LK_OK)
		return failed(e, parent_id != NULL ? parent_id : "root account (run 'latchkey init')");
	if ((e = lk_accounts_create(db, &actor, &parent, argv[optind], plan,
	    time(NULL), &a)) != LK_OK)
		return failed(e, "account create");
	printf("%s\n", a.public_id);
	return 0;
}

static int
key_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ "label", required_argument, NULL, 'l' },
		{ "scopes", required_argument, NULL, 's' },
		{ "env", required_argument, NULL, 'e' },
		{ "expires-in", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 }
	};
	struct lk_account	 acct;
	struct lk_key_new	 nk;
	const char		*account = NULL, *label = NULL, *scopes = "", *env = "live";
	char			 norm[LK_SCOPES_BUF];
	const char		*why;
	int64_t			 expires_in = 0;
	enum lk_err		 e;
	int			 c;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': account = optarg; break;
		case 'l': label = optarg; break;
		case 's': scopes = optarg; break;
		case 'e': env = optarg; break;
		case 'x':
			if (!lk_duration_parse(optarg, 100LL * 366 * 86400, &expires_in))
				return usage("--expires-in must be a duration such as 3600, 30m, 12h or 90d");
			break;
		default: return usage(NULL);
		}
	}
	if (optind != argc || account == NULL || label == NULL)
		return usage("key create needs --account and --label");
	if (!lk_text_ok(label, LK_LABEL_MAX))
		return usage("--label must be 1-100 characters without control characters");
	if (!lk_keyfmt_env_ok(env))
		return usage("--env must be live or test");
	norm[0] = '\0';
	if (!lk_scopes_add_text(norm, sizeof(norm), scopes, &why)) {
		fprintf(stderr, "latchkey: --scopes %s\n", why);
		return EXIT_USAGE;
	}
	if ((e = lk_accounts_get(db, account, &acct)) != LK_OK)
		return failed(e, account);
	nk = (struct lk_key_new){ &acct, label, norm, env,
	    expires_in ? time(NULL) + expires_in : 0, 0, 0, "{}" };
	return create_key(&nk);
}

static int
key_list(int argc, char **argv)
{
	struct lk_account	 acct;
	struct lk_page		 page;
	struct lk_key_filter	 none = { NULL, NULL, NULL, 0 };
	json_t			*k;
	enum lk_err		 e;
	size_t			 i;

	if (argc != 4 || strcmp(argv[2], "--account") != 0)
		return usage("key list needs --account ACCT_ID");
	if ((e = lk_accounts_get(db, argv[3], &acct)) != LK_OK)
		return failed(e, argv[3]);
	printf("%-28s  %-20s  %-4s  %-7s  %s\n", "ID", "START", "ENV", "STATUS", "LABEL");
	lk_page_init(&page, LK_PAGE_MAX);
	do {
		if ((e = lk_keys_list(db, &acct, &none, time(NULL), &page)) != LK_OK)
			break;
		json_array_foreach(page.data, i, k)
			printf("%-28s  %-20s  %-4s  %-7s  %s\n",
			    json_string_value(json_object_get(k, "id")),
			    json_string_value(json_object_get(k, "start")),
			    json_string_value(json_object_get(k, "env")),
			    json_string_value(json_object_get(k, "status")),
			    json_string_value(json_object_get(k, "label")));
	} while (lk_page_next(&page));
	lk_page_free(&page);
	return failed(e, "key list");
}

static int
key_change(int argc, char **argv)
{
	struct lk_key	 k, nk;
	char		 plaintext[LK_KEY_MAX + 1];
	const char	*verb = argv[1];
	int64_t		 grace = 0, now = time(NULL);
	enum lk_err	 e;

	if (strcmp(verb, "rotate") == 0 && argc == 5 && strcmp(argv[3], "--grace") == 0) {
		if (!lk_duration_parse(argv[4], LK_GRACE_MAX, &grace) &&
		    strcmp(argv[4], "0") != 0)
			return usage("--grace must be a duration up to 30d, such as 3600, 30m or 1h");
	} else if (argc != 3)
		return usage("expected: key revoke|reactivate|delete|rotate KEY_ID");
	if ((e = lk_keys_get(db, argv[2], &k)) != LK_OK)
		return failed(e, argv[2]);
	if (strcmp(verb, "revoke") == 0)
		e = lk_keys_revoke(db, &actor, &k, now);
	else if (strcmp(verb, "reactivate") == 0)
		e = lk_keys_reactivate(db, &actor, &k, now);
	else if (strcmp(verb, "delete") == 0)
		e = lk_keys_delete(db, &actor, &k, now);
	else {
		e = lk_keys_rotate(db, &actor, conf.key_prefix, &k, grace, now, &nk,
		    plaintext, sizeof(plaintext));
		if (e == LK_OK) {
			fprintf(stderr, "rotated %s into %s; the old key %s\n",
			    k.public_id, nk.public_id, grace ? "expires after the grace period" :
			    "is revoked");
			printf("%s\n", plaintext);
			lk_crypto_wipe(plaintext, sizeof(plaintext));
		}
	}
	if (e != LK_OK)
		return failed(e, verb);
	if (strcmp(verb, "rotate") != 0)
		fprintf(stderr, "%s: %s\n", k.public_id, strcmp(verb, "delete") == 0 ?
		    "deleted" : lk_key_status_name(lk_key_status(&k, now)));
	return 0;
}

static int
cmd_key(int argc, char **argv)
{
	if (argc < 2)
		return usage("key: expected a subcommand");
	if (strcmp(argv[1], "create") == 0)
		return key_create(argc, argv);
	if (strcmp(argv[1], "list") == 0)
		return key_list(argc, argv);
	if (strcmp(argv[1], "revoke") == 0 || strcmp(argv[1], "reactivate") == 0 ||
	    strcmp(argv[1], "delete") == 0 || strcmp(argv[1], "rotate") == 0)
		return key_change(argc, argv);
	return usage("key: unknown subcommand");
}

int
main(int argc, char **argv)
{
	const char	*path = getenv("LATCHKEY_CONF");
	char		 err[512];
	int		 i = 1, rc;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "--config") == 0) {
		path = argv[2];
		i = 3;
	} else if (argc > 1 && strncmp(argv[1], "--config=", 9) == 0) {
		path = argv[1] + 9;
		i = 2;
	}
	if (i >= argc)
		return usage("no command given");
	if (path == NULL)
		return usage("no config file: give --config FILE or set LATCHKEY_CONF");
	if (lk_conf_load(&conf, path, err, sizeof(err)) != LK_OK) {
		fprintf(stderr, "latchkey: %s\n", err);
		return 1;
	}
	argc -= i;
	argv += i;
	if (strcmp(argv[0], "migrate") != 0 && strcmp(argv[0], "init") != 0 &&
	    strcmp(argv[0], "account") != 0 && strcmp(argv[0], "key") != 0)
		return usage("unknown command");
	if ((db = lk_db_open(&conf)) == NULL)
		return 1;
	if (strcmp(argv[0], "migrate") == 0)
		rc = argc == 1 ? cmd_migrate() : usage("migrate takes no arguments");
	else if (strcmp(argv[0], "init") == 0)
		rc = argc == 1 ? cmd_init() : usage("init takes no arguments");
	else if (strcmp(argv[0], "account") == 0)
		rc = cmd_account(argc, argv);
	else
		rc = cmd_key(argc, argv);
	lk_db_close(db);
	return rc;
}
