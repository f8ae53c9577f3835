/*
 * kcount.h — the verify cache's host-shared use counters: one file under the
 * cache directory (counts, 0600) that every program of the host maps, a slot
 * per key and day, changed with atomic instructions only: counting a use
 * takes no lock and no system call (an LMDB write transaction per use was
 * the cached verify's largest cost and its tail: every process queued on
 * one writer's lock).
 *
 * A slot holds the uses the host may still admit in the key's current window
 * (moved in from the host's record, model/cache.c: a slot's uses are the
 * host's, any process spends them, so on one host the limit stays exact) and
 * the day's answers counted so far, by outcome, cumulative: the follower
 * moves what grew since its last look into the record, which remembers how
 * much it moved, so a move that fails or is cut short is made again, never
 * twice.
 *
 * Two tables, one per day parity: a day's table is made ready (emptied) by
 * the follower when the day begins, after a last move of what it held two
 * days before. Until then, and for a key that finds no free slot, counting
 * goes the slow way (the record, in an LMDB write transaction).
 *
 * The file is paired with the LMDB environment by its epoch (random, new at
 * each reset): an environment started again resets the counters, whose moved
 * marks went with it.
 */
#ifndef LK_KCOUNT_H
#define LK_KCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_KCOUNT_OUTCOMES	8	/* counters per slot (model/usage.h's outcomes) */
#define LK_KCOUNT_SLOTS_MAX	((size_t)1 << 17)	/* keys a day; more count the slow way */

struct lk_kcount;
struct lk_kcount_slot;

/* What the follower reads of a slot to move it. */
struct lk_kcount_seen {
	uint64_t	 key_id;
	int64_t		 day;
	uint64_t	 n[LK_KCOUNT_OUTCOMES];	/* cumulative, since the slot was taken */
	int64_t		 last_valid_at;
	struct lk_kcount_slot *slot;		/* for lk_kcount_moved */
	uint64_t	 sum;			/* of n */
};

/* Map (creating as needed) dir/counts with room for slots keys a day (rounded up, capped). */
struct lk_kcount *lk_kcount_open(const char *dir, size_t slots);
void		 lk_kcount_close(struct lk_kcount *kn);

/* True if dir/counts is still the file mapped (removed or made anew: reopen). */
bool		 lk_kcount_current(struct lk_kcount *kn);

/* The file's epoch; lk_kcount_reset empties every slot and draws a new one. */
uint64_t	 lk_kcount_epoch(struct lk_kcount *kn);
uint64_t	 lk_kcount_reset(struct lk_kcount *kn);

/* The slot of key_id on day, taking a free one (take); NULL if the day's table is not ready or full. */
struct lk_kcount_slot *lk_kcount_slot(struct lk_kcount *kn, uint64_t key_id, int64_t day,
		    bool take);

/*
 * Spend one of the slot's uses of window win (an id of the window: its start
 * and length mixed): true, *left the uses that remain and *db_n the window's
 * counter when they were leased. False when it has none for win; *full then
 * says the database found the window spent.
 */
bool		 lk_kcount_spend(struct lk_kcount_slot *s, uint32_t win, int64_t *left,
		    int64_t *db_n, bool *full);

/* The slot's uses of window win: *left and *db_n as lk_kcount_spend, spending none. */
void		 lk_kcount_peek(struct lk_kcount_slot *s, uint32_t win, int64_t *left,
		    int64_t *db_n, bool *full);

/* Add n uses of window win (an older window's are dropped), the counter db_n, full as found. */
void		 lk_kcount_give(struct lk_kcount_slot *s, uint32_t win, int64_t n, int64_t db_n,
		    bool full);

/* Count one answer of outcome o (0 <= o < LK_KCOUNT_OUTCOMES); valid_at != 0: a valid use then. */
void		 lk_kcount_add(struct lk_kcount_slot *s, unsigned o, int64_t valid_at);

/*
 * The follower (its lock held): make day's table ready, moving through fn
 * (below) what it held first; then fn on every slot of day and of the day
 * before that counted since the last call (fn returns false: not moved yet,
 * seen again next time unless lk_kcount_moved says it was since).
 */
typedef bool	 lk_kcount_fn(const struct lk_kcount_seen *seen, void *arg);
void		 lk_kcount_roll(struct lk_kcount *kn, int64_t day, lk_kcount_fn *fn, void *arg);

/* One process of the host a period: true for the first to ask at least every_ms after the last. */
enum lk_kcount_claim { LK_KCOUNT_SYNC, LK_KCOUNT_FLUSH, LK_KCOUNT_CLAIMS };
bool		 lk_kcount_claim(struct lk_kcount *kn, enum lk_kcount_claim what, int64_t now_ms,
		    int64_t every_ms);

/*
 * The host's last sync (ms), mirrored here from the LMDB environment's state
 * by the follower, so the hot path reads an atomic instead of beginning a
 * read transaction; 0: not yet known.
 */
void		 lk_kcount_set_synced(struct lk_kcount *kn, int64_t ms);
int64_t		 lk_kcount_synced(struct lk_kcount *kn);

/* What seen showed is now moved (after the caller stored it). */
void		 lk_kcount_moved(const struct lk_kcount_seen *seen);

/* A window's id for lk_kcount_spend/give. */
uint32_t	 lk_kcount_win(int64_t win_start, int64_t window);

#endif
