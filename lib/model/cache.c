/* cache.c — the verify cache's decision data and its change feed (model/cache.h). */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/kcount.h"
#include "base/log.h"
#include "model/cache.h"
#include "model/ratelimit.h"
#include "model/usage.h"

/* The largest packed value: a key row and its account, every text full, with its length. */
#define VALUE_MAX	(sizeof(struct lk_key) + sizeof(struct lk_account) + 128)
#define ME_PREFIX	"m:"	/* the id of a key's entry for /v1/me (key and account) */
#define FEED_BATCH	1000	/* rows one sync applies one by one; more: everything is dropped */
#define STALE_LOG_MS	10000	/* one log line per process this often while answering stale */

static const char SQL_FEED_ADD[] =
    "INSERT INTO cache_feed (at, target_id) VALUES (UNIX_TIMESTAMP(), ?)";
static const char SQL_FEED_READ[] =
    "SELECT id, at, target_id, UNIX_TIMESTAMP() FROM cache_feed WHERE at >= ? ORDER BY id LIMIT ?";
static const char SQL_DB_NOW[] = "SELECT UNIX_TIMESTAMP()";
/* The database's identity: its root account (made once, by `latchkey init`). */
static const char SQL_SOURCE[] =
    "SELECT public_id FROM accounts WHERE parent_id IS NULL ORDER BY id LIMIT 1";

static struct lk_kcache	*kc;		/* this process's handle; opened on first use */
static struct lk_kcount	*kn;		/* the host's shared counters; NULL: count the slow way */
static bool		 kc_failed;	/* it could not be opened: strict, logged once */
static int64_t		 stale_logged_ms;
static uint64_t		 paired;	/* the counters' epoch when this process paired them with kc */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Which database the entries come from: a cache written for another one is wiped. */
static void
identity(const struct lk_conf *conf, char *out, size_t size)
{
	snprintf(out, size, "%s:%u:%s/%s", conf->db_host, conf->db_port, conf->db_socket,
	    conf->db_name);
}

static bool		 existing_only;	/* lk_cache_existing_only */

void
lk_cache_existing_only(void)
{
	existing_only = true;
}

/* The counters pair with the records: a file of another epoch than the records know is emptied. */
static uint64_t
pair_fn(uint64_t stored, void *arg)
{
	struct lk_kcount *n = arg;

	return stored != 0 && stored == lk_kcount_epoch(n) ? stored : lk_kcount_reset(n);
}

static bool
pair_counts(void)
{
	if (!lk_kcache_pair(kc, "counts", pair_fn, kn))
		return false;
	paired = lk_kcount_epoch(kn);
	return true;
}

static void
drop_counts(void)
{
	lk_kcount_close(kn);
	kn = NULL;
}

static void
close_cache(void)
{
	lk_kcache_close(kc);
	kc = NULL;
	drop_counts();
}

static struct lk_kcache *
cache(const struct lk_conf *conf)
{
	char id[700], path[300];

	if (kc != NULL || kc_failed)
		return kc;
	snprintf(path, sizeof(path), "%s/data.mdb", conf->cache_dir);
	if (existing_only && access(path, F_OK) != 0)
		return NULL;
	identity(conf, id, sizeof(id));
	if ((kc = lk_kcache_open(conf->cache_dir, conf->cache_max_entries,
	    VALUE_MAX, id)) == NULL)
		kc_failed = true;	/* logged by lk_kcache_open; every answer stays strict */
	else if ((kn = lk_kcount_open(conf->cache_dir, conf->cache_max_entries)) != NULL &&
	    !pair_counts())
		drop_counts();
	return kc;
}

struct lk_kcache *
lk_cache_open_existing(const struct lk_conf *conf)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/data.mdb", conf->cache_dir);
	if (access(path, F_OK) != 0)
		return NULL;
	return cache(conf);
}

/* What a feed row names: a key (its entry), an account (every entry: its subtree's keys), or nothing. */
static void
apply(struct lk_kcache *c, const char *target, uint64_t later_row, bool later)
{
	char me[LK_PUBLIC_ID_MAX + sizeof(ME_PREFIX)];

	if (strncmp(target, "key_", 4) == 0) {
		snprintf(me, sizeof(me), ME_PREFIX "%s", target);
		lk_kcache_drop_id(c, target);
		lk_kcache_drop_id(c, me);
		if (later) {
			lk_kcache_later(c, target, later_row);
			lk_kcache_later(c, me, 0);
		}
	} else if (strncmp(target, "acct_", 5) == 0) {
		lk_kcache_clear(c);
		if (later)
			lk_kcache_later(c, NULL, later_row);
	}
}

enum lk_err
lk_cache_audited(struct lk_db *db, const struct lk_audit_event *ev, int64_t now)
{
	const struct lk_conf	*conf = lk_db_conf(db);
	const char		*t = ev->target_id;
	const char		*dot = strrchr(ev->action, '.');
	bool			 made;
	uint64_t		 row = 0;
	enum lk_err		 e;

	(void)now;
	if (t == NULL || (strncmp(t, "key_", 4) != 0 && strncmp(t, "acct_", 5) != 0))
		return LK_OK;
	/*
	 * A key or account made now changes no entry another host holds (its
	 * negative entries end within cache_sync_interval): no feed row. Here
	 * the drop still bumps the generation, so the new key is valid at once.
	 */
	made = dot != NULL && (strcmp(dot, ".create") == 0 || strcmp(dot, ".import") == 0);
	if (!made) {
		/* Written whatever this host's setting: other hosts may cache. */
		if ((e = lk_db_exec(db, SQL_FEED_ADD, (struct lk_param[]){ LK_STR(t) }, 1,
		    NULL, NULL, NULL)) != LK_OK)
			return e;
		row = lk_db_insert_id(db);
	}
	/*
	 * A program that only changes keys never syncs: if the directory was
	 * removed and made again, drop in the new one. Only a cache the programs
	 * made: the CLI (root) must not create files they cannot open.
	 */
	if (kc != NULL && (!lk_kcache_current(kc) || (kn != NULL && !lk_kcount_current(kn))))
		close_cache();
	if (conf != NULL && conf->verify_cache && lk_cache_open_existing(conf) != NULL)
		apply(kc, made ? "key_" : t, row, true);
	return LK_OK;
}

