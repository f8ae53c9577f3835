/* kcount.c — the verify cache's host-shared use counters (base/kcount.h). */
#define _GNU_SOURCE
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

#include <openssl/rand.h>

#include "base/kcount.h"
#include "base/log.h"

#define MAGIC		"lk-kcount-v4"
#define PROBES		32		/* index entries looked at for a key before counting the slow way */
#define PAGE		4096
#define LEFT_MAX	0x7fffffffULL	/* a slot's uses: 31 bits of its word */
#define FULL_BIT	(1ULL << 31)

/*
 * A slot: two cache lines, so two hot keys never share one. Slots are handed
 * out in order (a day's slots are one compact run: a process maps the pages of
 * the keys it counts, not the table's), found through the index.
 */
struct lk_kcount_slot {
	_Atomic uint64_t	 tag;		/* key_id + 1, set before the index names it */
	_Atomic uint64_t	 word;		/* window id << 32 | full << 31 | uses left */
	_Atomic int64_t		 db_n;		/* the window's counter at the lease they came from */
	_Atomic int64_t		 valid_at;
	_Atomic uint64_t	 n[LK_KCOUNT_OUTCOMES];
	_Atomic uint64_t	 moved;		/* the sum of n at the follower's last move */
	uint64_t		 pad[3];
};

struct table {
	_Atomic int64_t		 day;		/* the day its slots count; 0: not ready */
	_Atomic uint64_t	 used;		/* slots handed out */
	uint64_t		 pad[6];
};

struct head {
	char			 magic[16];
	uint64_t		 slots;
	_Atomic uint64_t	 epoch;
	_Atomic int64_t		 claim_ms[LK_KCOUNT_CLAIMS];	/* lk_kcount_claim */
	_Atomic int64_t		 synced_ms;	/* lk_kcount_synced */
	struct table		 t[2];
};

struct lk_kcount {
	int			 fd;
	char			 path[300];
	dev_t			 dev;
	ino_t			 ino;
	size_t			 slots, size;
	unsigned char		*map;
	struct head		*head;
	_Atomic uint32_t	*index[2];	/* per table, by key hash: a slot's number + 1; 0: none */
	struct lk_kcount_slot	*slot[2];
};

static size_t
round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

/* The index: two entries per slot (at most half full). */
#define INDEX(slots)	(2 * (slots))

/* The file's layout for slots slots: head, two indexes, two tables. */
static size_t
layout(struct lk_kcount *kn, size_t slots)
{
	size_t index = round_up(INDEX(slots) * sizeof(uint32_t), PAGE);
	size_t tables = slots * sizeof(struct lk_kcount_slot);

	kn->slots = slots;
	return PAGE + 2 * index + 2 * tables;
}

static void
place(struct lk_kcount *kn)
{
	size_t index = round_up(INDEX(kn->slots) * sizeof(uint32_t), PAGE);
	size_t tables = kn->slots * sizeof(struct lk_kcount_slot);

	kn->head = (struct head *)kn->map;
	kn->index[0] = (_Atomic uint32_t *)(kn->map + PAGE);
	kn->index[1] = (_Atomic uint32_t *)(kn->map + PAGE + index);
	kn->slot[0] = (struct lk_kcount_slot *)(kn->map + PAGE + 2 * index);
	kn->slot[1] = (struct lk_kcount_slot *)(kn->map + PAGE + 2 * index + tables);
}

static uint64_t
draw(void)
{
	uint64_t e = 0;

	while (e == 0 && RAND_bytes((unsigned char *)&e, sizeof(e)) == 1)
		;
	return e != 0 ? e : (uint64_t)getpid() << 32 | (uint64_t)time(NULL);
}

/*
 * A new file of size bytes with its head, renamed over path (no process sees
 * it half made), owned as the directory is (root's CLI makes it for the programs).
 */
