/* net.h — client addresses: CIDR lists and the X-Forwarded-For rule for trusted proxies. */
#ifndef LK_NET_H
#define LK_NET_H

#include <stdbool.h>
#include <stddef.h>

#define LK_NET_CIDRS_MAX	32
#define LK_NET_ADDR_MAX		46	/* INET6_ADDRSTRLEN */

/* One network: an IPv4 (family 4, 4 bytes) or IPv6 (family 6, 16 bytes) prefix of bits bits. */
struct lk_cidr {
	int		 family;
	unsigned char	 addr[16];
	unsigned int	 bits;
};

/*
 * Parse a list of networks separated by spaces or commas ("127.0.0.1
 * 10.0.0.0/8, ::1"); an address without "/bits" is a single host. Fills
 * out[0..*n). False (with why) on a malformed entry, host bits set outside
 * the prefix, or more than max entries.
 */
bool	lk_net_cidrs_parse(const char *text, struct lk_cidr *out, size_t max,
	    size_t *n, char *why, size_t whysz);

/* True if ip (text; IPv4-mapped IPv6 counts as IPv4) lies in one of list[0..n). */
bool	lk_net_in(const struct lk_cidr *list, size_t n, const char *ip);

/*
 * The client address of a request from peer (REMOTE_ADDR) carrying the
 * X-Forwarded-For value xff (NULL if none): peer unless it is trusted; else
 * the rightmost hop of xff that is not trusted (walking right to left over
 * trusted hops; a malformed hop stops the walk at the last good one; all
 * trusted: the leftmost). Written to out in canonical text form.
 */
void	lk_net_client_ip(const struct lk_cidr *list, size_t n, const char *peer,
	    const char *xff, char *out, size_t outsz);

#endif
