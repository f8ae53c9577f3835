/*
 * kcache.h — the host-local LMDB environment of the verify cache: opaque
 * values by 32-byte digest (the key digest; never a plaintext), an index from
 * a public id to its digest, negative entries, the host's sync state and a
 * host-wide lock for the one process that follows the change feed
 * (model/cache.h gives the values their meaning).
 *
 * Files under the directory: data.mdb and lock.mdb (0600) and follow.lock,
 * the directory 0700, all owned by the programs' user. The environment holds
 * a header (format version and the identity the caller names: which
 * database, and the database's own, lk_kcache_check_source); a header that
 * does not match, or an environment LMDB reports corrupt, is wiped and
 * started again, never trusted.
 *
 * Every drop bumps a generation; a fill carries the generation read before
 * its database read and is refused when a drop came in between, so a fill
 * can never put back what a concurrent change dropped.
 */
#ifndef LK_KCACHE_H
#define LK_KCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_KCACHE_DIGEST	32
#define LK_KCACHE_FORMAT	4	/* bump when a value's layout changes */

struct lk_kcache;

enum lk_kc_found { LK_KC_MISS, LK_KC_HIT, LK_KC_NEGATIVE };

/* The host's follower state and counters (lk_kcache_state). */
struct lk_kcache_state {
	int64_t		 last_sync_ms;	/* the last successful read of the feed; 0: never */
	int64_t		 attempt_ms;	/* the last try to read it (failed or not) */
	int64_t		 feed_since;	/* the database's time the next read starts from */
	uint64_t	 gen;
	uint64_t	 entries;
	uint64_t	 hits, misses, stale;	/* answers from the cache, fills, stale answers */
	uint64_t	 map_size;
};

/*
 * Open (creating as needed) the environment under dir for max_entries values
 * of up to value_max bytes; identity names the data source (a wrong one
 * wipes). NULL (logged) if it cannot be opened or rebuilt.
 */
struct lk_kcache *lk_kcache_open(const char *dir, size_t max_entries, size_t value_max,
		    const char *identity);
void		 lk_kcache_close(struct lk_kcache *kc);

/* The current generation (read before a database read that may fill). */
uint64_t	 lk_kcache_gen(struct lk_kcache *kc);

/*
 * Look digest up: LK_KC_HIT with the value copied into buf (*len its
 * length), LK_KC_NEGATIVE for a negative entry younger than neg_max_ms and
 * of the current generation, else LK_KC_MISS.
 */
enum lk_kc_found lk_kcache_get(struct lk_kcache *kc, const unsigned char *digest,
		    void *buf, size_t size, size_t *len, int64_t now_ms, int64_t neg_max_ms);

/*
 * Fill digest with value (len 0: a negative entry; id NULL) unless the
 * generation moved past gen. When full, drops the entries least recently
 * hit first (approximately: a clock over the host's "used" bits).
 */
void		 lk_kcache_put(struct lk_kcache *kc, uint64_t gen, const unsigned char *digest,
		    const char *id, const void *value, size_t len, int64_t now_ms);

/* Drop the entry of public id id (if any) / every entry; both bump the generation. */
void		 lk_kcache_drop_id(struct lk_kcache *kc, const char *id);
void		 lk_kcache_clear(struct lk_kcache *kc);

/*
 * Drops to repeat after the current change's transaction commits (the first
 * drop runs inside it): lk_kcache_settle, called by the serve loop after the
 * handler and before the answer leaves, runs them again and marks the feed
 * row row_id (0: none) applied, so the follower does not drop the entry a
 * third time. id NULL: clear.
 */
void		 lk_kcache_later(struct lk_kcache *kc, const char *id, uint64_t row_id);
void		 lk_kcache_settle(void);

/*
 * Work to run after the current answer has left (lk_kcache_run_deferred, by
 * the serve loop after FCGX_Finish_r): the follower's routine read of the
 * feed and write of the counts, so no client waits for them. One at a time;
 * a second replaces the first.
 */
void		 lk_kcache_defer(void (*fn)(void *), void *arg);
void		 lk_kcache_run_deferred(void);

/* The follower's lock: true if taken (wait: block until it is). */
bool		 lk_kcache_lock(struct lk_kcache *kc, bool wait);
void		 lk_kcache_unlock(struct lk_kcache *kc);