struct feed_row {
	uint64_t	 id;
	int64_t		 at;
	char		 target[LK_PUBLIC_ID_MAX];
};

struct feed_ctx {
	char		 source[LK_PUBLIC_ID_MAX];
	int64_t		 since;
	int64_t		 db_now;
	size_t		 n;
	struct feed_row	 rows[FEED_BATCH];
};

static enum lk_err
feed_row(const struct lk_row *r, void *arg)
{
	struct feed_ctx	*c = arg;
	struct feed_row	*f;

	c->db_now = strtoll(r->v[3], NULL, 10);
	if (c->n == FEED_BATCH)
		return LK_OK;
	f = &c->rows[c->n++];
	f->id = strtoull(r->v[0], NULL, 10);
	f->at = strtoll(r->v[1], NULL, 10);
	snprintf(f->target, sizeof(f->target), "%s", r->v[2]);
	return LK_OK;
}

static enum lk_err
source_row(const struct lk_row *r, void *arg)
{
	snprintf(arg, LK_PUBLIC_ID_MAX, "%s", r->v[0]);
	return LK_OK;
}

static enum lk_err
feed_work(struct lk_db *db, void *arg)
{
	struct feed_ctx	*c = arg;
	enum lk_err	 e;
	const struct lk_param p[] = { LK_INT(c->since), LK_INT(FEED_BATCH + 1) };

	c->n = 0;
	c->source[0] = '\0';
	if ((e = lk_db_exec(db, SQL_SOURCE, NULL, 0, source_row, c->source, NULL)) != LK_OK ||
	    (e = lk_db_exec(db, SQL_DB_NOW, NULL, 0, lk_db_row_int, &c->db_now, NULL)) != LK_OK ||
	    (e = lk_db_exec(db, SQL_FEED_READ, p, LK_NELEM(p), feed_row, c, NULL)) != LK_OK)
		return e;
	return LK_OK;
}

/*
 * Counting (docs/operations.md "Verify cache", "Counting"): each key's uses of
 * the day are counted in the host's record, and flushed to key_usage by the
 * follower each sync. A use that spends the window's budget takes one from
 * the host's lease; a lease is taken from the window's counter key_usage.n
 * (one upsert), never more than the limit leaves, so the limit holds across
 * hosts; a single host can always reach it.
 */
struct count {
	uint64_t	 key_id, account_id;
	char		 env[5];
	int64_t		 day, win_start, window;
	int64_t		 granted, used;		/* this window: uses leased, spent */
	int64_t		 lease;			/* the last lease asked for */
	int64_t		 db_n;			/* the window's counter after our last lease */
	int64_t		 full;			/* the database said the window is spent */
	int64_t		 pend[LK_OUTCOME__MAX];	/* not yet in key_usage */
	int64_t		 last_valid_at;
	uint64_t	 counts_epoch;		/* the counters file moved holds for */
	int64_t		 moved[LK_OUTCOME__MAX];	/* of the key's slot's counts, those moved here */
};

_Static_assert(LK_OUTCOME__MAX <= LK_KCOUNT_OUTCOMES, "a slot counts every outcome");

struct count_key {
	uint64_t	 key_id;
	int64_t		 day;
};

#define FLUSH_MAX	4096	/* keys one sync writes; the rest wait for the next */

/*
 * The host's counts of many keys in one upsert: the rows come as one JSON
 * parameter ([[key_id, day, account_id, env, win_start, win_len, valid,
 * rate_limited, revoked, expired, insufficient_scope, account_suspended,
 * ip_not_allowed, last_valid_at], ...]; JSON_TABLE: MariaDB 10.6, MySQL 8.0),
 * a statement per FLUSH_ROWS keys instead of one per key.
 */
