/* audit.c — the signed audit chain: keys, append (lock the head, sign, insert, move the head), epochs, checkpoints, verification. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "base/conf.h"
#include "base/log.h"
#include "model/audit.h"
#include "model/cache.h"
#include "model/events.h"

/* Longest `changes` text: what the database layer's column buffer holds when reading it back. */
#define CHANGES_MAX	8191

static const char SQL_HEAD_LOCK[] =
    "SELECT HEX(hash), seq, last_id, key_id FROM audit_head WHERE id = 1 FOR UPDATE";
static const char SQL_HEAD[] =
    "SELECT HEX(hash), seq, last_id, key_id FROM audit_head WHERE id = 1";
static const char SQL_INSERT[] =
    "INSERT INTO audit_log (public_id, at, actor, account_id, account_path,"
    " action, target_id, ip, request_id, changes, prev_hash, hash, seq, key_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_MOVE_HEAD[] =
    "UPDATE audit_head SET hash = ?, seq = ?, last_id = ?, key_id = ? WHERE id = 1";
static const char SQL_ANY_SIGNED[] =
    "SELECT id FROM audit_log WHERE key_id <> '' LIMIT 1";
static const char SQL_ROWS[] =
    "SELECT id, public_id, at, actor, account_id, account_path, action, target_id,"
    " ip, request_id, changes, HEX(prev_hash), HEX(hash), seq, key_id"
    " FROM audit_log ORDER BY id";

/* The newest row of the chain, as audit_head records it. */
struct head {
	unsigned char	 mac[LK_AUDIT_MAC_LEN];
	uint64_t	 seq;
	uint64_t	 last_id;
	char		 key_id[LK_AUDIT_KEY_ID_LEN + 1];
	bool		 found;
};

/* This process's signing key (audit_key_file), read on first use. */
static struct lk_audit_key	cur_key;
static bool			cur_loaded;

static bool
unhex(const char *s, unsigned char *out, size_t n)
{
	size_t len = 0;

	if (strlen(s) != 2 * n || OPENSSL_hexstr2buf_ex(out, n, &len, s, '\0') != 1 ||
	    len != n) {
		ERR_clear_error();
		return false;
	}
	return true;
}

void
lk_audit_hex(const unsigned char mac[LK_AUDIT_MAC_LEN], char *hex)
{
	OPENSSL_buf2hexstr_ex(hex, 2 * LK_AUDIT_MAC_LEN + 1, NULL, mac, LK_AUDIT_MAC_LEN, '\0');
}

/* One length-prefixed field: 4 bytes big-endian length, then the bytes. */
static bool
put(EVP_MAC_CTX *ctx, const char *s)
{
	size_t		 n = strlen(s);
	unsigned char	 len[4];

	len[0] = (unsigned char)(n >> 24);
	len[1] = (unsigned char)(n >> 16);
	len[2] = (unsigned char)(n >> 8);
	len[3] = (unsigned char)n;
	return EVP_MAC_update(ctx, len, sizeof(len)) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)s, n) == 1;
}

