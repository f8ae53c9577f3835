/*
 * latchkey — the operator's command: migrate, init, accounts, keys and users.
 * Acts with full rights as actor "cli"; every change is audited like an API call.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "model/cache.h"

/*
 * The overview (`latchkey --help`). Each command's lines start with two
 * spaces and its name; continuation lines are indented further. `latchkey
 * help CMD` and `latchkey CMD [SUB] --help` print the lines of CMD (or of
 * "CMD SUB") from here, then CMD's help from the commands[] table.
 */
#ifdef LK_DEFAULT_CONF
#define DEFAULT_CONF_TEXT	" (default " LK_DEFAULT_CONF ")"
#else
#define DEFAULT_CONF_TEXT	""
#endif

static const char usage_text[] =
"usage: latchkey [--config FILE] COMMAND [ARGS]\n"
"       latchkey help [COMMAND]     (or COMMAND --help): usage, no config needed\n"
"       latchkey --version          the version of this latchkey\n"
"\n"
"  migrate                          apply pending schema migrations\n"
"  init                             migrate, create the root account and an admin key\n"
"  setup [--yes] [--login EMAIL] [--db-superuser USER]\n"
"        [--db-superuser-password-file FILE] [--client-host HOST] [--web-group GROUP]\n"
"  account list [--parent ACCT_ID|me] [--json]\n"
"  account show ACCT_ID|me [--json]\n"
"  account create NAME [--parent ACCT_ID|me] [--plan free|pro|enterprise]\n"
"  account usage ACCT_ID [--days N] daily uses by outcome, summed over the subtree\n"
"  account suspend ACCT_ID [--reason TEXT]\n"
"  account reactivate ACCT_ID\n"
"  account ceiling ACCT_ID --scopes \"a b\"|--none [--revoke]\n"
"  key create --account ACCT_ID|me --label LABEL [--scopes \"a b\"] [--env live|test]\n"
"             [--expires-in 90d]\n"
"  key list --account ACCT_ID|me [--inactive-days N] [--expiring 7d] [--json]\n"
"  key show KEY_ID [--json]\n"
"  key revoke|reactivate|delete KEY_ID\n"
"  key rotate KEY_ID [--grace 1h]\n"
"  key import FILE.jsonl [--account ACCT_ID|me]\n"
"  key update KEY_ID [--label LABEL] [--scopes \"a b\"] [--meta JSON]\n"
"             [--expires-in 90d | --expires-at TIME | --no-expiry]\n"
"             [--ratelimit LIMIT/WINDOW | --no-ratelimit]\n"
"             [--allowed-ips \"ADDR|CIDR ...\" | --no-allowed-ips]\n"
"             [--credits N|JSON | --no-credits | --credits-add N]\n"
"  key verify KEY|- [--scope SCOPE]... [--ip ADDR] [--cost N] [--json]\n"
"  user create EMAIL --account ACCT_ID --role owner|developer|viewer [--password-stdin]\n"
"  user passwd EMAIL|USER_ID [--password-stdin]\n"
"  user disable|enable EMAIL|USER_ID\n"
"  user list [--account ACCT_ID]\n"
"  key usage KEY_ID [--days N]      daily uses by outcome (default 30 days, max 400)\n"
"  audit verify [--since-checkpoint FILE]   check the signed audit chain\n"
"  audit anchor                     record where the signed chain starts (once)\n"
"  audit checkpoint                 print and log the chain's head (row id + MAC)\n"
"  audit rotate-key                 start a new epoch under a new audit secret\n"
"  sweep                            usage retention, inactive keys, expiry notices now\n"
"                                   (old name: gc)\n"
"  webhook list|create|show|enable|disable|delete|rotate|test|messages\n"
"  deliver --once                   deliver the due webhook messages\n"
"  leaks refresh-keys [--out FILE] [--url URL [--allow-http]]\n"
"  cache status|sync|clear          the host's verify cache: entries, hit rate, last sync\n"
"\n"
"The config file is --config FILE or $LATCHKEY_CONF" DEFAULT_CONF_TEXT ". 'me' is the root account.\n"
"A new key's plaintext is printed once, alone on its line on stdout; nothing\n"
"else goes to stdout with it. A user's password is asked on the terminal (twice,\n"
"not echoed) or read as one line from stdin with --password-stdin.\n";

