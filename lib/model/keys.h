/* keys.h — API keys: the stored row, its API object, and every change to it. */
#ifndef LK_KEYS_H
#define LK_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/db.h"
#include "base/fields.h"
#include "base/keyfmt.h"
#include "base/page.h"
#include "base/scopes.h"
#include "model/accounts.h"
#include "model/audit.h"
#include "model/policy.h"

#define LK_LABEL_MAX		100	/* characters */
#define LK_META_MAX		4096	/* bytes of compact JSON */
#define LK_GRACE_MAX		(30 * 86400)
/* The latest expiry a key can be given (expires_at, expires_in): 100 years of 365 days from now. */
#define LK_EXPIRY_MAX		(36500LL * 86400)
/* api_keys.start: latchkey's own start, or an imported key's display start (visible ASCII). */
#define LK_KEY_STORED_START_MAX	32
#define LK_IMPORT_MAX		1000	/* keys per import call */
/*
 * The sweep revokes at most this many inactive keys per call (the next goes
 * on): a program's periodic sweep runs inside a request, so it stays short.
 */
#define LK_SWEEP_REVOKE_MAX	100

struct lk_key {
	uint64_t	 id;
	char		 public_id[LK_PUBLIC_ID_MAX];
	struct lk_owner	 owner;
	char		 start[LK_KEY_STORED_START_MAX + 1];
	char		 env[5];
	char		 label[LK_LABEL_MAX * 4 + 1];
	char		 scopes[LK_SCOPES_BUF];		/* space-separated */
	int64_t		 created_at;
	int64_t		 expires_at;	/* 0: never */
	int64_t		 revoked_at;	/* 0: not revoked */
	int64_t		 last_used_at;	/* 0: never */
	char		 rotated_from[LK_PUBLIC_ID_MAX];
	int64_t		 rl_limit, rl_window;	/* 0: none */
	char		 meta[LK_META_MAX + 1];	/* compact JSON object */
	char		 revoked_reason[10];	/* manual, inactive, leaked, rotated, ceiling; "" */
	int64_t		 imported;		/* 1: made elsewhere, its digest imported */
	struct lk_key_policy policy;
};

enum lk_key_status { LK_KEY_ACTIVE, LK_KEY_REVOKED, LK_KEY_EXPIRED };

/* What a new key gets; rotate copies these from the old key. */
struct lk_key_new {
	const struct lk_account	*account;
	const char		*label;
	const char		*scopes;	/* normalised, space-separated */
	const char		*env;
	int64_t			 expires_at;	/* 0: never */
	int64_t			 rl_limit, rl_window;
	const char		*meta;		/* compact JSON object */
	/* allowed_ips, credits and refill (suspended_by, refilled_at unused); NULL: none. */
	const struct lk_key_policy *policy;
};

/* Changes of a PATCH; has_* says which fields were given. */
struct lk_key_patch {
	bool		 has_label, has_expires, has_scopes, has_ratelimit, has_meta;
	bool		 has_allowed_ips, has_credits;
	const char	*label, *scopes, *meta;
	int64_t		 expires_at, rl_limit, rl_window;	/* 0 clears */
	const char	*allowed_ips;		/* "" clears */
	struct lk_key_policy credits;		/* has_credits, credits, refill_*: replaces */
	int64_t		 credits_add;		/* > 0: top up the remaining credits */
};

/* The fields of a PATCH (API and `latchkey key update`). */
extern const struct lk_field lk_key_patch_fields[];

/*
 * The expiry rule, for expires_at and expires_in alike: NULL if expires_at
 * (Unix seconds) is in the future and at most LK_EXPIRY_MAX from now, else
 * why not, naming field, in buf. 0 is 1970-01-01T00:00:00Z, a time like any
 * other: "never" is not a time.
 */
const char	*lk_key_expiry_why(int64_t expires_at, int64_t now, const char *field,
		    char *buf, size_t size);

/*
 * Values of validated key fields f (create or PATCH, as lk_req_fields leaves
 * them: a nullable field that clears is null): the ratelimit (0, 0: none),
 * the meta as compact JSON ("{}" when absent; the caller frees; NULL: out of
 * memory) and the policy (allowed_ips, credits and refill; absent or null:
 * none).
 */
