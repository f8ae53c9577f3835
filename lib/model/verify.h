/*
 * verify.h — the answer to "is this key good?", for POST /v1/verify
 * (api/verify) and `latchkey key verify`: the presented key's use decided and
 * counted by model/use, written as the answer's JSON.
 */
#ifndef LK_VERIFY_H
#define LK_VERIFY_H

#include "base/fields.h"
#include "base/out.h"
#include "model/use.h"

/* The fields of a verify: key (required), scopes, ip, cost. */
extern const struct lk_field lk_verify_fields[];

/*
 * Why ip (a validated "ip" field; NULL: not given) cannot be the end client's
 * address, or NULL if it can: one IPv4 or IPv6 address, no range or list.
 */
const char	*lk_verify_ip_why(const char *ip);

/*
 * Decide and count one use u of the found key k (lk_use_key), then write the
 * answer into o: {"valid", "code", "key": {"id", "account_id", "env",
 * "scopes", "expires_at", "meta"}, "ratelimit": {"limit", "remaining",
 * "reset"}} and "credits": {"remaining"} when k has credits. Fails as
 * lk_use_key (o is then not written).
 */
enum lk_err	lk_verify_found(struct lk_db *db, const struct lk_conf *conf,
		    const struct lk_key *k, const struct lk_use *u, struct lk_out *o);

/* Write the answer for a key not found, not seen or malformed: INVALID_API_KEY. */
void		lk_verify_invalid(struct lk_out *o);

/*
 * Verify key for a caller that sees every key (the operator's CLI): look it
 * up as presented (lk_keyfmt_presented, one indexed read), then
 * lk_verify_found or lk_verify_invalid.
 */
enum lk_err	lk_verify_key(struct lk_db *db, const struct lk_conf *conf,
		    const char *key, const struct lk_use *u, struct lk_out *o);

#endif
