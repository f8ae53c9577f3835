/* setup.c — latchkey migrate and latchkey init (as db_admin_user when the config names one). */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "base/migrate.h"
#include "cli.h"
#include "model/audit.h"
#include "model/users.h"

#define INIT_LOGIN	"owner@localhost"

/* The owner connection's config: cli_conf with db_admin_user and its password. */
static struct lk_conf	admin_conf;

/* DDL on a big table can run for minutes: migrations wait longer than requests do. */
#define MIGRATE_TIMEOUT	3600

static void
progress(const char *name)
{
	fprintf(stderr, "applying migration %s\n", name);
}

/*
 * The connection for DDL and bootstrap: as db_admin_user (password from
 * db_admin_password_file) if set, else as db_user. NULL after printing why.
 * Close it with admin_close.
 */
static struct lk_db *
admin_open(void)
{
	const char *pw = cli_conf.db_admin_password_file;

	admin_conf = cli_conf;
	if (admin_conf.db_read_timeout < MIGRATE_TIMEOUT)
		admin_conf.db_read_timeout = admin_conf.db_write_timeout = MIGRATE_TIMEOUT;
	if (cli_conf.db_admin_user[0] == '\0')
		return lk_db_open(&admin_conf);
	snprintf(admin_conf.db_user, sizeof(admin_conf.db_user), "%s", cli_conf.db_admin_user);
	admin_conf.db_password[0] = '\0';
	if (pw[0] != '\0' &&
	    !lk_conf_read_secret(pw, admin_conf.db_password, sizeof(admin_conf.db_password))) {
		fprintf(stderr, "latchkey: cannot read db_admin_password_file %s\n", pw);
		return NULL;
	}
	return lk_db_open(&admin_conf);
}

static void
admin_close(struct lk_db *db)
{
	lk_db_close(db);
	lk_crypto_wipe(&admin_conf, sizeof(admin_conf));
}

static int
migrate_on(struct lk_db *db)
{
	int		 n;
	enum lk_err	 e;

	e = lk_migrate(db, lk_migrations, progress, &n);
	if (e != LK_OK && lk_db_denied(lk_db_errno(db))) {
		fprintf(stderr, "latchkey: migrate: the database user '%s' may not change the "
		    "schema of '%s' (error %u above).\n"
		    "Migrations (and init) need the owner user, with the schema rights (CREATE, "
		    "ALTER, INDEX, REFERENCES, DROP) on %s.*; the programs' runtime user has "
		    "fewer rights on purpose.\n"
		    "Name it in the config: db_admin_user = ... and db_admin_password_file = ... "
		    "(see docs/operations.md, 'Database and DB users').\n",
		    admin_conf.db_user, admin_conf.db_name, lk_db_errno(db), admin_conf.db_name);
		return 1;
	}
	if (e != LK_OK)
		return cli_failed(e, "migrate");
	fprintf(stderr, n == 0 ? "schema is up to date\n" :
	    "applied %d migration(s)\n", n);
	return 0;
}

int
cmd_migrate(int argc, char **argv __attribute__((unused)))
{
	struct lk_db	*db;
	int		 rc;

	if (argc != 1)
		return cli_usage("migrate takes no arguments");
	if ((db = admin_open()) == NULL)
		return 1;
	rc = migrate_on(db);
	admin_close(db);
	return rc;
}

/*
 * The audit secret and the anchor. A missing key is created (0600), unless an
 * anchor names a chain an earlier key signed. Without an anchor, an unsigned
 * head (a new database, rows from before migration 002, or an init
 * interrupted before the first signed row) gets the first epoch row, and the
 * anchor then records it; a signed head is left for `audit anchor`, which
 * verifies it first. With an anchor, an existing key is only checked.
 */
