/* crypto.c — thin wrappers over OpenSSL 3. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "base/crypto.h"

const char lk_base62[63] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool
lk_crypto_random(void *buf, size_t n)
{
	return n <= 0x7fffffff && RAND_bytes(buf, (int)n) == 1;
}

bool
lk_crypto_base62(char *out, size_t n)
{
	unsigned char	 pool[64];
	size_t		 have = 0, used = 0;

	/* Rejection sampling: bytes >= 248 would bias the modulo. */
	while (have < n) {
		if (used == 0 || used == sizeof(pool)) {
			if (!lk_crypto_random(pool, sizeof(pool)))
				return false;
			used = 0;
		}
		if (pool[used] < 248)
			out[have++] = lk_base62[pool[used] % 62];
		used++;
	}
	out[n] = '\0';
	OPENSSL_cleanse(pool, sizeof(pool));
	return true;
}

bool
lk_crypto_public_id(const char *prefix, char *out, size_t size)
{
	size_t plen = strlen(prefix);

	if (plen + LK_PUBLIC_ID_RANDOM + 1 > size)
		return false;
	memcpy(out, prefix, plen);
	return lk_crypto_base62(out + plen, LK_PUBLIC_ID_RANDOM);
}

bool
lk_crypto_public_id_ok(const char *id, const char *prefix)
{
	size_t i, n = strlen(prefix);

	if (strncmp(id, prefix, n) != 0 || strlen(id) != n + LK_PUBLIC_ID_RANDOM)
		return false;
	for (i = n; id[i] != '\0'; i++)
		if (strchr(lk_base62, id[i]) == NULL)
			return false;
	return true;
}

/*
 * The digest and its context are fetched once per process: OpenSSL 3's
 * one-shot SHA256() fetches the algorithm (locks, a property query) and
 * allocates a context on every call.
 */
void
lk_crypto_sha256(const void *data, size_t len, unsigned char out[LK_SHA256_LEN])
{
	static EVP_MD		*md;
	static EVP_MD_CTX	*ctx;

	if (md == NULL)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (ctx == NULL)
		ctx = EVP_MD_CTX_new();
	if (md == NULL || ctx == NULL || EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		SHA256(data, len, out);
}

bool
lk_crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
lk_crypto_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}