static const char SQL_FLUSH[] =
    "INSERT INTO key_usage (key_id, day, account_id, env, win_start, win_len, n, valid,"
    " rate_limited, revoked, expired, insufficient_scope, account_suspended, ip_not_allowed,"
    " last_valid_at)"
    " SELECT j.k, j.d, j.a, j.e, j.ws, j.wl, 0, j.v, j.rl, j.rv, j.ex, j.sc, j.su, j.ip, j.lv"
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (k BIGINT UNSIGNED PATH '$[0]', d INT PATH '$[1]',"
    "  a BIGINT UNSIGNED PATH '$[2]', e VARCHAR(8) PATH '$[3]', ws BIGINT PATH '$[4]',"
    "  wl INT UNSIGNED PATH '$[5]', v INT UNSIGNED PATH '$[6]', rl INT UNSIGNED PATH '$[7]',"
    "  rv INT UNSIGNED PATH '$[8]', ex INT UNSIGNED PATH '$[9]', sc INT UNSIGNED PATH '$[10]',"
    "  su INT UNSIGNED PATH '$[11]', ip INT UNSIGNED PATH '$[12]', lv BIGINT PATH '$[13]')) AS j"
    " ON DUPLICATE KEY UPDATE valid = valid + VALUES(valid),"
    " rate_limited = rate_limited + VALUES(rate_limited), revoked = revoked + VALUES(revoked),"
    " expired = expired + VALUES(expired),"
    " insufficient_scope = insufficient_scope + VALUES(insufficient_scope),"
    " account_suspended = account_suspended + VALUES(account_suspended),"
    " ip_not_allowed = ip_not_allowed + VALUES(ip_not_allowed),"
    " last_valid_at = IF(VALUES(last_valid_at) IS NULL, last_valid_at,"
    "  GREATEST(COALESCE(last_valid_at, 0), VALUES(last_valid_at)))";

#define FLUSH_ROWS	500	/* keys per upsert statement */

struct flush_ctx {
	int64_t		 today;
	size_t		 n;
	size_t		 committed;	/* of n, those whose records gave up their counts */
	struct count	 c[FLUSH_MAX];
};

static bool
pending(const struct count *c)
{
	size_t i;

	for (i = 0; i < LK_OUTCOME__MAX; i++)
		if (c->pend[i] != 0)
			return true;
	return false;
}

/* Take a record's counts for the flush (they leave it; a record of a past day goes with them). */
static enum lk_kc_each
take(void *r, void *arg)
{
	struct count		*c = r;
	struct flush_ctx	*f = arg;

	if (c == NULL) {		/* the records taken so far left the cache */
		f->committed = f->n;
		return LK_KC_KEEP;
	}
	if (!pending(c))
		return LK_KC_KEEP;
	if (f->n == FLUSH_MAX)
		return LK_KC_DIRTY;	/* for the next flush */
	f->c[f->n++] = *c;
	memset(c->pend, 0, sizeof(c->pend));
	c->last_valid_at = 0;
	/* Yesterday's record stays while its slot may still count (lk_kcount_roll). */
	return c->day < f->today - 1 ? LK_KC_DEL : LK_KC_PUT;
}

/* Forget the records of days before yesterday with nothing to write (the daily sweep). */
static enum lk_kc_each
forget(void *r, void *arg)
{
	const struct count	*c = r;
	const int64_t		*today = arg;

	if (c == NULL)
		return LK_KC_KEEP;
	return c->day < *today - 1 && !pending(c) ? LK_KC_DEL : LK_KC_KEEP;
}

/* A flush that failed: its counts go back to their records, for the next. */
static enum lk_kc_each
give_back(void *r, void *arg)
{
	struct count		*c = r;
	const struct count	*f = arg;
	size_t			 i;

	if (c->key_id == 0)
		*c = *f;
	else {
		for (i = 0; i < LK_OUTCOME__MAX; i++)
			c->pend[i] += f->pend[i];
		if (f->last_valid_at > c->last_valid_at)
			c->last_valid_at = f->last_valid_at;
	}
	return LK_KC_DIRTY;
}

/* One key's counts as a row of SQL_FLUSH's JSON. */
static json_t *
flush_row(const struct count *c)
{
	const int64_t *p = c->pend;

	return json_pack("[IIIsIIIIIIIIIo]", (json_int_t)c->key_id, (json_int_t)c->day,
	    (json_int_t)c->account_id, c->env, (json_int_t)c->win_start, (json_int_t)c->window,
	    (json_int_t)p[LK_OUTCOME_VALID], (json_int_t)p[LK_OUTCOME_RATE_LIMITED],
	    (json_int_t)p[LK_OUTCOME_REVOKED], (json_int_t)p[LK_OUTCOME_EXPIRED],
	    (json_int_t)p[LK_OUTCOME_INSUFFICIENT_SCOPE],
	    (json_int_t)p[LK_OUTCOME_ACCOUNT_SUSPENDED], (json_int_t)p[LK_OUTCOME_IP_NOT_ALLOWED],
	    c->last_valid_at != 0 ? json_integer(c->last_valid_at) : json_null());
}

/* In key order, so two hosts flushing at once lock key_usage's rows in the same order. */
static int
by_key(const void *x, const void *y)
{
	const struct count *a = x, *b = y;

	if (a->key_id != b->key_id)
		return a->key_id < b->key_id ? -1 : 1;
	return a->day < b->day ? -1 : a->day > b->day;
}

static enum lk_err
flush_work(struct lk_db *db, void *arg)
{
	struct flush_ctx	*f = arg;
	json_t			*rows, *r;
	char			*text;
	size_t			 i, j;
	enum lk_err		 e = LK_OK;

	for (i = 0; i < f->n && e == LK_OK; i += FLUSH_ROWS) {
		if ((rows = json_array()) == NULL)
			return LK_ERR_INTERNAL;
		for (j = i; j < f->n && j < i + FLUSH_ROWS; j++)
			if ((r = flush_row(&f->c[j])) == NULL || json_array_append_new(rows, r) != 0) {
				json_decref(rows);
				return LK_ERR_INTERNAL;
			}
		text = json_dumps(rows, JSON_COMPACT);
		json_decref(rows);
		if (text == NULL)
			return LK_ERR_INTERNAL;
		e = lk_db_exec(db, SQL_FLUSH, (struct lk_param[]){ LK_STR(text) }, 1, NULL, NULL,
		    NULL);
		free(text);
	}
	return e;
}

struct fold_arg {
	struct lk_kcount_seen	 seen;
	uint64_t		 epoch;
	bool			 moved;
};

/* A slot's counts since the last move into its record (which remembers how much it moved). */
static enum lk_kc_each
fold_rec(void *r, void *arg)
{
	struct count			*c = r;
	struct fold_arg			*a = arg;
	const struct lk_kcount_seen	*s = &a->seen;
	const bool			 was = pending(c);
	bool				 changed = false;
	int64_t				 d;
	size_t				 o;

	if (c->key_id == 0)
		return LK_KC_KEEP;	/* its record is being made: the counts move next time */
	if (c->counts_epoch != a->epoch) {
		memset(c->moved, 0, sizeof(c->moved));
		c->counts_epoch = a->epoch;
		changed = true;
	}
	for (o = 0; o < LK_OUTCOME__MAX; o++) {
		if ((d = (int64_t)s->n[o] - c->moved[o]) == 0)
			continue;
		c->pend[o] += d > 0 ? d : (int64_t)s->n[o];
		c->moved[o] = (int64_t)s->n[o];
		changed = true;
	}
	if (s->last_valid_at > c->last_valid_at)
		c->last_valid_at = s->last_valid_at;
	a->moved = true;
	if (!changed)
		return LK_KC_KEEP;
	return was || !pending(c) ? LK_KC_PUT : LK_KC_DIRTY;
}

/* The slots that counted since the last sync, gathered to move in one LMDB transaction. */
static struct {
	size_t			 n;
	struct count_key	 key[FLUSH_MAX];
	struct fold_arg		 arg[FLUSH_MAX];
} folds;

static bool
gather(const struct lk_kcount_seen *seen, void *arg)
{
	(void)arg;
	if (folds.n < FLUSH_MAX) {	/* the rest: next time */
		folds.key[folds.n] = (struct count_key){ seen->key_id, seen->day };
		folds.arg[folds.n] = (struct fold_arg){ *seen, lk_kcount_epoch(kn), false };
		folds.n++;
	}
	return false;			/* marked moved once stored (fold) */
}

/* What the host counted in its slots joins the records (a new day's table is made ready first). */
static void
fold(int64_t today)
{
	struct count	rec;
	size_t		i;

	folds.n = 0;
	lk_kcount_roll(kn, today, gather, NULL);
	if (folds.n == 0 || !lk_kcache_update_all(kc, folds.n, folds.key, sizeof(folds.key[0]),
	    &rec, sizeof(rec), fold_rec, folds.arg, sizeof(folds.arg[0])))
		return;
	for (i = 0; i < folds.n; i++)
		if (folds.arg[i].moved)
			lk_kcount_moved(&folds.arg[i].seen);
}

/* Write the host's counts to key_usage, in one transaction: all of them or none. */
static enum lk_err
flush(struct lk_db *db, const struct lk_conf *conf, int64_t t)
{
	static struct flush_ctx	 f;
	static int64_t		 swept;	/* the day of this process's last sweep */
	struct count_key	 ck;
	struct count		 rec;
	enum lk_err		 e;
	size_t			 i;
	bool			 took;

	f.today = t / 1000 / 86400;
	f.n = f.committed = 0;
	/* Past days' records are forgotten once a day per process, in short transactions. */
	if (swept != f.today && lk_kcache_each(kc, sizeof(struct count), forget, &f.today))
		swept = f.today;
	/* What the host counted in its slots joins the records (a new day's table is made ready). */
	if (kn != NULL && pair_counts())
		fold(f.today);
	/* Only the records counted since the last flush (the dirty set), a chunk per transaction. */
	/* A chunk that failed kept its counts: only those taken before it are written. */
	if (!(took = lk_kcache_take(kc, sizeof(struct count), FLUSH_MAX, take, &f)))
		f.n = f.committed;
	if (f.n == 0)
		return took ? LK_OK : LK_ERR_UNAVAILABLE;
	qsort(f.c, f.n, sizeof(f.c[0]), by_key);
	if ((e = lk_db_txn(db, flush_work, &f)) != LK_OK)
		for (i = 0; i < f.n; i++) {
			ck.key_id = f.c[i].key_id;
			ck.day = f.c[i].day;
			lk_kcache_update(kc, &ck, sizeof(ck), &rec, sizeof(rec), give_back, &f.c[i]);
		}
	else
		lk_usage_maybe_sweep(db, conf, t / 1000);
	return e != LK_OK || took ? e : LK_ERR_UNAVAILABLE;
}

/* Read the feed since the host's cursor and drop what it names (the follower's lock held). */
static enum lk_err
follow(struct lk_db *db, const struct lk_conf *conf, const struct lk_kcache_state *st, int64_t t,
    bool now)
{
	static struct feed_ctx	 c;
	enum lk_err		 e;
	size_t			 i;

	lk_kcache_attempt(kc, t);
	c.since = st->feed_since;
	if ((e = lk_db_read(db, feed_work, &c)) != LK_OK)
		return e;
	/* Filled from another database (restored, replaced at the same address): nothing is kept. */
	(void)lk_kcache_check_source(kc, c.source);
	/* Never synced, or so long ago that the feed was purged since: nothing held is trusted. */
	if (st->last_sync_ms == 0 || st->feed_since == 0 ||
	    c.db_now - st->feed_since > LK_CACHE_FEED_KEEP / 2 || c.n == FEED_BATCH) {
		lk_kcache_clear(kc);
		for (i = 0; i < c.n; i++)
			lk_kcache_mark_seen(kc, c.rows[i].id, c.rows[i].at,
			    c.db_now - 2 * LK_CACHE_FEED_OVERLAP);
	} else
		for (i = 0; i < c.n; i++) {
			if (lk_kcache_seen(kc, c.rows[i].id))
				continue;
			apply(kc, c.rows[i].target, 0, false);
			lk_kcache_mark_seen(kc, c.rows[i].id, c.rows[i].at,
			    c.db_now - 2 * LK_CACHE_FEED_OVERLAP);
		}
	lk_kcache_synced(kc, t, c.db_now - LK_CACHE_FEED_OVERLAP);
	if (kn != NULL)
		lk_kcount_set_synced(kn, t);
	/*
	 * The counts about once an interval (every other read of the feed): a
	 * thousand keys' upsert is the sync's cost, to the database and to
	 * every request on a small host meanwhile.
	 */
	if (!now && kn != NULL &&
	    !lk_kcount_claim(kn, LK_KCOUNT_FLUSH, t, (int64_t)conf->cache_sync_interval * 750))
		return LK_OK;
	return flush(db, conf, t);
}

enum lk_err
lk_cache_sync(struct lk_db *db, const struct lk_conf *conf)
{
	struct lk_kcache_state	 st;
	enum lk_err		 e;

	if (lk_cache_open_existing(conf) == NULL)
		return LK_ERR_NOT_FOUND;
	lk_kcache_lock(kc, true);
	if (!lk_kcache_state(kc, &st))
		e = LK_ERR_UNAVAILABLE;
	else
		e = follow(db, conf, &st, now_ms(), true);
	lk_kcache_unlock(kc);
	return e;
}

struct early {
	struct lk_db		*db;
	const struct lk_conf	*conf;
};
static struct early early;

/* The follower's routine read of the feed, if it is still due (the follower's lock taken here). */
static void
sync_if_due(struct lk_db *db, const struct lk_conf *conf)
{
	struct lk_kcache_state	 st;
	const int64_t		 t = now_ms(), iv = (int64_t)conf->cache_sync_interval * 1000;

	if (kc == NULL || !lk_kcache_lock(kc, false))
		return;
	if (lk_kcache_state(kc, &st) && st.last_sync_ms != 0 && t - st.last_sync_ms >= iv / 2 &&
	    t - st.attempt_ms >= iv / 2)
		(void)follow(db, conf, &st, t, false);
	lk_kcache_unlock(kc);
}

/*
 * After an answer, the feed half an interval old: one process per half
 * interval (claimed in the counters file) forks a child that reads it and
 * writes the counts, so no process stops answering for the database's
 * round trips and commit (they were the cached verify's p99). The child uses
 * none of its parent's handles (LMDB forbids it after fork; closing the
 * parent's MySQL session would end it for the parent): its own connection
 * and environment, then _exit. Without the counters file: in this process.
 */
static void
sync_early(void *arg)
{
	struct early		*a = arg;
	const int64_t		 iv = (int64_t)a->conf->cache_sync_interval * 1000;
	static bool		 reaped;
	struct lk_db		*db;
	int			 fd;

	if (kc == NULL)
		return;
	if (kn == NULL) {
		sync_if_due(a->db, a->conf);
		return;
	}
	if (!lk_kcount_claim(kn, LK_KCOUNT_SYNC, now_ms(), iv / 2))
		return;
	if (!reaped) {
		signal(SIGCHLD, SIG_IGN);	/* the children are reaped by the kernel */
		reaped = true;
	}
	if (fork() != 0)
		return;				/* the parent, or no child: the next claim */
	kc = NULL;
	kn = NULL;
	kc_failed = false;
	/* The FastCGI listen socket, or as CGI the request and the answer's pipe: the parent's. */
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (fd > 1)
			close(fd);
	}
	if ((db = lk_db_open(a->conf)) != NULL && cache(a->conf) != NULL)
		sync_if_due(db, a->conf);
	/* Its own handles closed: the environment's reader slot is given back. */
	if (kc != NULL)
		close_cache();
	lk_db_close(db);
	_exit(0);
}