static int
audit_setup(struct lk_db *db)
{
	struct lk_audit_key	 key;
	struct lk_audit_anchor	 anchor, start;
	char			 evt[LK_PUBLIC_ID_MAX], apath[LK_AUDIT_ANCHOR_PATH_MAX];
	const char		*path = cli_conf.audit_key_file;
	bool			 anchored, created = false;
	enum lk_err		 e;

	if (path[0] == '\0') {
		fprintf(stderr, "latchkey: set audit_key_file in the config: the file holding "
		    "the audit chain's secret (init creates it)\n");
		return 1;
	}
	lk_audit_anchor_path(path, apath);
	if ((e = lk_audit_anchor_load(apath, &anchor)) != LK_OK && e != LK_ERR_NOT_FOUND) {
		fprintf(stderr, "latchkey: audit anchor file %s is unusable (one line \"audit "
		    "anchor id=N key_id=HEX mac=HEX\")\n", apath);
		return 1;
	}
	anchored = e == LK_OK;
	if ((e = lk_audit_key_load(path, &key)) == LK_ERR_NOT_FOUND && anchored) {
		fprintf(stderr, "latchkey: the audit key file %s is missing, but %s anchors a "
		    "chain signed from row id=%" PRIu64 " on (key id %s): restore the key files "
		    "from the backup (a new key cannot continue that chain)\n", path, apath,
		    anchor.id, anchor.key_id);
		return 1;
	}
	if (e == LK_ERR_NOT_FOUND) {
		if ((e = lk_audit_key_create(path, &key)) != LK_OK)
			return cli_failed(e, "init: audit key file");
		created = true;
		fprintf(stderr, "created the audit key file %s (mode 0600, key id %s); back it "
		    "up: verifying the audit log needs it\n", path, key.id);
	} else if (e != LK_OK) {
		fprintf(stderr, "latchkey: audit key file %s is unusable (32 to 64 bytes "
		    "as hex, first line)\n", path);
		return 1;
	}
	if (anchored) {
		lk_crypto_wipe(&key, sizeof(key));
		return 0;
	}
	e = lk_audit_epoch(db, &cli_actor, &key, true, time(NULL), evt, &start);
	lk_crypto_wipe(&key, sizeof(key));
	if (e == LK_ERR_CONFLICT) {
		fprintf(stderr, "latchkey: init: refused to sign the audit chain: its newest row is "
		    "unsigned but signed rows come before it (the log was rewritten); run `latchkey "
		    "audit verify` and restore audit_log and audit_head from a backup\n");
		return 1;
	}
	if (e != LK_OK)
		return cli_failed(e, "init: audit epoch");
	if (evt[0] == '\0' && created) {
		fprintf(stderr, "latchkey: the audit chain is already signed with another key: "
		    "restore that key's file to %s (the new one cannot continue the chain)\n", path);
		return 1;
	}
	if (evt[0] == '\0') {
		fprintf(stderr, "the audit chain is signed but not anchored (%s does not exist): "
		    "run `latchkey audit verify`, then `latchkey audit anchor`\n", apath);
		return 0;
	}
	fprintf(stderr, "the audit chain is signed from row %s on\n", evt);
	if ((e = lk_audit_anchor_create(apath, &start)) != LK_OK) {
		fprintf(stderr, "latchkey: cannot create the audit anchor file %s: once it can "
		    "be written, run `latchkey audit anchor`\n", apath);
		return 1;
	}
	fprintf(stderr, "its start is anchored in %s (mode 0600); back it up with the key\n",
	    apath);
	return 0;
}

static int
init_on(struct lk_db *db)
{
	struct lk_account	 root;
	struct lk_key		 k;
	struct lk_key_new	 nk;
	struct lk_user		 owner;
	char			 plaintext[LK_KEY_MAX + 1], password[LK_PASSWORD_GEN + 1];
	enum lk_err		 e;
	int			 rc;

	if ((rc = migrate_on(db)) != 0 || (rc = audit_setup(db)) != 0)
		return rc;
	if ((e = lk_accounts_root(db, &root)) == LK_OK) {
		fprintf(stderr, "already initialised (root account %s); no new key "
		    "was made. Use 'latchkey key create' for more keys.\n", root.public_id);
		return 0;
	}
	if (e != LK_ERR_NOT_FOUND)
		return cli_failed(e, "init");
	if ((e = lk_accounts_create(db, &cli_actor, NULL, "root", "enterprise",
	    cli_conf.max_children_per_account, time(NULL), &root)) != LK_OK)
		return cli_failed(e, "init: root account");
	nk = (struct lk_key_new){ &root, "Initial admin key", "admin", "live", 0, 0, 0, "{}", NULL };
	e = lk_keys_create(db, &cli_actor, cli_conf.key_prefix, &nk,
	    cli_conf.max_keys_per_account, time(NULL), &k, plaintext, sizeof(plaintext));
	if (e != LK_OK)
		return cli_failed(e, "init: admin key");
	printf("account_id=%s\nkey_id=%s\n%s\n", root.public_id, k.public_id, plaintext);
	fflush(stdout);
	lk_crypto_wipe(plaintext, sizeof(plaintext));
	/* The console's first login: an owner of the root account. */
	if (!lk_password_generate(password, sizeof(password)))
		return cli_failed(LK_ERR_INTERNAL, "init: owner password");
	e = lk_users_create(db, &cli_conf, &cli_actor, &root, INIT_LOGIN, "owner",
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

int
cmd_init(int argc, char **argv __attribute__((unused)))
{
	struct lk_db	*db;
	int		 rc;

	if (argc != 1)
		return cli_usage("init takes no arguments");
	if ((db = admin_open()) == NULL)
		return 1;
	rc = init_on(db);
	admin_close(db);
	return rc;
}
