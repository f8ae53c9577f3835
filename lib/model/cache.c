/* cache.c — the verify cache's decision data and its change feed (model/cache.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "model/cache.h"

#define FEED_BATCH	1000	/* rows one sync applies one by one; more: everything is dropped */
#define STALE_LOG_MS	10000	/* one log line per process this often while answering stale */

static const char SQL_FEED_ADD[] =
    "INSERT INTO cache_feed (at, target_id) VALUES (UNIX_TIMESTAMP(), ?)";
static const char SQL_FEED_PURGE[] =
    "DELETE FROM cache_feed WHERE at < UNIX_TIMESTAMP() - ?";
static const char SQL_FEED_READ[] =
    "SELECT id, at, target_id, UNIX_TIMESTAMP() FROM cache_feed WHERE at >= ? ORDER BY id LIMIT ?";
static const char SQL_DB_NOW[] = "SELECT UNIX_TIMESTAMP()";

static struct lk_kcache	*kc;		/* this process's handle; opened on first use */
static bool		 kc_failed;	/* it could not be opened: strict, logged once */
static int64_t		 stale_logged_ms;

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

static struct lk_kcache *
cache(const struct lk_conf *conf)
{
	char id[700];

	if (kc != NULL || kc_failed)
		return kc;
	identity(conf, id, sizeof(id));
	if ((kc = lk_kcache_open(conf->cache_dir, conf->cache_max_entries,
	    sizeof(struct lk_key), id)) == NULL)
		kc_failed = true;	/* logged by lk_kcache_open; every answer stays strict */
	return kc;
}

struct lk_kcache *
lk_cache_open_existing(const struct lk_conf *conf)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/data.mdb", conf->cache_dir);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	fclose(f);
	return cache(conf);
}

/* What a feed row names: a key (its entry), an account (every entry: its subtree's keys), or nothing. */
static void
apply(struct lk_kcache *c, const char *target, bool later)
{
	if (strncmp(target, "key_", 4) == 0) {
		lk_kcache_drop_id(c, target);
		if (later)
			lk_kcache_later(c, target);
	} else if (strncmp(target, "acct_", 5) == 0) {
		lk_kcache_clear(c);
		if (later)
			lk_kcache_later(c, NULL);
	}
}

enum lk_err
lk_cache_audited(struct lk_db *db, const struct lk_audit_event *ev, int64_t now)
{
	const struct lk_conf	*conf = lk_db_conf(db);
	const char		*t = ev->target_id;
	enum lk_err		 e;

	(void)now;
	if (t == NULL || (strncmp(t, "key_", 4) != 0 && strncmp(t, "acct_", 5) != 0))
		return LK_OK;
	/* Written whatever this host's setting: other hosts may cache. */
	if ((e = lk_db_exec(db, SQL_FEED_ADD, (struct lk_param[]){ LK_STR(t) }, 1,
	    NULL, NULL, NULL)) != LK_OK)
		return e;
	/* Only a cache the programs made: the CLI (root) must not create files they cannot open. */
	if (conf != NULL && conf->verify_cache && lk_cache_open_existing(conf) != NULL)
		apply(kc, t, true);
	return LK_OK;
}

struct feed_row {
	uint64_t	 id;
	int64_t		 at;
	char		 target[LK_PUBLIC_ID_MAX];
};

struct feed_ctx {
	int64_t		 since;
	int64_t		 db_now;
	size_t		 n;
	struct feed_row	 rows[FEED_BATCH];
	bool		 purge;
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
feed_work(struct lk_db *db, void *arg)
{
	struct feed_ctx	*c = arg;
	enum lk_err	 e;
	const struct lk_param p[] = { LK_INT(c->since), LK_INT(FEED_BATCH + 1) };

	c->n = 0;
	if ((e = lk_db_exec(db, SQL_DB_NOW, NULL, 0, lk_db_row_int, &c->db_now, NULL)) != LK_OK ||
	    (e = lk_db_exec(db, SQL_FEED_READ, p, LK_NELEM(p), feed_row, c, NULL)) != LK_OK)
		return e;
	if (c->purge) {
		const struct lk_param q[] = { LK_INT(LK_CACHE_FEED_KEEP) };

		return lk_db_exec(db, SQL_FEED_PURGE, q, 1, NULL, NULL, NULL);
	}
	return LK_OK;
}

/* Read the feed since the host's cursor and drop what it names (the follower's lock held). */
static enum lk_err
sync(struct lk_db *db, const struct lk_conf *conf, const struct lk_kcache_state *st, int64_t t)
{
	static struct feed_ctx	 c;
	static int64_t		 purged;
	enum lk_err		 e;
	size_t			 i;

	(void)conf;
	lk_kcache_attempt(kc, t);
	c.since = st->feed_since;
	c.purge = t - purged > 60000;	/* the feed's old rows: once a minute per process */
	if ((e = lk_db_read(db, feed_work, &c)) != LK_OK)
		return e;
	if (c.purge)
		purged = t;
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
			apply(kc, c.rows[i].target, false);
			lk_kcache_mark_seen(kc, c.rows[i].id, c.rows[i].at,
			    c.db_now - 2 * LK_CACHE_FEED_OVERLAP);
		}
	lk_kcache_synced(kc, t, c.db_now - LK_CACHE_FEED_OVERLAP);
	return LK_OK;
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

	*stale = false;
	if (!lk_kcache_state(kc, &st))
		return LK_ERR_UNAVAILABLE;
	if (t - st.last_sync_ms < iv)
		return LK_OK;
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
			if (!lk_kcache_current(kc)) {	/* the directory was removed: start again */
				lk_kcache_unlock(kc);
				lk_kcache_close(kc);
				kc = NULL;
				if (cache(conf) == NULL)
					return LK_ERR_UNAVAILABLE;
				return fresh(db, conf, t, stale);
			}
			e = sync(db, conf, &st, t);
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

/* One key from the cache: true if resolved (*found says whether it exists). */
static bool
lookup(const unsigned char *d, struct lk_key *k, bool *found, int64_t t,
    const struct lk_conf *conf)
{
	size_t len = 0;

	switch (lk_kcache_get(kc, d, k, sizeof(*k), &len, t,
	    (int64_t)conf->cache_sync_interval * 1000)) {
	case LK_KC_HIT:
		*found = len == sizeof(*k);
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
	if (!found)
		lk_kcache_put(kc, gen, d, NULL, NULL, 0, t);
	else if (!k->policy.has_credits)
		lk_kcache_put(kc, gen, d, k->public_id, k, sizeof(*k), t);
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
