/* crypto.h — randomness, hashing and comparison, all through OpenSSL. */
#ifndef LK_CRYPTO_H
#define LK_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define LK_SHA256_LEN	32
#define LK_PUBLIC_ID_RANDOM 24	/* random base62 chars after "key_", "acct_"... */
#define LK_PUBLIC_ID_MAX 40

extern const char lk_base62[63];

/* Fill buf with n CSPRNG bytes. Returns false if OpenSSL's generator failed. */
bool	lk_crypto_random(void *buf, size_t n);

/* Write n uniformly random base62 characters and a NUL to out (n + 1 bytes). */
bool	lk_crypto_base62(char *out, size_t n);

/* out = prefix + 24 random base62 chars, e.g. "key_3Zb…". size >= LK_PUBLIC_ID_MAX. */
bool	lk_crypto_public_id(const char *prefix, char *out, size_t size);

/* True if id has the shape of lk_crypto_public_id's output for prefix. */
bool	lk_crypto_public_id_ok(const char *id, const char *prefix);

void	lk_crypto_sha256(const void *data, size_t len, unsigned char out[LK_SHA256_LEN]);

/* Constant-time comparison of n bytes. */
bool	lk_crypto_equal(const void *a, const void *b, size_t n);

/* Overwrite n bytes so the compiler cannot drop it. */
void	lk_crypto_wipe(void *p, size_t n);

#endif