/* The host's last sync: the counters file's mirror of it, else the environment's. */
static int64_t
last_sync(void)
{
	int64_t ms = kn != NULL ? lk_kcount_synced(kn) : 0;

	return ms != 0 ? ms : lk_kcache_last_sync(kc);
}

/*
 * Make sure the host followed the feed within cache_sync_interval: *stale
 * true when it could not (the database is down), LK_ERR_UNAVAILABLE once
 * that lasted past cache_stale_max.
 */
static enum lk_err
fresh(struct lk_db *db, const struct lk_conf *conf, int64_t t, bool *stale)
{
	const int64_t		 iv = (int64_t)conf->cache_sync_interval * 1000;
	struct lk_kcache_state	 st;
	enum lk_err		 e = LK_OK;

	int64_t			 age;

	*stale = false;
	/*
	 * The environment was started again by another process (damaged, or
	 * pairing anew): this one's is no longer followed, though the counters'
	 * mirror of the last sync says the host's is. Open the new one.
	 */
	if (kn != NULL && lk_kcount_epoch(kn) != paired) {
		close_cache();
		if (cache(conf) == NULL)
			return LK_ERR_UNAVAILABLE;
	}
	if ((age = t - last_sync()) < iv / 2)
		return LK_OK;
	/*
	 * Half an interval old: one process reads the feed after its answer
	 * has left while the others go on, so under steady traffic no client
	 * waits for a sync.
	 */
	if (age < iv) {
		early.db = db;
		early.conf = conf;
		lk_kcache_defer(sync_early, &early);
		return LK_OK;
	}
	if (!lk_kcache_state(kc, &st))
		return LK_ERR_UNAVAILABLE;
	if (!lk_kcache_lock(kc, false)) {
		/* Another process is reading the feed: wait for it, then see what it got. */
		lk_kcache_lock(kc, true);
		lk_kcache_unlock(kc);
		lk_kcache_state(kc, &st);
		if (t - st.last_sync_ms < iv)
			return LK_OK;
	} else {
		lk_kcache_state(kc, &st);
		if (t - st.last_sync_ms < iv) {
			lk_kcache_unlock(kc);
			return LK_OK;
		}
		/* A try within the interval failed: don't queue every request behind the next. */
		if (t - st.attempt_ms >= iv || st.last_sync_ms == 0) {
			/* The directory was removed, or a file made anew: start again. */
			if (!lk_kcache_current(kc) || (kn != NULL && !lk_kcount_current(kn))) {
				lk_kcache_unlock(kc);
				close_cache();
				if (cache(conf) == NULL)
					return LK_ERR_UNAVAILABLE;
				return fresh(db, conf, t, stale);
			}
			e = follow(db, conf, &st, t, false);
		}
		lk_kcache_unlock(kc);
		if (e == LK_OK && t - st.attempt_ms >= iv)
			return LK_OK;
	}
	if (st.last_sync_ms == 0 || t - st.last_sync_ms > (int64_t)conf->cache_stale_max * 1000)
		return LK_ERR_UNAVAILABLE;
	*stale = true;
	if (t - stale_logged_ms >= STALE_LOG_MS) {
		stale_logged_ms = t;
		lk_log_err("verify cache: the change feed could not be read for %lld ms: answering "
		    "from the cache (cache_stale_max = %u s)", (long long)(t - st.last_sync_ms),
		    conf->cache_stale_max);
	}
	return LK_OK;
}

