/* test_scanning.c — GitHub secret-scanning report signatures (base/scanning), with a key made here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/scanning.h"

static const char body[] = "[{\"token\":\"lk_live_x\",\"type\":\"t\",\"url\":\"u\",\"source\":\"content\"}]";

struct fixture {
	EVP_PKEY	*key, *other;
	char		 path[64];
	char		 sig[256], other_sig[256];
};

static char *
pem_of(EVP_PKEY *k)
{
	BIO	*b = BIO_new(BIO_s_mem());
	char	*data, *out;
	long	 n;

	assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	n = BIO_get_mem_data(b, &data);
	out = strndup(data, (size_t)n);
	BIO_free(b);
	return out;
}

/* base64 of the DER ECDSA signature of body under k. */
static void
sign(EVP_PKEY *k, const char *data, char *out)
{
	EVP_MD_CTX	*md = EVP_MD_CTX_new();
	unsigned char	 sig[128];
	size_t		 n = sizeof(sig);

	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &n, (const unsigned char *)data, strlen(data)), 1);
	EVP_EncodeBlock((unsigned char *)out, sig, (int)n);
	EVP_MD_CTX_free(md);
}

static void
write_keys(const char *path, const char *id, EVP_PKEY *k)
{
	char	*pem = pem_of(k);
	json_t	*doc = json_pack("{s:[{s:s,s:s,s:b}]}", "public_keys", "key_identifier", id, "key",
	    pem, "is_current", 1);

	assert_int_equal(json_dump_file(doc, path, 0), 0);
	json_decref(doc);
	free(pem);
}

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	int		 fd;

	f->key = EVP_EC_gen("P-256");
	f->other = EVP_EC_gen("P-256");
	snprintf(f->path, sizeof(f->path), "/tmp/lk-scanning-XXXXXX");
	assert_true((fd = mkstemp(f->path)) >= 0);
	close(fd);
	write_keys(f->path, "gh-key-1", f->key);
	sign(f->key, body, f->sig);
	sign(f->other, body, f->other_sig);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	EVP_PKEY_free(f->key);
	EVP_PKEY_free(f->other);
	free(f);
	return 0;
}

static void
test_verify_table(void **state)
{
	struct fixture	*f = *state;
	char		 changed[sizeof(body)], why[128];
	const struct {
		const char	*what, *id, *sig, *data;
		enum lk_err	 want;
	} cases[] = {
		{ "signed", "gh-key-1", f->sig, body, LK_OK },
		{ "another key's signature", "gh-key-1", f->other_sig, body, LK_ERR_BAD_SIGNATURE },
		{ "unknown key id", "gh-key-2", f->sig, body, LK_ERR_BAD_SIGNATURE },
		{ "body changed", "gh-key-1", f->sig, changed, LK_ERR_BAD_SIGNATURE },
		{ "no id", NULL, f->sig, body, LK_ERR_BAD_SIGNATURE },
		{ "no signature", "gh-key-1", NULL, body, LK_ERR_BAD_SIGNATURE },
		{ "empty signature", "gh-key-1", "", body, LK_ERR_BAD_SIGNATURE },
		{ "not base64", "gh-key-1", "%%%%not-base64", body, LK_ERR_BAD_SIGNATURE },
		{ "base64, not DER", "gh-key-1", "AAAA", body, LK_ERR_BAD_SIGNATURE },
	};
	size_t i;

	memcpy(changed, body, sizeof(body));
	changed[strlen(changed) - 3] = 'X';
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (lk_scanning_verify(f->path, cases[i].id, cases[i].sig, cases[i].data,
		    strlen(cases[i].data), why, sizeof(why)) != cases[i].want)
			fail_msg("%s: expected %d (%s)", cases[i].what, cases[i].want, why);
}

static void
test_keys_file(void **state)
{
	struct fixture	*f = *state;
	char		 why[128];

	/* No file, or not of the shape: the service is unavailable, never "verified". */
	assert_int_equal(lk_scanning_verify("/nonexistent/keys.json", "gh-key-1", f->sig, body,
	    strlen(body), why, sizeof(why)), LK_ERR_UNAVAILABLE);
	assert_int_equal(lk_scanning_verify("", "gh-key-1", f->sig, body, strlen(body), why,
	    sizeof(why)), LK_ERR_UNAVAILABLE);
	/* Read on every call: a rewritten file applies at once. */
	write_keys(f->path, "gh-key-1", f->other);
	assert_int_equal(lk_scanning_verify(f->path, "gh-key-1", f->other_sig, body, strlen(body),
	    why, sizeof(why)), LK_OK);
	assert_int_equal(lk_scanning_verify(f->path, "gh-key-1", f->sig, body, strlen(body),
	    why, sizeof(why)), LK_ERR_BAD_SIGNATURE);
	write_keys(f->path, "gh-key-1", f->key);
}

static void
test_keys_ok(void **state)
{
	struct fixture	*f = *state;
	static const char *const bad[] = {
		"{\"public_keys\": []}",
		"{\"public_keys\": [{\"key_identifier\": \"a\", \"key\": \"not a key\"}]}",
		"{\"public_keys\": [{\"key\": \"-----BEGIN PUBLIC KEY-----\"}]}",
		"<html>rate limited</html>",
	};
	char		*pem = pem_of(f->key), *text;
	json_t		*doc;
	size_t		 i;

	doc = json_pack("{s:[{s:s,s:s,s:b}]}", "public_keys", "key_identifier", "a", "key", pem,
	    "is_current", 1);
	text = json_dumps(doc, 0);
	assert_true(lk_scanning_keys_ok(text, strlen(text)));
	free(text);
	json_decref(doc);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (lk_scanning_keys_ok(bad[i], strlen(bad[i])))
			fail_msg("accepted: %s", bad[i]);
	free(pem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_table),
		cmocka_unit_test(test_keys_file),
		cmocka_unit_test(test_keys_ok),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