static int
create(int dfd, const char *dir, const char *path, size_t slots, size_t size)
{
	struct stat	 ds;
	struct head	 h;
	char		 tmp[300];
	int		 fd;

	snprintf(tmp, sizeof(tmp), "%s/counts.%ld", dir, (long)getpid());
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, MAGIC, sizeof(MAGIC));
	h.slots = slots;
	h.epoch = draw();
	if (ftruncate(fd, (off_t)size) != 0 || pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    fstat(dfd, &ds) != 0 || (geteuid() == 0 && fchown(fd, ds.st_uid, ds.st_gid) != 0) ||
	    rename(tmp, path) != 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	return fd;
}

struct lk_kcount *
lk_kcount_open(const char *dir, size_t slots)
{
	struct lk_kcount	*kn;
	struct head		 h;
	struct stat		 st;
	char			 path[300];
	size_t			 n = 64;
	int			 dfd = -1;

	while (n < slots && n < LK_KCOUNT_SLOTS_MAX)
		n <<= 1;
	if ((kn = calloc(1, sizeof(*kn))) == NULL)
		return NULL;
	kn->fd = -1;
	kn->size = layout(kn, n);
	snprintf(path, sizeof(path), "%s/counts", dir);
	/* One process at a time checks the file and makes it anew (the directory's lock). */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || flock(dfd, LOCK_EX) != 0)
		goto fail;
	kn->fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (kn->fd >= 0 && (fstat(kn->fd, &st) != 0 || (size_t)st.st_size != kn->size ||
	    (st.st_uid != geteuid() && geteuid() != 0) || pread(kn->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, MAGIC, sizeof(MAGIC)) != 0 || h.slots != n)) {
		/* Of another size or not ours: a new one (processes still on the old keep it). */
		lk_log_err("verify cache %s: counters file of another layout: made anew", dir);
		close(kn->fd);
		kn->fd = -1;
	}
	if (kn->fd < 0 && (kn->fd = create(dfd, dir, path, n, kn->size)) < 0)
		goto fail;
	kn->map = mmap(NULL, kn->size, PROT_READ | PROT_WRITE, MAP_SHARED, kn->fd, 0);
	if (kn->map == MAP_FAILED)
		goto fail;
	if (fstat(kn->fd, &st) == 0) {
		kn->dev = st.st_dev;
		kn->ino = st.st_ino;
	}
	snprintf(kn->path, sizeof(kn->path), "%s", path);
	/* Only the pages of the keys counted: no read-around of the neighbours' (RSS). */
	madvise(kn->map, kn->size, MADV_RANDOM);
	close(dfd);
	place(kn);
	return kn;
fail:
	lk_log_err("verify cache %s: counters: %s: counting the slow way", dir, strerror(errno));
	if (kn->fd >= 0)
		close(kn->fd);
	if (dfd >= 0)
		close(dfd);
	free(kn);
	return NULL;
}

void
lk_kcount_close(struct lk_kcount *kn)
{
	if (kn == NULL)
		return;
	munmap(kn->map, kn->size);
	close(kn->fd);
	free(kn);
}

bool
lk_kcount_current(struct lk_kcount *kn)
{
	struct stat st;

	return stat(kn->path, &st) == 0 && st.st_dev == kn->dev && st.st_ino == kn->ino;
}

uint64_t
lk_kcount_epoch(struct lk_kcount *kn)
{
	return atomic_load(&kn->head->epoch);
}

/* Zero a byte range of the file: a hole punched (the pages leave memory), else written over. */
static void
zero(struct lk_kcount *kn, void *at, size_t len)
{
	off_t off = (unsigned char *)at - kn->map;

	if (fallocate(kn->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, (off_t)len) != 0)
		memset(at, 0, len);
}

