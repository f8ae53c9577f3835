/* keys.c — API keys in the database; SQL lives here and nowhere else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timefmt.h"
#include "model/keys.h"
#include "model/usage.h"

/*
 * A key's policies and the suspended account (nearest the root) among its
 * account and that account's ancestors, which the account row carries
 * (accounts.suspended_by, kept by model/accounts): no extra read.
 */
#define KEY_POLICY_COLUMNS \
    " k.allowed_ips, k.credits_remaining IS NOT NULL, k.credits_remaining, k.refill_amount," \
    " k.refill_interval, k.refill_day, k.refilled_at, a.suspended_by"
#define KEY_COLUMNS(last_used) \
    "SELECT k.id, k.public_id, k.account_id, a.public_id, a.path, a.plan," \
    " k.start, k.env, k.label, k.scopes, k.created_at, k.expires_at," \
    " k.revoked_at, " last_used ", k.rotated_from, k.rl_limit, k.rl_window," \
    " k.meta, k.revoked_reason, k.imported," KEY_POLICY_COLUMNS
#define KEY_NCOLUMNS	28
#define KEY_SELECT KEY_COLUMNS(LK_USAGE_LAST_USED)
#define KEY_FROM " FROM api_keys k JOIN accounts a ON a.id = k.account_id"

static const char SQL_GET[] =
    KEY_SELECT KEY_FROM " WHERE k.public_id = ?";
/* The newest key rotated from a key (same account: rotation keeps it), found through the old one. */
static const char SQL_SUCCESSOR[] =
    KEY_SELECT KEY_FROM " JOIN api_keys o ON o.account_id = k.account_id"
    " AND o.public_id = k.rotated_from WHERE o.public_id = ?"
    " ORDER BY k.created_at DESC, k.public_id DESC LIMIT 1";
static const char SQL_LOCK[] =
    KEY_SELECT KEY_FROM " WHERE k.id = ? FOR UPDATE";
/*
 * The hot path's read: only what a decision needs (no times of use, no
 * subqueries; the label because the authorizer hands it to the app).
 * STRAIGHT_JOIN keeps the plan "two digest lookups, then their accounts" even
 * while the statistics are stale (after a bulk load the optimizer was seen
 * scanning every key of a one-account table instead); FORCE INDEX keeps the
 * accounts read a primary-key lookup when there are only a few accounts
 * (MariaDB otherwise scans them through a join buffer on every execution).
 */
static const char SQL_BY_DIGESTS[] =
    "SELECT k.id, k.public_id, k.account_id, a.public_id, a.path, a.plan, k.env,"
    " k.scopes, k.expires_at, k.revoked_at, k.rl_limit, k.rl_window, k.meta, k.digest,"
    " k.label," KEY_POLICY_COLUMNS
    " FROM api_keys k STRAIGHT_JOIN accounts a FORCE INDEX (PRIMARY) ON a.id = k.account_id"
    " WHERE k.digest IN (?, ?)";
/*
 * The presenting key with its account (GET /v1/me). last_used_at is not
 * derived here: the caller sets it to now once this use is counted valid.
 */
static const char SQL_WITH_ACCOUNT[] =
    KEY_COLUMNS("k.last_used_at") ", a.name, a.created_at, p.public_id"
    " FROM api_keys k STRAIGHT_JOIN accounts a ON a.id = k.account_id"
    " LEFT JOIN accounts p ON p.id = a.parent_id WHERE k.digest = ?";
static const char SQL_LOCK_ACCOUNT[] =
    "SELECT id FROM accounts WHERE id = ? FOR UPDATE";
static const char SQL_COUNT[] =
    "SELECT COUNT(*) FROM api_keys WHERE account_id = ?";
static const char SQL_INSERT[] =
    "INSERT INTO api_keys (public_id, account_id, digest, start, env, label,"
    " scopes, created_at, expires_at, rotated_from, rl_limit, rl_window, meta,"
    " allowed_ips, credits_remaining, refill_amount, refill_interval, refill_day, refilled_at,"
    " imported) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/* A locking read: a concurrent import of the same digest waits here, then finds it. */
static const char SQL_DIGEST_TAKEN[] =
    "SELECT id FROM api_keys WHERE digest = ? FOR UPDATE";
static const char SQL_UPDATE[] =
    "UPDATE api_keys SET label = ?, scopes = ?, expires_at = ?, rl_limit = ?,"
    " rl_window = ?, meta = ?, allowed_ips = ?, credits_remaining = ?, refill_amount = ?,"
    " refill_interval = ?, refill_day = ?, refilled_at = ? WHERE id = ?";

/* The policy columns' parameters (allowed_ips … refilled_at) of p. */
#define POLICY_PARAMS(p) \
	LK_STR0((p)->allowed_ips), \
	(p)->has_credits ? LK_INT((p)->credits) : LK_NULL, LK_INT0((p)->refill_amount), \
	LK_STR0((p)->refill_interval), LK_INT0((p)->refill_day), LK_INT0((p)->refilled_at)
static const char SQL_CREDITS_MOVED[] =
    "UPDATE api_keys SET credits_remaining = 0, refill_amount = NULL, refill_interval = NULL,"
    " refill_day = NULL WHERE id = ?";
static const char SQL_SET_REVOKED[] =
    "UPDATE api_keys SET revoked_at = ?, revoked_reason = ? WHERE id = ?";
static const char SQL_SET_EXPIRY[] =
    "UPDATE api_keys SET expires_at = ? WHERE id = ?";
static const char SQL_DELETE[] =
    "DELETE FROM api_keys WHERE id = ?";
/*
 * An active key (k) of an account whose last use (LK_USAGE_LAST_USED, one
 * primary-key read of its newest usage row) and creation are both before a
 * cutoff. Parameters: now, the cutoff, the cutoff.
 */
#define KEY_INACTIVE \
    " k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?)" \
    " AND k.created_at < ? AND " LK_USAGE_LAST_USED " < ?"
/*
 * The accounts with an inactivity policy: read whole, as there is no index on
 * the column (a few hundred bytes per account, once per sweep).
 */
static const char SQL_POLICIES[] =
    "SELECT path, public_id, revoke_after_inactive_days FROM accounts"
    " WHERE revoke_after_inactive_days IS NOT NULL ORDER BY id";
/*
 * Inactive keys of a subtree, a batch at a time: a range of accounts_path, then
 * of api_keys_list for each account; unordered, so it stops at the LIMIT.
 */
static const char SQL_INACTIVE[] =
    "SELECT k.id, k.public_id, a.id, a.public_id, a.path, a.plan"
    " FROM accounts a JOIN api_keys k ON k.account_id = a.id"
    " WHERE a.path LIKE ? AND" KEY_INACTIVE " LIMIT ?";
/* Revoke one of them if it is still inactive: the check and the change are one statement. */
static const char SQL_REVOKE_INACTIVE[] =
    "UPDATE api_keys k SET k.revoked_at = ?, k.revoked_reason = 'inactive'"
    " WHERE k.id = ? AND" KEY_INACTIVE;