struct lk_conf		 cli_conf;
const char		*cli_conf_path;
struct lk_db		*cli_db;
const struct lk_actor	 cli_actor = { "cli", "", "" };

/*
 * The commands; each lives in its own file of cli/ (see cli.h). help is
 * printed under the command's lines of usage_text by `latchkey help NAME`.
 */
static const struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*help;
} commands[] = {
	{ "migrate", cmd_migrate,
	  "Applies the migrations compiled into this binary that the database has not\n"
	  "recorded yet, as db_admin_user when the config names one (else db_user):\n"
	  "a user that may change the schema (CREATE, ALTER, INDEX, REFERENCES).\n" },
	{ "init", cmd_init,
	  "Runs migrate, then, once, creates the root account, an admin key and the\n"
	  "console login owner@localhost, and prints account_id=, key_id=, the key\n"
	  "itself, login: and password:. Later runs print no key.\n" },
	{ "setup", cmd_setup,
	  "Everything from an installed latchkey to a working one, on the MariaDB server\n"
	  "the config names (db_host, db_port, db_socket): connects as --db-superuser\n"
	  "(default root, over the unix socket; or with --db-superuser-password-file),\n"
	  "creates the database, the users db_admin_user and db_user (at --client-host;\n"
	  "for a local server localhost and 127.0.0.1) with new random passwords in\n"
	  "db_admin_password_file (0600) and db_password_file (0640, group --web-group,\n"
	  "default www-data), runs init (--login: the console's first login, default\n"
	  "owner@localhost), grants db_user its table rights, makes the audit key\n"
	  "readable by the group, and prints the next steps. Keeps whatever exists (the\n"
	  "password files win over the users' passwords): run it again after an upgrade.\n"
	  "Asks before it starts unless --yes.\n" },
	{ "account", cmd_account,
	  "list: the accounts below --parent (default: below the root), newest first.\n"
	  "show: one account. create: prints the new account's id; --parent defaults\n"
	  "to the root account, --plan to free. --json prints the API's JSON objects.\n"
	  "usage: daily counts by outcome of the account's subtree.\n"
	  "suspend: every key of the account and of its subtree is refused\n"
	  "(ACCOUNT_SUSPENDED) until reactivate; keys keep their own status. Audited.\n"
	  "ceiling: the scopes keys of the account and below it may hold (patterns like\n"
	  "tasks:*), --none removes it. If keys hold scopes outside a lowered ceiling it\n"
	  "is refused, listing them, unless --revoke revokes them. Audited.\n" },
	{ "key", cmd_key,
	  "list: ID, START, ENV, STATUS, SCOPES, EXPIRES, LAST USED and LABEL of the\n"
	  "account's keys (newest first); --json prints the API's key objects.\n"
	  "show: every field of one key. create and rotate print the new plaintext\n"
	  "alone on stdout, once. Durations: seconds or 30m, 12h, 90d.\n"
	  "update: change what PATCH /v1/keys/KEY_ID changes, checked by the same rules;\n"
	  "--scopes replaces the list, --meta (a JSON object) the meta, --expires-at takes\n"
	  "an RFC 3339 time (future, at most 36500d ahead), --ratelimit LIMIT uses per\n"
	  "WINDOW (1-1000000000 per 1-86400 s: 100/60, 6000/1h), --allowed-ips the\n"
	  "addresses and CIDR ranges that may use the key (at most 100), --credits the\n"
	  "uses left (N, or the API's object with a refill as JSON), --credits-add N\n"
	  "tops them up. The --no-... options clear. Audited as key.update.\n"
	  "verify: the answer of POST /v1/verify for KEY, as a caller that sees every\n"
	  "key: --scope (repeatable) asks for scopes, --ip passes the end client's\n"
	  "address (for a key with an allowlist), --cost the credits a valid use spends\n"
	  "(0-1000, default 1); --json prints the API's answer. KEY - reads the key from\n"
	  "stdin (asked without echo on a terminal), keeping it out of shell history and\n"
	  "ps. It is counted as the API counts a verify: a use of the key (rate limit,\n"
	  "credits, usage, last_used_at), or, refused for a suspended account or an\n"
	  "address outside the allowlist, an attempt in its usage only. Exit status:\n"
	  "0 VALID, 3 INVALID_API_KEY, 4 REVOKED_API_KEY, 5 EXPIRED_API_KEY,\n"
	  "6 INSUFFICIENT_SCOPE, 7 RATE_LIMITED, 8 ACCOUNT_SUSPENDED, 9 IP_NOT_ALLOWED,\n"
	  "10 USAGE_EXCEEDED; 1 error, 2 bad usage.\n"
	  "usage: daily counts by outcome (valid, rate_limited, ...) of one key.\n"
	  "list --inactive-days N: only the active keys not used within N days (never\n"
	  "used: not created within them), which revoke_after_inactive_days = N would revoke.\n"
	  "import: one JSON object per line with the fields of POST /v1/keys/import's items\n"
	  "(hash: SHA-256 hex of the whole key, start, label; scopes, env, expires_at,\n"
	  "ratelimit, meta, allowed_ips, credits, account_id; --account is the account of\n"
	  "lines without one; FILE - reads stdin). Lines are checked like the API's (scope\n"
	  "ceilings too), each imported alone (audited key.import); a key already there\n"
	  "counts as a duplicate, not an error. Progress on stderr every 1000 lines and at\n"
	  "the end, with the numbers of the lines in error; exit status 1 if any line was.\n" },
	{ "user", cmd_user,
	  "People who log in to the admin console (/admin). create: prints the new\n"
	  "user's id; --role owner (admin), developer or viewer. The password is asked\n"
	  "twice on the terminal without echo, or read as one line from stdin with\n"
	  "--password-stdin. passwd, disable: end the user's sessions. list: the users\n"
	  "of an account's subtree (default: the root's).\n" },
	{ "audit", cmd_audit,
	  "verify: recompute the signed hash chain of the audit log and check its start\n"
	  "against the anchor file (exit 1 on a break, or if not anchored); anchor: after\n"
	  "a verify, record the chain's first signed row in <audit_key_file>.anchor\n"
	  "(for installs from before the anchor; init writes it); checkpoint: print and\n"
	  "log the chain's head; rotate-key: start a new epoch under a new secret, only\n"
	  "over a chain that verifies (see docs/operations.md, The audit log).\n" },
	{ "sweep", cmd_sweep,
	  "Runs the periodic work each program does about hourly, at once: deletes the\n"
	  "daily usage counts older than usage_retention_days (config), then revokes the\n"
	  "keys an account's revoke_after_inactive_days says are inactive (revoked_reason\n"
	  "inactive, audited key.revoke), until none is left, and sends the expiry\n"
	  "notices due (key.expiring, key.expired; each once). Not needed from cron,\n"
	  "but harmless there.\n" },
	{ "gc", cmd_sweep,
	  "The old name of sweep; does the same.\n" },
	{ "webhook", cmd_webhook,
	  "list [--account ID]; create --url URL [--account ID] [--events \"a b\"]\n"
	  "[--description TEXT]; the others take a webhook id (wh_...).\n"
	  "Webhook endpoints (docs/api.md, Events and webhooks). create prints the\n"
	  "endpoint with its signing secret (whsec_...), once; rotate prints the new\n"
	  "secret (the old one signs beside it for webhook_secret_overlap). test queues\n"
	  "a webhook.test event; messages lists its recent deliveries.\n" },
	{ "cache", cmd_cache,
	  "status: the host's verify cache under cache_dir (verify_cache = on): its\n"
	  "entries, hits and misses since it was made, answers made stale (the database\n"
	  "down), the last read of the change feed and how long ago; clear: drop every\n"
	  "entry (the programs fill it again from the database); sync: read the change\n"
	  "feed and write the host's counts to the database now (the programs do both\n"
	  "each cache_sync_interval while they get requests). See docs/operations.md,\n"
	  "Verify cache.\n" },
	{ "deliver", cmd_deliver,
	  "Delivers every webhook message due now, once, then exits; the worker that\n"
	  "keeps running is latchkey-deliver (docs/operations.md, Webhooks).\n" },
	{ "leaks", cmd_leaks,
	  "refresh-keys: fetch GitHub's secret scanning public keys (the JSON of\n"
	  "https://api.github.com/meta/public_keys/secret_scanning, or --url) and replace\n"
	  "--out (default github_secret_scanning_keys_file) atomically, mode 0644, only\n"
	  "if the answer is 200 with a list of EC public keys; POST /v1/leaks/github reads\n"
	  "the file on every report. --allow-http lets --url be http:// (a test server).\n"
	  "Run it daily from cron (docs/operations.md, Leaked keys).\n" },
};