/*
 * A row as the cache holds it: its integers (8 bytes each), then each text
 * as a 2-byte length and its bytes (a struct lk_key is 12 KiB of mostly
 * empty buffers; packed, a few hundred bytes). LK_KCACHE_FORMAT changes with
 * these layouts.
 */
struct text {
	size_t	 off, size;
};
struct layout {
	const struct text	*texts;
	size_t			 ntexts;
	const size_t		*ints;
	size_t			 nints;
	size_t			 size;
};

#define KS(m)	{ offsetof(struct lk_key, m), sizeof(((struct lk_key *)0)->m) }
static const struct text key_texts[] = {
	KS(public_id), KS(owner.public_id), KS(owner.path), KS(owner.plan), KS(start), KS(env),
	KS(label), KS(scopes), KS(rotated_from), KS(meta), KS(revoked_reason),
	KS(policy.allowed_ips), KS(policy.refill_interval), KS(policy.suspended_by),
};
#undef KS
#define KI(m)	offsetof(struct lk_key, m)
static const size_t key_ints[] = {
	KI(id), KI(owner.id), KI(created_at), KI(expires_at), KI(revoked_at), KI(last_used_at),
	KI(rl_limit), KI(rl_window), KI(imported), KI(policy.has_credits), KI(policy.credits),
	KI(policy.refill_amount), KI(policy.refill_day), KI(policy.refilled_at),
};
#undef KI
#define AS(m)	{ offsetof(struct lk_account, m), sizeof(((struct lk_account *)0)->m) }
static const struct text account_texts[] = {
	AS(public_id), AS(parent_public), AS(name), AS(plan), AS(path), AS(suspend_reason),
	AS(grantable_scopes), AS(suspended_by),
};
#undef AS
#define AI(m)	offsetof(struct lk_account, m)
static const size_t account_ints[] = {
	AI(id), AI(created_at), AI(suspended_at), AI(has_ceiling), AI(revoke_after_inactive_days),
};
#undef AI
static const struct layout key_layout = { key_texts, LK_NELEM(key_texts), key_ints,
    LK_NELEM(key_ints), sizeof(struct lk_key) };