static const char SQL_LIST[] =
    KEY_SELECT KEY_FROM " WHERE k.account_id = ?"
    " AND (? IS NULL OR k.env = ?) AND (? IS NULL OR k.env = ?)"
    " AND (? IS NULL OR (? = 'revoked' AND k.revoked_at IS NOT NULL)"
    "  OR (? = 'expired' AND k.revoked_at IS NULL AND k.expires_at <= ?)"
    "  OR (? = 'active' AND k.revoked_at IS NULL"
    "   AND (k.expires_at IS NULL OR k.expires_at > ?)))"
    " AND (? IS NULL OR k.label LIKE ?)"
    " AND (? IS NULL OR k.start LIKE ?)"
    " AND (? IS NULL OR (k.expires_at > ? AND k.expires_at <= ?))"
    " AND (? IS NULL OR (" KEY_INACTIVE "))"
    LK_DB_PAGE_AFTER("k");

enum lk_key_status
lk_key_status(const struct lk_key *k, int64_t now)
{
	if (k->revoked_at != 0)
		return LK_KEY_REVOKED;
	if (k->expires_at != 0 && k->expires_at <= now)
		return LK_KEY_EXPIRED;
	return LK_KEY_ACTIVE;
}

const char *
lk_key_status_name(enum lk_key_status s)
{
	return s == LK_KEY_REVOKED ? "revoked" : s == LK_KEY_EXPIRED ?
	    "expired" : "active";
}

const struct lk_field lk_key_patch_fields[] = {
	{ "label", LK_FT_TEXT, 0, LK_LABEL_MAX, NULL },
	{ "expires_at", LK_FT_TIME, LK_FF_NULLABLE, 0, NULL },
	{ "scopes", LK_FT_SCOPES, 0, 0, NULL },
	{ "ratelimit", LK_FT_RATELIMIT, LK_FF_NULLABLE, 0, NULL },
	{ "meta", LK_FT_OBJECT, 0, LK_META_MAX, NULL },
	{ "allowed_ips", LK_FT_IPS, LK_FF_NULLABLE, LK_ALLOWED_IPS_MAX, NULL },
	{ "credits", LK_FT_CREDITS, LK_FF_NULLABLE, 0, NULL },
	{ "credits_add", LK_FT_INT, 0, LK_CREDITS_MAX, NULL },
	{ NULL, 0, 0, 0, NULL }
};

static const char *const envs[] = { "live", "test", NULL };
static const char *const acct_prefix[] = { "acct_", NULL };

/* What create and import take alike. */
#define NEW_KEY_FIELDS \
	{ "label", LK_FT_TEXT, LK_FF_REQUIRED, LK_LABEL_MAX, NULL }, \
	{ "scopes", LK_FT_SCOPES, 0, 0, NULL }, \
	{ "env", LK_FT_ENUM, 0, 0, envs }, \
	{ "expires_at", LK_FT_TIME, LK_FF_NULLABLE, 0, NULL }, \
	{ "expires_in", LK_FT_DURATION, 0, LK_EXPIRY_MAX, NULL }, \
	{ "account_id", LK_FT_ID, 0, 0, acct_prefix }, \
	{ "ratelimit", LK_FT_RATELIMIT, LK_FF_NULLABLE, 0, NULL }, \
	{ "meta", LK_FT_OBJECT, 0, LK_META_MAX, NULL }, \
	{ "allowed_ips", LK_FT_IPS, LK_FF_NULLABLE, LK_ALLOWED_IPS_MAX, NULL }, \
	{ "credits", LK_FT_CREDITS, LK_FF_NULLABLE, 0, NULL }

const struct lk_field lk_key_create_fields[] = {
	NEW_KEY_FIELDS,
	{ NULL, 0, 0, 0, NULL }
};

const struct lk_field lk_key_import_fields[] = {
	NEW_KEY_FIELDS,
	{ "hash", LK_FT_HEX, LK_FF_REQUIRED, 2 * LK_SHA256_LEN, NULL },
	{ "start", LK_FT_WORD, LK_FF_REQUIRED, LK_KEY_STORED_START_MAX, NULL },
	{ NULL, 0, 0, 0, NULL }
};

const char *
lk_key_expiry_why(int64_t expires_at, int64_t now, const char *field, char *buf,
    size_t size)
{
	char max[24];

	if (expires_at <= now) {
		snprintf(buf, size, "%s must be in the future (revoke a key to stop it now)",
		    field);
		return buf;
	}
	if (expires_at - now <= LK_EXPIRY_MAX)
		return NULL;
	lk_duration_format(LK_EXPIRY_MAX, max, sizeof(max));
	snprintf(buf, size, "%s must be at most %s (100 years) from now", field, max);
	return buf;
}

void
lk_key_fields_rate(json_t *f, int64_t *limit, int64_t *window)
{
	json_t *rl = json_object_get(f, "ratelimit");

	*limit = json_integer_value(json_object_get(rl, "limit"));
	*window = json_integer_value(json_object_get(rl, "window"));
}

char *
lk_key_fields_meta(json_t *f)
{
	json_t *m = json_object_get(f, "meta");

	return m != NULL ? json_dumps(m, JSON_COMPACT) : strdup("{}");
}

void
lk_key_fields_policy(json_t *f, struct lk_key_policy *p)
{
	json_t *c = json_object_get(f, "credits"), *r;

	memset(p, 0, sizeof(*p));
	if (json_is_string(json_object_get(f, "allowed_ips")))
		snprintf(p->allowed_ips, sizeof(p->allowed_ips), "%s",
		    json_string_value(json_object_get(f, "allowed_ips")));
	if (!json_is_object(c))
		return;
	p->has_credits = 1;
	p->credits = json_integer_value(json_object_get(c, "remaining"));
	if (json_is_object(r = json_object_get(c, "refill"))) {
		p->refill_amount = json_integer_value(json_object_get(r, "amount"));
		snprintf(p->refill_interval, sizeof(p->refill_interval), "%s",
		    json_string_value(json_object_get(r, "interval")));
		p->refill_day = json_integer_value(json_object_get(r, "day_of_month"));
	}
}

const char *
lk_key_credits_add_why(json_t *f, const struct lk_key *k)
{
	if (json_object_get(f, "credits_add") == NULL)
		return NULL;
	if (json_object_get(f, "credits") != NULL)
		return "Give credits or credits_add, not both";
	return k->policy.has_credits ? NULL : "The key has unlimited uses: set credits first";
}

