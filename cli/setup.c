/*
 * setup.c — latchkey migrate and latchkey init (as db_admin_user when the
 * config names one), and latchkey setup: init on a new MariaDB server, with
 * the database, its two users, their password files and the grants.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <mysql.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
init_on(struct lk_db *db, const char *login)
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
	e = lk_users_create(db, &cli_conf, &cli_actor, &root, login, "owner",
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
	rc = init_on(db, INIT_LOGIN);
	admin_close(db);
	return rc;
}

/*
 * latchkey setup: everything between an installed package and a working
 * latchkey, on the MariaDB server the config names, as a MariaDB account
 * that may create databases and users (the "superuser": root over the unix
 * socket on Debian). It creates what is missing and leaves what exists, so it
 * is also what to run after an upgrade (new migrations, their grants).
 */
#define SETUP_PW_LEN		32	/* base62 characters of a generated DB password */
#define SETUP_STR_MAX		256	/* a password or path, as lk_conf holds them */
#define SETUP_CONF_MAX		65536	/* as lk_conf_load reads */
#define SETUP_HOSTS_MAX		2
#define SETUP_SQL_MAX		1024

struct setup {
	const char	*superuser;
	const char	*superuser_pw_file;
	const char	*hosts[SETUP_HOSTS_MAX];	/* host part of both users */
	size_t		 nhosts;
	const char	*group;		/* the web server's: reads the programs' secrets */
	gid_t		 gid;
	char		 login[LK_EMAIL_MAX + 1];
	bool		 yes;
	char		 pw_file[SETUP_STR_MAX];	/* db_password_file */
	char		 pw[SETUP_STR_MAX], admin_pw[SETUP_STR_MAX];
};

/*
 * Load the config as the other commands do, except db_password_file, which
 * lk_conf_parse reads at once but setup is to create: its line is taken out
 * of the text (turned into a comment, so errors keep their line numbers) and
 * its value kept in s->pw_file. Returns 0, or 1 after saying why.
 */
static int
setup_conf(const char *path, struct setup *s)
{
	static const char	 name[] = "db_password_file";
	static char		 text[SETUP_CONF_MAX];
	char			 err[512], *line, *p, *v;
	size_t			 n = 0;
	FILE			*f;
	int			 rc = 1;

	if ((f = fopen(path, "r")) != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		if (ferror(f) || !feof(f))
			n = sizeof(text);
		fclose(f);
	}
	if (f == NULL || n >= sizeof(text) - 1) {
		fprintf(stderr, "latchkey: cannot read config file %s\n", path);
		return 1;
	}
	text[n] = '\0';
	for (line = text; *line != '\0'; line = p + (*p != '\0')) {
		p = line + strcspn(line, "\n");
		line += strspn(line, " \t");
		if (strncmp(line, name, sizeof(name) - 1) != 0)
			continue;
		v = line + sizeof(name) - 1;
		v += strspn(v, " \t");
		if (*v++ != '=')
			continue;
		v += strspn(v, " \t");
		n = (size_t)(p - v);
		while (n > 0 && strchr(" \t\r", v[n - 1]) != NULL)
			n--;
		snprintf(s->pw_file, sizeof(s->pw_file), "%.*s", (int)n, v);
		*line = '#';
	}
	lk_conf_defaults(&cli_conf);
	if (lk_conf_parse(&cli_conf, text, err, sizeof(err)) != LK_OK)
		fprintf(stderr, "latchkey: %s: %s\n", path, err);
	else
		rc = 0;
	lk_crypto_wipe(text, sizeof(text));
	return rc;
}

/* A database, user or table name setup will put into SQL: [A-Za-z0-9_], 1 to 64. */
static bool
ident_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

	return n > 0 && n <= 64 && s[n] == '\0';
}

/* A user's host part: a name, an address or a pattern with % and _. */
static bool
host_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.%_:-");

	return n > 0 && n <= 255 && s[n] == '\0';
}