static const struct layout account_layout = { account_texts, LK_NELEM(account_texts),
    account_ints, LK_NELEM(account_ints), sizeof(struct lk_account) };

/* Pack row (of layout l) into out at *n; false if it does not fit. */
static bool
pack(const struct layout *l, const void *row, unsigned char *out, size_t size, size_t *n)
{
	const char	*r = row;
	size_t		 i, len;
	uint16_t	 w;

	for (i = 0; i < l->nints; i++) {
		if (*n + 8 > size)
			return false;
		memcpy(out + *n, r + l->ints[i], 8);
		*n += 8;
	}
	for (i = 0; i < l->ntexts; i++) {
		len = strnlen(r + l->texts[i].off, l->texts[i].size - 1);
		if (*n + 2 + len > size)
			return false;
		w = (uint16_t)len;
		memcpy(out + *n, &w, 2);
		memcpy(out + *n + 2, r + l->texts[i].off, len);
		*n += 2 + len;
	}
	return true;
}

/* Unpack a row (of layout l) from in at *n; false if in does not hold one. */
static bool
unpack(const struct layout *l, const unsigned char *in, size_t len, size_t *n, void *row)
{
	char		*r = row;
	size_t		 i;
	uint16_t	 w;

	memset(row, 0, l->size);
	for (i = 0; i < l->nints; i++) {
		if (*n + 8 > len)
			return false;
		memcpy(r + l->ints[i], in + *n, 8);
		*n += 8;
	}
	for (i = 0; i < l->ntexts; i++) {
		if (*n + 2 > len)
			return false;
		memcpy(&w, in + *n, 2);
		if (w >= l->texts[i].size || *n + 2 + w > len)
			return false;
		memcpy(r + l->texts[i].off, in + *n + 2, w);
		*n += 2 + w;
	}
	return true;
}

size_t
lk_cache_pack(const struct lk_key *k, unsigned char *out, size_t size)
{
	size_t n = 0;

	return pack(&key_layout, k, out, size, &n) ? n : 0;
}

bool
lk_cache_unpack(const unsigned char *in, size_t len, struct lk_key *k)
{
	size_t n = 0;

	return unpack(&key_layout, in, len, &n, k) && n == len;
}

/* One key from the cache: true if resolved (*found says whether it exists). */
static bool
lookup(const unsigned char *d, struct lk_key *k, bool *found, int64_t t,
    const struct lk_conf *conf)
{
	static unsigned char	 buf[VALUE_MAX];
	size_t			 len = 0;

	switch (lk_kcache_get(kc, d, buf, sizeof(buf), &len, t,
	    (int64_t)conf->cache_sync_interval * 1000)) {
	case LK_KC_HIT:
		*found = lk_cache_unpack(buf, len, k);
		return *found;
	case LK_KC_NEGATIVE:
		*found = false;
		return true;
	case LK_KC_MISS:
		break;
	}
	return false;
}

static void
fill(uint64_t gen, const unsigned char *d, const struct lk_key *k, bool found, int64_t t)
{
	static unsigned char	 buf[VALUE_MAX];
	size_t			 len;

	if (!found)
		lk_kcache_put(kc, gen, d, NULL, NULL, 0, t);
	else if (!k->policy.has_credits && (len = lk_cache_pack(k, buf, sizeof(buf))) > 0)
		lk_kcache_put(kc, gen, d, k->public_id, buf, len, t);
}

enum lk_err
lk_cache_keys_by_digests(struct lk_db *db, const struct lk_conf *conf,
    const unsigned char *a, struct lk_key *ka, bool *found_a,
    const unsigned char *b, struct lk_key *kb, bool *found_b)
{
	const int64_t	 t = now_ms();
	const bool	 same = memcmp(a, b, LK_KCACHE_DIGEST) == 0;
	uint64_t	 gen;
	bool		 stale;
	enum lk_err	 e;

	if (!conf->verify_cache || cache(conf) == NULL)
		return lk_keys_by_digests(db, a, ka, found_a, b, kb, found_b);
	if ((e = fresh(db, conf, t, &stale)) != LK_OK)
		return e;
	if (lookup(a, ka, found_a, t, conf) && (same || lookup(b, kb, found_b, t, conf))) {
		if (same && kb != ka)
			*kb = *ka;
		if (same)
			*found_b = *found_a;
		lk_kcache_count(kc, true, stale, t);
		return LK_OK;
	}
	gen = lk_kcache_gen(kc);
	if ((e = lk_keys_by_digests(db, a, ka, found_a, b, kb, found_b)) != LK_OK)
		return e;
	lk_kcache_count(kc, false, false, t);
	fill(gen, a, ka, *found_a, t);
	if (!same)
		fill(gen, b, kb, *found_b, t);
	return LK_OK;
}

