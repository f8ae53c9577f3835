/* scanning.c — GitHub secret-scanning report signatures, checked with OpenSSL 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/log.h"
#include "base/scanning.h"

static void
say(char *why, size_t whysz, const char *msg)
{
	if (why != NULL && whysz > 0)
		snprintf(why, whysz, "%s", msg);
}

/* The EC public key of a PEM text; NULL if it is not one. */
static EVP_PKEY *
ec_key(const char *pem)
{
	BIO		*b;
	EVP_PKEY	*k;

	if ((b = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k != NULL && EVP_PKEY_get_base_id(k) != EVP_PKEY_EC) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	return k;
}

/* The keys file's list, or NULL if text is not of its shape. */
static json_t *
key_list(json_t *doc)
{
	json_t *keys = json_object_get(doc, "public_keys");

	return json_is_array(keys) ? keys : NULL;
}

bool
lk_scanning_keys_ok(const char *text, size_t len)
{
	json_t		*doc, *keys, *k;
	EVP_PKEY	*pk;
	size_t		 i;
	bool		 ok = false;

	if ((doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return false;
	if ((keys = key_list(doc)) != NULL)
		json_array_foreach(keys, i, k) {
			const char *pem = json_string_value(json_object_get(k, "key"));

			if (json_string_value(json_object_get(k, "key_identifier")) == NULL ||
			    pem == NULL || (pk = ec_key(pem)) == NULL) {
				ok = false;
				break;
			}
			EVP_PKEY_free(pk);
			ok = true;
		}
	json_decref(doc);
	return ok;
}

/* The PEM of the key named id in the file at path: LK_OK, LK_ERR_BAD_SIGNATURE, LK_ERR_UNAVAILABLE. */
static enum lk_err
find_key(const char *path, const char *id, EVP_PKEY **out)
{
	json_error_t	 jerr;
	json_t		*doc, *keys, *k;
	const char	*kid;
	size_t		 i;
	enum lk_err	 e = LK_ERR_BAD_SIGNATURE;

	*out = NULL;
	if (path == NULL || path[0] == '\0') {
		lk_log_err("leak report: github_secret_scanning_keys_file is not set");
		return LK_ERR_UNAVAILABLE;
	}
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL || (keys = key_list(doc)) == NULL) {
		lk_log_err("leak report: keys file %s: %s", path,
		    doc == NULL ? jerr.text : "no public_keys list");
		json_decref(doc);
		return LK_ERR_UNAVAILABLE;
	}
	json_array_foreach(keys, i, k) {
		kid = json_string_value(json_object_get(k, "key_identifier"));
		if (kid == NULL || strcmp(kid, id) != 0)
			continue;
		if ((*out = ec_key(json_string_value(json_object_get(k, "key")))) == NULL) {
			lk_log_err("leak report: keys file %s: key %zu is not a PEM EC key", path, i);
			e = LK_ERR_UNAVAILABLE;
		} else
			e = LK_OK;
		break;
	}
	json_decref(doc);
	return e;
}

/* Decode base64 text (no line breaks) into a new buffer; NULL if malformed. */
static unsigned char *
unbase64(const char *text, size_t *len)
{
	unsigned char	*buf;
	size_t		 n = strlen(text);
	int		 got;

	if (n == 0 || n % 4 != 0 || n > LK_SCANNING_SIG_MAX ||
	    strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n ||
	    (buf = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	if ((got = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n)) < 0) {
		free(buf);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding's zero bytes: take them off. */
	*len = (size_t)got - (text[n - 1] == '=') - (text[n - 2] == '=');
	return buf;
}

enum lk_err
lk_scanning_verify(const char *path, const char *key_id, const char *sig_b64,
    const void *body, size_t len, char *why, size_t whysz)
{
	EVP_PKEY	*pk = NULL;
	EVP_MD_CTX	*md = NULL;
	unsigned char	*sig = NULL;
	size_t		 siglen = 0;
	enum lk_err	 e;

	if (key_id == NULL || key_id[0] == '\0' || sig_b64 == NULL || sig_b64[0] == '\0') {
		say(why, whysz, "The Github-Public-Key-Identifier and Github-Public-Key-Signature "
		    "headers are required");
		return LK_ERR_BAD_SIGNATURE;
	}
	if (strlen(key_id) > LK_SCANNING_KEY_ID_MAX || (sig = unbase64(sig_b64, &siglen)) == NULL) {
		say(why, whysz, "The signature headers are malformed");
		return LK_ERR_BAD_SIGNATURE;
	}
	if ((e = find_key(path, key_id, &pk)) != LK_OK) {
		say(why, whysz, e == LK_ERR_BAD_SIGNATURE ? "No public key has that identifier" :
		    "The public keys could not be read");
		free(sig);
		return e;
	}
	e = LK_ERR_BAD_SIGNATURE;
	if ((md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, body, len) == 1)
		e = LK_OK;
	else
		say(why, whysz, "The signature does not verify");
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	free(sig);
	return e;
}
