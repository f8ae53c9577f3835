/* policy.c — the IP allowlist and the credits' calendar (model/policy.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/net.h"
#include "model/policy.h"

#define DAY	86400

bool
lk_policy_ip_allowed(const struct lk_key_policy *p, const char *ip)
{
	struct lk_cidr	 list[LK_ALLOWED_IPS_MAX];
	size_t		 n;
	char		 why[8];

	if (p->allowed_ips[0] == '\0')
		return true;
	if (ip == NULL || *ip == '\0')
		return false;
	if (!lk_net_cidrs_parse(p->allowed_ips, list, LK_ALLOWED_IPS_MAX, &n, why, sizeof(why)))
		return false;	/* stored lists were checked on the way in */
	return lk_net_in(list, n, ip);
}

static int
month_days(int year, int mon)	/* mon 0..11 */
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 1 && leap ? 29 : days[mon];
}

/* Midnight UTC of the refill day (clamped to the month's length) of year/mon. */
static int64_t
refill_day_of(int year, int mon, int day)
{
	struct tm t;

	memset(&t, 0, sizeof(t));
	t.tm_year = year - 1900;
	t.tm_mon = mon;
	t.tm_mday = day > month_days(year, mon) ? month_days(year, mon) : day;
	return (int64_t)timegm(&t);
}

int64_t
lk_policy_period_start(const struct lk_key_policy *p, int64_t now)
{
	struct tm	 t;
	time_t		 tt = (time_t)now;
	int64_t		 start;
	int		 year, mon;

	if (p->refill_amount <= 0)
		return 0;
	if (strcmp(p->refill_interval, "monthly") != 0)
		return now - now % DAY;
	gmtime_r(&tt, &t);
	year = t.tm_year + 1900;
	mon = t.tm_mon;
	start = refill_day_of(year, mon, (int)p->refill_day);
	if (start > now) {
		if (--mon < 0) {
			mon = 11;
			year--;
		}
		start = refill_day_of(year, mon, (int)p->refill_day);
	}
	return start;
}

bool
lk_policy_refill_due(const struct lk_key_policy *p, int64_t now)
{
	return p->has_credits && p->refill_amount > 0 &&
	    p->refilled_at < lk_policy_period_start(p, now);
}

int64_t
lk_policy_credits_now(const struct lk_key_policy *p, int64_t now)
{
	return lk_policy_refill_due(p, now) ? p->refill_amount : p->credits;
}

/* The stored allowlist (space-separated) as a JSON array, null when there is none. */
static json_t *
ips_json(const char *s)
{
	json_t	*a;
	size_t	 n;

	if (*s == '\0')
		return json_null();
	a = json_array();
	for (; *s != '\0'; s += n + (s[n] == ' ')) {
		n = strcspn(s, " ");
		json_array_append_new(a, json_stringn(s, n));
	}
	return a;
}

void
lk_policy_json(const struct lk_key_policy *p, int64_t now, json_t *o)
{
	json_t *refill = json_null();

	json_object_set_new(o, "allowed_ips", ips_json(p->allowed_ips));
	if (!p->has_credits) {
		json_object_set_new(o, "credits", json_null());
		return;
	}
	if (p->refill_amount > 0)
		refill = json_pack("{s:I,s:s,s:o}", "amount", (json_int_t)p->refill_amount,
		    "interval", p->refill_interval, "day_of_month",
		    strcmp(p->refill_interval, "monthly") == 0 ?
		    json_integer(p->refill_day) : json_null());
	json_object_set_new(o, "credits", json_pack("{s:I,s:o}", "remaining",
	    (json_int_t)lk_policy_credits_now(p, now), "refill", refill));
}