void		 lk_key_fields_rate(json_t *f, int64_t *limit, int64_t *window);
char		*lk_key_fields_meta(json_t *f);
void		 lk_key_fields_policy(json_t *f, struct lk_key_policy *p);

/*
 * The changes of a PATCH of validated fields f (lk_key_patch_fields) into
 * pt; its strings point into f and into *meta, which the caller frees.
 * LK_ERR_INTERNAL if out of memory.
 */
enum lk_err	 lk_key_patch_of(json_t *f, struct lk_key_patch *pt, char **meta);

/* Why f's credits_add cannot apply to k (with credits, or to unlimited uses), or NULL. */
const char	*lk_key_credits_add_why(json_t *f, const struct lk_key *k);

/* Filters of a list; NULL / 0 means not filtered. */
struct lk_key_filter {
	const char	*status, *env;
	const char	*q;		/* label substring */
	const char	*start;		/* beginning of the displayed start */
	int64_t		 expiring_within;
	int64_t		 inactive_days;	/* active keys not used (or, never used, not created) within */
	const char	*only_env;	/* what the caller may see: NULL (all) or "test" */
};

/*
 * The fields of a new key: create (POST /v1/keys: label, scopes, env,
 * expires_at or expires_in, account_id, ratelimit, meta) and each item of an
 * import (the same, plus the existing key's SHA-256 hash and display start).
 */
extern const struct lk_field lk_key_create_fields[];
extern const struct lk_field lk_key_import_fields[];

/* Room for why lk_key_new_of refused a field. */
#define LK_KEY_WHY	160

/*
 * A new key's values from f, fields validated by one of the tables above
 * (f must outlive nk): label, scopes, env (default_env when not given),
 * expiry (expires_at or expires_in, in the future and at most LK_EXPIRY_MAX
 * ahead), ratelimit, meta (*meta, compact JSON the caller frees) and the
 * policy (into pol, nk's policy). nk's account is left to the caller. False
 * if the values break a rule across fields: *field names the field, why says
 * why (*field NULL: out of memory).
 */
bool		 lk_key_new_of(json_t *f, const char *default_env, int64_t now,
		    struct lk_key_new *nk, struct lk_key_policy *pol, char **meta,
		    const char **field, char why[LK_KEY_WHY]);

enum lk_key_status lk_key_status(const struct lk_key *k, int64_t now);
const char	*lk_key_status_name(enum lk_key_status s);

/* The API key object. */
json_t		*lk_key_json(const struct lk_key *k, int64_t now);


enum lk_err	 lk_keys_get(struct lk_db *db, const char *public_id, struct lk_key *out);

/*
 * The key that replaced public_id: the newest key rotated from it (its
 * rotated_from). LK_ERR_NOT_FOUND if none was, or it was deleted.
 */
enum lk_err	 lk_keys_successor(struct lk_db *db, const char *public_id,
		    struct lk_key *out);

/*
 * Fetch the keys whose digests are a and b (b may equal a) with one indexed
 * read. *found_a / *found_b say which exist. Only what an authentication or
 * verify decision needs is filled: id, public_id, account_id/_public/_path/
 * _plan, env, scopes, expires_at, revoked_at, rl_limit, rl_window, meta, label.
 */
enum lk_err	 lk_keys_by_digests(struct lk_db *db,
		    const unsigned char *a, struct lk_key *ka, bool *found_a,
		    const unsigned char *b, struct lk_key *kb, bool *found_b);

/*
 * The key whose digest is given, with its whole account, in one indexed read.
 * last_used_at is only the stored column (for a caller about to be counted).
 */
enum lk_err	 lk_keys_with_account(struct lk_db *db, const unsigned char *digest,
		    struct lk_key *k, struct lk_account *a, bool *found);

/*
 * Create a key: generate it, store its digest, audit. plaintext (>= LK_KEY_MAX
 * + 1 bytes) receives the key; the caller wipes it after sending.
 * LK_ERR_CONFLICT if the account already holds max_keys keys (every key row
 * counts, revoked and expired ones too, until deleted; exact under
 * concurrency); LK_ERR_NOT_FOUND if the account was deleted meanwhile.
 */
enum lk_err	 lk_keys_create(struct lk_db *db, const struct lk_actor *actor,
		    const char *prefix, const struct lk_key_new *nk,
		    int64_t max_keys, int64_t now, struct lk_key *out,
		    char *plaintext, size_t size);

