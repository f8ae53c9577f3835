/*
 * users.h — humans who sign in to the admin console. A user belongs to an
 * account and has a role; the role is a fixed set of scopes, so a user acts
 * on its account's subtree exactly as a key holding those scopes would.
 * Passwords are stored as argon2id hashes (parameters from the config).
 */
#ifndef LK_USERS_H
#define LK_USERS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/conf.h"
#include "base/db.h"
#include "base/page.h"
#include "model/accounts.h"
#include "model/audit.h"

#define LK_EMAIL_MAX		254	/* characters */
#define LK_PASSWORD_MIN		10	/* characters */
#define LK_PASSWORD_MAX		128	/* bytes */
#define LK_PASSWORD_HASH_MAX	256
#define LK_PASSWORD_GEN		20	/* base62 characters of a generated password (~119 bits) */

struct lk_user {
	uint64_t	 id;
	char		 public_id[LK_PUBLIC_ID_MAX];
	struct lk_owner	 owner;
	char		 email[LK_EMAIL_MAX * 4 + 1];
	char		 role[12];		/* owner | developer | viewer */
	char		 password_hash[LK_PASSWORD_HASH_MAX];
	int64_t		 disabled_at;		/* 0: enabled */
	int64_t		 created_at;
	int64_t		 last_login_at;		/* 0: never */
};

/* The roles, NULL-terminated, for field tables. */
extern const char *const lk_roles[];

/* The scopes a role holds (space-separated), NULL for an unknown role. */
const char	*lk_role_scopes(const char *role);

/* True if email is 3..254 characters, one '@' with text on both sides, no blanks or controls. */
bool		 lk_email_ok(const char *email);

/* True if a password is LK_PASSWORD_MIN characters .. LK_PASSWORD_MAX bytes, no control characters. */
bool		 lk_password_ok(const char *password);

/* Write a new random password (LK_PASSWORD_GEN base62 chars + NUL) into out. */
bool		 lk_password_generate(char *out, size_t size);

/*
 * The dominance rule for users: true if a caller holding the scopes held may
 * act on (create, change, disable) a user with role. Same rule as for keys.
 */
bool		 lk_users_may_manage(const char *held, const char *role);

/* {"id","account_id","email","role","disabled","created_at","last_login_at"}. */
json_t		*lk_user_json(const struct lk_user *u);

enum lk_err	 lk_users_get(struct lk_db *db, const char *public_id, struct lk_user *out);
/* Look up by email (case-insensitive). LK_ERR_NOT_FOUND if there is none. */
enum lk_err	 lk_users_by_email(struct lk_db *db, const char *email, struct lk_user *out);

/*
 * True if password matches u's hash. With u NULL (unknown or disabled user)
 * a dummy hash is checked, so both cases cost the same argon2 work.
 */
bool		 lk_users_password_check(const struct lk_conf *conf,
		    const struct lk_user *u, const char *password);

/*
 * Create a user in account and write its audit row. LK_ERR_CONFLICT if the
 * email is taken. The password is hashed here (argon2id, conf's parameters).
 */
enum lk_err	 lk_users_create(struct lk_db *db, const struct lk_conf *conf,
		    const struct lk_actor *actor, const struct lk_account *account,
		    const char *email, const char *role, const char *password,
		    int64_t now, struct lk_user *out);

/*
 * End user_id's console sessions except keep (0: all): on logout, password
 * change and disable. Runs inside the caller's transaction.
 */
enum lk_err	 lk_users_end_sessions(struct lk_db *db, uint64_t user_id, uint64_t keep);

/*
 * Set a new password and end the user's sessions except keep_session (0: all).
 * Audited as "user.password".
 */
enum lk_err	 lk_users_set_password(struct lk_db *db, const struct lk_conf *conf,
		    const struct lk_actor *actor, struct lk_user *u, const char *password,
		    uint64_t keep_session, int64_t now);

/* Change the role (audited "user.update"). */
enum lk_err	 lk_users_set_role(struct lk_db *db, const struct lk_actor *actor,
		    struct lk_user *u, const char *role, int64_t now);

/* Disable (ends every session) or enable again; audited "user.disable" / "user.enable". */
enum lk_err	 lk_users_set_disabled(struct lk_db *db, const struct lk_actor *actor,
		    struct lk_user *u, bool disabled, int64_t now);

/* Fill page with the users of root's subtree, newest first. */
enum lk_err	 lk_users_list(struct lk_db *db, const struct lk_account *root,
		    struct lk_page *page);

/* Record a successful login time (no audit: the session module writes "user.login"). */
enum lk_err	 lk_users_touch_login(struct lk_db *db, struct lk_user *u, int64_t now);

#endif
