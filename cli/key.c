/* key.c — latchkey key …: create, list and change keys from the shell. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fields.h"
#include "base/timefmt.h"
#include "cli.h"
#include "model/ceiling.h"
#include "model/verify.h"

/* --expires-in's value in seconds (1 to LK_EXPIRY_MAX), or false after saying why not. */
static bool
expires_in_arg(const char *arg, int64_t *secs)
{
	char max[24];

	if (lk_duration_parse(arg, LK_EXPIRY_MAX, secs))
		return true;
	lk_duration_format(LK_EXPIRY_MAX, max, sizeof(max));
	fprintf(stderr, "latchkey: --expires-in must be a duration up to %s (100 years), "
	    "such as 3600, 30m, 12h or 90d\n", max);
	return false;
}

/*
 * The scope ceilings (model/ceiling) bind the operator too: 0, or 1 after
 * naming the scope outside and the account whose ceiling refuses it.
 */
static int
ceiling_ok(const char *path, const char *scopes)
{
	char		bad[LK_SCOPE_MAX_LEN + 2], by[LK_PUBLIC_ID_MAX];
	enum lk_err	e;

	e = lk_ceiling_check(cli_db, path, scopes, bad, sizeof(bad), by, sizeof(by));
	if (e != LK_ERR_FORBIDDEN)
		return cli_failed(e, "scope ceiling");
	fprintf(stderr, "latchkey: --scopes: the scope '%s' is outside the scope ceiling "
	    "(grantable_scopes) of account %s\n", bad, by);
	return 1;
}

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
	char			 norm[LK_SCOPES_BUF], why[LK_SCOPES_WHY];
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
			if (!expires_in_arg(optarg, &expires_in))
				return CLI_EXIT_USAGE;
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
	if ((rc = cli_account(account, &acct)) != 0 || (rc = ceiling_ok(acct.path, norm)) != 0)
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

/* The strings of array a as one space-separated string (caller frees). */
static char *
words_text(json_t *a)
{
	json_t	*s;
	size_t	 i, n = 1;
	char	*out;

	json_array_foreach(a, i, s)
		n += json_string_length(s) + 1;
	if ((out = calloc(1, n)) == NULL)
		return NULL;
	json_array_foreach(a, i, s) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, json_string_value(s));
	}
	return out;
}

/*
 * One "name  value" line for each member of o named in names (NULL-terminated)
 * that o has: text as is, null or nothing as "-", a list (scopes) as its
 * words, anything else as compact JSON.
 */
static void
show_fields(json_t *o, const char *const *names)
{
	json_t	*v;
	char	*text;

	for (; *names != NULL; names++) {
		if ((v = json_object_get(o, *names)) == NULL)
			continue;
		text = json_is_string(v) ? strdup(json_string_value(v)) :
		    json_is_array(v) ? words_text(v) : json_is_null(v) ? NULL :
		    json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%-13s %s\n", *names, text != NULL && *text != '\0' ? text : "-");
		free(text);
	}
}

/* The filter of key list (--inactive-days, --expiring), and its field as the API's list has it. */
static struct lk_key_filter list_filter;
static const struct lk_field list_opts[] = {
	{ "inactive_days", LK_FT_INT, 0, LK_INACTIVE_DAYS_MAX, NULL },
	{ NULL, 0, 0, 0, NULL }
};

/* One page of the account's keys that pass list_filter (a cli_lister). */
static enum lk_err
all_keys(struct lk_db *db, const struct lk_account *acct, struct lk_page *page)
{
	return lk_keys_list(db, acct, &list_filter, time(NULL), page);
}

static json_t *field_value(const struct lk_field *table, const char *name, const char *opt,
    json_t *v, bool text, const char *hint);

