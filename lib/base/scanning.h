/*
 * scanning.h — the signature of a secret-scanning report from GitHub's partner
 * program (docs/operations.md, "Leaked keys"): ECDSA P-256 / SHA-256 over the
 * raw body, DER, base64, checked against the public keys GitHub publishes at
 * /meta/public_keys/secret_scanning, kept in a file.
 */
#ifndef LK_SCANNING_H
#define LK_SCANNING_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define LK_SCANNING_KEY_ID_MAX	256	/* bytes of a Github-Public-Key-Identifier */
#define LK_SCANNING_SIG_MAX	512	/* base64 characters of a Github-Public-Key-Signature */
#define LK_SCANNING_KEYS_MAX	(1024 * 1024)	/* bytes of the keys file */

/*
 * Check sig_b64 (base64 of a DER ECDSA signature) over body (len bytes)
 * under the key named key_id in the keys file at path, read now (a refreshed
 * file applies at once): JSON {"public_keys": [{"key_identifier", "key" (PEM),
 * "is_current"}]}; a key that is no longer current still verifies (GitHub
 * signs with it until it is removed from the list). LK_OK if it verifies;
 * LK_ERR_BAD_SIGNATURE if key_id or sig_b64 is missing or malformed, no key
 * has that id, or the signature is wrong; LK_ERR_UNAVAILABLE if the file
 * cannot be read or is not of that shape (logged). why (may be NULL) gets a
 * short reason for the answer, never a key.
 */
enum lk_err	lk_scanning_verify(const char *path, const char *key_id, const char *sig_b64,
		    const void *body, size_t len, char *why, size_t whysz);

/*
 * True if text (len bytes) is a keys file as above with at least one key
 * whose "key" parses as a PEM EC public key: what `latchkey leaks
 * refresh-keys` checks before it replaces the file.
 */
bool		lk_scanning_keys_ok(const char *text, size_t len);

#endif
