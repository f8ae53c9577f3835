/* setup.c — latchkey migrate and latchkey init. */
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "migrate.h"
#include "users.h"

#define INIT_LOGIN	"owner@localhost"

static void
progress(const char *name)
{
	fprintf(stderr, "applying migration %s\n", name);
}

int
cmd_migrate(int argc, char **argv __attribute__((unused)))
{
	int		 n;
	enum lk_err	 e;

	if (argc != 1)
		return cli_usage("migrate takes no arguments");
	e = lk_migrate(cli_db, lk_migrations, progress, &n);

	if (e != LK_OK)
		return cli_failed(e, "migrate");
	fprintf(stderr, n == 0 ? "schema is up to date\n" :
	    "applied %d migration(s)\n", n);
	return 0;
}

int
cmd_init(int argc, char **argv)
{
	struct lk_account	 root;
	struct lk_key		 k;
	struct lk_key_new	 nk;
	struct lk_user		 owner;
	char			 plaintext[LK_KEY_MAX + 1], password[LK_PASSWORD_GEN + 1];
	enum lk_err		 e;
	int			 rc;

	if (argc != 1)
		return cli_usage("init takes no arguments");
	if ((rc = cmd_migrate(argc, argv)) != 0)
		return rc;
	if ((e = lk_accounts_root(cli_db, &root)) == LK_OK) {
		fprintf(stderr, "already initialised (root account %s); no new key "
		    "was made. Use 'latchkey key create' for more keys.\n", root.public_id);
		return 0;
	}
	if (e != LK_ERR_NOT_FOUND)
		return cli_failed(e, "init");
	if ((e = lk_accounts_create(cli_db, &cli_actor, NULL, "root", "enterprise",
	    time(NULL), &root)) != LK_OK)
		return cli_failed(e, "init: root account");
	nk = (struct lk_key_new){ &root, "Initial admin key", "admin", "live", 0, 0, 0, "{}" };
	e = lk_keys_create(cli_db, &cli_actor, cli_conf.key_prefix, &nk, time(NULL), &k,
	    plaintext, sizeof(plaintext));
	if (e != LK_OK)
		return cli_failed(e, "init: admin key");
	printf("account_id=%s\nkey_id=%s\n%s\n", root.public_id, k.public_id, plaintext);
	fflush(stdout);
	lk_crypto_wipe(plaintext, sizeof(plaintext));
	/* The console's first login: an owner of the root account. */
	if (!lk_password_generate(password, sizeof(password)))
		return cli_failed(LK_ERR_INTERNAL, "init: owner password");
	e = lk_users_create(cli_db, &cli_conf, &cli_actor, &root, INIT_LOGIN, "owner",
	    password, time(NULL), &owner);
	if (e != LK_OK)
		return cli_failed(e, "init: owner login");
	printf("login: %s\npassword: %s\n", owner.email, password);
	fflush(stdout);
	lk_crypto_wipe(password, sizeof(password));
	fprintf(stderr, "initialised: root account %s, admin key %s, console login %s "
	    "(the key and password above are shown only this once)\n", root.public_id,
	    k.public_id, owner.email);
	return 0;
}
