/* users.c — console users in the database; SQL lives here and nowhere else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "base/fields.h"
#include "base/log.h"
#include "base/scopes.h"
#include "base/timefmt.h"
#include "model/users.h"

#define SALT_LEN	16
#define HASH_LEN	32

#define USER_SELECT \
    "SELECT u.id, u.public_id, u.account_id, a.public_id, a.path, a.plan," \
    " u.email, u.role, u.password_hash, u.disabled_at, u.created_at, u.last_login_at" \
    " FROM users u JOIN accounts a ON a.id = u.account_id"

static const char SQL_GET[] = USER_SELECT " WHERE u.public_id = ?";
static const char SQL_BY_EMAIL[] = USER_SELECT " WHERE u.email = ?";
static const char SQL_EMAIL_TAKEN[] =
    "SELECT COUNT(*) FROM users WHERE email = ? FOR UPDATE";
static const char SQL_INSERT[] =
    "INSERT INTO users (public_id, account_id, email, password_hash, role,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char SQL_SET_PASSWORD[] =
    "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?";
static const char SQL_SET_ROLE[] =
    "UPDATE users SET role = ?, updated_at = ? WHERE id = ?";
static const char SQL_SET_DISABLED[] =
    "UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ?";
static const char SQL_TOUCH[] =
    "UPDATE users SET last_login_at = ? WHERE id = ?";
static const char SQL_LIST[] =
    USER_SELECT " WHERE a.path LIKE ?"
    LK_DB_PAGE_AFTER("u");

const char *const lk_roles[] = { "owner", "developer", "viewer", NULL };

static const char *const role_scopes[] = {
	"admin",
	"keys:read keys:write accounts:read verify audit:read webhooks:read",
	"keys:read accounts:read audit:read",
};

const char *
lk_role_scopes(const char *role)
{
	size_t i;

	for (i = 0; role != NULL && lk_roles[i] != NULL; i++)
		if (strcmp(role, lk_roles[i]) == 0)
			return role_scopes[i];
	return NULL;
}

bool
lk_email_ok(const char *email)
{
	const char *at = strchr(email, '@');

	if (!lk_fields_text_ok(email, LK_EMAIL_MAX) || strchr(email, ' ') != NULL)
		return false;
	return at != NULL && at != email && at[1] != '\0' && strchr(at + 1, '@') == NULL;
}

bool
lk_password_ok(const char *password)
{
	/* 1..MAX characters of text, but not 1..MIN-1 of them. */
	return strlen(password) <= LK_PASSWORD_MAX && lk_fields_text_ok(password, LK_PASSWORD_MAX) &&
	    !lk_fields_text_ok(password, LK_PASSWORD_MIN - 1);
}

bool
lk_password_generate(char *out, size_t size)
{
	if (size < LK_PASSWORD_GEN + 1)
		return false;
	return lk_crypto_base62(out, LK_PASSWORD_GEN);
}

bool
lk_users_may_manage(const char *held, const char *role)
{
	const char *scopes = lk_role_scopes(role);

	return scopes != NULL && lk_scopes_grantable(held, scopes, NULL, NULL);
}

json_t *
lk_user_json(const struct lk_user *u)
{
	char created[LK_TIME_MAX], login[LK_TIME_MAX];

	lk_time_format(u->created_at, created);
	lk_time_format(u->last_login_at, login);
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s?}", "id", u->public_id,
	    "account_id", u->owner.public_id, "email", u->email, "role", u->role,
	    "disabled", u->disabled_at != 0, "created_at", created,
	    "last_login_at", u->last_login_at != 0 ? login : NULL);
}

/* The columns of a user row, in the order the SELECTs name them. */
static const struct lk_col cols[] = {
	LK_COLS_OWNED(lk_user),
	LK_COL_TEXT(lk_user, email), LK_COL_TEXT(lk_user, role),
	LK_COL_TEXT(lk_user, password_hash), LK_COL_INT(lk_user, disabled_at),
	LK_COL_INT(lk_user, created_at), LK_COL_INT(lk_user, last_login_at),
};

enum lk_err
lk_users_get(struct lk_db *db, const char *public_id, struct lk_user *out)
{
	return lk_db_get(db, SQL_GET, public_id, LK_DB_MAP(cols, out));
}

enum lk_err
lk_users_by_email(struct lk_db *db, const char *email, struct lk_user *out)
{
	return lk_db_get(db, SQL_BY_EMAIL, email, LK_DB_MAP(cols, out));
}