static const char	*current = "";	/* "key" while running `latchkey key ...` */

/* Print the lines of usage_text for topic ("key" or "key create") to f; false if none. */
static bool
topic_lines(FILE *f, const char *topic)
{
	const char	*p = usage_text;
	size_t		 tlen = strlen(topic);
	bool		 in = false, any = false;

	while (*p != '\0') {
		size_t n = strcspn(p, "\n");

		if (strncmp(p, "  ", 2) == 0 && p[2] != ' ')
			in = strncmp(p + 2, topic, tlen) == 0 &&
			    (p[2 + tlen] == ' ' || p[2 + tlen] == '\n' || p[2 + tlen] == '|');
		else if (strncmp(p, "   ", 3) != 0)
			in = false;	/* a blank or unindented line ends a command */
		if (in) {
			fprintf(f, "%.*s\n", (int)n, p);
			any = true;
		}
		p += n + (p[n] == '\n');
	}
	return any;
}

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < LK_NELEM(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* latchkey help CMD [SUB]: the command's lines (or the subcommand's) and its help. */
static int
help(const char *name, const char *sub)
{
	const struct command	*cmd = find_command(name);
	char			 topic[128];

	if (cmd == NULL) {
		fprintf(stderr, "latchkey: no command '%s'; run 'latchkey --help'\n", name);
		return CLI_EXIT_USAGE;
	}
	printf("usage: latchkey [--config FILE] %s ...\n\n", name);
	snprintf(topic, sizeof(topic), "%s %s", name, sub != NULL ? sub : "");
	if (sub == NULL || !topic_lines(stdout, topic))
		topic_lines(stdout, name);
	if (cmd->help != NULL)
		printf("\n%s", cmd->help);
	return 0;
}

