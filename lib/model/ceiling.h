/*
 * ceiling.h — scope ceilings: a parent account limits the scopes any key in a
 * sub-account's subtree may hold (accounts.grantable_scopes; the rule is
 * base/scopes' lk_scopes_within_ceiling). Every ceiling from the key's
 * account up to the root applies.
 */
#ifndef LK_CEILING_H
#define LK_CEILING_H

#include <stdbool.h>

#include <jansson.h>

#include "base/db.h"
#include "model/accounts.h"
#include "model/audit.h"

/*
 * LK_OK if scopes are under every ceiling on the account at path and above
 * it; LK_ERR_FORBIDDEN otherwise, with the first scope outside in bad
 * (size >= LK_SCOPE_MAX_LEN + 1) and the account whose ceiling refuses it in
 * by (size >= LK_PUBLIC_ID_MAX).
 */
enum lk_err	lk_ceiling_check(struct lk_db *db, const char *path, const char *scopes,
		    char *bad, size_t badsz, char *by, size_t bysz);

/*
 * Set a's ceiling to scopes (space-separated; NULL: no ceiling), audited
 * (account.update, old → new). Lowering it never changes keys silently: if
 * unrevoked keys of a's subtree hold scopes outside it, LK_ERR_CONFLICT with
 * *outside (new) listing up to 100 of them {"id", "account_id", "scopes"} and
 * nothing written — unless revoke, which revokes them (revoked_reason
 * "ceiling", one key.revoke audit row each) in the same transaction.
 * *outside is set whenever keys were outside (revoked or not), else NULL.
 */
enum lk_err	lk_ceiling_set(struct lk_db *db, const struct lk_actor *actor,
		    struct lk_account *a, const char *scopes, bool revoke, int64_t now,
		    json_t **outside);

#endif