/* argon2id of password with a fresh salt, in the encoded "$argon2id$v=19$…" form. */
static enum lk_err
hash_password(const struct lk_conf *conf, const char *password, char *out, size_t size)
{
	unsigned char	 salt[SALT_LEN];
	int		 rc;

	if (!lk_crypto_random(salt, sizeof(salt)))
		return LK_ERR_INTERNAL;
	rc = argon2id_hash_encoded(conf->argon2_t_cost, conf->argon2_m_cost,
	    conf->argon2_parallelism, password, strlen(password), salt, sizeof(salt),
	    HASH_LEN, out, size);
	if (rc != ARGON2_OK) {
		lk_log_err("argon2id: %s", argon2_error_message(rc));
		return LK_ERR_INTERNAL;
	}
	return LK_OK;
}

bool
lk_users_password_check(const struct lk_conf *conf, const struct lk_user *u,
    const char *password)
{
	static char	dummy[LK_PASSWORD_HASH_MAX];

	if (u == NULL || u->disabled_at != 0 || u->password_hash[0] == '\0') {
		/* Same work as a real check: a hash made with the same parameters. */
		if (dummy[0] == '\0' &&
		    hash_password(conf, "latchkey-dummy-password", dummy, sizeof(dummy)) != LK_OK)
			return false;
		(void)argon2id_verify(dummy, password, strlen(password));
		return false;
	}
	return argon2id_verify(u->password_hash, password, strlen(password)) == ARGON2_OK;
}

struct create_ctx {
	const struct lk_actor	*actor;
	const struct lk_account	*account;
	const char		*email, *role, *hash;
	int64_t			 now;
	struct lk_user		*out;
	int64_t			 taken;
};

