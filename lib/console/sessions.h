/*
 * sessions.h — console sessions. A session id is 43 random base62 characters
 * (~256 bits) sent only as a cookie; the database keeps SHA-256 of it. The
 * CSRF token of a session is derived from its id, so it is never stored.
 * Sessions end after session_idle_timeout without use or
 * session_absolute_timeout after login, at logout, and when the user's
 * password changes or the user is disabled.
 */
#ifndef LK_SESSIONS_H
#define LK_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "api/auth.h"
#include "http/req.h"
#include "model/users.h"

#define LK_SESSION_ID_LEN	43
#define LK_CSRF_LEN		64	/* hex */
#define LK_FORM_TOKEN_LEN	32

struct lk_session {
	uint64_t	 id;
	int64_t		 created_at, last_seen_at;
	struct lk_user	 user;
	char		 csrf[LK_CSRF_LEN + 1];
};

/* The cookie's name: "__Host-latchkey_session", or "latchkey_session" in plain-http dev mode. */
const char	*lk_sessions_cookie_name(const struct lk_conf *conf);

/* Copy the session id from the request's Cookie header into out; false if there is none. */
bool		 lk_sessions_cookie(struct lk_req *req, char *out, size_t size);

/* The Set-Cookie value for sid (NULL: one that clears the cookie) into out. */
void		 lk_sessions_set_cookie(const struct lk_conf *conf, const char *sid,
		    char *out, size_t size);

/* Find the live session sid names; LK_ERR_NOT_FOUND if unknown, expired or its user disabled. */
enum lk_err	 lk_sessions_check(struct lk_req *req, const char *sid, struct lk_session *out);

/*
 * Password login. Throttled per email and per client IP (LK_ERR_RATE_LIMITED,
 * *retry_after set); unknown, disabled and wrong-password logins all cost one
 * argon2 check and return LK_ERR_INVALID_KEY. Failures and successes are
 * audited. On LK_OK a new session is made and its id written to sid
 * (>= LK_SESSION_ID_LEN + 1 bytes).
 */
enum lk_err	 lk_sessions_login(struct lk_req *req, const char *email,
		    const char *password, char *sid, struct lk_session *out,
		    int64_t *retry_after);

/*
 * The password page's check of the current password of s's user, throttled
 * as a login of that email from this address (same counts, same limits).
 * LK_OK: right; the email's failures are cleared as by a login.
 * LK_ERR_INVALID_KEY: wrong; counted and audited "user.password_failed".
 * LK_ERR_RATE_LIMITED (*retry_after set): not checked, even a right password
 * is refused; session s is ended and the refusal audited (reason "throttled").
 */
enum lk_err	 lk_sessions_password_check(struct lk_req *req, const struct lk_session *s,
		    const char *password, int64_t *retry_after);

/* A new session for u, already authenticated (REMOTE_USER); audited as a login. */
enum lk_err	 lk_sessions_start(struct lk_req *req, const struct lk_user *u,
		    const char *method, char *sid, struct lk_session *out);

/* Log out: end every session of s's user, audited. */
enum lk_err	 lk_sessions_logout(struct lk_req *req, const struct lk_session *s);

/* True if token is s's CSRF token (constant-time). */
bool		 lk_sessions_csrf_ok(const struct lk_session *s, const char *token);

/* The caller a session acts as: its user's account and its role's scopes. */
void		 lk_sessions_caller(const struct lk_session *s, struct lk_caller *c);

/* Issue a one-time form token for s into out (>= LK_FORM_TOKEN_LEN + 1 bytes). */
enum lk_err	 lk_sessions_form_token(struct lk_req *req, const struct lk_session *s,
		    char *out);

/*
 * Claim a one-time form token of s. LK_OK the first time; LK_ERR_CONFLICT if
 * it was used before (result, >= LK_PUBLIC_ID_MAX bytes, then names what that
 * use created, or is ""); LK_ERR_NOT_FOUND if it is not s's token.
 */
enum lk_err	 lk_sessions_form_claim(struct lk_req *req, const struct lk_session *s,
		    const char *token, char *result);

/* Record what the claimed token's form created. */
enum lk_err	 lk_sessions_form_result(struct lk_req *req, const char *token,
		    const char *result);

#endif
