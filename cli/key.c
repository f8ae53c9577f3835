/* key.c — latchkey key …: create, list and change keys from the shell. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fields.h"
#include "base/timefmt.h"
#include "cli.h"

/* Create a key and print its plaintext alone on stdout. */
static int
create_key(const struct lk_key_new *nk)
{
	struct lk_key	 k;
	char		 plaintext[LK_KEY_MAX + 1];
	enum lk_err	 e;

	e = lk_keys_create(cli_db, &cli_actor, cli_conf.key_prefix, nk,
	    cli_conf.max_keys_per_account, time(NULL), &k, plaintext, sizeof(plaintext));
	if (e != LK_OK)
		return cli_failed(e, "key create");
	fprintf(stderr, "created %s in %s (the key is shown once)\n",
	    k.public_id, k.owner.public_id);
	printf("%s\n", plaintext);
	fflush(stdout);
	lk_crypto_wipe(plaintext, sizeof(plaintext));
	return 0;
}

static int
key_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ "label", required_argument, NULL, 'l' },
		{ "scopes", required_argument, NULL, 's' },
		{ "env", required_argument, NULL, 'e' },
		{ "expires-in", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 }
	};
	struct lk_account	 acct;
	struct lk_key_new	 nk;
	const char		*account = NULL, *label = NULL, *scopes = "", *env = "live";
	char			 norm[LK_SCOPES_BUF], max[24], why_buf[128], why[LK_SCOPES_WHY];
	int64_t			 expires_in = 0;
	int			 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': account = optarg; break;
		case 'l': label = optarg; break;
		case 's': scopes = optarg; break;
		case 'e': env = optarg; break;
		case 'x':
			if (!lk_duration_parse(optarg, LK_EXPIRY_MAX, &expires_in)) {
				lk_duration_format(LK_EXPIRY_MAX, max, sizeof(max));
				snprintf(why_buf, sizeof(why_buf), "--expires-in must be a duration up "
				    "to %s (100 years), such as 3600, 30m, 12h or 90d", max);
				return cli_usage(why_buf);
			}
			break;
		default: return cli_usage(NULL);
		}
	}
	if ((rc = cli_operands(argc, argv, 0, NULL)) != 0)
		return rc;
	if (account == NULL || label == NULL)
		return cli_usage("key create needs --account and --label");
	if (!lk_fields_text_ok(label, LK_LABEL_MAX))
		return cli_usage("--label must be 1-100 characters without control characters");
	if (!lk_keyfmt_env_ok(env))
		return cli_usage("--env must be live or test");
	norm[0] = '\0';
	if (!lk_scopes_add_text(norm, sizeof(norm), scopes, why)) {
		fprintf(stderr, "latchkey: --scopes %s\n", why);
		return CLI_EXIT_USAGE;
	}
	if ((rc = cli_account(account, &acct)) != 0)
		return rc;
	nk = (struct lk_key_new){ &acct, label, norm, env,
	    expires_in ? time(NULL) + expires_in : 0, 0, 0, "{}", NULL };
	return create_key(&nk);
}

/* A time field of a key object, or "-" when null. */
static const char *
time_or_dash(json_t *k, const char *name)
{
	const char *v = json_string_value(json_object_get(k, name));

	return v != NULL ? v : "-";
}

/* The scopes of a key object as one space-separated string (caller frees). */
static char *
scopes_text(json_t *k)
{
	json_t	*s;
	size_t	 i, n = 1;
	char	*out;

	json_array_foreach(json_object_get(k, "scopes"), i, s)
		n += json_string_length(s) + 1;
	if ((out = calloc(1, n)) == NULL)
		return NULL;
	json_array_foreach(json_object_get(k, "scopes"), i, s) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, json_string_value(s));
	}
	return out;
}

/* One page of the account's keys, unfiltered (a cli_lister). */
static enum lk_err
all_keys(struct lk_db *db, const struct lk_account *acct, struct lk_page *page)
{
	static const struct lk_key_filter none = { .status = NULL };

	return lk_keys_list(db, acct, &none, time(NULL), page);
}

/* key list --account ACCT_ID|me [--json] */
static int
key_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct lk_account	 acct;
	const char		*account = NULL;
	json_t			*all, *k;
	bool			 json = false;
	size_t			 i;
	int			 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a')
			account = optarg;
		else if (c == 'j')
			json = true;
		else
			return cli_usage(NULL);
	}
	if ((rc = cli_operands(argc, argv, 0, NULL)) != 0)
		return rc;
	if (account == NULL)
		return cli_usage("key list needs --account ACCT_ID (or --account me)");
	if ((rc = cli_account(account, &acct)) != 0)
		return rc;
	if ((rc = cli_list_all(all_keys, &acct, "key list", &all)) != 0)
		return rc;
	if (json)
		return cli_print_json(all);
	printf("%-28s  %-20s  %-4s  %-7s  %-24s  %-20s  %-20s  %s\n", "ID", "START", "ENV",
	    "STATUS", "SCOPES", "EXPIRES", "LAST USED", "LABEL");
	json_array_foreach(all, i, k) {
		char *scopes = scopes_text(k);

		printf("%-28s  %-20s  %-4s  %-7s  %-24s  %-20s  %-20s  %s\n",
		    json_string_value(json_object_get(k, "id")),
		    json_string_value(json_object_get(k, "start")),
		    json_string_value(json_object_get(k, "env")),
		    json_string_value(json_object_get(k, "status")),
		    scopes != NULL && *scopes != '\0' ? scopes : "-",
		    time_or_dash(k, "expires_at"), time_or_dash(k, "last_used_at"),
		    json_string_value(json_object_get(k, "label")));
		free(scopes);
	}
	json_decref(all);
	return 0;
}