/* key list --account ACCT_ID|me [--inactive-days N] [--expiring 7d] [--json] */
static int
key_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ "inactive-days", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "expiring", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};
	struct lk_account	 acct;
	const char		*account = NULL;
	json_t			*all, *k, *v;
	bool			 json = false;
	size_t			 i;
	int			 c, rc;

	optind = 2;
	memset(&list_filter, 0, sizeof(list_filter));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a')
			account = optarg;
		else if (c == 'j')
			json = true;
		else if (c == 'i') {
			if ((v = field_value(list_opts, "inactive_days", "--inactive-days",
			    json_string(optarg), true, "")) == NULL)
				return CLI_EXIT_USAGE;
			list_filter.inactive_days = json_integer_value(v);
			json_decref(v);
		} else if (c == 'e') {
			/* The keys expiring within the duration (GET /v1/keys?expiring_within=). */
			if (!lk_duration_parse(optarg, LK_EXPIRY_MAX, &list_filter.expiring_within))
				return cli_usage("--expiring takes a duration: seconds or 30m, 12h, 7d");
			list_filter.status = "active";
		} else
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
		char *scopes = words_text(json_object_get(k, "scopes"));

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
	    "status", "created_at", "expires_at", "revoked_at", "revoked_reason",
	    "last_used_at", "rotated_from", "imported", "scopes", "ratelimit",
	    "allowed_ips", "credits", "meta", NULL };
	struct lk_key	 key;
	json_t		*o;
	bool		 json = false;
	enum lk_err	 e;
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
	show_fields(o, fields);
	json_decref(o);
	return 0;
}

/* The field name of table (it is there). */
static const struct lk_field *
find_field(const struct lk_field *table, const char *name)
{
	while (strcmp(table->name, name) != 0)
		table++;
	return table;
}

/*
 * Check v (stolen), the value of option opt, with the rule of field name of
 * table (lk_key_patch_fields, lk_verify_fields: as the API does; text: v is
 * text as a form gives it). Returns the normalised value, or NULL after
 * printing the API's reason about opt, then hint.
 */
static json_t *
field_value(const struct lk_field *table, const char *name, const char *opt, json_t *v,
    bool text, const char *hint)
{
	const char	*why;
	char		 buf[256];
	json_t		*out = NULL;

	if (!lk_fields_value(find_field(table, name), v, text, &out, &why, buf, sizeof(buf))) {
		fprintf(stderr, "latchkey: %s %s%s\n", opt, why, hint);
		out = NULL;
	}
	json_decref(v);
	return out;
}

/* "100/60" or "6000/1h" as the ratelimit field's {"limit", "window"} (window in seconds when a duration). */
static json_t *
ratelimit_arg(const char *arg)
{
	const char	*slash = strchr(arg, '/');
	json_t		*o = json_object();
	int64_t		 w;

	if (slash == NULL)
		return o;
	json_object_set_new(o, "limit", json_stringn(arg, (size_t)(slash - arg)));
	json_object_set_new(o, "window", lk_duration_parse(slash + 1, LK_EXPIRY_MAX, &w) ?
	    json_integer(w) : json_string(slash + 1));
	return o;
}

/* How key update reads an option's value into its PATCH field. */
enum upd_how {
	UPD_TEXT,	/* the value, as a form gives it */
	UPD_WORDS,	/* the same, UTF-8 unchecked: the scope grammar names a bad byte */
	UPD_JSON,	/* JSON text (UTF-8 unchecked: the parser names a bad byte) */
	UPD_CREDITS,	/* JSON text, or a bare number N for {"remaining": N} */
	UPD_IN,		/* a duration from now */
	UPD_RATE,	/* LIMIT/WINDOW */
	UPD_NULL	/* no value: null clears the field */
};

