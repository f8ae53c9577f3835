/* account.c — latchkey account …: list, show and create accounts from the shell. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/fields.h"
#include "cli.h"

static const struct option list_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "parent", required_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 }
};
static const struct option show_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 }
};

static void
print_row(json_t *a)
{
	printf("%-29s  %-29s  %-10s  %-20s  %s\n",
	    json_string_value(json_object_get(a, "id")),
	    json_is_string(json_object_get(a, "parent_id")) ?
	    json_string_value(json_object_get(a, "parent_id")) : "-",
	    json_string_value(json_object_get(a, "plan")),
	    json_string_value(json_object_get(a, "created_at")),
	    json_string_value(json_object_get(a, "name")));
}

static enum lk_err
every_account(struct lk_db *db, const struct lk_account *root, struct lk_page *page)
{
	return lk_accounts_list(db, root, NULL, page);
}

/* account list [--parent ACCT_ID|me] [--json] */
static int
account_list(int argc, char **argv)
{
	struct lk_account	 root;
	const char		*parent = "me";
	json_t			*all, *a;
	bool			 json = false;
	size_t			 i;
	int			 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", list_opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'p')
			parent = optarg;
		else
			return cli_usage(NULL);
	}
	if ((rc = cli_operands(argc, argv, 0, NULL)) != 0)
		return rc;
	if ((rc = cli_account(parent, &root)) != 0)
		return rc;
	if ((rc = cli_list_all(every_account, &root, "account list", &all)) != 0)
		return rc;
	if (json)
		return cli_print_json(all);
	printf("%-29s  %-29s  %-10s  %-20s  %s\n", "ID", "PARENT", "PLAN", "CREATED", "NAME");
	json_array_foreach(all, i, a)
		print_row(a);
	json_decref(all);
	return 0;
}

/* account show ACCT_ID|me [--json] */
static int
account_show(int argc, char **argv)
{
	struct lk_account	 a;
	json_t			*o;
	bool			 json = false;
	int			 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", show_opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return cli_usage(NULL);
	}
	if ((rc = cli_operands(argc, argv, 1, "account show: give one ACCT_ID (or me)")) != 0)
		return rc;
	if ((rc = cli_account(argv[optind], &a)) != 0)
		return rc;
	o = lk_account_json(&a);
	if (json)
		return cli_print_json(o);
	printf("id:         %s\n", json_string_value(json_object_get(o, "id")));
	printf("name:       %s\n", json_string_value(json_object_get(o, "name")));
	printf("parent_id:  %s\n", a.parent_public[0] ? a.parent_public : "- (the root account)");
	printf("plan:       %s\n", json_string_value(json_object_get(o, "plan")));
	printf("created_at: %s\n", json_string_value(json_object_get(o, "created_at")));
	json_decref(o);
	return 0;
}

/* account create NAME [--parent ACCT_ID|me] [--plan free|pro|enterprise] */
static int
account_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "parent", required_argument, NULL, 'p' },
		{ "plan", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct lk_account	 parent, a;
	const char		*parent_id = "me", *plan = "free";
	enum lk_err		 e;
	int			 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p')
			parent_id = optarg;
		else if (c == 'P')
			plan = optarg;
		else
			return cli_usage(NULL);
	}
	if ((rc = cli_operands(argc, argv, 1, "account create: give one NAME")) != 0)
		return rc;
	if (!lk_fields_text_ok(argv[optind], LK_ACCOUNT_NAME_MAX))
		return cli_usage("account create: NAME must be 1-100 characters without control characters");
	if (lk_plan_rate(plan) == 0)
		return cli_usage("--plan must be free, pro or enterprise");
	if ((rc = cli_account(parent_id, &parent)) != 0)
		return rc;
	if ((e = lk_accounts_create(cli_db, &cli_actor, &parent, argv[optind], plan,
	    cli_conf.max_children_per_account, time(NULL), &a)) != LK_OK)
		return cli_failed(e, "account create");
	printf("%s\n", a.public_id);
	return 0;
}

int
cmd_account(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return account_list(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return account_show(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return account_create(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "usage") == 0)
		return cli_account_usage(argc, argv);
	return cli_usage("account: expected list, show, create or usage");
}