bool
lk_audit_mac(const struct lk_audit_key *key, const unsigned char prev[LK_AUDIT_MAC_LEN],
    const struct lk_audit_row *r, unsigned char mac[LK_AUDIT_MAC_LEN])
{
	static EVP_MAC	*hmac;
	static char	 digest[] = "SHA256";
	OSSL_PARAM	 params[2];
	EVP_MAC_CTX	*ctx;
	char		 seq[24], at[24];
	size_t		 n = 0;
	bool		 ok;

	if (hmac == NULL && (hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return false;
	if ((ctx = EVP_MAC_CTX_new(hmac)) == NULL)
		return false;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	snprintf(seq, sizeof(seq), "%" PRIu64, r->seq);
	snprintf(at, sizeof(at), "%" PRId64, r->at);
	ok = EVP_MAC_init(ctx, key->k, key->len, params) == 1 &&
	    EVP_MAC_update(ctx, prev, LK_AUDIT_MAC_LEN) == 1 &&
	    put(ctx, "lk-audit-v1") && put(ctx, r->key_id) && put(ctx, seq) &&
	    put(ctx, r->public_id) && put(ctx, at) && put(ctx, r->actor) &&
	    put(ctx, r->account_id) && put(ctx, r->account_path) && put(ctx, r->action) &&
	    put(ctx, r->target_id) && put(ctx, r->ip) && put(ctx, r->request_id) &&
	    put(ctx, r->changes) &&
	    EVP_MAC_final(ctx, mac, &n, LK_AUDIT_MAC_LEN) == 1 && n == LK_AUDIT_MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	return ok;
}

bool
lk_audit_key_parse(const char *text, struct lk_audit_key *key)
{
	static const char	 tag[] = "lk-audit-key-id";
	unsigned char		 buf[sizeof(tag) - 1 + LK_AUDIT_KEY_MAX], id[LK_SHA256_LEN];
	char			 hex[2 * LK_AUDIT_KEY_MAX + 1], idhex[2 * LK_SHA256_LEN + 1];
	size_t			 n, len = 0;
	bool			 ok;

	memset(key, 0, sizeof(*key));
	text += strspn(text, " \t");
	n = strcspn(text, " \t\r\n");
	if (text[n + strspn(text + n, " \t\r\n")] != '\0' || n % 2 != 0 ||
	    n < 2 * LK_AUDIT_KEY_MIN || n > 2 * LK_AUDIT_KEY_MAX)
		return false;
	memcpy(hex, text, n);
	hex[n] = '\0';
	ok = OPENSSL_hexstr2buf_ex(key->k, sizeof(key->k), &len, hex, '\0') == 1 && len == n / 2;
	lk_crypto_wipe(hex, sizeof(hex));
	if (!ok) {
		ERR_clear_error();
		lk_crypto_wipe(key, sizeof(*key));
		return false;
	}
	key->len = len;
	memcpy(buf, tag, sizeof(tag) - 1);
	memcpy(buf + sizeof(tag) - 1, key->k, len);
	lk_crypto_sha256(buf, sizeof(tag) - 1 + len, id);
	lk_crypto_wipe(buf, sizeof(buf));
	OPENSSL_buf2hexstr_ex(idhex, sizeof(idhex), NULL, id, LK_SHA256_LEN, '\0');
	memcpy(key->id, idhex, LK_AUDIT_KEY_ID_LEN);
	key->id[LK_AUDIT_KEY_ID_LEN] = '\0';
	return true;
}

enum lk_err
lk_audit_key_load(const char *path, struct lk_audit_key *key)
{
	char	 line[4 * LK_AUDIT_KEY_MAX];
	bool	 ok;

	memset(key, 0, sizeof(*key));
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return LK_ERR_NOT_FOUND;
	if (!lk_conf_read_secret(path, line, sizeof(line)))
		return LK_ERR_VALIDATION;
	ok = lk_audit_key_parse(line, key);
	lk_crypto_wipe(line, sizeof(line));
	return ok ? LK_OK : LK_ERR_VALIDATION;
}

/* Write text to a NEW file at path: mode 0600, flushed to disk; removed again if that fails. */
static enum lk_err
create_file(const char *path, const char *text)
{
	size_t	 n = strlen(text);
	int	 fd;
	bool	 ok;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return LK_ERR_CONFLICT;
		lk_log_err("cannot create %s: %s", path, strerror(errno));
		return LK_ERR_INTERNAL;
	}
	ok = fchmod(fd, 0600) == 0 && write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok) {
		lk_log_err("cannot write %s", path);
		unlink(path);
		return LK_ERR_INTERNAL;
	}
	return LK_OK;
}

enum lk_err
lk_audit_key_create(const char *path, struct lk_audit_key *key)
{
	unsigned char	 k[LK_AUDIT_KEY_MIN];
	char		 hex[2 * LK_AUDIT_KEY_MIN + 2];
	enum lk_err	 e = LK_ERR_INTERNAL;

	if (lk_crypto_random(k, sizeof(k))) {
		OPENSSL_buf2hexstr_ex(hex, sizeof(hex), NULL, k, sizeof(k), '\0');
		strcat(hex, "\n");
		if (lk_audit_key_parse(hex, key))
			e = create_file(path, hex);
		lk_crypto_wipe(hex, sizeof(hex));
	}
	lk_crypto_wipe(k, sizeof(k));
	if (e != LK_OK)
		lk_crypto_wipe(key, sizeof(*key));
	return e;
}

void
lk_audit_anchor_path(const char *key_file, char out[LK_AUDIT_ANCHOR_PATH_MAX])
{
	snprintf(out, LK_AUDIT_ANCHOR_PATH_MAX, "%s%s", key_file, LK_AUDIT_ANCHOR_SUFFIX);
}

