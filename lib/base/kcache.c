/* kcache.c — the verify cache's LMDB environment (base/kcache.h). */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <openssl/rand.h>

#include "base/kcache.h"
#include "base/log.h"

#define ID_MAX		40	/* a public id and its NUL (LK_PUBLIC_ID_MAX) */
#define LATER_MAX	16
#define FLUSH_MS	1000	/* counters are added to the shared ones this often */
#define KEY_MAX		511	/* LMDB's longest key (its default build) */
#define USED_BITS_MAX	((size_t)1 << 20)	/* 128 KiB of "used since the hand passed" bits */

struct lk_kcache {
	MDB_env		*env;
	MDB_dbi		 keys, ids, meta, seen, recs, dirty, pairs;
	MDB_txn		*rtxn;		/* reset between reads, renewed for the next */
	int		 lockfd;
	char		 dir[256];
	dev_t		 dev;
	ino_t		 ino;
	size_t		 max_entries;
	_Atomic uint64_t *used;		/* the host's bits by digest (file "used"); NULL: none */
	size_t		 used_mask;	/* bits - 1 */
	uint64_t	 hits, misses, stale;	/* not yet added to the shared counters */
	int64_t		 flushed_ms;
};

/* What precedes a value: when and under which generation it was filled, whose it is. */
struct head {
	int64_t		 stored_ms;
	uint64_t	 gen;
	char		 id[ID_MAX];	/* "": a negative entry */
};

static struct {
	struct lk_kcache	*kc;
	bool			 clear;
	size_t			 n;
	char			 id[LATER_MAX][ID_MAX];
	size_t			 nrows;
	uint64_t		 row[LATER_MAX];	/* feed rows applied here: the follower skips them */
} later;

static int64_t
meta_get(MDB_txn *t, MDB_dbi dbi, const char *name)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int64_t n = 0;

	if (mdb_get(t, dbi, &k, &v) == 0 && v.mv_size == sizeof(n))
		memcpy(&n, v.mv_data, sizeof(n));
	return n;
}

static int
meta_put(MDB_txn *t, MDB_dbi dbi, const char *name, int64_t n)
{
	MDB_val k = { strlen(name), (void *)name }, v = { sizeof(n), &n };

	return mdb_put(t, dbi, &k, &v, 0);
}

static int
bump_gen(struct lk_kcache *kc, MDB_txn *t)
{
	return meta_put(t, kc->meta, "gen", meta_get(t, kc->meta, "gen") + 1);
}

/* The header's identity: the caller's, the format and this boot (an OS crash may undo unsynced drops). */
static void
identity_of(const char *identity, char *out, size_t size)
{
	char	 boot[64] = "";
	FILE	*f;

	if ((f = fopen("/proc/sys/kernel/random/boot_id", "r")) != NULL) {
		if (fgets(boot, sizeof(boot), f) == NULL)
			boot[0] = '\0';
		boot[strcspn(boot, "\n")] = '\0';
		fclose(f);
	}
	snprintf(out, size, "lk-kcache-v%d %s boot %s", LK_KCACHE_FORMAT, identity, boot);
}

/* Open the named databases; wipe them unless the header names identity. */
static int
open_dbs(struct lk_kcache *kc, const char *identity)
{
	MDB_txn	*t;
	MDB_val	 k = { 6, "header" }, v;
	char	 want[512];
	int	 rc;

	identity_of(identity, want, sizeof(want));
	if ((rc = mdb_txn_begin(kc->env, NULL, 0, &t)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(t, "keys", MDB_CREATE, &kc->keys)) != 0 ||
	    (rc = mdb_dbi_open(t, "ids", MDB_CREATE, &kc->ids)) != 0 ||
	    (rc = mdb_dbi_open(t, "meta", MDB_CREATE, &kc->meta)) != 0 ||
	    (rc = mdb_dbi_open(t, "seen", MDB_CREATE | MDB_INTEGERKEY, &kc->seen)) != 0 ||
	    (rc = mdb_dbi_open(t, "recs", MDB_CREATE, &kc->recs)) != 0 ||
	    (rc = mdb_dbi_open(t, "dirty", MDB_CREATE, &kc->dirty)) != 0 ||
	    (rc = mdb_dbi_open(t, "pairs", MDB_CREATE, &kc->pairs)) != 0)
		goto out;
	rc = mdb_get(t, kc->meta, &k, &v);
	if (rc == 0 && v.mv_size == strlen(want) && memcmp(v.mv_data, want, v.mv_size) == 0)
		goto out;
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	if (rc == 0)
		lk_log_err("verify cache %s: written for another database, format or boot: "
		    "started again", kc->dir);
	v.mv_size = strlen(want);
	v.mv_data = want;
	if ((rc = mdb_drop(t, kc->keys, 0)) != 0 || (rc = mdb_drop(t, kc->ids, 0)) != 0 ||
	    (rc = mdb_drop(t, kc->seen, 0)) != 0 || (rc = mdb_drop(t, kc->meta, 0)) != 0 ||
	    (rc = mdb_drop(t, kc->recs, 0)) != 0 || (rc = mdb_drop(t, kc->dirty, 0)) != 0 ||
	    (rc = mdb_drop(t, kc->pairs, 0)) != 0 || (rc = mdb_put(t, kc->meta, &k, &v, 0)) != 0)
		goto out;
	rc = meta_put(t, kc->meta, "gen", 1);
out:
	if (rc == 0)
		return mdb_txn_commit(t);
	mdb_txn_abort(t);
	return rc;
}

