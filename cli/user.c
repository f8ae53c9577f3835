/* user.c — latchkey user …: console logins from the shell. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fields.h"
#include "base/timefmt.h"
#include "cli.h"
#include "model/users.h"

/* The new password: one line of stdin, or asked twice on the terminal. */
static int
get_password(bool from_stdin, char *pw, size_t size)
{
	char	 again[LK_PASSWORD_MAX + 2];
	FILE	*tty;
	bool	 ok;

	if (from_stdin) {
		if (!cli_read_line(stdin, pw, size))
			return cli_usage("--password-stdin: no password line on stdin");
	} else {
		if ((tty = fopen("/dev/tty", "r+")) == NULL)
			return cli_usage("no terminal to ask for the password: use --password-stdin");
		ok = cli_prompt(tty, "New password", pw, size) &&
		    cli_prompt(tty, "Repeat it", again, sizeof(again));
		fclose(tty);
		ok = ok && strcmp(pw, again) == 0;
		lk_crypto_wipe(again, sizeof(again));
		if (!ok)
			return cli_usage("the passwords differ");
	}
	if (!lk_password_ok(pw))
		return cli_usage("a password is 10 to 128 characters without control characters");
	return 0;
}

/* A user named by usr_ id or email. */
static int
find_user(const char *who, struct lk_user *u)
{
	enum lk_err e = strncmp(who, "usr_", 4) == 0 ? lk_users_get(cli_db, who, u) :
	    lk_users_by_email(cli_db, who, u);

	return cli_failed(e, who);
}

static int
user_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ "role", required_argument, NULL, 'r' },
		{ "password-stdin", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct lk_account	 acct;
	struct lk_user		 u;
	const char		*account = NULL, *role = NULL;
	char			 pw[LK_PASSWORD_MAX + 2];
	bool			 from_stdin = false;
	enum lk_err		 e;
	int			 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': account = optarg; break;
		case 'r': role = optarg; break;
		case 's': from_stdin = true; break;
		default: return cli_usage(NULL);
		}
	}
	if ((rc = cli_operands(argc, argv, 1, "user create: give EMAIL, --account and --role")) != 0)
		return rc;
	if (account == NULL || role == NULL)
		return cli_usage("user create: give EMAIL, --account and --role");
	if (!lk_email_ok(argv[optind]))
		return cli_usage("user create: EMAIL must look like name@domain (at most 254 characters)");
	if (lk_role_scopes(role) == NULL)
		return cli_usage("--role must be owner, developer or viewer");
	if ((e = lk_accounts_get(cli_db, account, &acct)) != LK_OK)
		return cli_failed(e, account);
	if ((rc = get_password(from_stdin, pw, sizeof(pw))) != 0)
		return rc;
	e = lk_users_create(cli_db, &cli_conf, &cli_actor, &acct, argv[optind], role, pw,
	    time(NULL), &u);
	lk_crypto_wipe(pw, sizeof(pw));
	if (e == LK_ERR_CONFLICT) {
		fprintf(stderr, "latchkey: user create: %s is already a user\n", argv[optind]);
		return 1;
	}
	if (e != LK_OK)
		return cli_failed(e, "user create");
	printf("%s\n", u.public_id);
	return 0;
}

static int
user_passwd(int argc, char **argv)
{
	struct lk_user	 u;
	char		 pw[LK_PASSWORD_MAX + 2];
	bool		 from_stdin = argc == 4 && strcmp(argv[3], "--password-stdin") == 0;
	enum lk_err	 e;
	int		 rc;

	if (argc != 3 && !from_stdin)
		return cli_usage("user passwd: give EMAIL or USER_ID [--password-stdin]");
	if ((rc = find_user(argv[2], &u)) != 0)
		return rc;
	if ((rc = get_password(from_stdin, pw, sizeof(pw))) != 0)
		return rc;
	e = lk_users_set_password(cli_db, &cli_conf, &cli_actor, &u, pw, 0, time(NULL));
	lk_crypto_wipe(pw, sizeof(pw));
	if (e != LK_OK)
		return cli_failed(e, "user passwd");
	fprintf(stderr, "password of %s changed; its sessions were ended\n", u.email);
	return 0;
}

static int
user_disable(int argc, char **argv, bool disable)
{
	struct lk_user	 u;
	int		 rc;

	if (argc != 3)
		return cli_usage("user disable|enable: give EMAIL or USER_ID");
	if ((rc = find_user(argv[2], &u)) != 0)
		return rc;
	return cli_failed(lk_users_set_disabled(cli_db, &cli_actor, &u, disable, time(NULL)),
	    disable ? "user disable" : "user enable");
}

static int
user_list(int argc, char **argv)
{
	struct lk_account	 root;
	struct lk_page		 page;
	json_t			*o;
	size_t			 i;
	enum lk_err		 e;

	if (argc != 2 && (argc != 4 || strcmp(argv[2], "--account") != 0))
		return cli_usage("user list [--account ACCT_ID]");
	e = argc == 4 ? lk_accounts_get(cli_db, argv[3], &root) : lk_accounts_root(cli_db, &root);
	if (e != LK_OK)
		return cli_failed(e, "user list");
	lk_page_init(&page, LK_PAGE_MAX);
	/* columns as key list has them: a header line, then one user a line */
	printf("%-28s  %-9s  %-28s  %-8s  %s\n", "ID", "ROLE", "ACCOUNT", "STATUS", "EMAIL");
	do {
		if ((e = lk_users_list(cli_db, &root, &page)) != LK_OK)
			break;
		json_array_foreach(page.data, i, o)
			printf("%-28s  %-9s  %-28s  %-8s  %s\n",
			    json_string_value(json_object_get(o, "id")),
			    json_string_value(json_object_get(o, "role")),
			    json_string_value(json_object_get(o, "account_id")),
			    json_is_true(json_object_get(o, "disabled")) ? "disabled" : "active",
			    json_string_value(json_object_get(o, "email")));
	} while (lk_page_next(&page));
	lk_page_free(&page);
	return cli_failed(e, "user list");
}

int
cmd_user(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return user_create(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "passwd") == 0)
		return user_passwd(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "disable") == 0)
		return user_disable(argc, argv, true);
	if (argc >= 2 && strcmp(argv[1], "enable") == 0)
		return user_disable(argc, argv, false);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return user_list(argc, argv);
	return cli_usage("user: expected create, passwd, disable, enable or list");
}