struct use_arg {
	const struct lk_key		*k;
	const struct lk_usage_use	*use;
	enum lk_outcome			 o;		/* in: the use's outcome; out: the answer */
	int64_t				 add, n, size;	/* a lease just taken: ours of it, the counter, its size */
	bool				 full;		/* that lease found the window spent */
	bool				 need_lease;	/* out: take one and come again */
	int64_t				 seen;		/* out: the window's uses as far as we know */
	struct lk_kcount_slot		*slot;		/* the key's shared slot (NULL: none) */
	uint32_t			 win;		/* the window's id in it */
};

/* One use into the record, after adding the lease just taken (add >= 0). */
static enum lk_kc_each
count_use(void *r, void *arg)
{
	struct count	*c = r;
	struct use_arg	*a = arg;
	int64_t		 left = 0, db_n = 0;
	bool		 was, full;

	if (c->win_start != a->use->win_start || c->window != a->use->window || c->day != a->use->day) {
		c->win_start = a->use->win_start;
		c->window = a->use->window;
		c->granted = c->used = c->lease = c->db_n = c->full = 0;
	}
	if (c->key_id == 0 || c->day != a->use->day) {
		c->key_id = a->k->id;
		c->account_id = a->k->owner.id;
		c->day = a->use->day;
		snprintf(c->env, sizeof(c->env), "%s", a->k->env);
	}
	if (a->add >= 0) {
		c->granted += a->add;
		c->db_n = a->n;
		c->lease = a->size;
		c->full = c->full || a->full;
		a->add = -1;
	}
	a->need_lease = false;
	was = pending(c);
	switch (a->o) {
	case LK_OUTCOME_ACCOUNT_SUSPENDED:
	case LK_OUTCOME_IP_NOT_ALLOWED:
		break;			/* not a use: its outcome only */
	case LK_OUTCOME_VALID:
		if (c->used < c->granted)
			c->used++;
		else if (a->slot != NULL && lk_kcount_spend(a->slot, a->win, &left, &db_n, &full))
			;		/* another process's lease, given to the slot meanwhile */
		else if (!c->full) {
			a->need_lease = true;
			return LK_KC_KEEP;
		} else
			a->o = LK_OUTCOME_RATE_LIMITED;
		break;
	default:			/* revoked, expired, scope: spend the budget if leased */
		if (c->used < c->granted)
			c->used++;
		else if (a->slot != NULL)
			(void)lk_kcount_spend(a->slot, a->win, &left, &db_n, &full);
		break;
	}
	c->pend[a->o]++;
	if (a->o == LK_OUTCOME_VALID)
		c->last_valid_at = a->use->now;
	if (a->slot != NULL) {
		/* The rest of the host's uses go to the slot: every process spends them without a lock. */
		lk_kcount_give(a->slot, a->win, c->granted - c->used, c->db_n, c->full != 0);
		c->used = c->granted;
		lk_kcount_peek(a->slot, a->win, &left, &db_n, &full);
		a->seen = db_n - left;
	} else
		a->seen = c->db_n - (c->granted - c->used);
	/* A record has counts pending exactly while its key is in the dirty set (take, give_back). */
	return was ? LK_KC_PUT : LK_KC_DIRTY;
}

static const char SQL_LEASE[] =
    "INSERT INTO key_usage (key_id, day, account_id, env, win_start, win_len, n)"
    " VALUES (?, ?, ?, ?, ?, ?, LAST_INSERT_ID(?))"
    " ON DUPLICATE KEY UPDATE"
    " n = LAST_INSERT_ID(IF(win_len = VALUES(win_len) AND win_start >= VALUES(win_start),"
    "  n + VALUES(n), VALUES(n))),"
    " win_start = IF(win_len = VALUES(win_len), GREATEST(win_start, VALUES(win_start)),"
    "  VALUES(win_start)),"
    " win_len = VALUES(win_len)";

struct lease_ctx {
	const struct lk_usage_use	*use;
	int64_t				 size;
	uint64_t			 n;
};

static enum lk_err
lease_work(struct lk_db *db, void *arg)
{
	struct lease_ctx		*c = arg;
	const struct lk_usage_use	*u = c->use;
	const struct lk_param		 p[] = {
		LK_INT(u->k->id), LK_INT(u->day), LK_INT(u->k->owner.id), LK_STR(u->k->env),
		LK_INT(u->win_start), LK_INT(u->window), LK_INT(c->size),
	};
	uint64_t			 affected = 0;
	enum lk_err			 e;

	if ((e = lk_db_exec(db, SQL_LEASE, p, LK_NELEM(p), NULL, NULL, &affected)) != LK_OK)
		return e;
	c->n = lk_db_insert_id(db);
	if (c->n == 0 && affected == 1)
		c->n = (uint64_t)c->size;
	return LK_OK;
}

/*
 * The size of the next lease: double the last (the first: 1/64 of the
 * limit), at most a quarter of what the window has left by our last look, at
 * least 1. Unused leases at the window's end are the under-admission.
 */
int64_t
lk_cache_lease_size(int64_t limit, int64_t last, int64_t db_n)
{
	int64_t left = limit - db_n, n = last > 0 ? 2 * last : limit / 64;

	if (n > left / 4)
		n = left / 4;
	return n < 1 ? 1 : n;
}

bool
lk_cache_counts(const struct lk_conf *conf, const struct lk_key *k)
{
	return conf->verify_cache && !k->policy.has_credits && cache(conf) != NULL;
}

/*
 * A use counted in the key's shared slot alone, without a lock (base/kcount.h):
 * false when it needs the record (a lease to take, a window the slot does not
 * hold yet).
 */
static bool
count_fast(struct lk_kcount_slot *s, const struct lk_usage_use *use, enum lk_outcome pre,
    struct lk_rl_state *out)
{
	const uint32_t	win = lk_kcount_win(use->win_start, use->window);
	int64_t		left, db_n, seen;
	bool		full;