/* The options of key update; getopt returns UPD_OPT + the index. */
static const struct update_opt {
	const char	*name;
	const char	*field;		/* of lk_key_patch_fields */
	enum upd_how	 how;
} update_opts[] = {
	{ "label", "label", UPD_TEXT },
	{ "scopes", "scopes", UPD_WORDS },
	{ "expires-in", "expires_at", UPD_IN },
	{ "expires-at", "expires_at", UPD_TEXT },
	{ "no-expiry", "expires_at", UPD_NULL },
	{ "meta", "meta", UPD_JSON },
	{ "ratelimit", "ratelimit", UPD_RATE },
	{ "no-ratelimit", "ratelimit", UPD_NULL },
	{ "allowed-ips", "allowed_ips", UPD_TEXT },
	{ "no-allowed-ips", "allowed_ips", UPD_NULL },
	{ "credits", "credits", UPD_CREDITS },
	{ "no-credits", "credits", UPD_NULL },
	{ "credits-add", "credits_add", UPD_TEXT },
};
#define UPD_OPT		256
#define UPD_N		LK_NELEM(update_opts)

/*
 * The value of update option o given arg, checked with its PATCH field's rule
 * and the expiry rule (as the API checks them) at now; NULL after saying why
 * not.
 */
static json_t *
update_value(const struct update_opt *o, const char *arg, int64_t now)
{
	const char	*why;
	char		 opt[32], buf[160];
	int64_t		 secs = 0;
	json_t		*v;

	snprintf(opt, sizeof(opt), "--%s", o->name);
	switch (o->how) {
	case UPD_NULL:
		return json_null();
	case UPD_IN:
		return expires_in_arg(arg, &secs) ? json_integer(now + secs) : NULL;
	case UPD_RATE:
		return field_value(lk_key_patch_fields, o->field, opt, ratelimit_arg(arg), true,
		    " (give LIMIT/WINDOW, such as 100/60 or 6000/1h)");
	case UPD_CREDITS:
		v = *arg != '\0' && arg[strspn(arg, "0123456789")] == '\0' ?
		    json_pack("{s:s}", "remaining", arg) : json_string_nocheck(arg);
		return field_value(lk_key_patch_fields, o->field, opt, v, true,
		    " (or give a number of credits)");
	case UPD_WORDS:
	case UPD_JSON:
		v = field_value(lk_key_patch_fields, o->field, opt, json_string_nocheck(arg),
		    true, "");
		break;
	default:
		v = field_value(lk_key_patch_fields, o->field, opt, json_string(arg), true, "");
		break;
	}
	if (json_is_integer(v) && strcmp(o->field, "expires_at") == 0 &&
	    (why = lk_key_expiry_why(json_integer_value(v), now, opt, buf, sizeof(buf))) != NULL) {
		fprintf(stderr, "latchkey: %s\n", why);
		json_decref(v);
		return NULL;
	}
	return v;
}

/*
 * The validated PATCH fields of the given options (arg: their values) into f,
 * as lk_req_fields leaves a body's. Prints every problem; returns 0 or the
 * exit status.
 */
static int
update_fields(const char **arg, const bool *given, int64_t now, json_t *f)
{
	json_t	*v;
	char	 why[160];
	size_t	 i, j;
	int	 rc = 0;

	for (i = 0; i < UPD_N; i++) {
		for (j = 0; j < i && given[i]; j++)
			if (given[j] && strcmp(update_opts[j].field, update_opts[i].field) == 0) {
				snprintf(why, sizeof(why), "--%s and --%s both change %s; give one",
				    update_opts[j].name, update_opts[i].name, update_opts[i].field);
				return cli_usage(why);
			}
	}
	for (i = 0; i < UPD_N; i++) {
		if (!given[i])
			continue;
		if ((v = update_value(&update_opts[i], arg[i], now)) == NULL)
			rc = CLI_EXIT_USAGE;
		else
			json_object_set_new(f, update_opts[i].field, v);
	}
	return rc;
}