enum lk_err
lk_key_patch_of(json_t *f, struct lk_key_patch *pt, char **meta)
{
	json_t *v;

	memset(pt, 0, sizeof(*pt));
	*meta = NULL;
	if ((v = json_object_get(f, "label")) != NULL) {
		pt->has_label = true;
		pt->label = json_string_value(v);
	}
	if ((v = json_object_get(f, "expires_at")) != NULL) {
		pt->has_expires = true;
		pt->expires_at = json_integer_value(v);
	}
	if ((v = json_object_get(f, "scopes")) != NULL) {
		pt->has_scopes = true;
		pt->scopes = json_string_value(v);
	}
	if (json_object_get(f, "ratelimit") != NULL) {
		pt->has_ratelimit = true;
		lk_key_fields_rate(f, &pt->rl_limit, &pt->rl_window);
	}
	if (json_object_get(f, "meta") != NULL) {
		pt->has_meta = true;
		if ((pt->meta = *meta = lk_key_fields_meta(f)) == NULL)
			return LK_ERR_INTERNAL;
	}
	pt->has_allowed_ips = json_object_get(f, "allowed_ips") != NULL;
	pt->has_credits = json_object_get(f, "credits") != NULL;
	if (pt->has_allowed_ips || pt->has_credits) {
		lk_key_fields_policy(f, &pt->credits);
		pt->allowed_ips = json_is_string(v = json_object_get(f, "allowed_ips")) ?
		    json_string_value(v) : "";
	}
	pt->credits_add = json_integer_value(json_object_get(f, "credits_add"));
	return LK_OK;
}

bool
lk_key_new_of(json_t *f, const char *default_env, int64_t now, struct lk_key_new *nk,
    struct lk_key_policy *pol, char **meta, const char **field, char why[LK_KEY_WHY])
{
	json_t	*exp_at = json_object_get(f, "expires_at");
	json_t	*exp_in = json_object_get(f, "expires_in");

	memset(nk, 0, sizeof(*nk));
	*meta = NULL;
	*field = NULL;
	if (exp_at != NULL && exp_in != NULL) {
		*field = "expires_in";
		snprintf(why, LK_KEY_WHY, "Give expires_at or expires_in, not both");
		return false;
	}
	if (json_is_integer(exp_at) && lk_key_expiry_why(json_integer_value(exp_at), now,
	    "expires_at", why, LK_KEY_WHY) != NULL) {
		*field = "expires_at";
		return false;
	}
	nk->label = json_string_value(json_object_get(f, "label"));
	nk->scopes = json_object_get(f, "scopes") != NULL ?
	    json_string_value(json_object_get(f, "scopes")) : "";
	nk->env = json_object_get(f, "env") != NULL ?
	    json_string_value(json_object_get(f, "env")) : default_env;
	nk->expires_at = exp_in != NULL ? now + json_integer_value(exp_in) :
	    json_integer_value(exp_at);
	lk_key_fields_rate(f, &nk->rl_limit, &nk->rl_window);
	lk_key_fields_policy(f, pol);
	nk->policy = pol;
	nk->meta = *meta = lk_key_fields_meta(f);
	return *meta != NULL;
}

/* A key's own rate limit as {"limit","window"}, or null for none (its plan's). */
static json_t *
ratelimit_json(int64_t limit, int64_t window)
{
	if (limit == 0)
		return json_null();
	return json_pack("{s:I,s:I}", "limit", (json_int_t)limit, "window", (json_int_t)window);
}

/* A time as a JSON string, or null for 0. */
static json_t *
time_json(int64_t t)
{
	char buf[LK_TIME_MAX];

	if (t == 0)
		return json_null();
	lk_time_format(t, buf);
	return json_string(buf);
}

json_t *
lk_key_json(const struct lk_key *k, int64_t now)
{
	json_t *o, *meta;

	meta = json_loads(k->meta, 0, NULL);
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:o,s:o,s:o,s:o,s:s?,s:o}",
	    "id", k->public_id, "account_id", k->owner.public_id, "label", k->label,
	    "start", k->start, "env", k->env, "scopes", lk_scopes_json(k->scopes),
	    "status", lk_key_status_name(lk_key_status(k, now)),
	    "created_at", time_json(k->created_at),
	    "expires_at", time_json(k->expires_at),
	    "revoked_at", time_json(k->revoked_at),
	    "last_used_at", time_json(k->last_used_at),
	    "rotated_from", k->rotated_from[0] ? k->rotated_from : NULL,
	    "meta", meta != NULL ? meta : json_object());
	json_object_set_new(o, "ratelimit", ratelimit_json(k->rl_limit, k->rl_window));
	json_object_set_new(o, "revoked_reason", k->revoked_at == 0 ? json_null() :
	    json_string(k->revoked_reason[0] ? k->revoked_reason : "manual"));
	json_object_set_new(o, "imported", json_boolean(k->imported != 0));
	lk_policy_json(&k->policy, now, o);
	return o;
}

static int64_t
int_col(const struct lk_row *r, unsigned int i)
{
	return r->null[i] ? 0 : strtoll(r->v[i], NULL, 10);
}

/* The columns of KEY_POLICY_COLUMNS into struct s, whose policy members are p… */
#define POLICY_COLS(s, p) \
	LK_COL_TEXT(s, p allowed_ips), LK_COL_INT(s, p has_credits), \
	LK_COL_INT(s, p credits), LK_COL_INT(s, p refill_amount), \
	LK_COL_TEXT(s, p refill_interval), LK_COL_INT(s, p refill_day), \
	LK_COL_INT(s, p refilled_at), LK_COL_TEXT(s, p suspended_by)
static const struct lk_col policy_cols[] = { POLICY_COLS(lk_key_policy, ) };

/* The columns of KEY_COLUMNS, in order. */
static const struct lk_col cols[] = {
	LK_COLS_OWNED(lk_key),
	LK_COL_TEXT(lk_key, start), LK_COL_TEXT(lk_key, env),
	LK_COL_TEXT(lk_key, label), LK_COL_TEXT(lk_key, scopes),
	LK_COL_INT(lk_key, created_at), LK_COL_INT(lk_key, expires_at),
	LK_COL_INT(lk_key, revoked_at), LK_COL_INT(lk_key, last_used_at),
	LK_COL_TEXT(lk_key, rotated_from), LK_COL_INT(lk_key, rl_limit),
	LK_COL_INT(lk_key, rl_window), LK_COL_TEXT(lk_key, meta),
	LK_COL_TEXT(lk_key, revoked_reason), LK_COL_INT(lk_key, imported),
	POLICY_COLS(lk_key, policy.),
};
_Static_assert(LK_NELEM(cols) == KEY_NCOLUMNS, "KEY_COLUMNS and cols disagree");

enum lk_err
lk_keys_get(struct lk_db *db, const char *public_id, struct lk_key *out)
{
	return lk_db_get(db, SQL_GET, public_id, LK_DB_MAP(cols, out));
}

enum lk_err
lk_keys_successor(struct lk_db *db, const char *public_id, struct lk_key *out)
{
	return lk_db_get(db, SQL_SUCCESSOR, public_id, LK_DB_MAP(cols, out));
}

struct pair_ctx {
	const unsigned char	*da, *db;
	struct lk_key		*ka, *kb;
	bool			*fa, *fb;
};