/*
 * A password setup will quote in CREATE USER: printable ASCII without
 * quotes, backslash or blank (DDL takes no statement parameters, so the
 * value is checked instead; generated ones are base62).
 */
static bool
password_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~' || strchr("'\"\\`", *s) != NULL)
			return false;
	return true;
}

/* Give path to group gid (-1: leave it) with mode; false after saying why. */
static bool
set_mode(const char *path, mode_t mode, gid_t gid)
{
	if ((gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0) || chmod(path, mode) != 0) {
		fprintf(stderr, "latchkey: setup: cannot set the owner or mode of %s: %s\n",
		    path, strerror(errno));
		return false;
	}
	return true;
}

/*
 * The password in path (config setting what), or a new random one written
 * there (created 0600 first, so it is never readable by others); then the
 * file gets mode and gid.
 */
static bool
password_file(const char *what, const char *path, mode_t mode, gid_t gid, char *pw,
    size_t size)
{
	int	 fd;
	bool	 ok;

	if (path[0] == '\0') {
		fprintf(stderr, "latchkey: setup: set %s in the config\n", what);
		return false;
	}
	if (access(path, F_OK) == 0) {
		if (!lk_conf_read_secret(path, pw, size) || pw[0] == '\0' || !password_ok(pw)) {
			fprintf(stderr, "latchkey: setup: %s %s: its first line must be a password "
			    "of printable characters without quotes, backslash or blanks\n", what, path);
			return false;
		}
		return set_mode(path, mode, gid);
	}
	if (!lk_crypto_base62(pw, SETUP_PW_LEN))
		return false;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	ok = fd >= 0 && dprintf(fd, "%s\n", pw) == SETUP_PW_LEN + 1 && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	if (!ok) {
		fprintf(stderr, "latchkey: setup: cannot create %s: %s\n", path, strerror(errno));
		return false;
	}
	fprintf(stderr, "created %s (a new random password)\n", path);
	return set_mode(path, mode, gid);
}

/* Run one statement built from checked names (see ident_ok, password_ok); what names it. */
static bool
sql(MYSQL *my, const char *what, const char *fmt, ...)
{
	char	buf[SETUP_SQL_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) || mysql_real_query(my, buf, (unsigned long)n) != 0) {
		fprintf(stderr, "latchkey: setup: %s: %u %s\n", what, mysql_errno(my), mysql_error(my));
		lk_crypto_wipe(buf, sizeof(buf));
		return false;
	}
	lk_crypto_wipe(buf, sizeof(buf));
	return true;
}

/* The server the config names, as the superuser, without a database. */
static MYSQL *
superuser_open(const struct setup *s)
{
	const struct lk_conf	*c = &cli_conf;
	char			 pw[SETUP_STR_MAX] = "";
	MYSQL			*my;

	if (s->superuser_pw_file != NULL && !lk_conf_read_secret(s->superuser_pw_file, pw,
	    sizeof(pw))) {
		fprintf(stderr, "latchkey: setup: cannot read %s\n", s->superuser_pw_file);
		return NULL;
	}
	if ((my = mysql_init(NULL)) == NULL)
		return NULL;
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &c->db_connect_timeout);
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(my, c->db_host, s->superuser, pw[0] != '\0' ? pw : NULL, NULL,
	    c->db_port, c->db_socket[0] != '\0' ? c->db_socket : NULL, 0) == NULL) {
		fprintf(stderr, "latchkey: setup: cannot connect to the database server as '%s': "
		    "%u %s\n"
		    "setup connects where the config says (db_host, db_port, db_socket) as a MariaDB "
		    "account that may create databases and users: root over the unix socket (run "
		    "setup as root; Debian's MariaDB lets the system's root in), or "
		    "--db-superuser USER --db-superuser-password-file FILE\n",
		    s->superuser, mysql_errno(my), mysql_error(my));
		mysql_close(my);
		my = NULL;
	}
	lk_crypto_wipe(pw, sizeof(pw));
	return my;
}

