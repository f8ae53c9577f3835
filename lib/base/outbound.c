/* outbound.c — the SSRF rule, Standard Webhooks signatures, one POST through libcurl. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/crypto.h"
#include "base/outbound.h"

#define RESPONSE_MAX	65536

/* Addresses a webhook never reaches (see outbound.h); IPv4-mapped IPv6 is checked as IPv4. */
static const char FORBIDDEN[] =
    "0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 "
    "192.0.0.0/24 192.0.2.0/24 192.168.0.0/16 198.18.0.0/15 198.51.100.0/24 "
    "203.0.113.0/24 224.0.0.0/3 ::/127 64:ff9b::/96 64:ff9b:1::/48 100::/64 "
    "2001:db8::/32 fc00::/7 fe80::/10 fec0::/10 ff00::/8";

bool
lk_outbound_addr_forbidden(const char *addr)
{
	static struct lk_cidr	 list[LK_NET_CIDRS_MAX];
	static size_t		 n;
	char			 why[128];

	if (n == 0 && !lk_net_cidrs_parse(FORBIDDEN, list, LK_NET_CIDRS_MAX, &n, why,
	    sizeof(why)))
		abort();	/* the table above is wrong */
	return lk_net_in(list, n, addr);
}

/* The parts of url latchkey looks at; false with why if it is not an acceptable URL. */
static bool
parse(const char *url, bool allow_private, struct lk_outbound_target *t, char *why,
    size_t whysz)
{
	CURLU	*u;
	char	*scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	bool	 ok = false;

	if (strlen(url) > LK_OUTBOUND_URL_MAX) {
		snprintf(why, whysz, "The URL is longer than %d bytes", LK_OUTBOUND_URL_MAX);
		return false;
	}
	if ((u = curl_url()) == NULL) {
		snprintf(why, whysz, "Out of memory");
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		snprintf(why, whysz, "Not an absolute URL with a host");
	else if (strcmp(scheme, "https") != 0 && !(allow_private && strcmp(scheme, "http") == 0))
		snprintf(why, whysz, allow_private ? "The URL must be http:// or https://" :
		    "The URL must be https://");
	else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		snprintf(why, whysz, "The URL must not carry a user name or password");
	else if (strspn(url, "!#$%&'()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_"
	    "abcdefghijklmnopqrstuvwxyz~") != strlen(url))
		snprintf(why, whysz, "The URL must be plain ASCII without spaces "
		    "(percent-encode the rest)");
	else if (t != NULL) {
		/* curl writes an IPv6 host in brackets; getaddrinfo wants it bare. */
		size_t n = strlen(host);

		ok = n < sizeof(t->host);
		if (ok && host[0] == '[' && n > 2)
			snprintf(t->host, sizeof(t->host), "%.*s", (int)(n - 2), host + 1);
		else if (ok)
			snprintf(t->host, sizeof(t->host), "%s", host);
		t->port = strtol(port, NULL, 10);
		if (!ok)
			snprintf(why, whysz, "The URL's host name is too long");
	} else
		ok = true;
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}

/* lk_outbound_resolve; *unresolved says the host did not resolve (no answer is no address). */
static enum lk_err
resolve(const char *url, bool allow_private, struct lk_outbound_target *t, char *why,
    size_t whysz, bool *unresolved)
{
	struct addrinfo	 hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char		 addr[LK_NET_ADDR_MAX];
	int		 rc;

	memset(t, 0, sizeof(*t));
	if (!parse(url, allow_private, t, why, whysz))
		return LK_ERR_VALIDATION;
	if ((rc = getaddrinfo(t->host, NULL, &hints, &res)) != 0) {
		*unresolved = true;
		snprintf(why, whysz, "The URL's host does not resolve (%s)", gai_strerror(rc));
		return LK_ERR_VALIDATION;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		const void *a = ai->ai_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr :
		    (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    inet_ntop(ai->ai_family, a, addr, sizeof(addr)) == NULL)
			continue;
		/* Every address is checked: a name must not mix a public and a private one. */
		if (!allow_private && lk_outbound_addr_forbidden(addr)) {
			snprintf(why, whysz, "The URL's host resolves to %s, a loopback, private, "
			    "link-local or reserved address (webhook_allow_private is off)", addr);
			freeaddrinfo(res);
			return LK_ERR_VALIDATION;
		}
		if (t->addr[0] == '\0')
			snprintf(t->addr, sizeof(t->addr), "%s", addr);
	}
	freeaddrinfo(res);
	if (t->addr[0] == '\0') {
		snprintf(why, whysz, "The URL's host has no IPv4 or IPv6 address");
		return LK_ERR_VALIDATION;
	}
	return LK_OK;
}

enum lk_err
lk_outbound_resolve(const char *url, bool allow_private, struct lk_outbound_target *t,
    char *why, size_t whysz)
{
	bool unresolved = false;

	return resolve(url, allow_private, t, why, whysz, &unresolved);
}

enum lk_err
lk_outbound_check(const char *url, bool allow_private, char *why, size_t whysz)
{
	struct lk_outbound_target	t;
	bool				unresolved = false;
	enum lk_err			e = resolve(url, allow_private, &t, why, whysz, &unresolved);

	return unresolved ? LK_OK : e;
}

bool
lk_webhook_secret_new(char out[LK_WEBHOOK_SECRET_MAX])
{
	unsigned char k[LK_WEBHOOK_SECRET_BYTES];

	if (!lk_crypto_random(k, sizeof(k)))
		return false;
	memcpy(out, "whsec_", 6);
	EVP_EncodeBlock((unsigned char *)out + 6, k, sizeof(k));
	lk_crypto_wipe(k, sizeof(k));
	return true;
}

bool
lk_webhook_sign(const char *secret, const char *id, int64_t timestamp, const char *body,
    char out[LK_WEBHOOK_SIG_MAX])
{
	unsigned char	 k[64], mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	char		*msg;
	size_t		 n;
	int		 klen;
	bool		 ok;

	if (strncmp(secret, "whsec_", 6) != 0 || (n = strlen(secret + 6)) == 0 || n % 4 != 0 ||
	    n / 4 * 3 > sizeof(k))
		return false;
	if ((klen = EVP_DecodeBlock(k, (const unsigned char *)secret + 6, (int)n)) < 0)
		return false;
	/* EVP_DecodeBlock counts the padding's zero bytes: take them off. */
	klen -= (secret[6 + n - 1] == '=') + (secret[6 + n - 2] == '=');
	/* The signed content: id "." timestamp "." body. */
	n = strlen(id) + strlen(body) + 24;
	if ((msg = malloc(n)) == NULL) {
		lk_crypto_wipe(k, sizeof(k));
		return false;
	}
	snprintf(msg, n, "%s.%lld.%s", id, (long long)timestamp, body);
	ok = HMAC(EVP_sha256(), k, klen, (unsigned char *)msg, strlen(msg), mac, &maclen) !=
	    NULL && maclen == 32;
	free(msg);
	lk_crypto_wipe(k, sizeof(k));
	if (!ok)
		return false;
	memcpy(out, "v1,", 3);
	EVP_EncodeBlock((unsigned char *)out + 3, mac, 32);
	return true;
}

/* The response body: counted, up to RESPONSE_MAX bytes, not kept. */
static size_t
discard(char *p __attribute__((unused)), size_t size, size_t n, void *arg)
{
	size_t *total = arg;

	*total += size * n;
	return *total > RESPONSE_MAX ? 0 : size * n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* What every request of ours does: https only unless allowed, no redirect, no proxy, timeouts. */
static void
set_common(CURL *c, const char *url, bool allow_http, unsigned int connect_timeout,
    unsigned int timeout)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, allow_http ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)timeout);
}