/* Copy column i of r into dst (size bytes), truncated and NUL-terminated. */
static void
col_copy(char *dst, size_t size, const struct lk_row *r, unsigned int i)
{
	size_t n = strlen(r->v[i]);

	if (n >= size)
		n = size - 1;
	memcpy(dst, r->v[i], n);
	dst[n] = '\0';
}

/* A row of SQL_BY_DIGESTS into k: the other fields are left empty. */
static void
decision_row(const struct lk_row *r, struct lk_key *k)
{
	k->id = strtoull(r->v[0], NULL, 10);
	col_copy(k->public_id, sizeof(k->public_id), r, 1);
	k->owner.id = strtoull(r->v[2], NULL, 10);
	col_copy(k->owner.public_id, sizeof(k->owner.public_id), r, 3);
	col_copy(k->owner.path, sizeof(k->owner.path), r, 4);
	col_copy(k->owner.plan, sizeof(k->owner.plan), r, 5);
	col_copy(k->env, sizeof(k->env), r, 6);
	col_copy(k->scopes, sizeof(k->scopes), r, 7);
	k->expires_at = int_col(r, 8);
	k->revoked_at = int_col(r, 9);
	k->rl_limit = int_col(r, 10);
	k->rl_window = int_col(r, 11);
	col_copy(k->meta, sizeof(k->meta), r, 12);
	col_copy(k->label, sizeof(k->label), r, 14);
	lk_db_row_map_at(r, 15, LK_DB_MAP(policy_cols, &k->policy));
	k->start[0] = k->rotated_from[0] = k->revoked_reason[0] = '\0';
	k->created_at = k->last_used_at = k->imported = 0;
}

static enum lk_err
pair_row(const struct lk_row *r, void *arg)
{
	struct pair_ctx *c = arg;

	if (memcmp(r->v[13], c->da, LK_SHA256_LEN) == 0) {
		decision_row(r, c->ka);
		*c->fa = true;
	}
	if (memcmp(r->v[13], c->db, LK_SHA256_LEN) == 0) {
		decision_row(r, c->kb);
		*c->fb = true;
	}
	return LK_OK;
}

static enum lk_err
pair_work(struct lk_db *db, void *arg)
{
	struct pair_ctx		*c = arg;
	const struct lk_param	 p[] = { LK_BLOB(c->da, LK_SHA256_LEN),
	    LK_BLOB(c->db, LK_SHA256_LEN) };

	*c->fa = *c->fb = false;
	return lk_db_exec(db, SQL_BY_DIGESTS, p, 2, pair_row, c, NULL);
}

enum lk_err
lk_keys_by_digests(struct lk_db *db, const unsigned char *a, struct lk_key *ka,
    bool *found_a, const unsigned char *b, struct lk_key *kb, bool *found_b)
{
	struct pair_ctx c = { a, b, ka, kb, found_a, found_b };

	return lk_db_read(db, pair_work, &c);
}

struct with_account_ctx {
	const unsigned char	*digest;
	struct lk_key		*k;
	struct lk_account	*a;
	bool			*found;
};

static enum lk_err
with_account_row(const struct lk_row *r, void *arg)
{
	struct with_account_ctx	*c = arg;
	struct lk_account	*a = c->a;

	lk_db_row_map(r, LK_DB_MAP(cols, c->k));
	lk_owner_account(&c->k->owner, a);
	snprintf(a->parent_public, sizeof(a->parent_public), "%s", r->v[KEY_NCOLUMNS + 2]);
	snprintf(a->name, sizeof(a->name), "%s", r->v[KEY_NCOLUMNS]);
	a->created_at = strtoll(r->v[KEY_NCOLUMNS + 1], NULL, 10);
	*c->found = true;
	return LK_OK;
}

static enum lk_err
with_account_work(struct lk_db *db, void *arg)
{
	struct with_account_ctx	*c = arg;
	const struct lk_param	 p[] = { LK_BLOB(c->digest, LK_SHA256_LEN) };

	*c->found = false;
	return lk_db_exec(db, SQL_WITH_ACCOUNT, p, 1, with_account_row, c, NULL);
}

enum lk_err
lk_keys_with_account(struct lk_db *db, const unsigned char *digest,
    struct lk_key *k, struct lk_account *a, bool *found)
{
	struct with_account_ctx c = { digest, k, a, found };

	return lk_db_read(db, with_account_work, &c);
}

/*
 * Insert a key row from nk with its digest and start (rotated_from may be
 * NULL); fills out. Runs inside a transaction.
 */
static enum lk_err
insert_row(struct lk_db *db, const struct lk_key_new *nk, const unsigned char *digest,
    const char *start, const char *rotated_from, bool imported, int64_t now,
    struct lk_key *out)
{
	enum lk_err e;

