/*
 * audit.h — the audit log: one row per state change, written inside the
 * caller's transaction, each row signed with HMAC-SHA-256 under a secret kept
 * outside the database (audit_key_file) and chained to the row before it:
 *
 *   mac = HMAC-SHA-256(key, prev_mac || F("lk-audit-v1") || F(key_id) || F(seq)
 *         || F(public_id) || F(at) || F(actor) || F(account_id) || F(account_path)
 *         || F(action) || F(target_id) || F(ip) || F(request_id) || F(changes))
 *
 * F(s) = the byte length of s as 4 bytes big-endian, then the bytes of s;
 * numbers (seq, at) as decimal ASCII. prev_mac is the 32-byte MAC of the row
 * before (32 zero bytes before the first). Rows written before migration 002
 * keep their plain SHA-256 hash (key_id "", epoch 0; see docs/operations.md).
 * A new key starts a new epoch with an "audit.epoch" row signed by it.
 *
 * The anchor, a file next to the key (<audit_key_file>.anchor, mode 0600),
 * records where the signed chain starts: its first signed row's id, key id
 * and MAC. The database cannot say that of itself: without the anchor, a log
 * emptied, or rewritten as unsigned rows, would verify.
 */
#ifndef LK_AUDIT_H
#define LK_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/crypto.h"
#include "base/db.h"

#define LK_AUDIT_MAC_LEN	32
#define LK_AUDIT_KEY_MIN	32	/* bytes of secret, at least */
#define LK_AUDIT_KEY_MAX	64
#define LK_AUDIT_KEY_ID_LEN	16	/* hex characters */
#define LK_AUDIT_OLD_KEYS_MAX	64
#define LK_AUDIT_EPOCH		"audit.epoch"
#define LK_AUDIT_ANCHOR_SUFFIX	".anchor"
/* Room for an anchor file's path: the config's audit_key_file, then the suffix. */
#define LK_AUDIT_ANCHOR_PATH_MAX \
	(sizeof(((struct lk_conf *)0)->audit_key_file) + sizeof(LK_AUDIT_ANCHOR_SUFFIX) - 1)

/* Who acts: a key id ("key_…"), a user id, or "cli"; where from; which request. */
struct lk_actor {
	const char	*id;
	const char	*ip;
	const char	*request_id;
};

struct lk_audit_event {
	const struct lk_actor	*actor;
	const char		*account_id;	/* public id of the account the target lives in */
	const char		*account_path;	/* its path, for subtree listing */
	const char		*action;	/* "key.create", "account.delete", … */
	const char		*target_id;	/* public id of the changed object */
	json_t			*changes;	/* object of changed fields (never secrets); borrowed */
};

/* An audit secret and its id (hex of the first 8 bytes of SHA-256("lk-audit-key-id" || k)). */
struct lk_audit_key {
	unsigned char	 k[LK_AUDIT_KEY_MAX];
	size_t		 len;
	char		 id[LK_AUDIT_KEY_ID_LEN + 1];
};

/* The fields of a row that its MAC covers, in MAC order. */
struct lk_audit_row {
	const char	*key_id;
	uint64_t	 seq;		/* position in the chain, 1-based over all rows */
	const char	*public_id;
	int64_t		 at;
	const char	*actor;
	const char	*account_id;
	const char	*account_path;
	const char	*action;
	const char	*target_id;
	const char	*ip;
	const char	*request_id;
	const char	*changes;	/* compact JSON text */
};

/* A chain position written to the log: internal row id and that row's MAC. */
struct lk_audit_checkpoint {
	uint64_t	 id;
	unsigned char	 mac[LK_AUDIT_MAC_LEN];
};

/* Where the signed chain starts: its first signed row (an "audit.epoch" row). */
struct lk_audit_anchor {
	uint64_t	 id;				/* internal row id; 0: none */
	char		 key_id[LK_AUDIT_KEY_ID_LEN + 1];
	unsigned char	 mac[LK_AUDIT_MAC_LEN];
};

/* mac = HMAC-SHA-256(key, prev || canonical(row)) as above. False if OpenSSL failed. */
bool		lk_audit_mac(const struct lk_audit_key *key,
		    const unsigned char prev[LK_AUDIT_MAC_LEN],
		    const struct lk_audit_row *row, unsigned char mac[LK_AUDIT_MAC_LEN]);

/*
 * Parse a key written as hex (64 to 128 hex digits, i.e. 32 to 64 bytes;
 * surrounding blanks ignored) and compute its id. False if malformed.
 */
bool		lk_audit_key_parse(const char *text, struct lk_audit_key *key);

/* Read the key file at path (first line, hex). LK_ERR_NOT_FOUND if it does not exist. */
enum lk_err	lk_audit_key_load(const char *path, struct lk_audit_key *key);

/*
 * Make a new random 32-byte key and write it, hex, to a NEW file at path
 * (mode 0600, flushed to disk). LK_ERR_CONFLICT if path exists.
 */
enum lk_err	lk_audit_key_create(const char *path, struct lk_audit_key *key);

