/* keyfmt.h — the API key format: <prefix>_<env>_<32 random base62><6 base62 CRC32>. */
#ifndef LK_KEYFMT_H
#define LK_KEYFMT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/crypto.h"
#include "base/err.h"

#define LK_KEY_PREFIX_MAX	10
#define LK_KEY_RANDOM_LEN	32
#define LK_KEY_CHECK_LEN	6
#define LK_KEY_BODY_LEN		(LK_KEY_RANDOM_LEN + LK_KEY_CHECK_LEN)
#define LK_KEY_MAX		(LK_KEY_PREFIX_MAX + 1 + 4 + 1 + LK_KEY_BODY_LEN)
#define LK_KEY_START_BODY	8
#define LK_KEY_START_MAX	(LK_KEY_PREFIX_MAX + 1 + 4 + 1 + LK_KEY_START_BODY + 1)

/* A key checked in memory: never touches the database. */
struct lk_keyparts {
	char		 env[5];			/* "live" or "test" */
	char		 start[LK_KEY_START_MAX];	/* prefix_env_ + 8 body chars */
	unsigned char	 digest[LK_SHA256_LEN];		/* SHA-256 of the whole key */
};

/* True if p is a valid key prefix: [a-z]{2,10}. */
bool		lk_keyfmt_prefix_ok(const char *p);

/* True if env is "live" or "test". */
bool		lk_keyfmt_env_ok(const char *env);

/* 6 base62 chars (zero-padded, most significant first) of CRC32 over data; out has 7 bytes. */
void		lk_keyfmt_checksum(const char *data, size_t len, char out[LK_KEY_CHECK_LEN + 1]);

/*
 * Generate a new key into out (size >= LK_KEY_MAX + 1) and fill parts.
 * Returns LK_OK, LK_ERR_VALIDATION for a bad prefix/env, LK_ERR_INTERNAL if
 * the CSPRNG failed. The caller wipes out with lk_crypto_wipe when done.
 */
enum lk_err	lk_keyfmt_generate(const char *prefix, const char *env, char *out,
		    size_t size, struct lk_keyparts *parts);

/*
 * Check s (len bytes, not necessarily NUL-terminated) against the format with
 * the configured prefix and its checksum; fill parts. Returns LK_OK or
 * LK_ERR_INVALID_KEY.
 */
enum lk_err	lk_keyfmt_parse(const char *s, size_t len, const char *prefix,
		    struct lk_keyparts *parts);

/*
 * Check a key as presented (credential or verify): one in latchkey's own
 * shape (the configured prefix, then _live_ or _test_) must pass
 * lk_keyfmt_parse, so a bad checksum is refused before any query; any other
 * text of LK_KEY_FOREIGN_MIN..MAX visible ASCII characters may be an
 * imported key and gets its digest only (SHA-256 of the whole text; env and
 * start empty). LK_OK or LK_ERR_INVALID_KEY.
 */
#define LK_KEY_FOREIGN_MIN	8
#define LK_KEY_FOREIGN_MAX	512
enum lk_err	lk_keyfmt_presented(const char *s, size_t len, const char *prefix,
		    struct lk_keyparts *parts);

/*
 * True if s is a displayed start or its beginning: "prefix_env_" and 1 to 8
 * base62 chars (any well-shaped prefix) — what GET /v1/keys?start= takes.
 */
bool		lk_keyfmt_start_ok(const char *s);

/* True if s has the key shape (any prefix, live/test, 38 base62) — for refusing keys in URLs. */
bool		lk_keyfmt_looks_like_key(const char *s);

#endif