	memset(out, 0, sizeof(*out));
	if (nk->policy != NULL) {
		out->policy = *nk->policy;
		out->policy.suspended_by[0] = '\0';
		/* The first period is the one it was given in: no refill due before the next. */
		out->policy.refilled_at = lk_policy_period_start(&out->policy, now);
	}
	if (!lk_crypto_public_id("key_", out->public_id, sizeof(out->public_id)))
		return LK_ERR_INTERNAL;
	{
		const struct lk_param p[] = {
			LK_STR(out->public_id), LK_INT(nk->account->id),
			LK_BLOB(digest, LK_SHA256_LEN), LK_STR(start),
			LK_STR(nk->env), LK_STR(nk->label), LK_STR(nk->scopes),
			LK_INT(now), LK_INT0(nk->expires_at), LK_STR0(rotated_from),
			LK_INT0(nk->rl_limit), LK_INT0(nk->rl_window), LK_STR(nk->meta),
			POLICY_PARAMS(&out->policy), LK_INT(imported),
		};
		if ((e = lk_db_exec(db, SQL_INSERT, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	out->id = lk_db_insert_id(db);
	out->owner = lk_account_owner(nk->account);
	out->imported = imported;
	snprintf(out->start, sizeof(out->start), "%s", start);
	snprintf(out->env, sizeof(out->env), "%s", nk->env);
	snprintf(out->label, sizeof(out->label), "%s", nk->label);
	snprintf(out->scopes, sizeof(out->scopes), "%s", nk->scopes);
	snprintf(out->rotated_from, sizeof(out->rotated_from), "%s",
	    rotated_from != NULL ? rotated_from : "");
	snprintf(out->meta, sizeof(out->meta), "%s", nk->meta);
	out->created_at = now;
	out->expires_at = nk->expires_at;
	out->rl_limit = nk->rl_limit;
	out->rl_window = nk->rl_window;
	return LK_OK;
}

/* Generate a new key (plaintext) and insert its row from nk; fills out. */
static enum lk_err
insert_key(struct lk_db *db, const char *prefix, const struct lk_key_new *nk,
    const char *rotated_from, int64_t now, struct lk_key *out, char *plaintext,
    size_t size)
{
	struct lk_keyparts	 parts;
	enum lk_err		 e;

	if ((e = lk_keyfmt_generate(prefix, nk->env, plaintext, size, &parts)) != LK_OK)
		return e;
	return insert_row(db, nk, parts.digest, parts.start, rotated_from, false, now, out);
}

/* The arguments of every change, for the lk_db_txn work functions. */
struct change_ctx {
	const struct lk_actor	*actor;
	const char		*holder;	/* NULL: unlimited */
	struct lk_key		*k;
	const struct lk_key_patch *patch;
	const struct lk_key_new	*nk;
	int64_t			 now, grace;
	int64_t			 max;		/* keys the account may hold */
	const char		*prefix;
	struct lk_key		*out;
	char			*plaintext;
	size_t			 size;
	const unsigned char	*digest;	/* import */
	const char		*start;
	bool			*duplicate;
};

/*
 * Lock the row of the account a new key goes to: creates and imports in one
 * account queue on it, so the count after it is exact. LK_ERR_NOT_FOUND if
 * the account is gone.
 */
static enum lk_err
lock_account(struct lk_db *db, const struct lk_account *a)
{
	const struct lk_param	 p[] = { LK_INT(a->id) };
	int64_t			 n = -1;
	enum lk_err		 e;

	if ((e = lk_db_exec(db, SQL_LOCK_ACCOUNT, p, 1, lk_db_row_int, &n, NULL)) != LK_OK)
		return e;
	return n < 0 ? LK_ERR_NOT_FOUND : LK_OK;
}

/*
 * After lock_account: LK_ERR_CONFLICT if a holds max keys. The count is the
 * transaction's first consistent read, so it sees every key committed before
 * the lock was granted; a concurrent account delete either finds the new key
 * (its DELETE fails: conflict) or has removed the row (not found).
 */
static enum lk_err
room_for_key(struct lk_db *db, const struct lk_account *a, int64_t max)
{
	const struct lk_param	 p[] = { LK_INT(a->id) };
	int64_t			 n = -1;
	enum lk_err		 e;

	if ((e = lk_db_exec(db, SQL_COUNT, p, 1, lk_db_row_int, &n, NULL)) != LK_OK)
		return e;
	return n >= max ? LK_ERR_CONFLICT : LK_OK;
}

/* The audit row of a new key (c->out): its label, env, start and scopes. */
static enum lk_err
new_key_audit(struct lk_db *db, const struct change_ctx *c, const char *action)
{
	return lk_owner_audit(db, c->actor, &c->out->owner, c->out->public_id, action,
	    json_pack("{s:s,s:s,s:s,s:o}", "label", c->out->label, "env",
	    c->out->env, "start", c->out->start, "scopes",
	    lk_scopes_json(c->out->scopes)), c->now);
}

static enum lk_err
create_work(struct lk_db *db, void *arg)
{
	struct change_ctx	*c = arg;
	enum lk_err		 e;

	if ((e = lock_account(db, c->nk->account)) != LK_OK ||
	    (e = room_for_key(db, c->nk->account, c->max)) != LK_OK ||
	    (e = insert_key(db, c->prefix, c->nk, NULL, c->now, c->out,
	    c->plaintext, c->size)) != LK_OK)
		return e;
	return new_key_audit(db, c, "key.create");
}

enum lk_err
lk_keys_create(struct lk_db *db, const struct lk_actor *actor,
    const char *prefix, const struct lk_key_new *nk, int64_t max_keys,
    int64_t now, struct lk_key *out, char *plaintext, size_t size)
{
	struct change_ctx c = { .actor = actor, .prefix = prefix, .nk = nk,
	    .now = now, .max = max_keys, .out = out, .plaintext = plaintext,
	    .size = size };

	return lk_db_txn(db, create_work, &c);
}

static enum lk_err
import_work(struct lk_db *db, void *arg)
{
	struct change_ctx	*c = arg;
	const struct lk_param	 p[] = { LK_BLOB(c->digest, LK_SHA256_LEN) };
	int64_t			 taken = -1;
	enum lk_err		 e;

	*c->duplicate = false;
	if ((e = lock_account(db, c->nk->account)) != LK_OK ||
	    (e = lk_db_exec(db, SQL_DIGEST_TAKEN, p, 1, lk_db_row_int, &taken, NULL)) != LK_OK)
		return e;
	if (taken >= 0) {
		*c->duplicate = true;
		return LK_ERR_CONFLICT;
	}
	if ((e = room_for_key(db, c->nk->account, c->max)) != LK_OK ||
	    (e = insert_row(db, c->nk, c->digest, c->start, NULL, true, c->now,
	    c->out)) != LK_OK)
		return e;
	return new_key_audit(db, c, "key.import");
}

enum lk_err
lk_keys_import(struct lk_db *db, const struct lk_actor *actor,
    const struct lk_key_new *nk, const char *hash, const char *start,
    int64_t max_keys, int64_t now, struct lk_key *out, bool *duplicate)
{
	unsigned char		digest[LK_SHA256_LEN];
	struct change_ctx	c = { .actor = actor, .nk = nk, .now = now,
	    .max = max_keys, .out = out, .digest = digest, .start = start,
	    .duplicate = duplicate };
	static const char	hex[] = "0123456789abcdef";
	const char		*hi, *lo;
	size_t			i;

	if (strlen(hash) != 2 * LK_SHA256_LEN)
		return LK_ERR_VALIDATION;
	for (i = 0; i < LK_SHA256_LEN; i++) {
		if ((hi = strchr(hex, hash[2 * i])) == NULL ||
		    (lo = strchr(hex, hash[2 * i + 1])) == NULL)
			return LK_ERR_VALIDATION;	/* not as lk_key_import_fields leaves it */
		digest[i] = (unsigned char)((hi - hex) << 4 | (lo - hex));
	}
	return lk_db_txn(db, import_work, &c);
}

/* Re-read k inside the transaction, locking its row: changes apply to the current state. */
static enum lk_err
lock_key(struct lk_db *db, struct lk_key *k)
{
	const struct lk_param	 p[] = { LK_INT(k->id) };
	enum lk_err		 e;
	uint64_t		 id = k->id;

	k->id = 0;
	e = lk_db_exec(db, SQL_LOCK, p, 1, lk_db_row_map, LK_DB_MAP(cols, k), NULL);
	if (k->id == 0) {
		k->id = id;	/* a retried transaction locks the same row */
		return e == LK_OK ? LK_ERR_NOT_FOUND : e;
	}
	return e;
}

/* lock_key, then the dominance rule: holder must hold every scope k holds now. */
static enum lk_err
lock_dominated(struct lk_db *db, struct lk_key *k, const char *holder)
{
	enum lk_err e;

	if ((e = lock_key(db, k)) != LK_OK)
		return e;
	if (holder != NULL && !lk_scopes_grantable(holder, k->scopes, NULL, NULL))
		return LK_ERR_FORBIDDEN;
	return LK_OK;
}

/* A key's policy fields as the API shows them (allowed_ips, credits), for old → new audit rows. */
static json_t *
policy_json(const struct lk_key_policy *p, int64_t now)
{
	json_t *o = json_object();

	lk_policy_json(p, now, o);
	return o;
}

/*
 * Apply the policy changes of pt to k (read under its row lock), noting old →
 * new in changes. A top-up adds to what remains now (a due refill applied first).
 */
static void
patch_policy(struct lk_key *k, const struct lk_key_patch *pt, int64_t now, json_t *changes)
{
	struct lk_key_policy	*p = &k->policy;
	json_t			*old = policy_json(p, now), *new;
	const char		*name;
	json_t			*v;

	if (pt->has_allowed_ips)
		snprintf(p->allowed_ips, sizeof(p->allowed_ips), "%s", pt->allowed_ips);
	if (pt->has_credits) {
		p->has_credits = pt->credits.has_credits;
		p->credits = pt->credits.credits;
		p->refill_amount = pt->credits.refill_amount;
		snprintf(p->refill_interval, sizeof(p->refill_interval), "%s",
		    pt->credits.refill_interval);
		p->refill_day = pt->credits.refill_day;
		p->refilled_at = lk_policy_period_start(p, now);
	}
	if (pt->credits_add > 0 && p->has_credits) {
		p->credits = lk_policy_credits_now(p, now) + pt->credits_add;
		if (p->credits > LK_CREDITS_MAX)
			p->credits = LK_CREDITS_MAX;
		p->refilled_at = lk_policy_period_start(p, now);
	}
	new = policy_json(p, now);
	json_object_foreach(new, name, v)
		if (!json_equal(v, json_object_get(old, name)))
			lk_audit_change(changes, name, json_incref(json_object_get(old, name)),
			    json_incref(v));
	json_decref(old);
	json_decref(new);
}

static enum lk_err
update_work(struct lk_db *db, void *arg)
{
	struct change_ctx		*c = arg;
	const struct lk_key_patch	*pt = c->patch;
	struct lk_key			*k = c->k;
	json_t				*changes = json_object();
	enum lk_err			 e;

	if ((e = lock_dominated(db, k, c->holder)) != LK_OK) {
		json_decref(changes);
		return e;
	}
	/* each given field, old -> new; k holds the locked row's values until set */
	if (pt->has_label) {
		lk_audit_change(changes, "label", json_string(k->label), json_string(pt->label));
		snprintf(k->label, sizeof(k->label), "%s", pt->label);
	}
	if (pt->has_scopes) {
		lk_audit_change(changes, "scopes", lk_scopes_json(k->scopes),
		    lk_scopes_json(pt->scopes));
		snprintf(k->scopes, sizeof(k->scopes), "%s", pt->scopes);
	}
	if (pt->has_expires) {
		lk_audit_change(changes, "expires_at", time_json(k->expires_at),
		    time_json(pt->expires_at));
		k->expires_at = pt->expires_at;
	}
	if (pt->has_ratelimit) {
		lk_audit_change(changes, "ratelimit", ratelimit_json(k->rl_limit, k->rl_window),
		    ratelimit_json(pt->rl_limit, pt->rl_window));
		k->rl_limit = pt->rl_limit;
		k->rl_window = pt->rl_window;
	}
	if (pt->has_meta) {
		lk_audit_change(changes, "meta", json_loads(k->meta, 0, NULL),
		    json_loads(pt->meta, 0, NULL));
		snprintf(k->meta, sizeof(k->meta), "%s", pt->meta);
	}
	if (pt->has_allowed_ips || pt->has_credits || pt->credits_add > 0)
		patch_policy(k, pt, c->now, changes);
	{
		const struct lk_param p[] = {
			LK_STR(k->label), LK_STR(k->scopes), LK_INT0(k->expires_at),
			LK_INT0(k->rl_limit), LK_INT0(k->rl_window), LK_STR(k->meta),
			POLICY_PARAMS(&k->policy), LK_INT(k->id),
		};
		if ((e = lk_db_exec(db, SQL_UPDATE, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK) {
			json_decref(changes);
			return e;
		}
	}
	return lk_owner_audit(db, c->actor, &k->owner, k->public_id, "key.update", changes,
	    c->now);
}

enum lk_err
lk_keys_update(struct lk_db *db, const struct lk_actor *actor, const char *holder,
    struct lk_key *k, const struct lk_key_patch *patch, int64_t now)
{
	struct change_ctx c = { .actor = actor, .holder = holder, .k = k,
	    .patch = patch, .now = now };

	return lk_db_txn(db, update_work, &c);
}

/*
 * The changes of a revoke or reactivate: {"status": {"old", "new"}} as the
 * key's status goes from what it is to what revoked_at (0: not revoked) makes
 * it; k->revoked_at is set to revoked_at.
 */
static json_t *
status_change(struct lk_key *k, int64_t revoked_at, int64_t now)
{
	json_t *changes = json_object(), *old;

	old = json_string(lk_key_status_name(lk_key_status(k, now)));
	k->revoked_at = revoked_at;
	lk_audit_change(changes, "status", old,
	    json_string(lk_key_status_name(lk_key_status(k, now))));
	return changes;
}

static enum lk_err
revoke_work(struct lk_db *db, void *arg)
{
	struct change_ctx	*c = arg;
	json_t			*changes;
	enum lk_err		 e;

	if ((e = lock_dominated(db, c->k, c->holder)) != LK_OK ||
	    c->k->revoked_at != 0)
		return e;
	{
		const struct lk_param p[] = { LK_INT(c->now), LK_STR("manual"),
		    LK_INT(c->k->id) };
		if ((e = lk_db_exec(db, SQL_SET_REVOKED, p, 3, NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	snprintf(c->k->revoked_reason, sizeof(c->k->revoked_reason), "manual");
	changes = status_change(c->k, c->now, c->now);
	json_object_set_new(changes, "reason", json_string("manual"));
	return lk_owner_audit(db, c->actor, &c->k->owner, c->k->public_id, "key.revoke",
	    changes, c->now);
}

enum lk_err
lk_keys_revoke(struct lk_db *db, const struct lk_actor *actor, const char *holder,
    struct lk_key *k, int64_t now)
{
	struct change_ctx c = { .actor = actor, .holder = holder, .k = k, .now = now };

	return lk_db_txn(db, revoke_work, &c);
}

enum lk_err
lk_keys_revoke_locked(struct lk_db *db, struct lk_key *k, const char *reason, int64_t now,
    json_t *changes, bool *revoked)
{
	json_t		*st;
	enum lk_err	 e;

	*revoked = false;
	if ((e = lock_key(db, k)) != LK_OK || k->revoked_at != 0)
		return e;
	{
		const struct lk_param p[] = { LK_INT(now), LK_STR(reason), LK_INT(k->id) };
		if ((e = lk_db_exec(db, SQL_SET_REVOKED, p, 3, NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	snprintf(k->revoked_reason, sizeof(k->revoked_reason), "%s", reason);
	st = status_change(k, now, now);
	json_object_update(changes, st);
	json_decref(st);
	json_object_set_new(changes, "reason", json_string(reason));
	*revoked = true;
	return LK_OK;
}

static enum lk_err
reactivate_work(struct lk_db *db, void *arg)
{
	struct change_ctx	*c = arg;
	enum lk_err		 e;

	if ((e = lock_dominated(db, c->k, c->holder)) != LK_OK)
		return e;
	if (c->k->expires_at != 0 && c->k->expires_at <= c->now)
		return LK_ERR_CONFLICT;
	if (c->k->revoked_at == 0)
		return LK_OK;
	{
		const struct lk_param p[] = { LK_NULL, LK_NULL, LK_INT(c->k->id) };
		if ((e = lk_db_exec(db, SQL_SET_REVOKED, p, 3, NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	c->k->revoked_reason[0] = '\0';
	return lk_owner_audit(db, c->actor, &c->k->owner, c->k->public_id, "key.reactivate",
	    status_change(c->k, 0, c->now), c->now);
}

enum lk_err
lk_keys_reactivate(struct lk_db *db, const struct lk_actor *actor,
    const char *holder, struct lk_key *k, int64_t now)
{
	struct change_ctx c = { .actor = actor, .holder = holder, .k = k, .now = now };

	return lk_db_txn(db, reactivate_work, &c);
}

static enum lk_err
delete_work(struct lk_db *db, void *arg)
{
	struct change_ctx	*c = arg;
	const struct lk_param	 p[] = { LK_INT(c->k->id) };
	uint64_t		 n = 0;
	enum lk_err		 e;

	if ((e = lock_dominated(db, c->k, c->holder)) != LK_OK ||
	    (e = lk_db_exec(db, SQL_DELETE, p, 1, NULL, NULL, &n)) != LK_OK)
		return e;
	if (n == 0)
		return LK_ERR_NOT_FOUND;
	return lk_owner_audit(db, c->actor, &c->k->owner, c->k->public_id, "key.delete",
	    json_pack("{s:s,s:s,s:s}", "label", c->k->label, "start",
	    c->k->start, "env", c->k->env), c->now);
}

enum lk_err
lk_keys_delete(struct lk_db *db, const struct lk_actor *actor,
    const char *holder, struct lk_key *k, int64_t now)
{
	struct change_ctx c = { .actor = actor, .holder = holder, .k = k, .now = now };

	return lk_db_txn(db, delete_work, &c);
}

static enum lk_err
rotate_work(struct lk_db *db, void *arg)
{
	struct change_ctx	*c = arg;
	struct lk_key		*old = c->k;
	struct lk_account	 acct;
	struct lk_key_new	 nk;
	struct lk_key_policy	 pol;
	int64_t			 old_expiry;
	enum lk_err		 e;

	if ((e = lock_dominated(db, old, c->holder)) != LK_OK)
		return e;
	if (lk_key_status(old, c->now) != LK_KEY_ACTIVE)
		return LK_ERR_CONFLICT;
	lk_owner_account(&old->owner, &acct);
	/* The credits left move to the new key: the old one, in its grace, has none. */
	pol = old->policy;
	pol.credits = lk_policy_credits_now(&old->policy, c->now);
	nk = (struct lk_key_new){ &acct, old->label, old->scopes, old->env,
	    old->expires_at != 0 ? c->now + (old->expires_at - old->created_at) : 0,
	    old->rl_limit, old->rl_window, old->meta, &pol };
	if ((e = insert_key(db, c->prefix, &nk, old->public_id, c->now, c->out,
	    c->plaintext, c->size)) != LK_OK)
		return e;
	if (old->policy.has_credits) {
		const struct lk_param p[] = { LK_INT(old->id) };

		if ((e = lk_db_exec(db, SQL_CREDITS_MOVED, p, 1, NULL, NULL, NULL)) != LK_OK)
			return e;
		old->policy.credits = old->policy.refill_amount = 0;
	}
	if (c->grace == 0) {
		const struct lk_param p[] = { LK_INT(c->now), LK_STR("rotated"),
		    LK_INT(old->id) };
		e = lk_db_exec(db, SQL_SET_REVOKED, p, 3, NULL, NULL, NULL);
		old->revoked_at = c->now;
		snprintf(old->revoked_reason, sizeof(old->revoked_reason), "rotated");
	} else {
		old_expiry = c->now + c->grace;
		if (old->expires_at != 0 && old->expires_at < old_expiry)
			old_expiry = old->expires_at;
		const struct lk_param p[] = { LK_INT(old_expiry), LK_INT(old->id) };
		e = lk_db_exec(db, SQL_SET_EXPIRY, p, 2, NULL, NULL, NULL);
		old->expires_at = old_expiry;
	}
	if (e != LK_OK)
		return e;
	return lk_owner_audit(db, c->actor, &old->owner, old->public_id, "key.rotate",
	    json_pack("{s:s,s:I}", "new_key_id", c->out->public_id,
	    "grace_period", (json_int_t)c->grace), c->now);
}

enum lk_err
lk_keys_rotate(struct lk_db *db, const struct lk_actor *actor,
    const char *holder, const char *prefix, struct lk_key *old, int64_t grace,
    int64_t now, struct lk_key *out, char *plaintext, size_t size)
{
	struct change_ctx c = { .actor = actor, .holder = holder, .k = old,
	    .now = now, .grace = grace,
	    .prefix = prefix, .out = out, .plaintext = plaintext, .size = size };

	return lk_db_txn(db, rotate_work, &c);
}

const struct lk_actor lk_keys_sweeper = { "sweep", "", "" };

/* A key the sweep found inactive: what its revocation and audit row need. */
struct inactive_key {
	uint64_t	 id;
	char		 public_id[LK_PUBLIC_ID_MAX];
	struct lk_owner	 owner;
};

static const struct lk_col inactive_cols[] = { LK_COLS_OWNED(inactive_key) };

/* An account with an inactivity policy. */
struct policy {
	char		 path[LK_ACCOUNT_PATH_MAX];
	char		 public_id[LK_PUBLIC_ID_MAX];
	int64_t		 days;
};

static const struct lk_col policy_account_cols[] = {
	LK_COL_TEXT(policy, path), LK_COL_TEXT(policy, public_id), LK_COL_INT(policy, days),
};

#define SWEEP_BATCH	100

struct sweep_ctx {
	const struct lk_actor	*actor;
	int64_t			 now;
	struct policy		*policies;
	size_t			 npolicies, cap;
	const struct policy	*policy;	/* being swept */
	int64_t			 cutoff;		/* its keys unused since before this are revoked */
	struct inactive_key	 found[SWEEP_BATCH];
	size_t			 nfound;
	const struct inactive_key *k;		/* being revoked */
	bool			 did;		/* revoke_inactive_work changed k */
	uint64_t		 revoked;
};

static enum lk_err
policy_row(const struct lk_row *r, void *arg)
{
	struct sweep_ctx	*c = arg;
	struct policy		*grown;

	if (c->npolicies == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		if ((grown = reallocarray(c->policies, c->cap, sizeof(*grown))) == NULL)
			return LK_ERR_INTERNAL;
		c->policies = grown;
	}
	lk_db_row_map(r, LK_DB_MAP(policy_account_cols, &c->policies[c->npolicies++]));
	return LK_OK;
}

static enum lk_err
inactive_row(const struct lk_row *r, void *arg)
{
	struct sweep_ctx *c = arg;

	if (c->nfound < SWEEP_BATCH)
		lk_db_row_map(r, LK_DB_MAP(inactive_cols, &c->found[c->nfound++]));
	return LK_OK;
}

/* Revoke c->k if it is still inactive now: the check is in the UPDATE itself. */
static enum lk_err
revoke_inactive_work(struct lk_db *db, void *arg)
{
	struct sweep_ctx	*c = arg;
	const struct lk_param	 p[] = { LK_INT(c->now), LK_INT(c->k->id), LK_INT(c->now),
	    LK_INT(c->cutoff), LK_INT(c->cutoff) };
	uint64_t		 n = 0;
	json_t			*changes;
	enum lk_err		 e;

	c->did = false;
	if ((e = lk_db_exec(db, SQL_REVOKE_INACTIVE, p, LK_NELEM(p), NULL, NULL, &n)) != LK_OK ||
	    n == 0)
		return e;
	c->did = true;
	/* the UPDATE took active keys only (KEY_INACTIVE) */
	changes = json_pack("{s:s,s:I,s:s}", "reason", "inactive",
	    "inactive_days", (json_int_t)c->policy->days, "policy_account_id",
	    c->policy->public_id);
	lk_audit_change(changes, "status", json_string("active"), json_string("revoked"));
	return lk_owner_audit(db, c->actor, &c->k->owner, c->k->public_id, "key.revoke",
	    changes, c->now);
}

/*
 * The keys under c->policy's account not used within its days, a batch at a
 * time, each revoked in a transaction of its own, until none is left or the
 * sweep has revoked LK_SWEEP_REVOKE_MAX.
 */
static enum lk_err
sweep_policy(struct lk_db *db, struct sweep_ctx *c)
{
	char		 like[LK_ACCOUNT_PATH_MAX + 2];
	uint64_t	 before;
	size_t		 i;
	enum lk_err	 e;

	snprintf(like, sizeof(like), "%s%%", c->policy->path);	/* digits and '/' */
	c->cutoff = c->now - c->policy->days * 86400;
	do {
		const struct lk_param p[] = { LK_STR(like), LK_INT(c->now), LK_INT(c->cutoff),
		    LK_INT(c->cutoff), LK_INT(SWEEP_BATCH) };

		c->nfound = 0;
		if ((e = lk_db_exec(db, SQL_INACTIVE, p, LK_NELEM(p), inactive_row, c,
		    NULL)) != LK_OK)
			return e;
		before = c->revoked;
		for (i = 0; i < c->nfound && c->revoked < LK_SWEEP_REVOKE_MAX; i++) {
			c->k = &c->found[i];
			if ((e = lk_db_txn(db, revoke_inactive_work, c)) != LK_OK)
				return e;
			c->revoked += c->did;
		}
		/* a batch with nothing revoked (all used meanwhile) ends it: the next sweep looks again */
	} while (c->nfound == SWEEP_BATCH && c->revoked > before &&
	    c->revoked < LK_SWEEP_REVOKE_MAX);
	return LK_OK;
}

static enum lk_err
policies_work(struct lk_db *db, void *arg)
{
	struct sweep_ctx *c = arg;

	c->npolicies = 0;
	return lk_db_exec(db, SQL_POLICIES, NULL, 0, policy_row, c, NULL);
}

enum lk_err
lk_keys_sweep_inactive(struct lk_db *db, const struct lk_actor *actor, int64_t now,
    uint64_t *revoked)
{
	struct sweep_ctx	*c;
	size_t			 i;
	enum lk_err		 e;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return LK_ERR_INTERNAL;
	c->actor = actor;
	c->now = now;
	e = lk_db_read(db, policies_work, c);
	for (i = 0; e == LK_OK && i < c->npolicies && c->revoked < LK_SWEEP_REVOKE_MAX; i++) {
		c->policy = &c->policies[i];
		e = sweep_policy(db, c);
	}
	if (revoked != NULL)
		*revoked = c->revoked;
	free(c->policies);
	free(c);
	return e;
}

static json_t *
key_item(const void *k, const void *now)
{
	return lk_key_json(k, *(const int64_t *)now);
}

/* "%q%" (or "q%" when prefix) with LIKE's wildcards in q escaped. */
static void
like_pattern(const char *q, bool prefix, char *out, size_t size)
{
	size_t o = 0;

	if (!prefix)
		out[o++] = '%';
	for (; *q != '\0' && o + 3 < size; q++) {
		if (*q == '%' || *q == '_' || *q == '\\')
			out[o++] = '\\';
		out[o++] = *q;
	}
	out[o++] = '%';
	out[o] = '\0';
}

enum lk_err
lk_keys_list(struct lk_db *db, const struct lk_account *account,
    const struct lk_key_filter *f, int64_t now, struct lk_page *page)
{
	struct lk_key	 k;
	char		 like[LK_LABEL_MAX * 8 + 3];
	char		 slike[LK_KEY_START_MAX * 2 + 2];

	if (f->q != NULL)
		like_pattern(f->q, false, like, sizeof(like));
	if (f->start != NULL)
		like_pattern(f->start, true, slike, sizeof(slike));
	const struct lk_param p[] = {
		LK_INT(account->id),
		LK_STR0(f->env), LK_STR0(f->env), LK_STR0(f->only_env), LK_STR0(f->only_env),
		LK_STR0(f->status), LK_STR0(f->status), LK_STR0(f->status),
		LK_INT(now), LK_STR0(f->status), LK_INT(now),
		f->q != NULL ? LK_STR(like) : LK_NULL, f->q != NULL ? LK_STR(like) : LK_NULL,
		f->start != NULL ? LK_STR(slike) : LK_NULL,
		f->start != NULL ? LK_STR(slike) : LK_NULL,
		LK_INT0(f->expiring_within), LK_INT(now),
		LK_INT(now + f->expiring_within),
		LK_INT0(f->inactive_days), LK_INT(now),
		LK_INT(now - f->inactive_days * 86400), LK_INT(now - f->inactive_days * 86400),
	};

	return lk_db_page(db, SQL_LIST, p, LK_NELEM(p), page,
	    LK_DB_ITEMS(cols, &k, key_item, &now));
}
