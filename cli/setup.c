/* setup.c — latchkey migrate and latchkey init. */
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "migrate.h"

/* DDL on a big table can run for minutes: migrations wait longer than requests do. */
#define MIGRATE_TIMEOUT	3600

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
	if (cli_conf.db_read_timeout < MIGRATE_TIMEOUT) {
		lk_db_close(cli_db);
		cli_conf.db_read_timeout = cli_conf.db_write_timeout = MIGRATE_TIMEOUT;
		if ((cli_db = lk_db_open(&cli_conf)) == NULL)
			return 1;
	}
	e = lk_migrate(cli_db, lk_migrations, progress, &n);
	if (e != LK_OK && lk_db_denied(lk_db_errno(cli_db))) {
		fprintf(stderr, "latchkey: migrate: the database user '%s' may not change the "
		    "schema of '%s' (error %u above).\n"
		    "Migrations need the migration user (CREATE, ALTER, INDEX, REFERENCES, DROP "
		    "and the data rights on %s.*); the programs' runtime user has fewer rights on "
		    "purpose.\n"
		    "Run it with that user's config file: latchkey --config /etc/latchkey/admin.conf "
		    "migrate (see docs/operations.md, 'Database and DB user').\n",
		    cli_conf.db_user, cli_conf.db_name, lk_db_errno(cli_db), cli_conf.db_name);
		return 1;
	}
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
	char			 plaintext[LK_KEY_MAX + 1];
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
	fprintf(stderr, "initialised: root account %s, admin key %s "
	    "(its plaintext above is shown only this once)\n", root.public_id, k.public_id);
	return 0;
}
