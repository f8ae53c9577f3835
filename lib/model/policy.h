/*
 * policy.h — what limits a key's uses beyond its status and scopes: the IP
 * allowlist, credits with their calendar refill, and a suspended account above
 * it (docs/api.md "Policies"). Pure rules, no SQL: the rows are read and
 * written by model/keys and model/use; the fields are checked by base/fields
 * (LK_FT_IPS, LK_FT_CREDITS).
 */
#ifndef LK_POLICY_H
#define LK_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/crypto.h"
#include "base/fields.h"
#include "base/fields.h"

#define LK_ALLOWED_IPS_MAX	100	/* entries of an allowlist */
#define LK_ALLOWED_IPS_BUF	LK_FIELDS_IPS_BUF	/* their text, space-separated */
#define LK_CREDITS_MAX		LK_FIELDS_CREDITS_MAX
#define LK_COST_MAX		1000

/*
 * What limits a key's uses beyond its status and scopes (docs/api.md
 * "Policies"): read with every decision.
 */
struct lk_key_policy {
	char		 allowed_ips[LK_ALLOWED_IPS_BUF];	/* "": any address */
	int64_t		 has_credits;		/* 0: unlimited */
	int64_t		 credits;		/* remaining, as stored (before a due refill) */
	int64_t		 refill_amount;		/* 0: no refill */
	char		 refill_interval[8];	/* "daily", "monthly" or "" */
	int64_t		 refill_day;		/* 1..31, monthly refills */
	int64_t		 refilled_at;		/* start of the period last refilled; 0: never */
	/* The suspended account refusing the key (its own or an ancestor); "": none. */
	char		 suspended_by[LK_PUBLIC_ID_MAX];
};

/* True if ip is allowed by p's allowlist (any address when it has none; NULL ip: only then). */
bool		 lk_policy_ip_allowed(const struct lk_key_policy *p, const char *ip);

/*
 * The start (Unix seconds, UTC) of the refill period holding now: today's
 * midnight (daily), or the last refill day of the month at midnight
 * (monthly; a day past the month's end is its last day). 0 without a refill.
 */
int64_t		 lk_policy_period_start(const struct lk_key_policy *p, int64_t now);

/* True if a refill is due at now (the period began after the last refill). */
bool		 lk_policy_refill_due(const struct lk_key_policy *p, int64_t now);

/* The credits remaining at now: the refill amount when a refill is due, else as stored. */
int64_t		 lk_policy_credits_now(const struct lk_key_policy *p, int64_t now);

/* The API fields "allowed_ips" (array or null) and "credits" (object or null) into o. */
void		 lk_policy_json(const struct lk_key_policy *p, int64_t now, json_t *o);

#endif