static int
try_open(struct lk_kcache *kc, size_t value_max, const char *identity)
{
	struct stat	 st;
	char		 path[300];
	int		 rc;

	if ((rc = mdb_env_create(&kc->env)) != 0)
		return rc;
	mdb_env_set_maxdbs(kc->env, 7);
	/* Sparse: the file grows with the entries, the map only reserves addresses. */
	/*
	 * Room for max_entries of 2 KiB (a key row packs to a few hundred bytes;
	 * value_max is only the longest one) and 64 MiB besides; a full map
	 * evicts (lk_kcache_put).
	 */
	(void)value_max;
	mdb_env_set_mapsize(kc->env, (kc->max_entries + 1024) * (size_t)2048 + ((size_t)64 << 20));
	/*
	 * No fsync: the cache is rebuilt after a crash (the header names the
	 * boot). A writable map: a commit is memory writes, not a pwrite per
	 * dirty page (the profile of docs/performance.md); the file is as long
	 * as the map, sparse.
	 */
	/* No read-ahead: a process maps the pages it reads, not their neighbours (RSS). */
	/*
	 * The reader table's slots of processes that ended without closing (a
	 * killed worker, a CGI process) are freed first: LMDB does not, and a
	 * full table refuses every new reader.
	 */
	if ((rc = mdb_env_open(kc->env, kc->dir, MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP |
	    MDB_NORDAHEAD, 0600)) != 0 ||
	    (rc = mdb_reader_check(kc->env, NULL)) != 0 ||
	    (rc = open_dbs(kc, identity)) != 0 ||
	    (rc = mdb_txn_begin(kc->env, NULL, MDB_RDONLY, &kc->rtxn)) != 0) {
		mdb_env_close(kc->env);
		kc->env = NULL;
		return rc;
	}
	mdb_txn_reset(kc->rtxn);
	snprintf(path, sizeof(path), "%s/data.mdb", kc->dir);
	if (stat(path, &st) == 0) {
		kc->dev = st.st_dev;
		kc->ino = st.st_ino;
	}
	return 0;
}

/*
 * The bits that make eviction drop the least recently used entries
 * (approximately: the clock, or second chance, algorithm): a hit sets its
 * digest's bit in a file every process of the host maps, without a lock or a
 * write transaction; eviction passes over the entries with their bit set,
 * clearing it, and drops those without. A bit an entry (digests sharing one
 * pass together once): every process maps the file, and a page of it faulted
 * in brings its neighbours (the kernel's fault-around), so it stays small.
 * Without the file (logged), eviction drops entries at random.
 */