bool
lk_audit_anchor_parse(const char *line, struct lk_audit_anchor *a)
{
	static const char	 tag[] = "audit anchor id=";
	static const char	 upper_hex[] = "0123456789ABCDEF";
	const char		*p = line;
	char			*end, hex[2 * LK_AUDIT_MAC_LEN + 1];

	memset(a, 0, sizeof(*a));
	if (strncmp(p, tag, sizeof(tag) - 1) != 0)
		return false;
	p += sizeof(tag) - 1;
	if (*p < '1' || *p > '9')
		return false;
	errno = 0;
	a->id = strtoull(p, &end, 10);
	if (errno != 0 || strncmp(end, " key_id=", 8) != 0)
		return false;
	p = end + 8;
	if (strspn(p, upper_hex) != LK_AUDIT_KEY_ID_LEN ||
	    strncmp(p + LK_AUDIT_KEY_ID_LEN, " mac=", 5) != 0)
		return false;
	memcpy(a->key_id, p, LK_AUDIT_KEY_ID_LEN);
	p += LK_AUDIT_KEY_ID_LEN + 5;
	if (strspn(p, upper_hex) != 2 * LK_AUDIT_MAC_LEN ||
	    strspn(p + 2 * LK_AUDIT_MAC_LEN, "\r\n") != strlen(p + 2 * LK_AUDIT_MAC_LEN))
		return false;
	memcpy(hex, p, 2 * LK_AUDIT_MAC_LEN);
	hex[2 * LK_AUDIT_MAC_LEN] = '\0';
	return unhex(hex, a->mac, LK_AUDIT_MAC_LEN);
}

enum lk_err
lk_audit_anchor_load(const char *path, struct lk_audit_anchor *a)
{
	char line[256];

	memset(a, 0, sizeof(*a));
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return LK_ERR_NOT_FOUND;
	if (!lk_conf_read_secret(path, line, sizeof(line)) || !lk_audit_anchor_parse(line, a))
		return LK_ERR_VALIDATION;
	return LK_OK;
}

enum lk_err
lk_audit_anchor_create(const char *path, const struct lk_audit_anchor *a)
{
	char hex[2 * LK_AUDIT_MAC_LEN + 1], line[256];

	lk_audit_hex(a->mac, hex);
	snprintf(line, sizeof(line), "audit anchor id=%" PRIu64 " key_id=%s mac=%s\n", a->id,
	    a->key_id, hex);
	return create_file(path, line);
}

enum lk_err
lk_audit_keys_load_old(const char *path, struct lk_audit_key *keys, size_t max, size_t *n)
{
	FILE		*f;
	char		 line[4 * LK_AUDIT_KEY_MAX];
	const char	*p;
	enum lk_err	 e = LK_OK;
	int		 lineno = 0;

	*n = 0;
	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT ? LK_OK : LK_ERR_VALIDATION;
	while (e == LK_OK && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		p = line + strspn(line, " \t\r\n");
		if (*p == '\0' || *p == '#')
			continue;
		if (*n == max || !lk_audit_key_parse(line, &keys[*n])) {
			lk_log_err("%s line %d: not a key (32-64 bytes of hex), or too many keys",
			    path, lineno);
			e = LK_ERR_VALIDATION;
		} else
			(*n)++;
	}
	lk_crypto_wipe(line, sizeof(line));
	fclose(f);
	return e;
}

/* Load (or, with reload, re-read) this process's signing key. */
static enum lk_err
current_key(struct lk_db *db, bool reload)
{
	const struct lk_conf	*c = lk_db_conf(db);
	enum lk_err		 e;

	if (cur_loaded && !reload)
		return LK_OK;
	cur_loaded = false;
	if (c == NULL || c->audit_key_file[0] == '\0') {
		lk_log_err("audit_key_file is not set: changes are refused");
		return LK_ERR_UNAVAILABLE;
	}
	if ((e = lk_audit_key_load(c->audit_key_file, &cur_key)) != LK_OK) {
		lk_log_err("audit key file %s: %s: changes are refused", c->audit_key_file,
		    e == LK_ERR_NOT_FOUND ? "missing (latchkey init creates it)" :
		    "unreadable, or not 32 to 64 bytes written as hex");
		return LK_ERR_UNAVAILABLE;
	}
	cur_loaded = true;
	return LK_OK;
}

static enum lk_err
head_row(const struct lk_row *row, void *arg)
{
	struct head *h = arg;

	if (!unhex(row->v[0], h->mac, LK_AUDIT_MAC_LEN)) {
		lk_log_err("audit_head holds no 32-byte hash");
		return LK_ERR_INTERNAL;
	}
	h->seq = strtoull(row->v[1], NULL, 10);
	h->last_id = strtoull(row->v[2], NULL, 10);
	snprintf(h->key_id, sizeof(h->key_id), "%s", row->v[3]);
	h->found = true;
	return LK_OK;
}