/* key update KEY_ID [--label L] [--scopes "a b"] [--expires-in D|--expires-at T|--no-expiry] ... */
static int
key_update(int argc, char **argv)
{
	struct option		 opts[UPD_N + 1];
	struct lk_key_patch	 pt;
	struct lk_key		 k;
	const char		*arg[UPD_N] = { NULL }, *why;
	bool			 given[UPD_N] = { false }, any = false;
	json_t			*f = json_object();
	char			 msg[400], *meta = NULL;
	int64_t			 now = time(NULL);
	enum lk_err		 e;
	size_t			 i, n;
	int			 c, rc;

	memset(opts, 0, sizeof(opts));
	for (i = 0; i < UPD_N; i++)
		opts[i] = (struct option){ update_opts[i].name, update_opts[i].how == UPD_NULL ?
		    no_argument : required_argument, NULL, UPD_OPT + (int)i };
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c < UPD_OPT || c >= UPD_OPT + (int)UPD_N) {
			rc = cli_usage(NULL);
			goto out;
		}
		if (given[c - UPD_OPT]) {
			snprintf(msg, sizeof(msg), "--%s is given more than once",
			    opts[c - UPD_OPT].name);
			rc = cli_usage(msg);
			goto out;
		}
		given[c - UPD_OPT] = any = true;
		arg[c - UPD_OPT] = optarg;
	}
	if ((rc = cli_operands(argc, argv, 1, "key update: give one KEY_ID")) != 0)
		goto out;
	if (!any) {
		n = (size_t)snprintf(msg, sizeof(msg), "key update: nothing to change; give one "
		    "or more of");
		for (i = 0; i < UPD_N && n < sizeof(msg); i++)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, " --%s", opts[i].name);
		rc = cli_usage(msg);
		goto out;
	}
	if ((rc = update_fields(arg, given, now, f)) != 0)
		goto out;
	if ((e = lk_keys_get(cli_db, argv[optind], &k)) != LK_OK) {
		rc = cli_failed(e, argv[optind]);
		goto out;
	}
	if ((why = lk_key_credits_add_why(f, &k)) != NULL) {
		fprintf(stderr, "latchkey: --credits-add: %s\n", why);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if ((rc = cli_failed(lk_key_patch_of(f, &pt, &meta), "key update")) != 0 ||
	    (pt.has_scopes && (rc = ceiling_ok(k.owner.path, pt.scopes)) != 0) ||
	    (rc = cli_failed(lk_keys_update(cli_db, &cli_actor, NULL, &k, &pt, now),
	    "key update")) != 0)
		goto out;
	fprintf(stderr, "%s: updated", k.public_id);
	for (i = 0; i < UPD_N; i++)
		if (given[i])
			fprintf(stderr, " %s", update_opts[i].field);
	fprintf(stderr, "; %s\n", lk_key_status_name(lk_key_status(&k, now)));
out:
	json_decref(f);
	free(meta);
	return rc;
}

/* The exit status of key verify for each verdict (usage_text and README list them). */
static const struct {
	const char	*code;
	int		 status;
} verdicts[] = {
	{ "VALID", 0 },
	{ "INVALID_API_KEY", 3 },
	{ "REVOKED_API_KEY", 4 },
	{ "EXPIRED_API_KEY", 5 },
	{ "INSUFFICIENT_SCOPE", 6 },
	{ "RATE_LIMITED", 7 },
	{ "ACCOUNT_SUSPENDED", 8 },
	{ "IP_NOT_ALLOWED", 9 },
	{ "USAGE_EXCEEDED", 10 },
};

/* KEY, or for "-" one line of stdin (asked without echo on a terminal), into buf. */
static bool
verify_key_arg(const char *arg, char *buf, size_t size)
{
	FILE	*tty;
	bool	 ok;

	if (strcmp(arg, "-") != 0) {
		snprintf(buf, size, "%s", arg);
		return true;
	}
	if (!isatty(STDIN_FILENO))
		return cli_read_line(stdin, buf, size);
	if ((tty = fopen("/dev/tty", "r+")) == NULL)
		return false;
	ok = cli_prompt(tty, "Key to verify", buf, size);
	fclose(tty);
	return ok;
}

/*
 * The use asked by key verify's options (scopes: a JSON array, stolen), each
 * checked with the API's field rules; the values u points to are kept in
 * v[3]. Prints every bad value; returns false if any.
 */