static void
map_used(struct lk_kcache *kc)
{
	struct stat	 st;
	char		 path[300];
	size_t		 bits = 512, bytes;
	void		*m;
	int		 fd;

	while (bits < kc->max_entries && bits < USED_BITS_MAX)
		bits <<= 1;
	bytes = bits / 8;
	snprintf(path, sizeof(path), "%s/used", kc->dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		goto fail;
	if (fstat(fd, &st) != 0 || (st.st_uid != geteuid() && geteuid() != 0))
		goto fail;
	/*
	 * Made for another cache_max_entries: never shrunk (a process still
	 * mapping it longer would fault), a longer one used as it is.
	 */
	if ((size_t)st.st_size > bytes && (size_t)st.st_size <= USED_BITS_MAX / 8 &&
	    (st.st_size & (st.st_size - 1)) == 0) {
		bytes = (size_t)st.st_size;
		bits = bytes * 8;
	} else if ((size_t)st.st_size < bytes && ftruncate(fd, (off_t)bytes) != 0)
		goto fail;
	if ((m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
		goto fail;
	close(fd);
	madvise(m, bytes, MADV_RANDOM);
	kc->used = m;
	kc->used_mask = bits - 1;
	return;
fail:
	lk_log_err("verify cache %s: used bits: %s: eviction drops entries at random", kc->dir,
	    strerror(errno));
	if (fd >= 0)
		close(fd);
}

static size_t
used_bit(const struct lk_kcache *kc, const void *digest)
{
	uint64_t x;

	memcpy(&x, digest, sizeof(x));		/* a SHA-256: uniform */
	return (size_t)x & kc->used_mask;
}

static void
mark_used(struct lk_kcache *kc, const void *digest)
{
	const size_t	 b = used_bit(kc, digest);
	const uint64_t	 m = (uint64_t)1 << (b % 64);

	/* Read first: a set bit is not written again (no cache line moves between CPUs). */
	if (kc->used != NULL &&
	    (atomic_load_explicit(&kc->used[b / 64], memory_order_relaxed) & m) == 0)
		atomic_fetch_or_explicit(&kc->used[b / 64], m, memory_order_relaxed);
}

/* Whether digest was used since the hand last passed it; the bit is cleared (its second chance). */
static bool
second_chance(struct lk_kcache *kc, const void *digest)
{
	const size_t	 b = used_bit(kc, digest);
	const uint64_t	 m = (uint64_t)1 << (b % 64);

	return kc->used != NULL &&
	    (atomic_fetch_and_explicit(&kc->used[b / 64], ~m, memory_order_relaxed) & m) != 0;
}

/* An error that says the files are not a sound environment (and only those: they are wiped). */
static bool
damaged(int rc)
{
	return rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH || rc == MDB_CORRUPTED ||
	    rc == MDB_PAGE_NOTFOUND || rc == MDB_PANIC;
}

struct lk_kcache *
lk_kcache_open(const char *dir, size_t max_entries, size_t value_max, const char *identity)
{
	struct lk_kcache	*kc;
	struct stat		 st;
	char			 path[300];
	int			 rc;

	if ((kc = calloc(1, sizeof(*kc))) == NULL)
		return NULL;
	snprintf(kc->dir, sizeof(kc->dir), "%s", dir);
	kc->max_entries = max_entries;
	kc->lockfd = -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		goto fail;
	/* Only our own directory is trusted: another user could plant entries. */
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    (st.st_uid != geteuid() && geteuid() != 0)) {
		lk_log_err("verify cache %s: not a directory of this user (uid %u): not used",
		    dir, (unsigned)geteuid());
		goto fail_quiet;
	}
	if ((st.st_mode & 077) != 0)
		chmod(dir, 0700);
	snprintf(path, sizeof(path), "%s/follow.lock", dir);
	if ((kc->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		goto fail;
	map_used(kc);
	if ((rc = try_open(kc, value_max, identity)) != 0 && !damaged(rc)) {
		lk_log_err("verify cache %s: %s: not used", dir, mdb_strerror(rc));
		goto fail_quiet;
	}
	if (rc != 0) {
		/* Corrupt or of another LMDB version: never trusted, started again. */
		lk_log_err("verify cache %s: %s: started again", dir, mdb_strerror(rc));
		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/lock.mdb", dir);
		unlink(path);
		if ((rc = try_open(kc, value_max, identity)) != 0) {
			lk_log_err("verify cache %s: %s: not used", dir, mdb_strerror(rc));
			goto fail_quiet;
		}
	}
	return kc;
fail:
	lk_log_err("verify cache %s: %s: not used", dir, strerror(errno));
fail_quiet:
	if (kc->lockfd >= 0)
		close(kc->lockfd);
	free(kc);
	return NULL;
}

void
lk_kcache_close(struct lk_kcache *kc)
{
	if (kc == NULL)
		return;
	if (later.kc == kc)
		later.kc = NULL;
	if (kc->rtxn != NULL)
		mdb_txn_abort(kc->rtxn);
	mdb_env_close(kc->env);
	close(kc->lockfd);
	if (kc->used != NULL)
		munmap(kc->used, (kc->used_mask + 1) / 8);
	free(kc);
}

bool
lk_kcache_current(struct lk_kcache *kc)
{
	struct stat	st;
	char		path[300];

	snprintf(path, sizeof(path), "%s/data.mdb", kc->dir);
	return stat(path, &st) == 0 && st.st_dev == kc->dev && st.st_ino == kc->ino;
}

static MDB_txn *
rbegin(struct lk_kcache *kc)
{
	if (mdb_txn_renew(kc->rtxn) != 0)
		return NULL;
	return kc->rtxn;
}

uint64_t
lk_kcache_gen(struct lk_kcache *kc)
{
	MDB_txn		*t;
	uint64_t	 g = 0;

	if ((t = rbegin(kc)) != NULL) {
		g = (uint64_t)meta_get(t, kc->meta, "gen");
		mdb_txn_reset(t);
	}
	return g;
}

enum lk_kc_found
lk_kcache_get(struct lk_kcache *kc, const unsigned char *digest, void *buf, size_t size,
    size_t *len, int64_t now_ms, int64_t neg_max_ms)
{
	MDB_val			 k = { LK_KCACHE_DIGEST, (void *)digest }, v;
	struct head		 h;
	MDB_txn			*t;
	enum lk_kc_found	 r = LK_KC_MISS;

	if ((t = rbegin(kc)) == NULL)
		return LK_KC_MISS;
	if (mdb_get(t, kc->keys, &k, &v) == 0 && v.mv_size >= sizeof(h)) {
		memcpy(&h, v.mv_data, sizeof(h));
		if (h.id[0] != '\0' && v.mv_size - sizeof(h) <= size) {
			*len = v.mv_size - sizeof(h);
			memcpy(buf, (const char *)v.mv_data + sizeof(h), *len);
			r = LK_KC_HIT;
			mark_used(kc, digest);
		} else if (h.id[0] == '\0' && now_ms - h.stored_ms < neg_max_ms &&
		    h.gen == (uint64_t)meta_get(t, kc->meta, "gen"))
			r = LK_KC_NEGATIVE;
	}
	mdb_txn_reset(t);
	return r;
}

/*
 * Drop some entries not used since the hand last passed them, from a random
 * digest on (digests are uniform: the hand's place matters little). Those
 * used are passed once (their bit cleared); after four times the entries to
 * drop have been looked at, the next are dropped whatever their bit.
 */
static int
evict(struct lk_kcache *kc, MDB_txn *t)
{
	MDB_cursor	*c;
	MDB_val		 k, v, ik;
	unsigned char	 from[LK_KCACHE_DIGEST];
	struct head	 h;
	size_t		 n = kc->max_entries / 64 + 1, passes = 4 * n;
	int		 rc;

	if (RAND_bytes(from, sizeof(from)) != 1)
		memset(from, 0, sizeof(from));
	if ((rc = mdb_cursor_open(t, kc->keys, &c)) != 0)
		return rc;
	k.mv_size = sizeof(from);
	k.mv_data = from;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (n-- > 0) {
		if (rc == MDB_NOTFOUND)		/* wrap around */
			rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		if (rc != 0)
			break;
		if (passes > 0 && k.mv_size == LK_KCACHE_DIGEST && second_chance(kc, k.mv_data)) {
			passes--;
			n++;
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		if (v.mv_size >= sizeof(h)) {
			memcpy(&h, v.mv_data, sizeof(h));
			ik.mv_size = strnlen(h.id, sizeof(h.id));
			ik.mv_data = h.id;
			if (ik.mv_size > 0)
				mdb_del(t, kc->ids, &ik, NULL);
		}
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
		if (rc == EINVAL)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

void
lk_kcache_put(struct lk_kcache *kc, uint64_t gen, const unsigned char *digest,
    const char *id, const void *value, size_t len, int64_t now_ms)
{
	MDB_val		 k = { LK_KCACHE_DIGEST, (void *)digest }, v, ik;
	MDB_stat	 st;
	MDB_txn		*t;
	struct head	 h;
	int		 rc;

	if (mdb_txn_begin(kc->env, NULL, 0, &t) != 0)
		return;
	if ((uint64_t)meta_get(t, kc->meta, "gen") != gen) {
		mdb_txn_abort(t);	/* a change came in between: this read may predate it */
		return;
	}
	if (mdb_stat(t, kc->keys, &st) == 0 && st.ms_entries >= kc->max_entries &&
	    (rc = evict(kc, t)) != 0)
		goto fail;
	v.mv_size = sizeof(h) + len;
	if ((rc = mdb_put(t, kc->keys, &k, &v, MDB_RESERVE)) == MDB_MAP_FULL) {
		/* the map is full before max_entries (long rows): make room, once */
		mdb_txn_abort(t);
		if (mdb_txn_begin(kc->env, NULL, 0, &t) != 0)
			return;
		if ((rc = evict(kc, t)) != 0)
			goto fail;
		v.mv_size = sizeof(h) + len;
		rc = mdb_put(t, kc->keys, &k, &v, MDB_RESERVE);
	}
	if (rc != 0)
		goto fail;
	/* LMDB aligns values to 2 bytes only: the header is copied in, never cast. */
	memset(&h, 0, sizeof(h));
	h.stored_ms = now_ms;
	h.gen = gen;
	if (id != NULL)
		snprintf(h.id, sizeof(h.id), "%s", id);
	memcpy(v.mv_data, &h, sizeof(h));
	if (len > 0)
		memcpy((char *)v.mv_data + sizeof(h), value, len);
	if (id != NULL) {
		ik.mv_size = strlen(h.id);
		ik.mv_data = h.id;
		if ((rc = mdb_put(t, kc->ids, &ik, &k, 0)) != 0)
			goto fail;
	}
	if ((rc = mdb_txn_commit(t)) != 0)
		lk_log_err("verify cache: fill: %s", mdb_strerror(rc));
	return;
fail:
	lk_log_err("verify cache: fill: %s", mdb_strerror(rc));
	mdb_txn_abort(t);
}

/* Run a drop (id NULL: all) in a write transaction of its own. */
static void
drop(struct lk_kcache *kc, const char *id)
{
	MDB_val	 ik, dk;
	MDB_txn	*t;
	int	 rc;

	if ((rc = mdb_txn_begin(kc->env, NULL, 0, &t)) != 0)
		goto fail;
	if (id == NULL) {
		if ((rc = mdb_drop(t, kc->keys, 0)) != 0 || (rc = mdb_drop(t, kc->ids, 0)) != 0)
			goto abort;
	} else {
		ik.mv_size = strlen(id);
		ik.mv_data = (void *)id;
		if ((rc = mdb_get(t, kc->ids, &ik, &dk)) == 0) {
			unsigned char d[LK_KCACHE_DIGEST];

			memcpy(d, dk.mv_data, dk.mv_size < sizeof(d) ? dk.mv_size : sizeof(d));
			dk.mv_data = d;
			if ((rc = mdb_del(t, kc->keys, &dk, NULL)) != 0 && rc != MDB_NOTFOUND)
				goto abort;
			mdb_del(t, kc->ids, &ik, NULL);
		} else if (rc != MDB_NOTFOUND)
			goto abort;
	}
	if ((rc = bump_gen(kc, t)) != 0)
		goto abort;
	if ((rc = mdb_txn_commit(t)) != 0)
		goto fail;
	return;
abort:
	mdb_txn_abort(t);
fail:
	/* A drop that failed must not leave the entry trusted: start again empty. */
	lk_log_err("verify cache %s: drop: %s", kc->dir, mdb_strerror(rc));
	if (id != NULL)
		drop(kc, NULL);
}

void
lk_kcache_drop_id(struct lk_kcache *kc, const char *id)
{
	drop(kc, id);
}

void
lk_kcache_clear(struct lk_kcache *kc)
{
	drop(kc, NULL);
}

void
lk_kcache_later(struct lk_kcache *kc, const char *id, uint64_t row_id)
{
	later.kc = kc;
	if (id == NULL || later.n == LATER_MAX)
		later.clear = true;
	else
		snprintf(later.id[later.n++], ID_MAX, "%s", id);
	if (row_id != 0 && later.nrows < LATER_MAX)
		later.row[later.nrows++] = row_id;
}

void
lk_kcache_settle(void)
{
	size_t i;

	if (later.kc == NULL)
		return;
	if (later.clear)
		drop(later.kc, NULL);
	else
		for (i = 0; i < later.n; i++)
			drop(later.kc, later.id[i]);
	for (i = 0; i < later.nrows; i++)
		lk_kcache_mark_seen(later.kc, later.row[i], (int64_t)time(NULL), 0);
	later.kc = NULL;
	later.clear = false;
	later.n = later.nrows = 0;
}

static void	(*deferred)(void *);
static void	*deferred_arg;

void
lk_kcache_defer(void (*fn)(void *), void *arg)
{
	deferred = fn;
	deferred_arg = arg;
}

void
lk_kcache_run_deferred(void)
{
	void (*fn)(void *) = deferred;

	deferred = NULL;
	if (fn != NULL)
		fn(deferred_arg);
}

bool
lk_kcache_lock(struct lk_kcache *kc, bool wait)
{
	return flock(kc->lockfd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0;
}

void
lk_kcache_unlock(struct lk_kcache *kc)
{
	flock(kc->lockfd, LOCK_UN);
}

bool
lk_kcache_seen(struct lk_kcache *kc, uint64_t row_id)
{
	MDB_val	 k = { sizeof(row_id), &row_id }, v;
	MDB_txn	*t;
	bool	 seen;

	if ((t = rbegin(kc)) == NULL)
		return false;
	seen = mdb_get(t, kc->seen, &k, &v) == 0;
	mdb_txn_reset(t);
	return seen;
}

void
lk_kcache_mark_seen(struct lk_kcache *kc, uint64_t row_id, int64_t at, int64_t keep_before)
{
	MDB_val		 k = { sizeof(row_id), &row_id }, v = { sizeof(at), &at };
	MDB_cursor	*c;
	MDB_txn		*t;
	int64_t		 a;

	if (mdb_txn_begin(kc->env, NULL, 0, &t) != 0)
		return;
	/* Forget rows older than the window the feed is read over: they are never read again. */
	if (mdb_cursor_open(t, kc->seen, &c) == 0) {
		MDB_val ck, cv;
		int rc = mdb_cursor_get(c, &ck, &cv, MDB_FIRST);

		while (rc == 0) {
			memcpy(&a, cv.mv_data, sizeof(a));
			if (a < keep_before)
				mdb_cursor_del(c, 0);
			rc = mdb_cursor_get(c, &ck, &cv, MDB_NEXT);
		}
		mdb_cursor_close(c);
	}
	if (mdb_put(t, kc->seen, &k, &v, 0) != 0 || mdb_txn_commit(t) != 0)
		mdb_txn_abort(t);
}

void
lk_kcache_synced(struct lk_kcache *kc, int64_t now_ms, int64_t since)
{
	MDB_txn *t;

	if (mdb_txn_begin(kc->env, NULL, 0, &t) != 0)
		return;
	if (meta_put(t, kc->meta, "last_sync_ms", now_ms) != 0 ||
	    meta_put(t, kc->meta, "attempt_ms", now_ms) != 0 ||
	    meta_put(t, kc->meta, "feed_since", since) != 0 || mdb_txn_commit(t) != 0)
		mdb_txn_abort(t);
}

void
lk_kcache_attempt(struct lk_kcache *kc, int64_t now_ms)
{
	MDB_txn *t;

	if (mdb_txn_begin(kc->env, NULL, 0, &t) != 0)
		return;
	if (meta_put(t, kc->meta, "attempt_ms", now_ms) != 0 || mdb_txn_commit(t) != 0)
		mdb_txn_abort(t);
}

void
lk_kcache_count(struct lk_kcache *kc, bool hit, bool stale, int64_t now_ms)
{
	MDB_txn *t;

	if (hit)
		kc->hits++;
	else
		kc->misses++;
	if (stale)
		kc->stale++;
	if (now_ms - kc->flushed_ms < FLUSH_MS)
		return;
	kc->flushed_ms = now_ms;
	if (mdb_txn_begin(kc->env, NULL, 0, &t) != 0)
		return;
	if (meta_put(t, kc->meta, "hits", meta_get(t, kc->meta, "hits") + (int64_t)kc->hits) ||
	    meta_put(t, kc->meta, "misses", meta_get(t, kc->meta, "misses") +
	    (int64_t)kc->misses) ||
	    meta_put(t, kc->meta, "stale", meta_get(t, kc->meta, "stale") + (int64_t)kc->stale) ||
	    mdb_txn_commit(t) != 0) {
		mdb_txn_abort(t);
		return;
	}
	kc->hits = kc->misses = kc->stale = 0;
}

int64_t
lk_kcache_last_sync(struct lk_kcache *kc)
{
	MDB_txn	*t;
	int64_t	 ms = 0;

	if ((t = rbegin(kc)) != NULL) {
		ms = meta_get(t, kc->meta, "last_sync_ms");
		mdb_txn_reset(t);
	}
	return ms;
}

bool
lk_kcache_state(struct lk_kcache *kc, struct lk_kcache_state *st)
{
	MDB_envinfo	 info;
	MDB_stat	 s;
	MDB_txn		*t;

	memset(st, 0, sizeof(*st));
	if ((t = rbegin(kc)) == NULL)
		return false;
	st->last_sync_ms = meta_get(t, kc->meta, "last_sync_ms");
	st->feed_since = meta_get(t, kc->meta, "feed_since");
	st->attempt_ms = meta_get(t, kc->meta, "attempt_ms");
	st->gen = (uint64_t)meta_get(t, kc->meta, "gen");
	st->hits = (uint64_t)meta_get(t, kc->meta, "hits") + kc->hits;
	st->misses = (uint64_t)meta_get(t, kc->meta, "misses") + kc->misses;
	st->stale = (uint64_t)meta_get(t, kc->meta, "stale") + kc->stale;
	if (mdb_stat(t, kc->keys, &s) == 0)
		st->entries = s.ms_entries;
	mdb_txn_reset(t);
	if (mdb_env_info(kc->env, &info) == 0)
		st->map_size = info.me_mapsize;
	return true;
}

/* One record's change in the write transaction t (lk_kcache_update_all). */
static int
update_one(struct lk_kcache *kc, MDB_txn *t, const void *key, size_t klen, void *rec,
    size_t size, lk_kcache_rec_fn *fn, void *arg)
{
	MDB_val		 k = { klen, (void *)key }, v, none = { 0, NULL };
	enum lk_kc_each	 what;
	int		 rc;

	if ((rc = mdb_get(t, kc->recs, &k, &v)) == 0 && v.mv_size == size)
		memcpy(rec, v.mv_data, size);
	else if (rc == 0 || rc == MDB_NOTFOUND)
		memset(rec, 0, size);
	else
		return rc;
	if ((what = fn(rec, arg)) == LK_KC_KEEP)
		return 0;
	v.mv_size = size;
	v.mv_data = rec;
	if (what == LK_KC_DEL)
		rc = mdb_del(t, kc->recs, &k, NULL);
	else
		rc = mdb_put(t, kc->recs, &k, &v, 0);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc == 0 && what == LK_KC_DIRTY &&
	    (rc = mdb_put(t, kc->dirty, &k, &none, MDB_NOOVERWRITE)) == MDB_KEYEXIST)
		rc = 0;
	return rc;
}

bool
lk_kcache_update_all(struct lk_kcache *kc, size_t n, const void *keys, size_t klen, void *rec,
    size_t size, lk_kcache_rec_fn *fn, void *args, size_t arg_size)
{
	MDB_txn	*t;
	size_t	 i;
	int	 rc;

	if ((rc = mdb_txn_begin(kc->env, NULL, 0, &t)) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		if ((rc = update_one(kc, t, (const char *)keys + i * klen, klen, rec, size, fn,
		    (char *)args + i * arg_size)) != 0) {
			mdb_txn_abort(t);
			goto fail;
		}
	if ((rc = mdb_txn_commit(t)) != 0)
		goto fail;
	return true;
fail:
	lk_log_err("verify cache %s: counter: %s", kc->dir, mdb_strerror(rc));
	return false;
}

bool
lk_kcache_update(struct lk_kcache *kc, const void *key, size_t klen, void *rec, size_t size,
    lk_kcache_rec_fn *fn, void *arg)
{
	return lk_kcache_update_all(kc, 1, key, klen, rec, size, fn, arg, 0);
}

/*
 * One chunk of a walk: up to LK_KC_CHUNK records from the key after *from
 * (its length *flen; 0: the first), in one write transaction. dirty: walk
 * the dirty set (each key leaves it unless fn says LK_KC_DIRTY). *left
 * counts down what may still be taken; *done is set at the end.
 */
static int
walk_chunk(struct lk_kcache *kc, bool dirty, size_t size, lk_kcache_rec_fn *fn, void *arg,
    unsigned char *from, size_t *flen, size_t *left, bool *done, void *rec)
{
	MDB_cursor	*c;
	MDB_val		 k, v, rk, rv;
	MDB_txn		*t;
	size_t		 n;
	int		 rc;

	if ((rc = mdb_txn_begin(kc->env, NULL, 0, &t)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(t, dirty ? kc->dirty : kc->recs, &c)) != 0)
		goto abort;
	k.mv_size = *flen;
	k.mv_data = from;
	if (*flen == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	else if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) == 0 && k.mv_size == *flen &&
	    memcmp(k.mv_data, from, *flen) == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	for (n = 0; rc == 0 && n < LK_KC_CHUNK && *left > 0; n++) {
		enum lk_kc_each what;

		if (k.mv_size > KEY_MAX) {
			rc = MDB_BAD_VALSIZE;
			break;
		}
		memcpy(from, k.mv_data, k.mv_size);
		*flen = k.mv_size;
		rk.mv_size = k.mv_size;
		rk.mv_data = from;
		if (dirty && (rc = mdb_get(t, kc->recs, &rk, &rv)) != 0 && rc != MDB_NOTFOUND)
			break;
		if (!dirty)
			rv = v;
		what = LK_KC_KEEP;
		if (rc == 0 && rv.mv_size == size) {
			memcpy(rec, rv.mv_data, size);
			(*left)--;
			what = fn(rec, arg);
			rv.mv_size = size;
			rv.mv_data = rec;
		}
		rc = 0;
		if (what == LK_KC_PUT || what == LK_KC_DIRTY)
			rc = mdb_put(t, kc->recs, &rk, &rv, 0);
		else if (what == LK_KC_DEL && (rc = mdb_del(t, kc->recs, &rk, NULL)) == MDB_NOTFOUND)
			rc = 0;
		if (rc != 0)
			break;
		if (dirty && what != LK_KC_DIRTY && (rc = mdb_del(t, kc->dirty, &rk, NULL)) != 0)
			break;
		/* The writes may have moved the cursor: find the key again, then the next. */
		k.mv_size = *flen;
		k.mv_data = from;
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) == 0 && k.mv_size == *flen &&
		    memcmp(k.mv_data, from, *flen) == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND || *left == 0)
		*done = true;
	else if (rc != 0)
		goto abort;
	return mdb_txn_commit(t);
abort:
	mdb_txn_abort(t);
	return rc;
}

static bool
walk(struct lk_kcache *kc, bool dirty, size_t size, size_t max, lk_kcache_rec_fn *fn, void *arg)
{
	unsigned char	 from[KEY_MAX];
	size_t		 flen = 0;
	bool		 done = false;
	void		*rec;
	int		 rc = 0;

	if ((rec = malloc(size)) == NULL)
		return false;
	while (!done && (rc = walk_chunk(kc, dirty, size, fn, arg, from, &flen, &max, &done,
	    rec)) == 0)
		(void)fn(NULL, arg);	/* what fn took so far is committed */
	free(rec);
	if (rc != 0)
		lk_log_err("verify cache %s: counters: %s", kc->dir, mdb_strerror(rc));
	return rc == 0;
}

bool
lk_kcache_each(struct lk_kcache *kc, size_t size, lk_kcache_rec_fn *fn, void *arg)
{
	return walk(kc, false, size, SIZE_MAX, fn, arg);
}

bool
lk_kcache_take(struct lk_kcache *kc, size_t size, size_t max, lk_kcache_rec_fn *fn, void *arg)
{
	return walk(kc, true, size, max, fn, arg);
}

bool
lk_kcache_check_source(struct lk_kcache *kc, const char *source)
{
	MDB_val	 k = { 6, "source" }, v;
	MDB_txn	*t;
	bool	 same;
	int	 rc;

	if (mdb_txn_begin(kc->env, NULL, 0, &t) != 0)
		return false;
	rc = mdb_get(t, kc->meta, &k, &v);
	same = rc == 0 && v.mv_size == strlen(source) && memcmp(v.mv_data, source, v.mv_size) == 0;
	if (same) {
		mdb_txn_abort(t);
		return true;
	}
	if (rc == 0) {
		lk_log_err("verify cache %s: filled from another database: started again", kc->dir);
		if (mdb_drop(t, kc->keys, 0) != 0 || mdb_drop(t, kc->ids, 0) != 0 ||
		    mdb_drop(t, kc->seen, 0) != 0 || mdb_drop(t, kc->recs, 0) != 0 ||
		    mdb_drop(t, kc->dirty, 0) != 0 || bump_gen(kc, t) != 0)
			goto fail;
		/* The records are gone: their partners (lk_kcache_pair) start again too. */
		if (mdb_drop(t, kc->pairs, 0) != 0)
			goto fail;
	}
	v.mv_size = strlen(source);
	v.mv_data = (void *)source;
	if (mdb_put(t, kc->meta, &k, &v, 0) != 0 || mdb_txn_commit(t) != 0)
		goto fail;
	return rc != 0;
fail:
	mdb_txn_abort(t);
	return false;
}

bool
lk_kcache_pair(struct lk_kcache *kc, const char *name, uint64_t (*fn)(uint64_t, void *),
    void *arg)
{
	MDB_val		 k = { strlen(name), (void *)name }, v;
	MDB_txn		*t;
	uint64_t	 stored = 0, want;
	int		 rc;

	if ((rc = mdb_txn_begin(kc->env, NULL, 0, &t)) != 0)
		goto fail;
	if ((rc = mdb_get(t, kc->pairs, &k, &v)) == 0 && v.mv_size == sizeof(stored))
		memcpy(&stored, v.mv_data, sizeof(stored));
	else if (rc != 0 && rc != MDB_NOTFOUND)
		goto abort;
	if ((want = fn(stored, arg)) == stored) {
		mdb_txn_abort(t);
		return true;
	}
	v.mv_size = sizeof(want);
	v.mv_data = &want;
	if ((rc = mdb_put(t, kc->pairs, &k, &v, 0)) != 0)
		goto abort;
	if ((rc = mdb_txn_commit(t)) != 0)
		goto fail;
	return true;
abort:
	mdb_txn_abort(t);
fail:
	lk_log_err("verify cache %s: pair %s: %s", kc->dir, name, mdb_strerror(rc));
	return false;
}