/* A feed row already applied? Mark it applied (forgotten after keep_s of its time). */
bool		 lk_kcache_seen(struct lk_kcache *kc, uint64_t row_id);
void		 lk_kcache_mark_seen(struct lk_kcache *kc, uint64_t row_id, int64_t at,
		    int64_t keep_before);

/* Record a successful sync at now_ms, the next feed read starting at since. */
void		 lk_kcache_synced(struct lk_kcache *kc, int64_t now_ms, int64_t since);

/* Record a try to sync at now_ms (before it: the others wait for it, or answer stale after a failure). */
void		 lk_kcache_attempt(struct lk_kcache *kc, int64_t now_ms);

/* Count an answer made from the cache (stale: after a failed sync) or a fill; flushed now and then. */
void		 lk_kcache_count(struct lk_kcache *kc, bool hit, bool stale, int64_t now_ms);

/* The last successful sync (ms; 0: never): the hot path's one read of the state. */
int64_t		 lk_kcache_last_sync(struct lk_kcache *kc);

/* The state and counters; false if they cannot be read. */
bool		 lk_kcache_state(struct lk_kcache *kc, struct lk_kcache_state *st);

/*
 * Records of fixed size by a short key (the per-key counters of model/cache),
 * changed in one write transaction across processes: fn gets the record
 * (zeroes if there was none) and says what becomes of it: LK_KC_KEEP (not
 * stored), LK_KC_PUT (stored), LK_KC_DIRTY (stored, and its key joins the
 * dirty set lk_kcache_take walks), LK_KC_DEL. *rec keeps what fn left. False
 * if the environment could not be written.
 */
enum lk_kc_each { LK_KC_KEEP, LK_KC_PUT, LK_KC_DEL, LK_KC_DIRTY };
typedef enum lk_kc_each lk_kcache_rec_fn(void *rec, void *arg);
bool		 lk_kcache_update(struct lk_kcache *kc, const void *key, size_t klen,
		    void *rec, size_t size, lk_kcache_rec_fn *fn, void *arg);

/*
 * lk_kcache_update for n records in one write transaction (all changed or
 * none): the i-th key at keys + i * klen, given the argument at
 * args + i * arg_size; *rec is the last one's.
 */
bool		 lk_kcache_update_all(struct lk_kcache *kc, size_t n, const void *keys,
		    size_t klen, void *rec, size_t size, lk_kcache_rec_fn *fn, void *args,
		    size_t arg_size);

/*
 * Every record (each): fn returns what becomes of it. In short write
 * transactions of LK_KC_CHUNK records, so no other process waits long to
 * count; after each commit fn is called with rec NULL (what it was given
 * since is stored; a walk that fails leaves the records given after the
 * last of these calls as they were).
 */
#define LK_KC_CHUNK	256
bool		 lk_kcache_each(struct lk_kcache *kc, size_t size, lk_kcache_rec_fn *fn,
		    void *arg);

/*
 * The records of the dirty set (at most max), each leaving it: fn returns
 * what becomes of the record (LK_KC_DIRTY keeps it in the set). In short
 * write transactions as lk_kcache_each: the cost is the records changed
 * since the last take, not all of them.
 */
bool		 lk_kcache_take(struct lk_kcache *kc, size_t size, size_t max,
		    lk_kcache_rec_fn *fn, void *arg);

/*
 * The database's own identity (source: the root account's id): true if the
 * environment was filled from it or is new; else everything in it (entries,
 * counts not yet written, the feed rows applied) is dropped and false.
 */
bool		 lk_kcache_check_source(struct lk_kcache *kc, const char *source);

/*
 * Make the environment agree with a partner file (base/kcount.h: the counters,
 * by their epoch): in one write transaction, fn gets the value stored under
 * name (0: none; an environment started again, or wiped by
 * lk_kcache_check_source, has none) and returns the one to store. False if
 * the environment could not be written.
 */
bool		 lk_kcache_pair(struct lk_kcache *kc, const char *name,
		    uint64_t (*fn)(uint64_t stored, void *arg), void *arg);

/* True if the environment's file is still the one opened (a deleted dir: reopen). */
bool		 lk_kcache_current(struct lk_kcache *kc);

#endif