static enum lk_err
read_head(struct lk_db *db, const char *sql, struct head *h)
{
	enum lk_err e;

	memset(h, 0, sizeof(*h));
	if ((e = lk_db_exec(db, sql, NULL, 0, head_row, h, NULL)) != LK_OK)
		return e;
	if (!h->found) {
		lk_log_err("audit_head has no row (run latchkey migrate)");
		return LK_ERR_INTERNAL;
	}
	return LK_OK;
}

/* Sign r with key after h, insert it and advance h (audit_head itself moves in move_head). */
static enum lk_err
append(struct lk_db *db, const struct lk_audit_key *key, struct head *h, struct lk_audit_row *r)
{
	unsigned char	 mac[LK_AUDIT_MAC_LEN];
	enum lk_err	 e;

	r->key_id = key->id;
	r->seq = h->seq + 1;
	if (strlen(r->changes) > CHANGES_MAX || !lk_audit_mac(key, h->mac, r, mac)) {
		lk_log_err("audit record could not be built");
		return LK_ERR_INTERNAL;
	}
	{
		const struct lk_param p[] = {
			LK_STR(r->public_id), LK_INT(r->at), LK_STR(r->actor),
			LK_STR(r->account_id), LK_STR(r->account_path),
			LK_STR(r->action), LK_STR(r->target_id), LK_STR(r->ip),
			LK_STR(r->request_id), LK_STR(r->changes),
			LK_BLOB(h->mac, LK_AUDIT_MAC_LEN), LK_BLOB(mac, LK_AUDIT_MAC_LEN),
			LK_INT(r->seq), LK_STR(r->key_id),
		};

		if ((e = lk_db_exec(db, SQL_INSERT, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	memcpy(h->mac, mac, LK_AUDIT_MAC_LEN);
	h->seq = r->seq;
	h->last_id = lk_db_insert_id(db);
	snprintf(h->key_id, sizeof(h->key_id), "%s", key->id);
	return LK_OK;
}

static enum lk_err
move_head(struct lk_db *db, const struct head *h)
{
	const struct lk_param p[] = {
		LK_BLOB(h->mac, LK_AUDIT_MAC_LEN), LK_INT(h->seq), LK_INT(h->last_id),
		LK_STR(h->key_id),
	};

	return lk_db_exec(db, SQL_MOVE_HEAD, p, LK_NELEM(p), NULL, NULL, NULL);
}

/* Append the "audit.epoch" row that starts key's epoch after h. */
static enum lk_err
epoch_row(struct lk_db *db, const struct lk_actor *a, const struct lk_audit_key *key,
    struct head *h, int64_t now, char *event_id)
{
	struct lk_audit_row	 r;
	char			 id[LK_PUBLIC_ID_MAX], hex[2 * LK_AUDIT_MAC_LEN + 1];
	char			*changes = NULL;
	json_t			*ch;
	enum lk_err		 e;

	if (!lk_crypto_public_id("evt_", id, sizeof(id)))
		return LK_ERR_INTERNAL;
	lk_audit_hex(h->mac, hex);
	ch = json_pack("{s:s,s:s}", "previous_head", hex, "previous_key_id", h->key_id);
	if (ch != NULL)
		changes = json_dumps(ch, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(ch);
	if (changes == NULL)
		return LK_ERR_INTERNAL;
	r = (struct lk_audit_row){ .public_id = id, .at = now, .actor = a->id,
	    .account_id = "", .account_path = "", .action = LK_AUDIT_EPOCH,
	    .target_id = key->id, .ip = "", .request_id = "", .changes = changes };
	e = append(db, key, h, &r);
	free(changes);
	if (e == LK_OK && event_id != NULL)
		snprintf(event_id, LK_PUBLIC_ID_MAX, "%s", id);
	return e;
}

static void
log_checkpoint(uint64_t id, const unsigned char mac[LK_AUDIT_MAC_LEN])
{
	char hex[2 * LK_AUDIT_MAC_LEN + 1];

	lk_audit_hex(mac, hex);
	lk_log_info("audit checkpoint id=%" PRIu64 " mac=%s", id, hex);
}

void
lk_audit_change(json_t *changes, const char *field, json_t *old, json_t *new)
{
	json_object_set_new(changes, field, json_pack("{s:o,s:o}",
	    "old", old != NULL ? old : json_null(), "new", new != NULL ? new : json_null()));
}

enum lk_err
lk_audit_write(struct lk_db *db, const struct lk_audit_event *ev, int64_t now)
{
	const struct lk_conf	*conf = lk_db_conf(db);
	const struct lk_actor	*a = ev->actor;
	struct lk_audit_row	 r;
	struct head		 h;
	char			 id[LK_PUBLIC_ID_MAX], *changes;
	json_t			*ch;
	enum lk_err		 e;

	if ((e = current_key(db, false)) != LK_OK ||
	    (e = read_head(db, SQL_HEAD_LOCK, &h)) != LK_OK)
		return e;
	if (h.key_id[0] == '\0') {
		/* Never start an epoch here: an unsigned head after signed rows is a rewrite. */
		lk_log_err("the audit chain's newest row is unsigned: changes are refused "
		    "(`latchkey audit verify` says why and what to do)");
		return LK_ERR_UNAVAILABLE;
	}
	if (strcmp(h.key_id, cur_key.id) != 0) {
		/* Rotated since we read the key? Read it again. */
		if ((e = current_key(db, true)) != LK_OK)
			return e;
		if (strcmp(h.key_id, cur_key.id) != 0) {
			lk_log_err("the audit chain is signed with key id %s but audit_key_file "
			    "holds key id %s: changes are refused (reload the web server after "
			    "a key rotation)", h.key_id, cur_key.id);
			return LK_ERR_UNAVAILABLE;
		}
	}
	/* The head is committed (we hold its lock), so its checkpoint is safe to publish. */
	if (h.seq > 0 && conf->audit_checkpoint_every > 0 &&
	    h.seq % conf->audit_checkpoint_every == 0)
		log_checkpoint(h.last_id, h.mac);
	if (!lk_crypto_public_id("evt_", id, sizeof(id)))
		return LK_ERR_INTERNAL;
	ch = ev->changes != NULL ? json_incref(ev->changes) : json_object();
	changes = json_dumps(ch, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(ch);
	if (changes == NULL) {
		lk_log_err("audit record could not be built");
		return LK_ERR_INTERNAL;
	}
	r = (struct lk_audit_row){ .public_id = id, .at = now, .actor = a->id,
	    .account_id = ev->account_id, .account_path = ev->account_path,
	    .action = ev->action, .target_id = ev->target_id,
	    .ip = a->ip != NULL ? a->ip : "",
	    .request_id = a->request_id != NULL ? a->request_id : "", .changes = changes };
	e = append(db, &cur_key, &h, &r);
	free(changes);
	/* The change's event joins the same transaction: neither lands without the other. */
	if (e == LK_OK)
		e = lk_events_audited(db, ev, now);
	/* So does its change-feed row: every host's verify cache drops what it names. */
	if (e == LK_OK)
		e = lk_cache_audited(db, ev, now);
	return e == LK_OK ? move_head(db, &h) : e;
}

struct epoch_arg {
	const struct lk_actor		*a;
	const struct lk_audit_key	*key;
	bool				 if_unsigned;
	int64_t				 now;
	char				*event_id;
	struct lk_audit_anchor		*row;
};

static enum lk_err
epoch_work(struct lk_db *db, void *arg)
{
	struct epoch_arg	*p = arg;
	struct head		 h;
	int64_t			 signed_id = 0;
	enum lk_err		 e;

	if (p->event_id != NULL)
		p->event_id[0] = '\0';
	if (p->row != NULL)
		memset(p->row, 0, sizeof(*p->row));
	if ((e = read_head(db, SQL_HEAD_LOCK, &h)) != LK_OK)
		return e;
	if (p->if_unsigned && h.key_id[0] != '\0')
		return LK_OK;
	/* The first epoch follows unsigned rows only: an unsigned head after signed rows is a rewrite. */
	if (p->if_unsigned &&
	    (e = lk_db_exec(db, SQL_ANY_SIGNED, NULL, 0, lk_db_row_int, &signed_id, NULL)) != LK_OK)
		return e;
	if (signed_id != 0) {
		lk_log_err("the audit chain's newest row is unsigned, but signed rows come before "
		    "it: the log was rewritten, and no epoch is started over it (run `latchkey "
		    "audit verify`)");
		return LK_ERR_CONFLICT;
	}
	if ((e = epoch_row(db, p->a, p->key, &h, p->now, p->event_id)) != LK_OK ||
	    (e = move_head(db, &h)) != LK_OK)
		return e;
	if (p->row != NULL) {
		p->row->id = h.last_id;
		snprintf(p->row->key_id, sizeof(p->row->key_id), "%s", h.key_id);
		memcpy(p->row->mac, h.mac, LK_AUDIT_MAC_LEN);
	}
	return LK_OK;
}

enum lk_err
lk_audit_epoch(struct lk_db *db, const struct lk_actor *a, const struct lk_audit_key *key,
    bool if_unsigned, int64_t now, char *event_id, struct lk_audit_anchor *row)
{
	struct epoch_arg p = { a, key, if_unsigned, now, event_id, row };

	return lk_db_txn(db, epoch_work, &p);
}

static enum lk_err
checkpoint_work(struct lk_db *db, void *arg)
{
	struct head		 h;
	struct lk_audit_checkpoint *cp = arg;
	enum lk_err		 e;

	if ((e = read_head(db, SQL_HEAD, &h)) != LK_OK)
		return e;
	cp->id = h.last_id;
	memcpy(cp->mac, h.mac, LK_AUDIT_MAC_LEN);
	return LK_OK;
}

enum lk_err
lk_audit_checkpoint(struct lk_db *db, struct lk_audit_checkpoint *cp)
{
	enum lk_err e;

	if ((e = lk_db_read(db, checkpoint_work, cp)) == LK_OK)
		log_checkpoint(cp->id, cp->mac);
	return e;
}

bool
lk_audit_checkpoint_parse(const char *line, struct lk_audit_checkpoint *cp)
{
	static const char	 tag[] = "audit checkpoint id=";
	const char		*p = strstr(line, tag);
	char			*end, hex[2 * LK_AUDIT_MAC_LEN + 1];

	if (p == NULL)
		return false;
	p += sizeof(tag) - 1;
	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	cp->id = strtoull(p, &end, 10);
	if (errno != 0 || strncmp(end, " mac=", 5) != 0)
		return false;
	p = end + 5;
	if (strspn(p, "0123456789abcdefABCDEF") != 2 * LK_AUDIT_MAC_LEN)
		return false;
	memcpy(hex, p, 2 * LK_AUDIT_MAC_LEN);
	hex[2 * LK_AUDIT_MAC_LEN] = '\0';
	return unhex(hex, cp->mac, LK_AUDIT_MAC_LEN);
}

/* Epoch 0: SHA-256(prev || compact key-sorted JSON of the row's fields), as 001 wrote it. */
static bool
legacy_hash(const unsigned char prev[LK_AUDIT_MAC_LEN], const struct lk_audit_row *r,
    unsigned char out[LK_SHA256_LEN])
{
	json_t		*o;
	char		*content = NULL;
	unsigned char	*buf;
	size_t		 n;

	o = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
	    "public_id", r->public_id, "at", (json_int_t)r->at, "actor", r->actor,
	    "account_id", r->account_id, "account_path", r->account_path,
	    "action", r->action, "target_id", r->target_id, "ip", r->ip,
	    "request_id", r->request_id, "changes", r->changes);
	if (o != NULL)
		content = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (content == NULL)
		return false;
	n = strlen(content);
	if ((buf = malloc(LK_AUDIT_MAC_LEN + n)) == NULL) {
		free(content);
		return false;
	}
	memcpy(buf, prev, LK_AUDIT_MAC_LEN);
	memcpy(buf + LK_AUDIT_MAC_LEN, content, n);
	lk_crypto_sha256(buf, LK_AUDIT_MAC_LEN + n, out);
	free(buf);
	free(content);
	return true;
}

/* State of one walk over the chain. */
struct walk {
	struct lk_audit_verify		*v;
	struct head			 h;		/* audit_head as read at the start */
	unsigned char			 prev[LK_AUDIT_MAC_LEN];
	char				 kid[LK_AUDIT_KEY_ID_LEN + 1];	/* epoch in force; "" = 0 */
	const struct lk_audit_key	*key;
	uint64_t			 pos;
	bool				 signed_seen, last_signed, cp_found, anchor_found;
	char				 last_public_id[LK_PUBLIC_ID_MAX];
};

static enum lk_err
bad(struct walk *w, const char *public_id, uint64_t id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum lk_err
bad(struct walk *w, const char *public_id, uint64_t id, const char *fmt, ...)
{
	va_list ap;

	w->v->ok = false;
	snprintf(w->v->bad_public_id, sizeof(w->v->bad_public_id), "%s", public_id);
	w->v->bad_id = id;
	va_start(ap, fmt);
	vsnprintf(w->v->why, sizeof(w->v->why), fmt, ap);
	va_end(ap);
	return LK_ERR_CONFLICT;		/* stops the walk */
}

static const struct lk_audit_key *
find_key(const struct lk_audit_verify *v, const char *id)
{
	size_t i;

	for (i = 0; i < v->nkeys; i++)
		if (strcmp(v->keys[i].id, id) == 0)
			return &v->keys[i];
	return NULL;
}

/* An epoch row must name the epoch it ends: its key id and its head. */
static bool
epoch_names_previous(const struct walk *w, const char *changes)
{
	json_t		*o = json_loads(changes, 0, NULL);
	const char	*head = json_string_value(json_object_get(o, "previous_head"));
	const char	*kid = json_string_value(json_object_get(o, "previous_key_id"));
	unsigned char	 mac[LK_AUDIT_MAC_LEN];
	bool		 ok;

	ok = head != NULL && kid != NULL && strcmp(kid, w->kid) == 0 &&
	    unhex(head, mac, LK_AUDIT_MAC_LEN) &&
	    CRYPTO_memcmp(mac, w->prev, LK_AUDIT_MAC_LEN) == 0;
	json_decref(o);
	return ok;
}

static enum lk_err
walk_row(const struct lk_row *row, void *arg)
{
	struct walk			*w = arg;
	const struct lk_audit_verify	*v = w->v;
	const struct lk_audit_key	*key = w->key;
	unsigned char			 prev[LK_AUDIT_MAC_LEN], mac[LK_AUDIT_MAC_LEN];
	unsigned char			 want[LK_AUDIT_MAC_LEN];
	uint64_t			 id = strtoull(row->v[0], NULL, 10);
	const char			*pid = row->v[1], *kid = row->v[14];
	bool				 epoch;
	struct lk_audit_row		 r = {
		.key_id = kid, .seq = strtoull(row->v[13], NULL, 10), .public_id = pid,
		.at = strtoll(row->v[2], NULL, 10), .actor = row->v[3],
		.account_id = row->v[4], .account_path = row->v[5], .action = row->v[6],
		.target_id = row->v[7], .ip = row->v[8], .request_id = row->v[9],
		.changes = row->v[10],
	};

	w->pos++;
	epoch = kid[0] != '\0' && strcmp(r.action, LK_AUDIT_EPOCH) == 0;
	if (!unhex(row->v[11], prev, LK_AUDIT_MAC_LEN) || !unhex(row->v[12], mac, LK_AUDIT_MAC_LEN))
		return bad(w, pid, id, "prev_hash or hash is not 32 bytes");
	if (v->checkpoint != NULL && !w->cp_found && id > v->checkpoint->id)
		return bad(w, pid, id, "the checkpoint's row id=%" PRIu64 " is missing before "
		    "this row: rows were deleted", v->checkpoint->id);
	if (v->anchor != NULL && !w->anchor_found && id >= v->anchor->id) {
		if (id > v->anchor->id)
			return bad(w, pid, id, "the anchored start of the signed chain, row id=%"
			    PRIu64 ", is missing before this row: the log was rewritten or rows "
			    "were deleted", v->anchor->id);
		if (kid[0] == '\0')
			return bad(w, pid, id, "the anchored start of the signed chain (key id %s) is "
			    "this row, but it is unsigned: the log was rewritten", v->anchor->key_id);
		if (strcmp(kid, v->anchor->key_id) != 0 ||
		    CRYPTO_memcmp(mac, v->anchor->mac, LK_AUDIT_MAC_LEN) != 0)
			return bad(w, pid, id, "the anchored start of the signed chain is this row, but "
			    "its key id or MAC is not the anchor file's (key id %s): the row was "
			    "changed or the log rewritten", v->anchor->key_id);
		w->anchor_found = true;
	}
	if (CRYPTO_memcmp(prev, w->prev, LK_AUDIT_MAC_LEN) != 0) {
		if (kid[0] != '\0' && r.seq > w->pos)
			return bad(w, pid, id, "missing rows: seq %" PRIu64 " follows row %" PRIu64
			    " (rows before it were deleted)", r.seq, w->pos - 1);
		return bad(w, pid, id, "broken link: prev_hash is not the MAC of the row "
		    "before it (rows deleted, inserted or reordered)");
	}
	if (kid[0] == '\0') {
		if (w->signed_seen)
			return bad(w, pid, id, "unsigned (epoch 0) row after signed rows");
		if (!legacy_hash(prev, &r, want))
			return LK_ERR_INTERNAL;
		if (CRYPTO_memcmp(want, mac, LK_AUDIT_MAC_LEN) != 0)
			return bad(w, pid, id, "hash mismatch (epoch 0, plain SHA-256): the row "
			    "was changed");
	} else {
		if (epoch && (key = find_key(v, kid)) == NULL)
			return bad(w, pid, id, "epoch row for key id %s, which is neither in "
			    "audit_key_file nor in audit_old_keys_file", kid);
		if (!epoch && (key == NULL || strcmp(kid, w->kid) != 0))
			return bad(w, pid, id, "signed with key id %s outside its epoch "
			    "(the epoch in force is %s)", kid, w->kid[0] ? w->kid : "0, unsigned");
		if (r.seq != w->pos)
			return bad(w, pid, id, "seq %" PRIu64 " where %" PRIu64 " was expected "
			    "(rows missing or inserted)", r.seq, w->pos);
		if (!lk_audit_mac(key, prev, &r, want))
			return LK_ERR_INTERNAL;
		if (CRYPTO_memcmp(want, mac, LK_AUDIT_MAC_LEN) != 0)
			return bad(w, pid, id, "MAC mismatch: the row was changed");
		if (epoch && !epoch_names_previous(w, r.changes))
			return bad(w, pid, id, "epoch row does not name the previous epoch's key "
			    "id and head");
		if (epoch) {
			w->key = key;
			snprintf(w->kid, sizeof(w->kid), "%s", kid);
		}
		if (!w->signed_seen) {
			w->v->start.id = id;
			snprintf(w->v->start.key_id, sizeof(w->v->start.key_id), "%s", kid);
			memcpy(w->v->start.mac, mac, LK_AUDIT_MAC_LEN);
			snprintf(w->v->start_public_id, sizeof(w->v->start_public_id), "%s", pid);
		}
		w->signed_seen = true;
	}
	if (v->checkpoint != NULL && id == v->checkpoint->id) {
		if (CRYPTO_memcmp(mac, v->checkpoint->mac, LK_AUDIT_MAC_LEN) != 0)
			return bad(w, pid, id, "its MAC is not the checkpoint's");
		w->cp_found = true;
	}
	memcpy(w->prev, mac, LK_AUDIT_MAC_LEN);
	w->last_signed = kid[0] != '\0';
	snprintf(w->last_public_id, sizeof(w->last_public_id), "%s", pid);
	w->v->rows = w->pos;
	w->v->last_id = id;
	return LK_OK;
}

static enum lk_err
verify_work(struct lk_db *db, void *arg)
{
	struct walk		*w = arg;
	struct lk_audit_verify	*v = w->v;
	enum lk_err		 e;

	/* Redo-safe: lk_db_txn may run this twice. */
	memset(w, 0, sizeof(*w));
	w->v = v;
	v->ok = true;
	v->rows = v->last_id = 0;
	memset(&v->start, 0, sizeof(v->start));
	v->bad_public_id[0] = v->start_public_id[0] = v->why[0] = '\0';
	v->bad_id = 0;
	if ((e = read_head(db, SQL_HEAD, &w->h)) != LK_OK)
		return e;
	e = lk_db_exec(db, SQL_ROWS, NULL, 0, walk_row, w, NULL);
	if (e == LK_ERR_CONFLICT && !v->ok)
		return LK_OK;
	if (e != LK_OK)
		return e;
	memcpy(v->head, w->prev, LK_AUDIT_MAC_LEN);
	if (v->anchor != NULL && !w->anchor_found)
		bad(w, w->last_public_id, v->last_id, w->pos == 0 ? "the log is empty, but the "
		    "anchor file records a signed chain starting at row id=%" PRIu64 ": the log was "
		    "reset; restore audit_log and audit_head from a backup" : "the chain ends before "
		    "its anchored start, row id=%" PRIu64 ": the log was rewritten or cut; restore "
		    "audit_log and audit_head from a backup", v->anchor->id);
	else if (w->pos > 0 && !w->last_signed)
		bad(w, w->last_public_id, v->last_id, "the newest row is unsigned and no signed row "
		    "vouches for the log (epoch 0 rows can be forged): if this installation never "
		    "signed its chain, `latchkey init` signs it and writes the anchor; if it did, the "
		    "log was rewritten: restore audit_log and audit_head from a backup");
	else if (CRYPTO_memcmp(w->h.mac, w->prev, LK_AUDIT_MAC_LEN) != 0 ||
	    w->h.last_id != v->last_id || (w->signed_seen && w->h.seq != w->pos))
		bad(w, w->last_public_id, v->last_id, "audit_head (id=%" PRIu64 ", seq=%" PRIu64
		    ") does not match the newest row: rows were deleted from the end, or the "
		    "head was changed", w->h.last_id, w->h.seq);
	else if (v->checkpoint != NULL && !w->cp_found)
		bad(w, w->last_public_id, v->last_id, "the checkpoint's row id=%" PRIu64 " is "
		    "missing: the chain ends before it (rows were deleted from the end)",
		    v->checkpoint->id);
	return LK_OK;
}

enum lk_err
lk_audit_verify(struct lk_db *db, struct lk_audit_verify *v)
{
	struct walk w = { .v = v };

	/* One transaction: every read sees the same snapshot. */
	return lk_db_txn(db, verify_work, &w);
}
