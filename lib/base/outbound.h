/*
 * outbound.h — latchkey's own HTTP requests (webhook deliveries): the SSRF
 * rule for their URLs, Standard Webhooks signing, and one POST with libcurl.
 */
#ifndef LK_OUTBOUND_H
#define LK_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/net.h"

#define LK_OUTBOUND_URL_MAX	2048
#define LK_WEBHOOK_SECRET_BYTES	32	/* random bytes behind "whsec_" */
#define LK_WEBHOOK_SECRET_MAX	(6 + 4 * ((LK_WEBHOOK_SECRET_BYTES + 2) / 3) + 1)
#define LK_WEBHOOK_SIG_MAX	(3 + 44 + 1)	/* "v1," + base64 of 32 bytes + NUL */

/* Where a checked URL goes: its host and port, and the one address allowed for it. */
struct lk_outbound_target {
	char	 host[256];
	long	 port;
	char	 addr[LK_NET_ADDR_MAX];
};

/*
 * True if the address (text) is one a webhook may never reach unless
 * webhook_allow_private: loopback, private (10/8, 172.16/12, 192.168/16,
 * fc00::/7), shared (100.64/10), link-local (169.254/16 with the cloud
 * metadata address, fe80::/10), unspecified, multicast, reserved, and the
 * IPv6 forms that embed an IPv4 address (::ffff:0:0/96, 64:ff9b::/96).
 */
bool	lk_outbound_addr_forbidden(const char *addr);

/*
 * Check url's shape (an absolute URL of at most LK_OUTBOUND_URL_MAX plain
 * ASCII bytes with a host, no user or password; https only unless
 * allow_private, which also allows http), then resolve the host (getaddrinfo) and refuse it if any
 * of its addresses is forbidden (lk_outbound_addr_forbidden) unless
 * allow_private. Fills t with the first address, which lk_outbound_post then
 * connects to (no second lookup: a name cannot change its answer in between).
 * LK_ERR_VALIDATION with why if refused or not resolvable.
 */
enum lk_err lk_outbound_resolve(const char *url, bool allow_private,
	    struct lk_outbound_target *t, char *why, size_t whysz);

/*
 * The rule for a URL being registered: lk_outbound_resolve, except that a
 * host that does not resolve (yet, or now) passes: every attempt resolves
 * and checks it again.
 */
enum lk_err lk_outbound_check(const char *url, bool allow_private, char *why, size_t whysz);

/* A new signing secret: "whsec_" + base64 of LK_WEBHOOK_SECRET_BYTES random bytes. */
bool	lk_webhook_secret_new(char out[LK_WEBHOOK_SECRET_MAX]);

/*
 * The Standard Webhooks signature of one delivery: "v1," + base64 of
 * HMAC-SHA256(base64-decoded secret after "whsec_", id "." timestamp "." body).
 * False if secret is malformed.
 */
bool	lk_webhook_sign(const char *secret, const char *id, int64_t timestamp,
	    const char *body, char out[LK_WEBHOOK_SIG_MAX]);

/* What one attempt gave: the response status (0: none) and time, or what failed. */
struct lk_outbound_result {
	long	 code;
	int64_t	 latency_ms;
	char	 error[200];
};

/*
 * POST body (JSON) to url at t->addr (from lk_outbound_resolve) with the
 * extra headers (NULL-terminated "Name: value" lines); no proxy, no
 * redirect followed, protocols https (and http with allow_private), the
 * response body read up to 64 KiB and discarded. True if an HTTP response
 * came back (any status); false with r->error otherwise.
 */
bool	lk_outbound_post(const char *url, const struct lk_outbound_target *t,
	    bool allow_private, const char *const *headers, const char *body,
	    unsigned int connect_timeout, unsigned int timeout, struct lk_outbound_result *r);

/*
 * GET url (an operator's, e.g. GitHub's published keys: no SSRF rule, https
 * only unless allow_http, no proxy from the environment, no redirect
 * followed, certificates verified) with the timeouts; the response body, at
 * most max bytes, into *body (NUL-terminated, *len bytes; the caller frees)
 * and its status into *code. False with why if no complete response came.
 */
bool	lk_outbound_get(const char *url, bool allow_http, size_t max, unsigned int connect_timeout,
	    unsigned int timeout, char **body, size_t *len, long *code, char *why, size_t whysz);

#endif
