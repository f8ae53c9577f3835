/*
 * cache.h — the host-local verify cache (verify_cache = on; docs/operations.md
 * "Verify cache"): the key rows verify and the authorizer decide on, by key
 * digest, in base/kcache's LMDB environment under cache_dir, shared by every
 * program process of the host. The decision itself stays model/use's
 * (lk_use_key): only where the row comes from changes.
 *
 * Freshness: every audited change of a key or an account writes a row to
 * cache_feed in the change's transaction (lk_cache_audited, called by the
 * audit writer) and, on this host, drops the entries it names before the
 * answer leaves (twice: in the transaction and after it, see
 * lk_kcache_later). Before deciding from the cache, a process makes sure the
 * host read the feed within cache_sync_interval: if not, one process (the
 * follower's lock) reads the rows of the last LK_CACHE_FEED_OVERLAP seconds of
 * the database's clock, skips those already applied (by row id: ids need not
 * grow in commit order) and drops what they name; the others wait for it.
 * A key row names its entry; an account change drops every entry.
 *
 * Keys with credits are not cached (the spend is decided on the row).
 */
#ifndef LK_CACHE_H
#define LK_CACHE_H

#include "base/conf.h"
#include "base/db.h"
#include "base/kcache.h"
#include "model/audit.h"
#include "model/keys.h"
#include "model/ratelimit.h"

/* Seconds of feed re-read each sync: covers commit delays and clock skew between database nodes. */
#define LK_CACHE_FEED_OVERLAP	30
/* Feed rows older than this are deleted; a host that synced longer ago than half of it starts empty. */
#define LK_CACHE_FEED_KEEP	3600

/*
 * lk_keys_by_digests through the cache when conf->verify_cache is on (else
 * exactly it): both keys from the cache when it holds them (and synced within
 * cache_sync_interval), else from the database, filling the cache.
 * LK_ERR_UNAVAILABLE when the database is down and the cache has not synced
 * within cache_stale_max.
 */
enum lk_err	lk_cache_keys_by_digests(struct lk_db *db, const struct lk_conf *conf,
		    const unsigned char *a, struct lk_key *ka, bool *found_a,
		    const unsigned char *b, struct lk_key *kb, bool *found_b);

/*
 * lk_keys_with_account (GET /v1/me) through the cache when conf->verify_cache
 * is on: the key and its account from an entry of their own, else from the
 * database, filling it. Fails as lk_cache_keys_by_digests.
 */
enum lk_err	lk_cache_key_with_account(struct lk_db *db, const struct lk_conf *conf,
		    const unsigned char *digest, struct lk_key *k, struct lk_account *a,
		    bool *found);

/*
 * The audit writer's hook, inside the change's transaction: a change of a key
 * or an account writes its cache_feed row and drops this host's entries.
 */
enum lk_err	lk_cache_audited(struct lk_db *db, const struct lk_audit_event *ev, int64_t now);

/*
 * Counting through the cache (model/use): true if k's uses are counted in
 * the host's records (verify_cache on, k without credits, the cache usable).
 */
bool		lk_cache_counts(const struct lk_conf *conf, const struct lk_key *k);

/*
 * Count one use of k at now with the outcome pre found before counting, as
 * lk_ratelimit_hit does (a VALID use beyond the limit becomes RATE_LIMITED;
 * ACCOUNT_SUSPENDED and IP_NOT_ALLOWED are recorded, not counted, as
 * lk_usage_deny): in the host's record, taking a lease of uses from
 * key_usage.n when the host's is spent. LK_ERR_UNAVAILABLE when no lease
 * could be taken (ratelimit_on_db_error = closed).
 */
enum lk_err	lk_cache_count_use(struct lk_db *db, const struct lk_conf *conf,
		    const struct lk_key *k, int64_t now, enum lk_outcome pre,
		    struct lk_rl_state *out);

/*
 * The next lease's size: twice the last (the first: limit / 64), at most a
 * quarter of what the window had left at the last lease (limit - db_n), at
 * least 1.
 */
int64_t		lk_cache_lease_size(int64_t limit, int64_t last, int64_t db_n);

/*
 * Follow the feed and flush the host's counts now (`latchkey cache sync`;
 * the programs do it by themselves each cache_sync_interval while they get
 * requests). LK_ERR_NOT_FOUND if there is no cache under cache_dir.
 */
enum lk_err	lk_cache_sync(struct lk_db *db, const struct lk_conf *conf);

/*
 * A key row packed as the cache holds it (its integers, then its texts with
 * their lengths): the length written into out, 0 if it does not fit; and
 * back, false if in is not a packed row.
 */
size_t		lk_cache_pack(const struct lk_key *k, unsigned char *out, size_t size);
bool		lk_cache_unpack(const unsigned char *in, size_t len, struct lk_key *k);

/*
 * Never create the cache, only use one the programs made (the CLI, run as
 * root: files it made would lock the programs' user out).
 */
void		lk_cache_existing_only(void);

/* The host's cache for `latchkey cache status|clear` (NULL: none under cache_dir). */
struct lk_kcache *lk_cache_open_existing(const struct lk_conf *conf);

#endif