static enum lk_err
create_work(struct lk_db *db, void *arg)
{
	struct create_ctx	*c = arg;
	struct lk_user		*u = c->out;
	enum lk_err		 e;

	{
		const struct lk_param p[] = { LK_STR(c->email) };

		if ((e = lk_db_exec(db, SQL_EMAIL_TAKEN, p, 1, lk_db_row_int, &c->taken,
		    NULL)) != LK_OK)
			return e;
		if (c->taken > 0)
			return LK_ERR_CONFLICT;
	}
	memset(u, 0, sizeof(*u));
	if (!lk_crypto_public_id("usr_", u->public_id, sizeof(u->public_id)))
		return LK_ERR_INTERNAL;
	{
		const struct lk_param p[] = {
			LK_STR(u->public_id), LK_INT(c->account->id), LK_STR(c->email),
			LK_STR(c->hash), LK_STR(c->role), LK_INT(c->now), LK_INT(c->now),
		};

		if ((e = lk_db_exec(db, SQL_INSERT, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	u->id = lk_db_insert_id(db);
	u->owner = lk_account_owner(c->account);
	snprintf(u->email, sizeof(u->email), "%s", c->email);
	snprintf(u->role, sizeof(u->role), "%s", c->role);
	snprintf(u->password_hash, sizeof(u->password_hash), "%s", c->hash);
	u->created_at = c->now;
	return lk_owner_audit(db, c->actor, &u->owner, u->public_id, "user.create",
	    json_pack("{s:s,s:s}", "email", c->email, "role", c->role), c->now);
}

enum lk_err
lk_users_create(struct lk_db *db, const struct lk_conf *conf,
    const struct lk_actor *actor, const struct lk_account *account,
    const char *email, const char *role, const char *password, int64_t now,
    struct lk_user *out)
{
	char			 hash[LK_PASSWORD_HASH_MAX];
	struct create_ctx	 c = { actor, account, email, role, hash, now, out, 0 };
	enum lk_err		 e;

	if (lk_role_scopes(role) == NULL || !lk_email_ok(email) || !lk_password_ok(password))
		return LK_ERR_VALIDATION;
	if ((e = hash_password(conf, password, hash, sizeof(hash))) != LK_OK)
		return e;
	return lk_db_txn(db, create_work, &c);
}

static const char SQL_END_SESSIONS[] =
    "DELETE FROM sessions WHERE user_id = ? AND id <> ?";

enum lk_err
lk_users_end_sessions(struct lk_db *db, uint64_t user_id, uint64_t keep)
{
	const struct lk_param p[] = { LK_INT(user_id), LK_INT(keep) };

	return lk_db_exec(db, SQL_END_SESSIONS, p, LK_NELEM(p), NULL, NULL, NULL);
}

struct change_ctx {
	const struct lk_actor	*actor;
	struct lk_user		*u;
	const char		*sql, *action;
	struct lk_param		 value;
	json_t			*changes;	/* built once; each try borrows it */
	uint64_t		 keep_session;
	bool			 end_sessions;
	int64_t			 now;
};

static enum lk_err
change_work(struct lk_db *db, void *arg)
{
	struct change_ctx	*c = arg;
	const struct lk_param	 p[] = { c->value, LK_INT(c->now), LK_INT(c->u->id) };
	enum lk_err		 e;

	if ((e = lk_db_exec(db, c->sql, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
		return e;
	if (c->end_sessions &&
	    (e = lk_users_end_sessions(db, c->u->id, c->keep_session)) != LK_OK)
		return e;
	return lk_owner_audit(db, c->actor, &c->u->owner, c->u->public_id, c->action,
	    json_incref(c->changes), c->now);
}

enum lk_err
lk_users_set_password(struct lk_db *db, const struct lk_conf *conf,
    const struct lk_actor *actor, struct lk_user *u, const char *password,
    uint64_t keep_session, int64_t now)
{
	char			 hash[LK_PASSWORD_HASH_MAX];
	struct change_ctx	 c;
	enum lk_err		 e;

	if (!lk_password_ok(password))
		return LK_ERR_VALIDATION;
	if ((e = hash_password(conf, password, hash, sizeof(hash))) != LK_OK)
		return e;
	c = (struct change_ctx){ actor, u, SQL_SET_PASSWORD, "user.password",
	    LK_STR(hash), json_pack("{s:s}", "password", "changed"), keep_session,
	    true, now };
	e = lk_db_txn(db, change_work, &c);
	json_decref(c.changes);
	if (e == LK_OK)
		snprintf(u->password_hash, sizeof(u->password_hash), "%s", hash);
	return e;
}

enum lk_err
lk_users_set_role(struct lk_db *db, const struct lk_actor *actor,
    struct lk_user *u, const char *role, int64_t now)
{
	struct change_ctx	 c;
	enum lk_err		 e;

	if (lk_role_scopes(role) == NULL)
		return LK_ERR_VALIDATION;
	c = (struct change_ctx){ actor, u, SQL_SET_ROLE, "user.update", LK_STR(role),
	    json_object(), 0, false, now };
	lk_audit_change(c.changes, "role", json_string(u->role), json_string(role));
	e = lk_db_txn(db, change_work, &c);
	json_decref(c.changes);
	if (e == LK_OK)
		snprintf(u->role, sizeof(u->role), "%s", role);
	return e;
}

enum lk_err
lk_users_set_disabled(struct lk_db *db, const struct lk_actor *actor,
    struct lk_user *u, bool disabled, int64_t now)
{
	struct change_ctx	 c;
	enum lk_err		 e;

	c = (struct change_ctx){ actor, u, SQL_SET_DISABLED,
	    disabled ? "user.disable" : "user.enable",
	    disabled ? LK_INT(now) : LK_NULL, json_object(), 0, disabled, now };
	lk_audit_change(c.changes, "disabled", json_boolean(u->disabled_at != 0),
	    json_boolean(disabled));
	e = lk_db_txn(db, change_work, &c);
	json_decref(c.changes);
	if (e == LK_OK)
		u->disabled_at = disabled ? now : 0;
	return e;
}

enum lk_err
lk_users_touch_login(struct lk_db *db, struct lk_user *u, int64_t now)
{
	const struct lk_param p[] = { LK_INT(now), LK_INT(u->id) };

	u->last_login_at = now;
	return lk_db_exec(db, SQL_TOUCH, p, LK_NELEM(p), NULL, NULL, NULL);
}

static json_t *
user_item(const void *u, const void *arg)
{
	(void)arg;
	return lk_user_json(u);
}

enum lk_err
lk_users_list(struct lk_db *db, const struct lk_account *root, struct lk_page *page)
{
	struct lk_user	u;
	char		like[LK_ACCOUNT_PATH_MAX + 2];

	snprintf(like, sizeof(like), "%s%%", root->path);
	const struct lk_param p[] = { LK_STR(like) };

	return lk_db_page(db, SQL_LIST, p, LK_NELEM(p), page,
	    LK_DB_ITEMS(cols, &u, user_item, NULL));
}