static bool
verify_use(json_t *scopes, const char *ip, const char *cost, struct lk_use *u, json_t **v)
{
	const char	*why = NULL;
	bool		 ok;

	v[0] = field_value(lk_verify_fields, "scopes", "--scope", scopes, false, "");
	u->wanted = json_string_value(v[0]);
	ok = v[0] != NULL;
	if (ip != NULL) {
		v[1] = field_value(lk_verify_fields, "ip", "--ip", json_string(ip), true, "");
		if (v[1] != NULL && (why = lk_verify_ip_why(json_string_value(v[1]))) != NULL)
			fprintf(stderr, "latchkey: --ip %s\n", why);
		u->ip = json_string_value(v[1]);
		ok = v[1] != NULL && why == NULL && ok;
	}
	if (cost != NULL) {
		v[2] = field_value(lk_verify_fields, "cost", "--cost", json_string(cost), true, "");
		u->cost = json_integer_value(v[2]);
		ok = v[2] != NULL && ok;
	}
	return ok;
}

/* KEY checked as the API's "key" field: 0, or the exit status after saying why not. */
static int
verify_key_ok(const char *key)
{
	json_t		*text = json_string(key), *out = NULL;
	const char	*why;
	char		 buf[256];
	bool		 ok;

	ok = lk_fields_value(find_field(lk_verify_fields, "key"), text, true, &out, &why,
	    buf, sizeof(buf));
	if (text != NULL)	/* Jansson's copy of the key, ours until the decref */
		lk_crypto_wipe((char *)json_string_value(text), json_string_length(text));
	json_decref(out);
	json_decref(text);
	if (ok)
		return 0;
	fprintf(stderr, "latchkey: KEY %s\n", why);
	return CLI_EXIT_USAGE;
}

/*
 * key verify KEY|- [--scope S]... [--ip ADDR] [--cost N] [--json]:
 * POST /v1/verify's answer for a caller that sees every key (model/verify),
 * the use decided and counted as there.
 */
static int
key_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scope", required_argument, NULL, 's' },
		{ "ip", required_argument, NULL, 'i' },
		{ "cost", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const top[] = { "valid", "code", NULL };
	static const char *const key_fields[] = { "id", "account_id", "env", "scopes",
	    "expires_at", "meta", NULL };
	static const char *const after[] = { "ratelimit", "credits", NULL };
	static struct lk_out	 out;	/* 16 KiB: lives for the process */
	struct lk_use		 use = { time(NULL), NULL, NULL, 1 };
	json_t			*scopes = json_array(), *v[3] = { NULL }, *answer;
	const char		*ip = NULL, *cost = NULL, *code;
	char			 line[4 * LK_KEY_FOREIGN_MAX + 2];
	bool			 json = false;
	size_t			 i;
	int			 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')	/* unchecked UTF-8: the scope grammar names a bad byte */
			json_array_append_new(scopes, json_string_nocheck(optarg));
		else if (c == 'i')
			ip = optarg;
		else if (c == 'c')
			cost = optarg;
		else if (c == 'j')
			json = true;
		else {
			json_decref(scopes);
			return cli_usage(NULL);
		}
	}
	if ((rc = cli_operands(argc, argv, 1,
	    "key verify: give the KEY, or - to read it from stdin")) != 0) {
		json_decref(scopes);
		return rc;
	}
	if (!verify_use(scopes, ip, cost, &use, v))
		rc = CLI_EXIT_USAGE;
	else if (!verify_key_arg(argv[optind], line, sizeof(line)))
		rc = cli_usage("key verify -: no key on stdin (one line of at most 512 characters)");
	else if ((rc = verify_key_ok(line)) == 0)
		rc = cli_failed(lk_verify_key(cli_db, &cli_conf, line, &use, &out), "key verify");
	lk_crypto_wipe(line, sizeof(line));
	for (i = 0; i < LK_NELEM(v); i++)
		json_decref(v[i]);
	if (rc != 0)
		return rc;
	if (out.full || (answer = json_loadb(out.buf, out.len, 0, NULL)) == NULL)
		return cli_failed(LK_ERR_INTERNAL, "key verify");
	code = json_string_value(json_object_get(answer, "code"));
	for (i = 0, rc = 1; i < LK_NELEM(verdicts); i++)
		if (code != NULL && strcmp(code, verdicts[i].code) == 0)
			rc = verdicts[i].status;
	if (json)
		return cli_print_json(answer) != 0 ? 1 : rc;
	show_fields(answer, top);
	show_fields(json_object_get(answer, "key"), key_fields);
	show_fields(answer, after);
	json_decref(answer);
	return rc;
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

