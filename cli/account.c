/*
 * account.c — latchkey account …: list, show and create accounts, and their
 * policies (suspend, reactivate, ceiling) from the shell.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/fields.h"
#include "cli.h"
#include "model/ceiling.h"

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
	printf("status:     %s%s%s\n", json_string_value(json_object_get(o, "status")),
	    a.suspend_reason[0] ? " — " : "", a.suspend_reason);
	if (a.suspended_by[0] && strcmp(a.suspended_by, a.public_id) != 0)
		printf("refused:    its keys are refused: %s above it is suspended\n", a.suspended_by);
	printf("ceiling:    %s\n", a.has_ceiling ? a.grantable_scopes : "- (none)");
	json_decref(o);
	return 0;
}

/* account suspend ACCT_ID [--reason TEXT] | account reactivate ACCT_ID */
static int
account_suspend(int argc, char **argv, bool on)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct lk_account	 a;
	const char		*reason = "";
	enum lk_err		 e;
	int			 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", on ? opts : opts + 1, NULL)) != -1) {
		if (c == 'r')
			reason = optarg;
		else
			return cli_usage(NULL);
	}
	if ((rc = cli_operands(argc, argv, 1, on ? "account suspend: give one ACCT_ID" :
	    "account reactivate: give one ACCT_ID")) != 0)
		return rc;
	if (*reason != '\0' && !lk_fields_text_ok(reason, LK_SUSPEND_REASON_MAX))
		return cli_usage("--reason must be 1-200 characters without control characters");
	if ((rc = cli_account(argv[optind], &a)) != 0)
		return rc;
	if ((e = lk_accounts_suspend(cli_db, &cli_actor, &a, on ? reason : NULL,
	    time(NULL))) != LK_OK)
		return cli_failed(e, on ? "account suspend" : "account reactivate");
	printf("%s %s\n", a.public_id, a.suspended_at != 0 ? "suspended" : "active");
	return 0;
}

/* account ceiling ACCT_ID (--scopes "a b" | --none) [--revoke] */
static int
account_ceiling(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scopes", required_argument, NULL, 's' },
		{ "none", no_argument, NULL, 'n' },
		{ "revoke", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 }
	};
	struct lk_account	 a;
	char			 norm[LK_SCOPES_BUF], why[LK_SCOPES_WHY];
	const char		*scopes = NULL;
	json_t			*outside = NULL, *k;
	bool			 none = false, revoke = false;
	enum lk_err		 e;
	size_t			 i;
	int			 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			scopes = optarg;
		else if (c == 'n')
			none = true;
		else if (c == 'R')
			revoke = true;
		else
			return cli_usage(NULL);
	}
	if ((rc = cli_operands(argc, argv, 1, "account ceiling: give one ACCT_ID")) != 0)
		return rc;
	if ((scopes == NULL) == !none)
		return cli_usage("account ceiling: give --scopes \"a b\" or --none");
	norm[0] = '\0';
	if (scopes != NULL && !lk_scopes_add_text(norm, sizeof(norm), scopes, why)) {
		fprintf(stderr, "latchkey: --scopes %s\n", why);
		return CLI_EXIT_USAGE;
	}
	if ((rc = cli_account(argv[optind], &a)) != 0)
		return rc;
	if (a.parent_public[0] == '\0')
		return cli_usage("account ceiling: the root account has no ceiling (it is set on sub-accounts)");
	e = lk_ceiling_set(cli_db, &cli_actor, &a, none ? NULL : norm, revoke, time(NULL), &outside);
	if (e == LK_ERR_CONFLICT) {
		fprintf(stderr, "latchkey: account ceiling: %zu%s key(s) hold scopes outside it; "
		    "narrow or revoke them, or add --revoke:\n", json_array_size(outside),
		    json_array_size(outside) >= 100 ? " or more" : "");
		json_array_foreach(outside, i, k)
			fprintf(stderr, "  %s  %s\n", json_string_value(json_object_get(k, "id")),
			    json_string_value(json_object_get(k, "account_id")));
		json_decref(outside);
		return 1;
	}
	if (e != LK_OK) {
		json_decref(outside);
		return cli_failed(e, "account ceiling");
	}
	printf("%s ceiling %s", a.public_id, a.has_ceiling ? a.grantable_scopes : "none");
	if (outside != NULL)
		printf(" (revoked %zu key(s) outside it)", json_array_size(outside));
	printf("\n");
	json_decref(outside);
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
	if (argc >= 2 && (strcmp(argv[1], "suspend") == 0 || strcmp(argv[1], "reactivate") == 0))
		return account_suspend(argc, argv, strcmp(argv[1], "suspend") == 0);
	if (argc >= 2 && strcmp(argv[1], "ceiling") == 0)
		return account_ceiling(argc, argv);
	return cli_usage("account: expected list, show, create, usage, suspend, reactivate or ceiling");
}