int
cli_usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "latchkey: %s\n", why);
	size_t i;

	if (*current != '\0' && topic_lines(stderr, current)) {
		fprintf(stderr, "Run 'latchkey %s --help' for more.\n", current);
		return CLI_EXIT_USAGE;
	}
	/* Without a command: its synopsis and the command names, not the whole overview. */
	fprintf(stderr, "%.*s\ncommands:", (int)strcspn(usage_text, "\n"), usage_text);
	for (i = 0; i < LK_NELEM(commands); i++)
		fprintf(stderr, " %s", commands[i].name);
	fputs("\nRun 'latchkey --help' for their usage.\n", stderr);
	return CLI_EXIT_USAGE;
}

int
cli_operands(int argc, char **argv, int want, const char *missing)
{
	char	why[512];

	if (argc - optind > want) {
		snprintf(why, sizeof(why), "unexpected argument '%s' (quote an option's value "
		    "that has spaces)", argv[optind + want]);
		return cli_usage(why);
	}
	return argc - optind < want ? cli_usage(missing) : 0;
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
cli_account(const char *id, struct lk_account *out)
{
	enum lk_err e;

	if (strcmp(id, "me") == 0) {
		if ((e = lk_accounts_root(cli_db, out)) == LK_ERR_NOT_FOUND) {
			fprintf(stderr, "latchkey: no root account yet: run 'latchkey init'\n");
			return 1;
		}
		return cli_failed(e, "root account");
	}
	return cli_failed(lk_accounts_get(cli_db, id, out), id);
}

int
cli_list_all(cli_lister list, const struct lk_account *acct, const char *what, json_t **all)
{
	struct lk_page	page;
	enum lk_err	e;

	*all = json_array();
	lk_page_init(&page, LK_PAGE_MAX);
	do {
		if ((e = list(cli_db, acct, &page)) != LK_OK)
			break;
		json_array_extend(*all, page.data);
	} while (lk_page_next(&page));
	lk_page_free(&page);
	if (e != LK_OK) {
		json_decref(*all);
		*all = NULL;
	}
	return cli_failed(e, what);
}

bool
cli_read_line(FILE *f, char *buf, size_t size)
{
	size_t n;

	if (fgets(buf, (int)size, f) == NULL)
		return false;
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && !feof(f))
		return false;
	buf[n] = '\0';
	return true;
}