bool
lk_outbound_post(const char *url, const struct lk_outbound_target *t, bool allow_private,
    const char *const *headers, const char *body, unsigned int connect_timeout,
    unsigned int timeout, struct lk_outbound_result *r)
{
	struct curl_slist	*hl = NULL, *pin = NULL, *l;
	struct timespec		 t0, t1;
	char			 resolve[sizeof(t->host) + LK_NET_ADDR_MAX + 32];
	size_t			 total = 0;
	CURLcode		 rc = CURLE_OUT_OF_MEMORY;
	CURL			*c;

	memset(r, 0, sizeof(*r));
	pthread_once(&curl_once, curl_init);
	/* Connect to the checked address only: curl never looks the name up itself. */
	snprintf(resolve, sizeof(resolve), strchr(t->addr, ':') ? "%s:%ld:[%s]" : "%s:%ld:%s",
	    t->host, t->port, t->addr);
	if ((pin = curl_slist_append(NULL, resolve)) == NULL)
		goto out;
	if ((hl = curl_slist_append(NULL, "Content-Type: application/json")) == NULL)
		goto out;
	for (; headers != NULL && *headers != NULL; headers++) {
		if ((l = curl_slist_append(hl, *headers)) == NULL)
			goto out;
		hl = l;
	}
	/* No "Expect: 100-continue" round trip. */
	if ((l = curl_slist_append(hl, "Expect:")) == NULL)
		goto out;
	hl = l;
	if ((c = curl_easy_init()) == NULL)
		goto out;
	set_common(c, url, allow_private, connect_timeout, timeout);
	curl_easy_setopt(c, CURLOPT_RESOLVE, pin);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "latchkey-webhooks");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &total);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = curl_easy_perform(c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->latency_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
	curl_easy_cleanup(c);
out:
	curl_slist_free_all(hl);
	curl_slist_free_all(pin);
	if (r->code > 0)
		return true;
	snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(rc));
	return false;
}

/* A GET's response body, kept up to max bytes. */
struct sink {
	char	*buf;
	size_t	 len, max;
};

static size_t
keep(char *p, size_t size, size_t n, void *arg)
{
	struct sink	*s = arg;
	char		*b;

	if (s->len + size * n > s->max || (b = realloc(s->buf, s->len + size * n + 1)) == NULL)
		return 0;
	memcpy(b + s->len, p, size * n);
	s->buf = b;
	s->len += size * n;
	s->buf[s->len] = '\0';
	return size * n;
}

bool
lk_outbound_get(const char *url, bool allow_http, size_t max, unsigned int connect_timeout,
    unsigned int timeout, char **body, size_t *len, long *code, char *why, size_t whysz)
{
	struct sink	 s = { NULL, 0, max };
	CURLcode	 rc = CURLE_OUT_OF_MEMORY;
	CURL		*c;

	*body = NULL;
	*len = 0;
	*code = 0;
	pthread_once(&curl_once, curl_init);
	if ((c = curl_easy_init()) != NULL) {
		set_common(c, url, allow_http, connect_timeout, timeout);
		/* GitHub's API refuses requests without a User-Agent. */
		curl_easy_setopt(c, CURLOPT_USERAGENT, "latchkey");
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
		if ((rc = curl_easy_perform(c)) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
		curl_easy_cleanup(c);
	}
	if (rc != CURLE_OK) {
		snprintf(why, whysz, "%s", rc == CURLE_WRITE_ERROR ?
		    "the response is larger than expected" : curl_easy_strerror(rc));
		free(s.buf);
		return false;
	}
	*body = s.buf;
	*len = s.len;
	return true;
}