static void
empty(struct lk_kcount *kn, int i)
{
	uint64_t used = atomic_load(&kn->head->t[i].used);

	atomic_store(&kn->head->t[i].day, 0);
	zero(kn, (void *)kn->index[i], INDEX(kn->slots) * sizeof(uint32_t));
	/* Slots are handed out in order: those past the used ones were never written. */
	zero(kn, kn->slot[i], (used < kn->slots ? used : kn->slots) * sizeof(struct lk_kcount_slot));
	atomic_store(&kn->head->t[i].used, 0);
}

uint64_t
lk_kcount_reset(struct lk_kcount *kn)
{
	uint64_t e = draw();

	atomic_store(&kn->head->synced_ms, 0);	/* the environment's state is the one to read */
	empty(kn, 0);
	empty(kn, 1);
	atomic_store(&kn->head->epoch, e);
	return e;
}

uint32_t
lk_kcount_win(int64_t win_start, int64_t window)
{
	uint64_t x = (uint64_t)win_start * 0x9e3779b97f4a7c15ULL ^ (uint64_t)window;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(x >> 32) | 1;		/* never 0: a fresh slot's word names no window */
}

struct lk_kcount_slot *
lk_kcount_slot(struct lk_kcount *kn, uint64_t key_id, int64_t day, bool take)
{
	const int		 i = (int)(day & 1);
	struct table		*t = &kn->head->t[i];
	const uint64_t		 tag = key_id + 1, mask = INDEX(kn->slots) - 1;
	uint64_t		 h = key_id * 0x9e3779b97f4a7c15ULL, p, mine = 0;
	uint32_t		 e, none;

	if (atomic_load_explicit(&t->day, memory_order_acquire) != day)
		return NULL;
	h ^= h >> 29;
	for (p = 0; p < PROBES; p++) {
		_Atomic uint32_t *at = &kn->index[i][(h + p) & mask];

		if ((e = atomic_load_explicit(at, memory_order_acquire)) != 0) {
			if (e <= kn->slots && atomic_load(&kn->slot[i][e - 1].tag) == tag)
				return &kn->slot[i][e - 1];
			continue;
		}
		if (!take)
			return NULL;
		/* A slot of our own, named ours before the index shows it (a slot not indexed counts nothing). */
		if (mine == 0) {
			if ((mine = atomic_fetch_add(&t->used, 1) + 1) > kn->slots)
				return NULL;
			atomic_store(&kn->slot[i][mine - 1].tag, tag);
		}
		none = 0;
		if (atomic_compare_exchange_strong_explicit(at, &none, (uint32_t)mine,
		    memory_order_acq_rel, memory_order_acquire))
			return &kn->slot[i][mine - 1];
		if (none <= kn->slots && atomic_load(&kn->slot[i][none - 1].tag) == tag)
			return &kn->slot[i][none - 1];	/* another process took it for the key */
	}
	return NULL;
}

static void
read_word(uint64_t w, uint32_t win, int64_t *left, bool *full)
{
	const bool ours = (uint32_t)(w >> 32) == win;

	*left = ours ? (int64_t)(w & LEFT_MAX) : 0;
	*full = ours && (w & FULL_BIT) != 0;
}

bool
lk_kcount_spend(struct lk_kcount_slot *s, uint32_t win, int64_t *left, int64_t *db_n, bool *full)
{
	uint64_t w = atomic_load(&s->word);

	for (;;) {
		read_word(w, win, left, full);
		if (*left == 0) {
			*db_n = atomic_load(&s->db_n);
			return false;
		}
		if (atomic_compare_exchange_weak(&s->word, &w, w - 1)) {
			(*left)--;
			*db_n = atomic_load(&s->db_n);
			return true;
		}
	}
}

void
lk_kcount_peek(struct lk_kcount_slot *s, uint32_t win, int64_t *left, int64_t *db_n, bool *full)
{
	read_word(atomic_load(&s->word), win, left, full);
	*db_n = atomic_load(&s->db_n);
}