bool
cli_prompt(FILE *tty, const char *what, char *buf, size_t size)
{
	struct termios	 old, quiet;
	bool		 ok;

	fprintf(tty, "%s: ", what);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) != 0)
		return false;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	ok = cli_read_line(tty, buf, size);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	return ok;
}

int
cli_print_json(json_t *v)
{
	int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY) == 0 ? 0 : 1;

	json_decref(v);
	putchar('\n');
	return rc;
}

/* True if args (up to a "--") ask for help. */
static bool
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	const struct command	*cmd;
	const char		*path = getenv("LATCHKEY_CONF");
	char			 err[512], name[64];
	int			 i = 1, rc;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		puts("latchkey " LK_VERSION);
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
	if (strcmp(argv[0], "help") == 0) {
		if (argc == 1) {
			fputs(usage_text, stdout);
			return 0;
		}
		return help(argv[1], argc > 2 ? argv[2] : NULL);
	}
	if (argv[0][0] == '-') {
		fprintf(stderr, "latchkey: unknown option '%s'; options before the command "
		    "are --config FILE and --help\n", argv[0]);
		return cli_usage(NULL);
	}
	if ((cmd = find_command(argv[0])) == NULL) {
		fprintf(stderr, "latchkey: unknown command '%s'\n", argv[0]);
		return cli_usage(NULL);
	}
	if (wants_help(argc, argv))
		return help(cmd->name, argc > 1 && argv[1][0] != '-' ? argv[1] : NULL);
	current = cmd->name;
	/* getopt's messages name the program by argv[0]: "latchkey key: unrecognized option" */
	snprintf(name, sizeof(name), "latchkey %s", cmd->name);
	argv[0] = name;
#ifdef LK_DEFAULT_CONF
	if (path == NULL)
		path = LK_DEFAULT_CONF;
#endif
	if (path == NULL)
		return cli_usage("no config file: give --config FILE or set LATCHKEY_CONF");
	cli_conf_path = path;
	/* setup loads it by itself: it creates the password file the config names */
	if (cmd->run != cmd_setup && lk_conf_load(&cli_conf, path, err, sizeof(err)) != LK_OK) {
		fprintf(stderr, "latchkey: %s\n", err);
		return 1;
	}
	/* migrate, init and setup connect by themselves, as the owner user if there is one (setup.c). */
	if (cmd->run != cmd_migrate && cmd->run != cmd_init && cmd->run != cmd_setup &&
	    (cli_db = lk_db_open(&cli_conf)) == NULL)
		return 1;
	/* The verify cache is the programs': the command uses theirs, never makes one (model/cache.h). */
	lk_cache_existing_only();
	rc = cmd->run(argc, argv);
	lk_db_close(cli_db);
	return rc;
}