/* key show KEY_ID [--json] */
static int
key_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const fields[] = { "id", "account_id", "label", "start", "env",
	    "status", "created_at", "expires_at", "revoked_at", "last_used_at",
	    "rotated_from", NULL };
	struct lk_key	 key;
	json_t		*o;
	char		*text;
	bool		 json = false;
	enum lk_err	 e;
	size_t		 i;
	int		 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return cli_usage(NULL);
	}
	if ((rc = cli_operands(argc, argv, 1, "key show: give one KEY_ID")) != 0)
		return rc;
	if ((e = lk_keys_get(cli_db, argv[optind], &key)) != LK_OK)
		return cli_failed(e, argv[optind]);
	o = lk_key_json(&key, time(NULL));
	if (json)
		return cli_print_json(o);
	for (i = 0; fields[i] != NULL; i++)
		printf("%-13s %s\n", fields[i], json_is_string(json_object_get(o, fields[i])) ?
		    json_string_value(json_object_get(o, fields[i])) : "-");
	text = scopes_text(o);
	printf("%-13s %s\n", "scopes", text != NULL && *text != '\0' ? text : "-");
	free(text);
	text = json_dumps(json_object_get(o, "ratelimit"), JSON_COMPACT | JSON_ENCODE_ANY);
	printf("%-13s %s\n", "ratelimit", text != NULL ? text : "-");
	free(text);
	text = json_dumps(json_object_get(o, "meta"), JSON_COMPACT);
	printf("%-13s %s\n", "meta", text != NULL ? text : "{}");
	free(text);
	json_decref(o);
	return 0;
}

/* Why the key's state refuses verb (a 409), in words that say what to do; NULL if not known. */
static const char *
conflict_why(const char *verb, const struct lk_key *k, int64_t now)
{
	enum lk_key_status st = lk_key_status(k, now);

	if (strcmp(verb, "rotate") == 0 && st == LK_KEY_REVOKED)
		return "revoked keys cannot be rotated; reactivate it first (latchkey key reactivate ID)";
	if (strcmp(verb, "rotate") == 0 && st == LK_KEY_EXPIRED)
		return "expired keys cannot be rotated; create a new key instead";
	if (strcmp(verb, "reactivate") == 0 && st == LK_KEY_EXPIRED)
		return "an expired key cannot be reactivated; create a new key instead";
	return NULL;
}

static int
key_change(int argc, char **argv)
{
	struct lk_key	 k, nk;
	char		 plaintext[LK_KEY_MAX + 1];
	const char	*verb = argv[1], *why;
	int64_t		 grace = 0, now = time(NULL);
	enum lk_err	 e;

	if (strcmp(verb, "rotate") == 0 && argc == 5 && strcmp(argv[3], "--grace") == 0) {
		if (!lk_duration_parse(argv[4], LK_GRACE_MAX, &grace) &&
		    strcmp(argv[4], "0") != 0)
			return cli_usage("--grace must be a duration up to 30d, such as 3600, 30m or 1h");
	} else if (argc != 3)
		return cli_usage("expected: key revoke|reactivate|delete|rotate KEY_ID");
	if ((e = lk_keys_get(cli_db, argv[2], &k)) != LK_OK)
		return cli_failed(e, argv[2]);
	if (strcmp(verb, "revoke") == 0)
		e = lk_keys_revoke(cli_db, &cli_actor, NULL, &k, now);
	else if (strcmp(verb, "reactivate") == 0)
		e = lk_keys_reactivate(cli_db, &cli_actor, NULL, &k, now);
	else if (strcmp(verb, "delete") == 0)
		e = lk_keys_delete(cli_db, &cli_actor, NULL, &k, now);
	else {
		e = lk_keys_rotate(cli_db, &cli_actor, NULL, cli_conf.key_prefix, &k, grace, now, &nk,
		    plaintext, sizeof(plaintext));
		if (e == LK_OK) {
			fprintf(stderr, "rotated %s into %s; the old key %s\n",
			    k.public_id, nk.public_id, grace ? "expires after the grace period" :
			    "is revoked");
			printf("%s\n", plaintext);
			lk_crypto_wipe(plaintext, sizeof(plaintext));
		}
	}
	if (e == LK_ERR_CONFLICT && (why = conflict_why(verb, &k, now)) != NULL) {
		fprintf(stderr, "latchkey: key %s %s: %s\n", verb, k.public_id, why);
		return 1;
	}
	if (e != LK_OK)
		return cli_failed(e, verb);
	if (strcmp(verb, "rotate") != 0)
		fprintf(stderr, "%s: %s\n", k.public_id, strcmp(verb, "delete") == 0 ?
		    "deleted" : lk_key_status_name(lk_key_status(&k, now)));
	return 0;
}

int
cmd_key(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("key: expected a subcommand");
	if (strcmp(argv[1], "create") == 0)
		return key_create(argc, argv);
	if (strcmp(argv[1], "list") == 0)
		return key_list(argc, argv);
	if (strcmp(argv[1], "show") == 0)
		return key_show(argc, argv);
	if (strcmp(argv[1], "usage") == 0)
		return cli_key_usage(argc, argv);
	if (strcmp(argv[1], "revoke") == 0 || strcmp(argv[1], "reactivate") == 0 ||
	    strcmp(argv[1], "delete") == 0 || strcmp(argv[1], "rotate") == 0)
		return key_change(argc, argv);
	return cli_usage("key: unknown subcommand");
}