/* The database and both users, with the passwords of their files (ALTER: the files win). */
static bool
create_users(MYSQL *my, const struct setup *s)
{
	const struct lk_conf	*c = &cli_conf;
	size_t			 i;
	bool			 ok;

	ok = sql(my, "create the database", "CREATE DATABASE IF NOT EXISTS `%s` "
	    "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", c->db_name);
	for (i = 0; ok && i < s->nhosts; i++) {
		ok = sql(my, "create the owner user", "CREATE USER IF NOT EXISTS '%s'@'%s' "
		    "IDENTIFIED BY '%s'", c->db_admin_user, s->hosts[i], s->admin_pw) &&
		    sql(my, "set the owner user's password", "ALTER USER '%s'@'%s' "
		    "IDENTIFIED BY '%s'", c->db_admin_user, s->hosts[i], s->admin_pw) &&
		    sql(my, "grant the owner user its database", "GRANT ALL PRIVILEGES ON `%s`.* "
		    "TO '%s'@'%s'", c->db_name, c->db_admin_user, s->hosts[i]) &&
		    sql(my, "create the runtime user", "CREATE USER IF NOT EXISTS '%s'@'%s' "
		    "IDENTIFIED BY '%s'", c->db_user, s->hosts[i], s->pw) &&
		    sql(my, "set the runtime user's password", "ALTER USER '%s'@'%s' "
		    "IDENTIFIED BY '%s'", c->db_user, s->hosts[i], s->pw);
	}
	if (ok)
		fprintf(stderr, "database '%s', owner user '%s' and runtime user '%s' are there\n",
		    c->db_name, c->db_admin_user, c->db_user);
	return ok;
}

/*
 * The runtime user's rights, table by table (docs/operations.md, "Database
 * and DB users"): audit_log only SELECT, INSERT; audit_head SELECT, UPDATE;
 * schema_migrations nothing; every other table SELECT, INSERT, UPDATE, DELETE.
 */
static bool
grant_tables(MYSQL *my, const struct setup *s)
{
	const struct lk_conf	*c = &cli_conf;
	MYSQL_RES		*res;
	MYSQL_ROW		 row;
	const char		*privs;
	size_t			 i, n = 0;
	bool			 ok;

	if (!sql(my, "list the tables", "SELECT TABLE_NAME FROM information_schema.TABLES "
	    "WHERE TABLE_SCHEMA = '%s' AND TABLE_TYPE = 'BASE TABLE'", c->db_name) ||
	    (res = mysql_store_result(my)) == NULL)
		return false;
	ok = true;
	while (ok && (row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || !ident_ok(row[0]) || strcmp(row[0], "schema_migrations") == 0)
			continue;
		privs = strcmp(row[0], "audit_log") == 0 ? "SELECT, INSERT" :
		    strcmp(row[0], "audit_head") == 0 ? "SELECT, UPDATE" :
		    "SELECT, INSERT, UPDATE, DELETE";
		for (i = 0; ok && i < s->nhosts; i++)
			ok = sql(my, "grant the runtime user a table", "GRANT %s ON `%s`.`%s` TO "
			    "'%s'@'%s'", privs, c->db_name, row[0], c->db_user, s->hosts[i]);
		n++;
	}
	mysql_free_result(res);
	if (ok)
		fprintf(stderr, "runtime user '%s' has its rights on %zu tables (audit_log: SELECT, "
		    "INSERT only)\n", c->db_user, n);
	return ok;
}

/* The audit key and its anchor: readable by the web server's group (the programs sign with it). */
static bool
audit_files(const struct setup *s)
{
	char apath[LK_AUDIT_ANCHOR_PATH_MAX];

	lk_audit_anchor_path(cli_conf.audit_key_file, apath);
	if (!set_mode(cli_conf.audit_key_file, 0640, s->gid) ||
	    (access(apath, F_OK) == 0 && !set_mode(apath, 0640, s->gid)))
		return false;
	fprintf(stderr, "the audit key and its anchor are mode 0640, group %s (the programs "
	    "sign with the key; the console checks the anchor)\n", s->group);
	return true;
}