/* What key import did so far. */
struct import_run {
	const char		*account;	/* --account: for lines without account_id */
	char			 acct_id[LK_PUBLIC_ID_MAX];	/* acct is this one ("me" too) */
	struct lk_account	 acct;
	int64_t			 now;
	uint64_t		 lines, imported, duplicates, errors;
	char			 bad[200];	/* the first lines with errors */
};

static void
import_progress(const struct import_run *r, const char *when)
{
	fprintf(stderr, "import: %s %" PRIu64 " line(s): imported %" PRIu64 ", duplicates %"
	    PRIu64 ", errors %" PRIu64 "%s%s\n", when, r->lines, r->imported, r->duplicates,
	    r->errors, r->errors > 0 ? " (lines " : "", r->errors > 0 ? r->bad : "");
}

/* The account a line goes to (account_id, else --account), looked up once per change. */
static const char *
import_account(struct import_run *r, const char *id)
{
	enum lk_err e;

	if (id == NULL && (id = r->account) == NULL)
		return "no account_id: give one on the line or --account ACCT_ID";
	if (strcmp(r->acct_id, id) == 0)
		return NULL;
	r->acct_id[0] = '\0';
	e = strcmp(id, "me") == 0 ? lk_accounts_root(cli_db, &r->acct) :
	    lk_accounts_get(cli_db, id, &r->acct);
	if (e == LK_ERR_NOT_FOUND)
		return "no such account";
	if (e != LK_OK)
		return lk_err_message(e);
	snprintf(r->acct_id, sizeof(r->acct_id), "%s", id);
	return NULL;
}

/* The scope ceilings over acct (as ceiling_ok): NULL, or why not in why. */
static const char *
import_ceiling(const struct lk_account *acct, const char *scopes, char why[LK_KEY_WHY * 2])
{
	char		bad[LK_SCOPE_MAX_LEN + 2], by[LK_PUBLIC_ID_MAX];
	enum lk_err	e;

	e = lk_ceiling_check(cli_db, acct->path, scopes, bad, sizeof(bad), by, sizeof(by));
	if (e == LK_OK)
		return NULL;
	if (e != LK_ERR_FORBIDDEN)
		return lk_err_message(e);
	snprintf(why, LK_KEY_WHY * 2, "the scope '%s' is outside the scope ceiling "
	    "(grantable_scopes) of account %s", bad, by);
	return why;
}

/*
 * One line of an import file: a JSON object with the fields of an item of
 * POST /v1/keys/import, checked by the same table and rules. NULL if the key
 * was imported or was there already (*dup), else why not.
 */
