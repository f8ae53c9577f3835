/*
 * latchkey — the operator's command: migrate, init, accounts, keys and users.
 * Acts with full rights as actor "cli"; every change is audited like an API call.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

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
"  user create EMAIL --account ACCT_ID --role owner|developer|viewer [--password-stdin]\n"
"  user passwd EMAIL|USER_ID [--password-stdin]\n"
"  user disable|enable EMAIL|USER_ID\n"
"  user list [--account ACCT_ID]\n"
"  audit verify [--since-checkpoint FILE]   check the signed audit chain\n"
"  audit checkpoint                 print and log the chain's head (row id + MAC)\n"
"  audit rotate-key                 start a new epoch under a new audit secret\n"
"  key usage KEY_ID [--days N]      daily uses by outcome (default 30 days, max 400)\n"
"  account usage ACCT_ID [--days N] the same, summed over the account's subtree\n"
"  gc                               remove daily usage older than usage_retention_days\n"
"\n"
"The config file is --config FILE or $LATCHKEY_CONF. A new key's plaintext is\n"
"printed once, alone on its line on stdout; nothing else goes to stdout with it.\n"
"A user's password is asked on the terminal (twice, not echoed) or read as one\n"
"line from stdin with --password-stdin.\n";

struct lk_conf		 cli_conf;
struct lk_db		*cli_db;
const struct lk_actor	 cli_actor = { "cli", "", "" };

/* The commands; each lives in its own file of cli/ (see cli.h). */
static const struct command {
	const char	*name;
	int		(*run)(int, char **);
} commands[] = {
	{ "migrate", cmd_migrate },
	{ "init", cmd_init },
	{ "account", cmd_account },
	{ "key", cmd_key },
	{ "user", cmd_user },
	{ "audit", cmd_audit },
	{ "gc", cmd_gc },
};

int
cli_usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "latchkey: %s\n\n", why);
	fputs(usage_text, stderr);
	return CLI_EXIT_USAGE;
}

/* Print the outcome of a library call; returns the exit status. */
int
cli_failed(enum lk_err e, const char *what)
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

int
main(int argc, char **argv)
{
	const struct command	*cmd = NULL;
	const char		*path = getenv("LATCHKEY_CONF");
	char			 err[512];
	size_t			 n;
	int			 i = 1, rc;

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
		return cli_usage("no command given");
	argc -= i;
	argv += i;
	for (n = 0; n < sizeof(commands) / sizeof(commands[0]); n++)
		if (strcmp(argv[0], commands[n].name) == 0)
			cmd = &commands[n];
	if (cmd == NULL)
		return cli_usage("unknown command");
	if (path == NULL)
		return cli_usage("no config file: give --config FILE or set LATCHKEY_CONF");
	if (lk_conf_load(&cli_conf, path, err, sizeof(err)) != LK_OK) {
		fprintf(stderr, "latchkey: %s\n", err);
		return 1;
	}
	/* migrate and init connect by themselves, as the owner user if there is one (setup.c). */
	if (cmd->run != cmd_migrate && cmd->run != cmd_init &&
	    (cli_db = lk_db_open(&cli_conf)) == NULL)
		return 1;
	rc = cmd->run(argc, argv);
	lk_db_close(cli_db);
	return rc;
}
