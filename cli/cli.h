/*
 * cli.h — what the latchkey command's files share: the config, the database, the actor.
 *
 * Adding a command group: a new file cli/NAME.c with int cmd_NAME(int argc, char **argv),
 * its prototype below, one line { "NAME", cmd_NAME, "help text" } in commands[] of
 * cli/latchkey.c, and its synopsis lines ("  NAME SUB ARGS") in usage_text there. Help is then
 * automatic and needs no config file: `latchkey help NAME`, `latchkey NAME --help` and
 * `latchkey NAME SUB -h` print NAME's (or "NAME SUB"'s) lines of usage_text and the help text.
 * Parse options with getopt_long and answer '?' with `return cli_usage(NULL)`: getopt has then
 * named the bad option ("latchkey NAME: unrecognized option '--x'") and cli_usage points to
 * --help.
 */
#ifndef LK_CLI_H
#define LK_CLI_H

#include <stdio.h>

#include "base/conf.h"
#include "base/db.h"
#include "base/err.h"
#include "model/accounts.h"
#include "model/keys.h"

#define CLI_EXIT_USAGE	2

extern struct lk_conf		 cli_conf;
extern const char		*cli_conf_path;	/* the config file's path */
extern struct lk_db		*cli_db;	/* NULL in migrate, init, setup (setup.c opens its own) */
extern const struct lk_actor	 cli_actor;	/* "cli": full rights, audited */

/*
 * Print why (if any) and the running command's usage lines (or the whole
 * usage) to stderr, with a pointer to --help; returns CLI_EXIT_USAGE.
 */
int	cli_usage(const char *why);

/*
 * After getopt_long: exactly want operands must be left. One too many is named
 * ("unexpected argument 'weeks'": an option's value with a space, say); too few
 * prints missing. Returns 0, or cli_usage's status.
 */
int	cli_operands(int argc, char **argv, int want, const char *missing);

/* Print the outcome of a library call about what; returns the exit status (0 if e is LK_OK). */
int	cli_failed(enum lk_err e, const char *what);

/* The account with public id id, or the root account for "me"; prints why not and returns 1. */
int	cli_account(const char *id, struct lk_account *out);

/* One page of a list of what is in acct (lk_accounts_list's shape). */
typedef enum lk_err (*cli_lister)(struct lk_db *db, const struct lk_account *acct,
    struct lk_page *page);

/*
 * Every page of list(acct) in one new array *all (NULL on failure). Returns 0,
 * or cli_failed's status about what.
 */
int	cli_list_all(cli_lister list, const struct lk_account *acct, const char *what, json_t **all);

/* Read one line into buf (newline removed); false on end of input or a line too long. */
bool	cli_read_line(FILE *f, char *buf, size_t size);

/* Ask for what on the terminal tty and read the answer without echo (passwords, keys). */
bool	cli_prompt(FILE *tty, const char *what, char *buf, size_t size);

/* Print v (stolen) as indented JSON and a newline on stdout; returns the exit status. */
int	cli_print_json(json_t *v);

/*
 * One command per file of cli/: argv[0] is "latchkey NAME", argc >= 1.
 * Each returns the process exit status.
 */
int	cmd_migrate(int argc, char **argv);	/* setup.c */
int	cmd_init(int argc, char **argv);	/* setup.c */
int	cmd_setup(int argc, char **argv);	/* setup.c */
int	cmd_account(int argc, char **argv);	/* account.c */
int	cmd_key(int argc, char **argv);		/* key.c */
int	cmd_user(int argc, char **argv);	/* user.c */
int	cmd_audit(int argc, char **argv);	/* audit.c */
int	cmd_sweep(int argc, char **argv);	/* usage.c; also "gc" */
int	cmd_webhook(int argc, char **argv);	/* webhook.c */
int	cmd_deliver(int argc, char **argv);	/* webhook.c */
int	cmd_leaks(int argc, char **argv);	/* leaks.c */
int	cmd_cache(int argc, char **argv);

/* "key usage …" and "account usage …" (usage.c), argv[1] is "usage". */
int	cli_key_usage(int argc, char **argv);
int	cli_account_usage(int argc, char **argv);

#endif