/* The web-server configs this system has (the Debian package ships them) and what to run. */
static void
next_steps(void)
{
	bool	apache = access("/etc/apache2/conf-available/latchkey.conf", F_OK) == 0;
	bool	lighttpd = access("/etc/lighttpd/conf-available/50-latchkey.conf", F_OK) == 0;

	fprintf(stderr, "\nNext steps:\n");
	if (apache)
		fprintf(stderr, "  Apache + mod_fcgid:  a2enmod fcgid headers && "
		    "a2enconf latchkey && systemctl reload apache2\n"
		    "  or Apache + mod_proxy_fcgi and latchkey-pool services:\n"
		    "      a2enmod proxy_fcgi && a2enconf latchkey-proxy && "
		    "systemctl reload apache2\n"
		    "      for p in keys key verify me accounts audit webhooks leaks health admin notfound; do "
		    "systemctl enable --now latchkey-pool@$p; done\n");
	if (lighttpd)
		fprintf(stderr, "  lighttpd:  lighty-enable-mod latchkey && "
		    "systemctl restart lighttpd\n");
	if (!apache && !lighttpd)
		fprintf(stderr, "  configure the web server (README.md, \"Deploying\")\n");
	fprintf(stderr, "  check:    curl -s -H \"Authorization: Bearer $KEY\" "
	    "http://localhost/v1/me   (KEY: the admin key setup printed once)\n"
	    "  console:  http://localhost/admin/ with the login and password printed with it; "
	    "serve it over TLS only\n"
	    "  after each upgrade of latchkey: latchkey setup (new migrations and their "
	    "grants), then reload the web server\n");
}

/* Ask a question on the terminal; the answer (newline removed) or def if empty. */
static bool
ask(const char *question, const char *def, char *buf, size_t size)
{
	fprintf(stderr, "%s [%s]: ", question, def);
	if (fgets(buf, (int)size, stdin) == NULL)
		return false;
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		snprintf(buf, size, "%s", def);
	return true;
}

/* What setup will do, and the terminal's yes; also the first login's email. */
static bool
confirm(struct setup *s)
{
	const struct lk_conf	*c = &cli_conf;
	char			 where[SETUP_STR_MAX + 32], answer[16];

	if (strcmp(c->db_host, "localhost") == 0)
		snprintf(where, sizeof(where), "localhost (socket %s)",
		    c->db_socket[0] != '\0' ? c->db_socket : "the client library's default");
	else
		snprintf(where, sizeof(where), "%s port %u", c->db_host, c->db_port);
	fprintf(stderr, "latchkey setup, on the database server at %s, as '%s':\n"
	    "  - create the database '%s' and the users '%s' (schema owner) and '%s' (the "
	    "programs)\n    at %s%s%s, with their passwords in %s (0600) and %s (0640, group %s)\n"
	    "  - apply the migrations, create the audit key %s (0640, group %s)\n"
	    "  - create the root account, an admin key and the console's first login (printed "
	    "once)\n  - grant the programs' user its table rights\n"
	    "Whatever exists already is kept.\n", where, s->superuser, c->db_name,
	    c->db_admin_user, c->db_user, s->hosts[0], s->nhosts > 1 ? " and " : "",
	    s->nhosts > 1 ? s->hosts[1] : "", c->db_admin_password_file, s->pw_file,
	    s->group, c->audit_key_file, s->group);
	if (s->login[0] == '\0' && !ask("The console's first login (an email)", INIT_LOGIN,
	    s->login, sizeof(s->login)))
		return false;
	return ask("Go ahead?", "y/N", answer, sizeof(answer)) &&
	    (strcmp(answer, "y") == 0 || strcmp(answer, "yes") == 0);
}

