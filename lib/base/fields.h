/*
 * fields.h — declared fields and their validators. They check values, not
 * requests: the request layer (lk_req_fields) runs them over a body or query,
 * and the model and the CLI use the same checks on values they are given.
 */
#ifndef LK_FIELDS_H
#define LK_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* A declared field: body and query fields are only reachable through a table of these. */
enum lk_ftype {
	LK_FT_TEXT,	/* string of 1..max characters, no control characters */
	LK_FT_WORD,	/* 1..max visible ASCII characters, no spaces (ids, action names) */
	LK_FT_ENUM,	/* one of choices */
	LK_FT_ID,	/* public id: choices[0] is its prefix ("acct_") */
	LK_FT_SCOPES,	/* list -> one space-separated string of valid scopes; one
			   space/comma separated string only from a query or form */
	LK_FT_DURATION,	/* seconds or 30m/12h/90d, <= max -> integer seconds */
	LK_FT_TIME,	/* RFC 3339 -> integer Unix seconds */
	LK_FT_INT,	/* integer 1..max (strings of digits accepted) */
	LK_FT_OBJECT,	/* JSON object, serialised <= max bytes */
	LK_FT_RATELIMIT, /* {"limit": 1..1000000000, "window": 1..86400} */
	LK_FT_IPS,	/* list of <= max IPv4/IPv6 addresses or CIDR ranges -> one
			   space-separated string; one string (spaces, commas or
			   newlines between) only from a query or form */
	LK_FT_BOOL,	/* true or false ("true"/"false" from a query or form) */
	LK_FT_CREDITS,	/* {"remaining": 0..LK_FIELDS_CREDITS_MAX, "refill": null |
			   {"amount": 1..LK_FIELDS_CREDITS_MAX, "interval": "daily" |
			   "monthly", "day_of_month": 1..31 (monthly; default 1)}} */
	LK_FT_HEX	/* exactly max hexadecimal digits (a digest) -> lower case */
};

#define LK_FIELDS_CREDITS_MAX	1000000000000LL
#define LK_FIELDS_IPS_BUF	5001	/* an allowlist's text (api_keys.allowed_ips) */

#define LK_FF_REQUIRED	0x1
#define LK_FF_NULLABLE	0x2	/* JSON null (or an empty form value) is kept as null */
#define LK_FF_ZERO	0x4	/* a DURATION or INT may be 0 */

struct lk_field {
	const char		*name;
	enum lk_ftype		 type;
	unsigned int		 flags;
	int64_t			 max;
	const char *const	*choices;	/* NULL-terminated */
};

/* True if s is 1..max characters of UTF-8 text without control characters (C0, DEL, C1). */
bool		 lk_fields_text_ok(const char *s, int64_t max);

/*
 * Validate v against f; on success set *out to a new reference to the
 * normalised value. text: v comes from a query string or a form (a list may
 * be one string). On failure why says what is wrong; it may point into buf
 * (size bytes).
 */
bool		 lk_fields_value(const struct lk_field *f, json_t *v, bool text,
		    json_t **out, const char **why, char *buf, size_t size);

/*
 * Validate every field of in (an object, or NULL for none) against table: an
 * unknown field, a bad value, a repeated single-value field (text: a list
 * given as several form values) and a missing required field are each one
 * problem, appended to errors as {"field", "message"} in in's order, then the
 * table's (the messages name the field and the rule). *out is a new object of
 * the normalised values of the good fields. Returns the number of problems.
 */
size_t		 lk_fields_check(const struct lk_field *table, json_t *in, bool text,
		    json_t **out, json_t *errors);

/* Why lk_fields_object refused an object. */
struct lk_fields_err {
	const char	*field;		/* the field named (a table entry, or a key of the object) */
	bool		 unknown;	/* field is not in the table */
	char		 msg[320];
};

/*
 * lk_fields_check with only the first problem: refused (false) with err
 * saying which field and why. On true *out is a new object of the normalised
 * values (lk_fields_value). text: as lk_fields_value; a repeated field (an
 * array) is then refused unless it is a scope list.
 */
bool		 lk_fields_object(json_t *in, const struct lk_field *table, bool text,
		    json_t **out, struct lk_fields_err *err);

#endif
