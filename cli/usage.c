/* usage.c — latchkey key usage, account usage, and sweep (retention and inactive keys) from the shell. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "model/notices.h"
#include "model/usage.h"

/* Print a usage object ({"data": […], "totals": {…}}) as a plain table. */
static void
print_usage(json_t *u)
{
	json_t	*day;
	size_t	 i;
	int	 o;

	printf("%-10s", "DATE");
	for (o = 0; o < LK_OUTCOME__MAX; o++)
		printf("  %*s", (int)strlen(lk_outcome_name(o)), lk_outcome_name(o));
	printf("\n");
	json_array_foreach(json_object_get(u, "data"), i, day) {
		printf("%-10s", json_string_value(json_object_get(day, "date")));
		for (o = 0; o < LK_OUTCOME__MAX; o++)
			printf("  %*" JSON_INTEGER_FORMAT, (int)strlen(lk_outcome_name(o)),
			    json_integer_value(json_object_get(day, lk_outcome_name(o))));
		printf("\n");
	}
	printf("%-10s", "total");
	for (o = 0; o < LK_OUTCOME__MAX; o++)
		printf("  %*" JSON_INTEGER_FORMAT, (int)strlen(lk_outcome_name(o)),
		    json_integer_value(json_object_get(json_object_get(u, "totals"),
		    lk_outcome_name(o))));
	printf("\n");
}

/* "--days N" at argv[i] (if any) into *days. False on a bad value. */
static bool
days_arg(int argc, char **argv, int i, int *days)
{
	char *end;
	long  n;

	*days = LK_USAGE_DAYS_DEFAULT;
	if (i == argc)
		return true;
	if (i + 2 != argc || strcmp(argv[i], "--days") != 0)
		return false;
	n = strtol(argv[i + 1], &end, 10);
	if (*end != '\0' || n < 1 || n > LK_USAGE_DAYS_MAX)
		return false;
	*days = (int)n;
	return true;
}

int
cli_key_usage(int argc, char **argv)
{
	struct lk_key	 k;
	json_t		*u;
	int		 days;
	enum lk_err	 e;

	if (argc < 3 || !days_arg(argc, argv, 3, &days))
		return cli_usage("expected: key usage KEY_ID [--days 1..400]");
	if ((e = lk_keys_get(cli_db, argv[2], &k)) != LK_OK)
		return cli_failed(e, argv[2]);
	if ((e = lk_usage_key(cli_db, &k, NULL, days, time(NULL), &u)) != LK_OK)
		return cli_failed(e, "key usage");
	print_usage(u);
	json_decref(u);
	return 0;
}

int
cli_account_usage(int argc, char **argv)
{
	struct lk_account	 a;
	json_t			*u;
	int			 days;
	enum lk_err		 e;

	if (argc < 3 || !days_arg(argc, argv, 3, &days))
		return cli_usage("expected: account usage ACCT_ID [--days 1..400]");
	if ((e = lk_accounts_get(cli_db, argv[2], &a)) != LK_OK)
		return cli_failed(e, argv[2]);
	if ((e = lk_usage_account(cli_db, &a, NULL, days, time(NULL), &u)) != LK_OK)
		return cli_failed(e, "account usage");
	print_usage(u);
	json_decref(u);
	return 0;
}

int
cmd_sweep(int argc, char **argv __attribute__((unused)))
{
	uint64_t	removed, revoked;
	int64_t		now = time(NULL);
	enum lk_err	e;

	if (argc != 1)
		return cli_usage("sweep takes no arguments");
	if ((e = lk_usage_gc(cli_db, &cli_conf, now, &removed)) != LK_OK)
		return cli_failed(e, "sweep (usage retention)");
	fprintf(stderr, "sweep: removed %" PRIu64 " daily usage row(s) older than %u days\n",
	    removed, cli_conf.usage_retention_days);
	/* until none is left: each call revokes at most LK_SWEEP_REVOKE_MAX */
	do {
		if ((e = lk_keys_sweep_inactive(cli_db, &cli_actor, now, &revoked)) != LK_OK)
			return cli_failed(e, "sweep (inactive keys)");
		fprintf(stderr, "sweep: revoked %" PRIu64 " inactive key(s)\n", revoked);
	} while (revoked == LK_SWEEP_REVOKE_MAX);
	/* The expiry notices due now (each once, however many sweep at the same time). */
	if ((e = lk_notices_sweep(cli_db, now, &removed)) != LK_OK)
		return cli_failed(e, "sweep (expiry notices)");
	fprintf(stderr, "sweep: %" PRIu64 " expiry notice(s) sent\n", removed);
	return 0;
}