/* Options into s; 0 or the usage status. */
static int
setup_options(int argc, char **argv, struct setup *s)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "db-superuser", required_argument, NULL, 'u' },
		{ "db-superuser-password-file", required_argument, NULL, 'p' },
		{ "client-host", required_argument, NULL, 'c' },
		{ "web-group", required_argument, NULL, 'g' },
		{ "login", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*host = cli_conf.db_host;
	struct group	*gr;
	int		 c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "y", opts, NULL)) != -1) {
		switch (c) {
		case 'y': s->yes = true; break;
		case 'u': s->superuser = optarg; break;
		case 'p': s->superuser_pw_file = optarg; break;
		case 'c': s->hosts[0] = optarg; s->nhosts = 1; break;
		case 'g': s->group = optarg; break;
		case 'l': snprintf(s->login, sizeof(s->login), "%s", optarg); break;
		default: return cli_usage(NULL);
		}
	}
	if ((c = cli_operands(argc, argv, 0, NULL)) != 0)
		return c;
	if (s->nhosts == 0 && (strcmp(host, "localhost") == 0 ||
	    strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0)) {
		/* a local server names a client by how it came: the socket or loopback TCP */
		s->hosts[s->nhosts++] = "localhost";
		s->hosts[s->nhosts++] = "127.0.0.1";
	}
	if (s->nhosts == 0)
		return cli_usage("the database server is not on this host: give --client-host, "
		    "the host part of the users ('%' or this host's address as the server sees it)");
	if (!host_ok(s->hosts[0]))
		return cli_usage("--client-host: a host name, an address or a pattern with % and _");
	if ((gr = getgrnam(s->group)) == NULL)
		return cli_usage("--web-group: no such group");
	s->gid = gr->gr_gid;
	if (!ident_ok(cli_conf.db_name) || !ident_ok(cli_conf.db_user) ||
	    !ident_ok(cli_conf.db_admin_user)) {
		fprintf(stderr, "latchkey: setup: set db_name, db_user and db_admin_user in the "
		    "config to names of letters, digits and _ (setup creates them)\n");
		return 1;
	}
	if (cli_conf.audit_key_file[0] == '\0') {
		fprintf(stderr, "latchkey: setup: set audit_key_file in the config\n");
		return 1;
	}
	if (!s->yes && !isatty(STDIN_FILENO))
		return cli_usage("setup asks before it changes anything: run it on a terminal, "
		    "or give --yes");
	return 0;
}

int
cmd_setup(int argc, char **argv)
{
	struct setup	 s = { .superuser = "root", .group = "www-data" };
	struct lk_db	*db;
	MYSQL		*my = NULL;
	char		 err[512];
	int		 rc;

	if ((rc = setup_conf(cli_conf_path, &s)) != 0 ||
	    (rc = setup_options(argc, argv, &s)) != 0)
		return rc;
	if (!s.yes && !confirm(&s)) {
		fprintf(stderr, "nothing done\n");
		return 1;
	}
	if (s.login[0] == '\0')
		snprintf(s.login, sizeof(s.login), "%s", INIT_LOGIN);
	rc = 1;
	if (!password_file("db_admin_password_file", cli_conf.db_admin_password_file, 0600,
	    (gid_t)-1, s.admin_pw, sizeof(s.admin_pw)) ||
	    !password_file("db_password_file", s.pw_file, 0640, s.gid, s.pw, sizeof(s.pw)) ||
	    (my = superuser_open(&s)) == NULL || !create_users(my, &s))
		goto out;
	/* as the programs will read it, now that its password file exists */
	if (lk_conf_load(&cli_conf, cli_conf_path, err, sizeof(err)) != LK_OK) {
		fprintf(stderr, "latchkey: %s\n", err);
		goto out;
	}
	if ((db = admin_open()) == NULL)
		goto out;
	rc = init_on(db, s.login);
	admin_close(db);
	if (rc == 0 && (!grant_tables(my, &s) || !audit_files(&s)))
		rc = 1;
	if (rc == 0)
		next_steps();
out:
	if (my != NULL)
		mysql_close(my);
	lk_crypto_wipe(&s, sizeof(s));
	return rc;
}