	switch (pre) {
	case LK_OUTCOME_ACCOUNT_SUSPENDED:
	case LK_OUTCOME_IP_NOT_ALLOWED:
		/* As lk_usage_deny: recorded, not counted; once the record holds this window. */
		lk_kcount_peek(s, win, &left, &db_n, &full);
		if (left == 0 && !full)
			return false;
		lk_kcount_add(s, pre, 0);
		return true;
	case LK_OUTCOME_VALID:
		if (lk_kcount_spend(s, win, &left, &db_n, &full)) {
			lk_kcount_add(s, pre, use->now);
			break;
		}
		if (!full)
			return false;
		lk_kcount_add(s, LK_OUTCOME_RATE_LIMITED, 0);
		out->outcome = LK_OUTCOME_RATE_LIMITED;
		lk_ratelimit_counted(out, (uint64_t)use->limit + 1);
		return true;
	default:
		if (!lk_kcount_spend(s, win, &left, &db_n, &full))
			return false;
		lk_kcount_add(s, pre, 0);
		break;
	}
	out->outcome = pre;
	seen = db_n - left;
	lk_ratelimit_counted(out, (uint64_t)(seen < 1 ? 1 : seen > use->limit ? use->limit : seen));
	return true;
}

enum lk_err
lk_cache_count_use(struct lk_db *db, const struct lk_conf *conf, const struct lk_key *k,
    int64_t now, enum lk_outcome pre, struct lk_rl_state *out)
{
	struct lk_usage_use	 use;
	struct count_key	 ck;
	struct count		 rec;
	struct use_arg		 a = { k, &use, pre, -1, 0, 0, false, false, 0, NULL, 0 };
	struct lk_kcount_slot	*slot;
	struct lease_ctx	 lc;

	lk_ratelimit_window(k, now, pre, &use, out);
	if (kn != NULL && (slot = lk_kcount_slot(kn, k->id, use.day, false)) != NULL &&
	    count_fast(slot, &use, pre, out))
		return LK_OK;
	if (kn != NULL) {
		a.slot = lk_kcount_slot(kn, k->id, use.day, true);
		a.win = lk_kcount_win(use.win_start, use.window);
	}
	ck.key_id = k->id;
	ck.day = use.day;
	for (;;) {
		if (!lk_kcache_update(kc, &ck, sizeof(ck), &rec, sizeof(rec), count_use, &a))
			return LK_ERR_UNAVAILABLE;
		if (!a.need_lease)
			break;
		/* Every lease adds at least one use or finds the window spent: this ends. */
		lc.use = &use;
		lc.size = lk_cache_lease_size(use.limit, rec.lease, rec.db_n);
		if (lk_db_read(db, lease_work, &lc) != LK_OK) {
			if (!conf->ratelimit_open)
				return LK_ERR_UNAVAILABLE;
			lk_log_err("no lease of uses for %s; ratelimit_on_db_error = open lets the "
			    "request through", k->public_id);
			return LK_OK;
		}
		/* What the window had before this lease decides how much of it is ours. */
		a.size = lc.size;
		a.n = (int64_t)lc.n;
		a.add = use.limit - (a.n - lc.size);
		if (a.add > lc.size)
			a.add = lc.size;
		if (a.add < 0)
			a.add = 0;
		a.full = a.add < lc.size;
	}
	if (pre == LK_OUTCOME_ACCOUNT_SUSPENDED || pre == LK_OUTCOME_IP_NOT_ALLOWED)
		return LK_OK;	/* as lk_usage_deny: recorded, not counted */
	out->outcome = a.o;
	lk_ratelimit_counted(out, (uint64_t)(a.o == LK_OUTCOME_RATE_LIMITED ? use.limit + 1 :
	    a.seen < 1 ? 1 : a.seen > use.limit ? use.limit : a.seen));
	return LK_OK;
}

/* The entry of /v1/me for digest d: a digest of its own (d with every byte flipped by 0x5c). */
static void
me_digest(const unsigned char *d, unsigned char *out)
{
	size_t i;

	for (i = 0; i < LK_KCACHE_DIGEST; i++)
		out[i] = d[i] ^ 0x5c;
}

enum lk_err
lk_cache_key_with_account(struct lk_db *db, const struct lk_conf *conf, const unsigned char *d,
    struct lk_key *k, struct lk_account *a, bool *found)
{
	static unsigned char	 buf[VALUE_MAX];
	unsigned char		 md[LK_KCACHE_DIGEST];
	char			 id[LK_PUBLIC_ID_MAX + sizeof(ME_PREFIX)];
	const int64_t		 t = now_ms();
	size_t			 len = 0, n = 0;
	uint64_t		 gen;
	bool			 stale;
	enum lk_err		 e;

	if (!conf->verify_cache || cache(conf) == NULL)
		return lk_keys_with_account(db, d, k, a, found);
	if ((e = fresh(db, conf, t, &stale)) != LK_OK)
		return e;
	me_digest(d, md);
	switch (lk_kcache_get(kc, md, buf, sizeof(buf), &len, t,
	    (int64_t)conf->cache_sync_interval * 1000)) {
	case LK_KC_HIT:
		if (unpack(&key_layout, buf, len, &n, k) &&
		    unpack(&account_layout, buf, len, &n, a) && n == len) {
			*found = true;
			lk_kcache_count(kc, true, stale, t);
			return LK_OK;
		}
		break;
	case LK_KC_NEGATIVE:
		*found = false;
		lk_kcache_count(kc, true, stale, t);
		return LK_OK;
	case LK_KC_MISS:
		break;
	}
	gen = lk_kcache_gen(kc);
	if ((e = lk_keys_with_account(db, d, k, a, found)) != LK_OK)
		return e;
	lk_kcache_count(kc, false, false, t);
	if (!*found)
		lk_kcache_put(kc, gen, md, NULL, NULL, 0, t);
	else if (!k->policy.has_credits && pack(&key_layout, k, buf, sizeof(buf), &n) &&
	    pack(&account_layout, a, buf, sizeof(buf), &n)) {
		snprintf(id, sizeof(id), ME_PREFIX "%s", k->public_id);
		lk_kcache_put(kc, gen, md, id, buf, n, t);
	}
	return LK_OK;
}
