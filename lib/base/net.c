/* net.c — CIDR matching with inet_pton, and the rightmost-untrusted-hop rule. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/net.h"

/* Parse one address (no prefix) into family/addr; IPv4-mapped IPv6 becomes IPv4. */
static bool
parse_addr(const char *s, int *family, unsigned char addr[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, addr) != 1)
		return false;
	*family = 6;
	if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = 4;
	}
	return true;
}

/* True if the first bits bits of a and b are equal. */
static bool
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned int bits)
{
	unsigned int	 whole = bits / 8, rest = bits % 8;
	unsigned char	 mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

static bool
parse_cidr(const char *s, struct lk_cidr *c)
{
	char		 buf[64], *slash, *end;
	unsigned long	 bits;
	unsigned char	 zero[16] = { 0 };
	unsigned int	 len;

	if (strlen(s) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (!parse_addr(buf, &c->family, c->addr))
		return false;
	len = c->family == 4 ? 32 : 128;
	c->bits = len;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return false;
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || bits > len)
			return false;
		c->bits = (unsigned int)bits;
	}
	/* Host bits outside the prefix are a typo (10.1.2.3/8), not a network. */
	{
		unsigned char masked[16];
		unsigned int i;

		for (i = 0; i < 16; i++) {
			unsigned int lo = i * 8;

			masked[i] = lo >= c->bits ? c->addr[i] :
			    lo + 8 <= c->bits ? 0 :
			    (unsigned char)(c->addr[i] & (0xff >> (c->bits - lo)));
		}
		if (memcmp(masked, zero, sizeof(zero)) != 0)
			return false;
	}
	return true;
}

bool
lk_net_cidrs_parse(const char *text, struct lk_cidr *out, size_t max,
    size_t *n, char *why, size_t whysz)
{
	const char	*p = text;
	char		 item[64];

	*n = 0;
	while (*p != '\0') {
		size_t len;

		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		len = strcspn(p, " \t,");
		if (len >= sizeof(item)) {
			snprintf(why, whysz, "trusted_proxies: entry too long");
			return false;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		p += len;
		if (*n == max) {
			snprintf(why, whysz, "trusted_proxies: more than %zu networks", max);
			return false;
		}
		if (!parse_cidr(item, &out[*n])) {
			snprintf(why, whysz, "trusted_proxies: '%s' is not an address or "
			    "network (such as 10.0.0.0/8 or ::1)", item);
			return false;
		}
		(*n)++;
	}
	return true;
}

static bool
in_list(const struct lk_cidr *list, size_t n, int family, const unsigned char *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].family == family && prefix_equal(list[i].addr, addr, list[i].bits))
			return true;
	return false;
}

bool
lk_net_in(const struct lk_cidr *list, size_t n, const char *ip)
{
	unsigned char	 addr[16];
	int		 family;

	return ip != NULL && parse_addr(ip, &family, addr) &&
	    in_list(list, n, family, addr);
}

/* Canonical text of addr into out. */
static void
format_addr(int family, const unsigned char *addr, char *out, size_t outsz)
{
	char buf[LK_NET_ADDR_MAX];

	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, sizeof(buf)) == NULL)
		buf[0] = '\0';
	snprintf(out, outsz, "%s", buf);
}

void
lk_net_client_ip(const struct lk_cidr *list, size_t n, const char *peer,
    const char *xff, char *out, size_t outsz)
{
	unsigned char	 addr[16];
	int		 family;
	const char	*end;

	snprintf(out, outsz, "%s", peer != NULL ? peer : "");
	if (peer == NULL || xff == NULL || !parse_addr(peer, &family, addr) ||
	    !in_list(list, n, family, addr))
		return;
	/* Walk the hops right to left while they are trusted proxies. */
	end = xff + strlen(xff);
	while (end > xff) {
		const char	*start = end;
		char		 hop[LK_NET_ADDR_MAX + 8];
		size_t		 len;

		while (start > xff && start[-1] != ',')
			start--;
		while (start < end && (*start == ' ' || *start == '\t'))
			start++;
		len = (size_t)(end - start);
		while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
			len--;
		end = start;
		while (end > xff && end[-1] != ',')
			end--;		/* only blanks before start */
		if (end > xff)
			end--;		/* the comma */
		if (len == 0)
			continue;
		if (len >= sizeof(hop))
			return;		/* malformed: keep the last good hop */
		memcpy(hop, start, len);
		hop[len] = '\0';
		if (!parse_addr(hop, &family, addr))
			return;
		format_addr(family, addr, out, outsz);
		if (!in_list(list, n, family, addr))
			return;
	}
}