/*
 * The changes below to an existing key take holder, the acting caller's
 * scopes (NULL: the operator's CLI, unlimited). Each re-reads k under a row
 * lock and is refused with LK_ERR_FORBIDDEN, nothing written, unless holder
 * holds every scope the key holds at that moment (lk_scopes_grantable): a
 * caller never changes, or rotates into a new key, anything more powerful
 * than itself. k is left holding the row as read.
 */
enum lk_err	 lk_keys_update(struct lk_db *db, const struct lk_actor *actor,
		    const char *holder, struct lk_key *k,
		    const struct lk_key_patch *patch, int64_t now);
/* Revoke (revoked_reason "manual"): no-op (no audit) if already revoked. */
enum lk_err	 lk_keys_revoke(struct lk_db *db, const struct lk_actor *actor,
		    const char *holder, struct lk_key *k, int64_t now);
/*
 * Inside lk_db_txn, for a change that writes its own audit row (a leak
 * report): re-read k under its row lock and, unless it is already revoked,
 * revoke it with reason (one of revoked_reason's values), setting *revoked
 * and adding the status change and reason to changes (an object). Anyone
 * holding a key's plaintext may have it revoked: no dominance rule.
 */
enum lk_err	 lk_keys_revoke_locked(struct lk_db *db, struct lk_key *k, const char *reason,
		    int64_t now, json_t *changes, bool *revoked);
/* Reactivate: LK_ERR_CONFLICT if expired; no-op if active. */
enum lk_err	 lk_keys_reactivate(struct lk_db *db, const struct lk_actor *actor,
		    const char *holder, struct lk_key *k, int64_t now);
/* Delete: LK_ERR_NOT_FOUND if it is already gone. */
enum lk_err	 lk_keys_delete(struct lk_db *db, const struct lk_actor *actor,
		    const char *holder, struct lk_key *k, int64_t now);
/*
 * Rotate old into a new key (out, plaintext). The old key is revoked now
 * (grace 0; revoked_reason "rotated") or expires after grace seconds. LK_ERR_CONFLICT if old is not
 * active. The new key replaces the old one, so it does not count against
 * max_keys_per_account.
 */
enum lk_err	 lk_keys_rotate(struct lk_db *db, const struct lk_actor *actor,
		    const char *holder, const char *prefix, struct lk_key *old,
		    int64_t grace, int64_t now, struct lk_key *out, char *plaintext,
		    size_t size);

/*
 * Import a key made elsewhere, known by hash (the SHA-256 of its whole text
 * as 64 hexadecimal digits, as lk_key_import_fields validates it: stored as
 * the digest latchkey's own keys have) and start (what lists show of it,
 * 1..LK_KEY_STORED_START_MAX visible ASCII characters): a row like lk_keys_create's with
 * imported set, and the audit row key.import; no plaintext ever. Fills out.
 * LK_ERR_CONFLICT with *duplicate set if some key (of any account) has that
 * digest, or with *duplicate clear if the account holds max_keys keys;
 * LK_ERR_NOT_FOUND if the account was deleted meanwhile.
 */
enum lk_err	 lk_keys_import(struct lk_db *db, const struct lk_actor *actor,
		    const struct lk_key_new *nk, const char *hash,
		    const char *start, int64_t max_keys, int64_t now, struct lk_key *out,
		    bool *duplicate);

/* The actor of the programs' periodic sweep in audit rows ("sweep"). */
extern const struct lk_actor lk_keys_sweeper;

/*
 * The inactivity sweep: revoke (revoked_reason "inactive", audit row
 * key.revoke by actor) every active key under an account whose
 * revoke_after_inactive_days is set that has not been used within that many
 * days (or, never used, was not created within them); a key under several
 * such accounts takes the shortest. At most LK_SWEEP_REVOKE_MAX keys per
 * call. The last use is checked again in the statement that revokes, so a
 * key used meanwhile is never revoked. *revoked (may be NULL) gets the count.
 */
enum lk_err	 lk_keys_sweep_inactive(struct lk_db *db, const struct lk_actor *actor,
		    int64_t now, uint64_t *revoked);

/* Fill page with account's keys that pass f, newest first. */
enum lk_err	 lk_keys_list(struct lk_db *db, const struct lk_account *account,
		    const struct lk_key_filter *f, int64_t now, struct lk_page *page);

#endif