void
lk_kcount_give(struct lk_kcount_slot *s, uint32_t win, int64_t n, int64_t db_n, bool full)
{
	uint64_t	w = atomic_load(&s->word), nw, sum;
	int64_t		left;
	bool		was_full;

	atomic_store(&s->db_n, db_n);
	do {
		read_word(w, win, &left, &was_full);
		sum = (uint64_t)left + (uint64_t)(n > 0 ? n : 0);
		if (sum > LEFT_MAX)
			sum = LEFT_MAX;
		nw = (uint64_t)win << 32 | (full ? FULL_BIT : 0) | sum;
	} while (!atomic_compare_exchange_weak(&s->word, &w, nw));
}

void
lk_kcount_add(struct lk_kcount_slot *s, unsigned o, int64_t valid_at)
{
	int64_t v;

	if (o >= LK_KCOUNT_OUTCOMES)
		return;
	if (valid_at != 0) {
		v = atomic_load(&s->valid_at);
		while (v < valid_at && !atomic_compare_exchange_weak(&s->valid_at, &v, valid_at))
			;
	}
	atomic_fetch_add_explicit(&s->n[o], 1, memory_order_release);
}

/* Move the slots of table i that counted since the last move. */
static void
move(struct lk_kcount *kn, int i, lk_kcount_fn *fn, void *arg)
{
	struct lk_kcount_seen	 seen;
	struct lk_kcount_slot	*s;
	uint64_t		 used = atomic_load(&kn->head->t[i].used), at, sum, tag;
	unsigned		 o;

	if (used > kn->slots)
		used = kn->slots;
	seen.day = atomic_load(&kn->head->t[i].day);
	for (at = 0; at < used; at++) {
		s = &kn->slot[i][at];
		if ((tag = atomic_load(&s->tag)) == 0)
			continue;	/* being handed out: its counts are moved next time */
		seen.key_id = tag - 1;
		seen.last_valid_at = atomic_load(&s->valid_at);
		for (sum = 0, o = 0; o < LK_KCOUNT_OUTCOMES; o++)
			sum += seen.n[o] = atomic_load_explicit(&s->n[o], memory_order_acquire);
		seen.slot = s;
		seen.sum = sum;
		if (sum != atomic_load(&s->moved) && fn(&seen, arg))
			lk_kcount_moved(&seen);
	}
}

void
lk_kcount_roll(struct lk_kcount *kn, int64_t day, lk_kcount_fn *fn, void *arg)
{
	const int	 i = (int)(day & 1), y = 1 - i;
	int64_t		 had = atomic_load(&kn->head->t[i].day);

	if (had != day) {
		/* Two days old (or never ready): what it still held is moved, then it starts empty. */
		if (had != 0)
			move(kn, i, fn, arg);
		empty(kn, i);
		atomic_store_explicit(&kn->head->t[i].day, day, memory_order_release);
	}
	move(kn, i, fn, arg);
	if (atomic_load(&kn->head->t[y].day) == day - 1)
		move(kn, y, fn, arg);
}

bool
lk_kcount_claim(struct lk_kcount *kn, enum lk_kcount_claim what, int64_t now_ms, int64_t every_ms)
{
	_Atomic int64_t	*at = &kn->head->claim_ms[what];
	int64_t		 last = atomic_load(at);

	return now_ms - last >= every_ms && atomic_compare_exchange_strong(at, &last, now_ms);
}

void
lk_kcount_set_synced(struct lk_kcount *kn, int64_t ms)
{
	atomic_store(&kn->head->synced_ms, ms);
}

int64_t
lk_kcount_synced(struct lk_kcount *kn)
{
	return atomic_load(&kn->head->synced_ms);
}

void
lk_kcount_moved(const struct lk_kcount_seen *seen)
{
	/* A table emptied since (a new day's) holds others' counts: its marks are not these. */
	if (atomic_load(&seen->slot->tag) == seen->key_id + 1)
		atomic_store(&seen->slot->moved, seen->sum);
}