/*
 * Read retired keys from path: one hex key per line, blank and '#' lines
 * skipped. Up to max keys into keys, *n of them. A missing file is 0 keys.
 */
enum lk_err	lk_audit_keys_load_old(const char *path, struct lk_audit_key *keys,
		    size_t max, size_t *n);

/* The anchor file of key_file (an audit_key_file setting): key_file LK_AUDIT_ANCHOR_SUFFIX. */
void		lk_audit_anchor_path(const char *key_file, char out[LK_AUDIT_ANCHOR_PATH_MAX]);

/*
 * Parse an anchor line, "audit anchor id=N key_id=HEX16 mac=HEX64" (upper-case
 * hex, N > 0), nothing else but a line end after it. False if malformed.
 */
bool		lk_audit_anchor_parse(const char *line, struct lk_audit_anchor *a);

/* Read the anchor file at path. LK_ERR_NOT_FOUND if it does not exist, LK_ERR_VALIDATION if bad. */
enum lk_err	lk_audit_anchor_load(const char *path, struct lk_audit_anchor *a);

/*
 * Write a to a NEW file at path (one line, mode 0600, flushed to disk).
 * LK_ERR_CONFLICT if path exists: an anchor is never replaced.
 */
enum lk_err	lk_audit_anchor_create(const char *path, const struct lk_audit_anchor *a);

/*
 * Record in changes (an object) that field went from old to new:
 * changes[field] = {"old": old, "new": new}, the shape of every changed field
 * of an update row (key.update, account.update, user.update, the status of
 * key.revoke/reactivate and user.disable/enable). Takes both references; NULL
 * stands for JSON null. Rows written before this shape keep theirs (the new
 * value only): rows are never rewritten.
 */
void		lk_audit_change(json_t *changes, const char *field, json_t *old, json_t *new);

/*
 * Append ev at time now, signed with the key of audit_key_file (read on
 * first use, re-read if the chain's head names another key). Refused
 * (LK_ERR_UNAVAILABLE, logged) if the key is missing or is not the one the
 * head names, or if the chain is not signed yet (latchkey init starts it).
 * Every audit_checkpoint_every rows, logs the checkpoint of the committed
 * head it chains from. Must run inside lk_db_txn.
 */
enum lk_err	lk_audit_write(struct lk_db *db, const struct lk_audit_event *ev, int64_t now);

/*
 * Start a new epoch: append an "audit.epoch" row signed with key, naming the
 * previous head and key id, in a transaction of its own. With if_unsigned, do
 * nothing unless the head is unsigned (epoch 0), and refuse (LK_ERR_CONFLICT,
 * logged) if any row is signed: the first epoch follows unsigned rows only.
 * event_id (LK_PUBLIC_ID_MAX bytes) gets the row's public id and row its id,
 * key id and MAC ("" and id 0 if no row was written); either may be NULL.
 */
enum lk_err	lk_audit_epoch(struct lk_db *db, const struct lk_actor *a,
		    const struct lk_audit_key *key, bool if_unsigned, int64_t now,
		    char *event_id, struct lk_audit_anchor *row);

/* Read the committed head into cp and log "audit checkpoint id=N mac=HEX". */
enum lk_err	lk_audit_checkpoint(struct lk_db *db, struct lk_audit_checkpoint *cp);

/* Parse a checkpoint from a line containing "audit checkpoint id=N mac=HEX". */
bool		lk_audit_checkpoint_parse(const char *line, struct lk_audit_checkpoint *cp);

/* Hex of a MAC (2 * LK_AUDIT_MAC_LEN + 1 bytes, upper case). */
void		lk_audit_hex(const unsigned char mac[LK_AUDIT_MAC_LEN], char *hex);

struct lk_audit_verify {
	/* in */
	const struct lk_audit_key	*keys;		/* every key that may have signed a row */
	size_t				 nkeys;
	const struct lk_audit_checkpoint *checkpoint;	/* NULL: none */
	const struct lk_audit_anchor	*anchor;	/* NULL: not checked */
	/* out */
	uint64_t			 rows;
	uint64_t			 last_id;
	unsigned char			 head[LK_AUDIT_MAC_LEN];
	struct lk_audit_anchor		 start;		/* the first signed row */
	char				 start_public_id[LK_PUBLIC_ID_MAX];
	bool				 ok;
	char				 bad_public_id[LK_PUBLIC_ID_MAX];	/* "" if no row */
	uint64_t			 bad_id;
	char				 why[384];
};

/*
 * Walk the whole chain in one read snapshot, streaming rows in id order, and
 * check each link, MAC (legacy rows: SHA-256), epoch and seq, then the head
 * and the checkpoint. With an anchor, the row it names must be there with its
 * key id and MAC, and only rows before it may be unsigned. v->ok tells; if
 * false, bad_* name the first bad row and why says what is wrong. start is
 * the first signed row the walk passed (id 0: none). Returns LK_OK when the
 * walk ran (whatever it found).
 */
enum lk_err	lk_audit_verify(struct lk_db *db, struct lk_audit_verify *v);

#endif