static const char *
import_line(struct import_run *r, const char *line, bool *dup, char why[LK_KEY_WHY * 2])
{
	struct lk_fields_err	 ferr;
	struct lk_key_new	 nk;
	struct lk_key_policy	 pol;
	struct lk_key		 k;
	json_error_t		 jerr;
	json_t			*in, *f = NULL;
	const char		*field, *res = why;
	char			*meta = NULL;
	enum lk_err		 e;

	*dup = false;
	if ((in = json_loads(line, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		snprintf(why, LK_KEY_WHY * 2, "not valid JSON: %s", jerr.text);
	else if (!json_is_object(in))
		snprintf(why, LK_KEY_WHY * 2, "not a JSON object");
	else if (!lk_fields_object(in, lk_key_import_fields, false, &f, &ferr))
		snprintf(why, LK_KEY_WHY * 2, "%s", ferr.msg);
	else if (!lk_key_new_of(f, "live", r->now, &nk, &pol, &meta, &field, why))
		res = field != NULL ? why : "out of memory";
	else if ((res = import_account(r, json_string_value(json_object_get(f,
	    "account_id")))) == NULL && (res = import_ceiling(&r->acct, nk.scopes, why)) == NULL) {
		nk.account = &r->acct;
		e = lk_keys_import(cli_db, &cli_actor, &nk,
		    json_string_value(json_object_get(f, "hash")),
		    json_string_value(json_object_get(f, "start")),
		    cli_conf.max_keys_per_account, r->now, &k, dup);
		res = e == LK_OK || *dup ? NULL : e == LK_ERR_CONFLICT ?
		    "the account holds max_keys_per_account keys" : e == LK_ERR_NOT_FOUND ?
		    "the account was deleted meanwhile" : lk_err_message(e);
	}
	free(meta);
	json_decref(f);
	json_decref(in);
	return res;
}

/* key import FILE.jsonl|- [--account ACCT_ID|me] */
static int
key_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	struct import_run	*r;
	FILE			*in;
	char			*line = NULL, why[LK_KEY_WHY * 2];
	const char		*res;
	size_t			 cap = 0, n;
	ssize_t			 len;
	bool			 dup;
	int			 c, rc;

	optind = 2;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'a') {
			free(r);
			return cli_usage(NULL);
		}
		r->account = optarg;
	}
	if ((rc = cli_operands(argc, argv, 1, "key import: give one FILE (- for stdin)")) != 0) {
		free(r);
		return rc;
	}
	in = strcmp(argv[optind], "-") == 0 ? stdin : fopen(argv[optind], "r");
	if (in == NULL) {
		fprintf(stderr, "latchkey: %s: cannot open it\n", argv[optind]);
		free(r);
		return 1;
	}
	r->now = time(NULL);
	while ((len = getline(&line, &cap, in)) >= 0) {
		r->lines++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0')
			continue;	/* a blank line */
		if ((res = import_line(r, line, &dup, why)) == NULL) {
			r->imported += !dup;
			r->duplicates += dup;
		} else {
			fprintf(stderr, "latchkey: line %" PRIu64 ": %s\n", r->lines, res);
			n = strlen(r->bad);
			if (r->errors++ < 20)
				snprintf(r->bad + n, sizeof(r->bad) - n, "%s%" PRIu64, n ? ", " : "",
				    r->lines);
			else if (r->errors == 21)
				snprintf(r->bad + n, sizeof(r->bad) - n, ", ...");
		}
		if (r->lines % 1000 == 0)
			import_progress(r, "after");
	}
	if (r->errors > 0)
		strncat(r->bad, ")", sizeof(r->bad) - strlen(r->bad) - 1);
	import_progress(r, "done,");
	rc = r->errors > 0 || ferror(in) ? 1 : 0;
	if (in != stdin)
		fclose(in);
	free(line);
	free(r);
	return rc;
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
	if (strcmp(argv[1], "import") == 0)
		return key_import(argc, argv);
	if (strcmp(argv[1], "update") == 0)
		return key_update(argc, argv);
	if (strcmp(argv[1], "verify") == 0)
		return key_verify(argc, argv);
	if (strcmp(argv[1], "usage") == 0)
		return cli_key_usage(argc, argv);
	if (strcmp(argv[1], "revoke") == 0 || strcmp(argv[1], "reactivate") == 0 ||
	    strcmp(argv[1], "delete") == 0 || strcmp(argv[1], "rotate") == 0)
		return key_change(argc, argv);
	return cli_usage("key: unknown subcommand");
}
