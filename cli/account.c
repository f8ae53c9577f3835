/* account.c — latchkey account …: sub-accounts from the shell. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "req.h"

int
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

	if (argc >= 2 && strcmp(argv[1], "usage") == 0)
		return cli_account_usage(argc, argv);
	if (argc < 2 || strcmp(argv[1], "create") != 0)
		return cli_usage("account: expected 'account create NAME'");
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p')
			parent_id = optarg;
		else if (c == 'P')
			plan = optarg;
		else
			return cli_usage(NULL);
	}
	if (optind != argc - 1)
		return cli_usage("account create: give exactly one NAME");
	if (!lk_text_ok(argv[optind], LK_ACCOUNT_NAME_MAX))
		return cli_usage("account create: NAME must be 1-100 characters without control characters");
	if (lk_plan_rate(plan) == 0)
		return cli_usage("--plan must be free, pro or enterprise");
	e = parent_id != NULL ? lk_accounts_get(cli_db, parent_id, &parent) :
	    lk_accounts_root(cli_db, &parent);
	if (e != LK_OK)
		return cli_failed(e, parent_id != NULL ? parent_id : "root account (run 'latchkey init')");
	if ((e = lk_accounts_create(cli_db, &cli_actor, &parent, argv[optind], plan,
	    cli_conf.max_children_per_account, time(NULL), &a)) != LK_OK)
		return cli_failed(e, "account create");
	printf("%s\n", a.public_id);
	return 0;
}
