/* fields.c — the field validators: what a declared field accepts and how it is normalised. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/fields.h"
#include "base/net.h"
#include "base/scopes.h"
#include "base/timefmt.h"

bool
lk_fields_text_ok(const char *s, int64_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	int64_t			 chars = 0;

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		if ((*p & 0xc0) != 0x80)
			chars++;
		/* C1 controls U+0080..U+009F are encoded C2 80..C2 9F */
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return false;
	}
	return chars >= 1 && chars <= max;
}

/* 1..max bytes of visible ASCII (0x21..0x7e). */
static bool
word_ok(const char *s, int64_t max)
{
	const unsigned char	*p = (const unsigned char *)s;

	for (; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	return p != (const unsigned char *)s && p - (const unsigned char *)s <= max;
}

/*
 * A JSON array of scopes, or (when text is true: query strings and forms) one
 * "a b,c" string, as the normalised scope string.
 */
#define SCOPES_SHAPE "must be a JSON array of scope strings, such as [\"keys:read\", \"verify\"]"

static bool
scopes_value(json_t *v, bool text, char *out, size_t size, const char **why,
    char whybuf[LK_SCOPES_WHY])
{
	json_t	*e;
	size_t	 i;

	out[0] = '\0';
	*why = SCOPES_SHAPE;
	if (json_is_string(v) && !text) {
		*why = SCOPES_SHAPE
		    " (one space or comma separated string is for form bodies only)";
		return false;
	}
	if (json_is_string(v) || json_is_array(v))
		*why = whybuf;
	if (json_is_string(v))
		return lk_scopes_add_text(out, size, json_string_value(v), whybuf);
	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			*why = SCOPES_SHAPE;
			return false;
		}
		if (!lk_scopes_add(out, size, json_string_value(e), whybuf))
			return false;
	}
	return true;
}

/* An integer min..max from a JSON integer or a string of digits. */
static bool
int_value(json_t *v, int64_t min, int64_t max, int64_t *out)
{
	if (json_is_integer(v))
		*out = json_integer_value(v);
	else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;

		if (!isdigit((unsigned char)*s) || strlen(s) > 18)
			return false;
		*out = strtoll(s, &end, 10);
		if (*end != '\0')
			return false;
	} else
		return false;
	return *out >= min && *out <= max;
}

/*
 * Form values for object fields are JSON text. NULL if v is not an object,
 * with why saying so (and where form text stops being JSON).
 */
static json_t *
object_value(json_t *v, const char **why, char *buf, size_t size)
{
	json_error_t	 err;
	json_t		*o;

	*why = "must be a JSON object";
	if (json_is_object(v))
		return json_incref(v);
	if (!json_is_string(v))
		return NULL;
	if ((o = json_loads(json_string_value(v), JSON_REJECT_DUPLICATES, &err)) == NULL) {
		snprintf(buf, size, "must be a JSON object: not valid JSON at line %d, "
		    "column %d (%.80s)", err.line, err.column, err.text);
		*why = buf;
		return NULL;
	}
	if (json_is_object(o))
		return o;
	json_decref(o);
	return NULL;
}

/*
 * An allowlist: a JSON array of strings (or, from a form, one string with
 * spaces, commas or newlines between entries), each one address or CIDR
 * range; at most max. out: the entries, space-separated.
 */
static bool
ips_value(json_t *v, bool text, int64_t max, char *out, size_t size, const char **why,
    char *buf, size_t bufsz)
{
	char		 entry[LK_NET_ADDR_MAX + 8], err[96];
	const char	*s;
	json_t		*list, *e;
	struct lk_cidr	 c;
	size_t		 i, n, o = 0, len;
	bool		 ok = true;

	*why = "must be a list of IPv4 or IPv6 addresses or CIDR ranges";
	if (text && json_is_string(v)) {
		list = json_array();
		for (s = json_string_value(v); *s != '\0'; s += len) {
			s += strspn(s, " ,\t\r\n");
			if ((len = strcspn(s, " ,\t\r\n")) > 0)
				json_array_append_new(list, json_stringn(s, len));
		}
	} else if (json_is_array(v))
		list = json_incref(v);
	else
		return false;
	out[0] = '\0';
	if ((int64_t)json_array_size(list) > max) {
		snprintf(buf, bufsz, "holds at most %lld addresses or ranges, not %zu",
		    (long long)max, json_array_size(list));
		*why = buf;
		ok = false;
	}
	json_array_foreach(list, i, e) {
		if (!ok)
			break;
		s = json_string_value(e);
		len = s != NULL ? strlen(s) : 0;
		if (s == NULL || len == 0 || len >= sizeof(entry) || strpbrk(s, " ,\t\r\n") ||
		    !lk_net_cidrs_parse(s, &c, 1, &n, err, sizeof(err)) || n != 1 ||
		    o + len + 2 > size) {
			snprintf(buf, bufsz, "entry %zu (%.60s) is not an IPv4 or IPv6 address or "
			    "CIDR range such as 203.0.113.7, 198.51.100.0/24 or 2001:db8::/32",
			    i + 1, s != NULL ? s : "not a string");
			*why = buf;
			ok = false;
			break;
		}
		if (o > 0)
			out[o++] = ' ';
		memcpy(out + o, s, len);
		o += len;
		out[o] = '\0';
	}
	json_decref(list);
	return ok;
}

/* Credits and their refill (LK_FT_CREDITS), normalised. */
static json_t *
credits_value(json_t *o)
{
	static const char *const intervals[] = { "daily", "monthly" };
	json_t		*r, *refill = json_null();
	const char	*iv;
	int64_t		 rem, amount, day = 1;
	size_t		 keys = 1;

	if (!int_value(json_object_get(o, "remaining"), 0, LK_FIELDS_CREDITS_MAX, &rem))
		return NULL;
	if ((r = json_object_get(o, "refill")) != NULL) {
		keys++;
		if (!json_is_null(r)) {
			iv = json_string_value(json_object_get(r, "interval"));
			if (!json_is_object(r) ||
			    !int_value(json_object_get(r, "amount"), 1, LK_FIELDS_CREDITS_MAX,
			    &amount) || iv == NULL ||
			    (strcmp(iv, intervals[0]) != 0 && strcmp(iv, intervals[1]) != 0) ||
			    json_object_size(r) > 3 ||
			    (json_object_get(r, "day_of_month") != NULL &&
			    (strcmp(iv, "monthly") != 0 ||
			    !int_value(json_object_get(r, "day_of_month"), 1, 31, &day))) ||
			    json_object_size(r) != 2U + (json_object_get(r, "day_of_month") != NULL))
				return NULL;
			refill = json_pack("{s:I,s:s,s:o}", "amount", (json_int_t)amount,
			    "interval", iv, "day_of_month", strcmp(iv, "monthly") == 0 ?
			    json_integer(day) : json_null());
		}
	}
	if (json_object_size(o) != keys) {
		json_decref(refill);
		return NULL;
	}
	return json_pack("{s:I,s:o}", "remaining", (json_int_t)rem, "refill", refill);
}

/* "a, b or c" */
static void
choices_text(const char *const *choices, char *buf, size_t size)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; choices[i] != NULL && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
		    i == 0 ? "" : choices[i + 1] == NULL ? " or " : ", ", choices[i]);
}

bool
lk_fields_value(const struct lk_field *f, json_t *v, bool text, json_t **out,
    const char **why, char *buf, size_t size)
{
	char	 scopes[LK_SCOPES_BUF], max[24], list[160];
	int64_t	 n;
	json_t	*o;
	size_t	 i;

	switch (f->type) {
	case LK_FT_TEXT:
		snprintf(buf, size, "must be text of 1 to %lld characters, without control "
		    "characters", (long long)f->max);
		*why = buf;
		if (!json_is_string(v) || !lk_fields_text_ok(json_string_value(v), f->max))
			return false;
		*out = json_incref(v);
		return true;
	case LK_FT_WORD:
		snprintf(buf, size, "must be 1 to %lld visible ASCII characters, without spaces",
		    (long long)f->max);
		*why = buf;
		if (!json_is_string(v) || !word_ok(json_string_value(v), f->max))
			return false;
		*out = json_incref(v);
		return true;
	case LK_FT_ENUM:
		choices_text(f->choices, list, sizeof(list));
		snprintf(buf, size, "must be one of %s", list);
		*why = buf;
		for (i = 0; json_is_string(v) && f->choices[i] != NULL; i++)
			if (strcmp(json_string_value(v), f->choices[i]) == 0) {
				*out = json_incref(v);
				return true;
			}
		return false;
	case LK_FT_BOOL:
		*why = "must be true or false";
		if (json_is_boolean(v) || (text && json_is_string(v) &&
		    (strcmp(json_string_value(v), "true") == 0 ||
		    strcmp(json_string_value(v), "false") == 0))) {
			*out = json_boolean(json_is_true(v) ||
			    (json_is_string(v) && strcmp(json_string_value(v), "true") == 0));
			return true;
		}
		return false;
	case LK_FT_ID:
		snprintf(buf, size, "must be an id such as %s... (as the API shows it) or me",
		    f->choices[0]);
		*why = buf;
		if (!json_is_string(v))
			return false;
		if (strcmp(json_string_value(v), "me") != 0 &&
		    !lk_crypto_public_id_ok(json_string_value(v), f->choices[0]))
			return false;
		*out = json_incref(v);
		return true;
	case LK_FT_SCOPES:
		if (size < LK_SCOPES_WHY)
			return false;
		if (!scopes_value(v, text, scopes, sizeof(scopes), why, buf))
			return false;
		*out = json_string(scopes);
		return true;
	case LK_FT_DURATION:
		lk_duration_format(f->max, max, sizeof(max));
		snprintf(buf, size, "must be a duration (seconds, or a number with s, m, h "
		    "or d) of at most %s", max);
		*why = buf;
		if (json_is_integer(v))
			n = json_integer_value(v);
		else if (json_is_string(v) && strcmp(json_string_value(v), "0") == 0)
			n = 0;
		else if (!json_is_string(v) ||
		    !lk_duration_parse(json_string_value(v), f->max, &n))
			return false;
		if (n < ((f->flags & LK_FF_ZERO) ? 0 : 1) || n > f->max)
			return false;
		*out = json_integer(n);
		return true;
	case LK_FT_TIME:
		*why = "must be an RFC 3339 time such as 2026-11-22T11:30:00Z";
		if (!json_is_string(v) || !lk_time_parse(json_string_value(v), &n))
			return false;
		*out = json_integer(n);
		return true;
	case LK_FT_INT:
		snprintf(buf, size, "must be a whole number from %d to %lld",
		    (f->flags & LK_FF_ZERO) ? 0 : 1, (long long)f->max);
		*why = buf;
		if (!int_value(v, (f->flags & LK_FF_ZERO) ? 0 : 1, f->max, &n))
			return false;
		*out = json_integer(n);
		return true;
	case LK_FT_OBJECT:
		if ((o = object_value(v, why, buf, size)) == NULL)
			return false;
		{
			char *s = json_dumps(o, JSON_COMPACT);
			size_t len = s != NULL ? strlen(s) : SIZE_MAX;

			free(s);
			if ((int64_t)len > f->max) {
				snprintf(buf, size, "must be a JSON object of at most %lld bytes "
				    "as compact JSON (this one: %zu)", (long long)f->max, len);
				*why = buf;
				json_decref(o);
				return false;
			}
		}
		*out = o;
		return true;
	case LK_FT_HEX:
		snprintf(buf, size, "must be %lld hexadecimal digits", (long long)f->max);
		*why = buf;
		if (!json_is_string(v) || (int64_t)json_string_length(v) != f->max ||
		    strspn(json_string_value(v), "0123456789abcdefABCDEF") != (size_t)f->max)
			return false;
		{
			char	*lower = strdup(json_string_value(v));

			for (i = 0; lower != NULL && lower[i] != '\0'; i++)
				lower[i] = (char)tolower((unsigned char)lower[i]);
			*out = lower != NULL ? json_string(lower) : NULL;
			free(lower);
		}
		return *out != NULL;
	case LK_FT_RATELIMIT:
		o = object_value(v, why, buf, size);
		if (*why != buf)	/* not a JSON syntax error: state the shape */
			*why = "must be {\"limit\": 1..1000000000, \"window\": 1..86400 seconds}";
		if (o == NULL)
			return false;
		{
			int64_t lim, win;
			bool ok = json_object_size(o) == 2 &&
			    int_value(json_object_get(o, "limit"), 1, 1000000000, &lim) &&
			    int_value(json_object_get(o, "window"), 1, 86400, &win);

			json_decref(o);
			if (!ok)
				return false;
			*out = json_pack("{s:I,s:I}", "limit", (json_int_t)lim,
			    "window", (json_int_t)win);
		}
		return true;
	case LK_FT_IPS:
		{
			char ips[LK_FIELDS_IPS_BUF];

			if (!ips_value(v, text, f->max, ips, sizeof(ips), why, buf, size))
				return false;
			*out = json_string(ips);
		}
		return true;
	case LK_FT_CREDITS:
		o = object_value(v, why, buf, size);
		if (*why != buf)	/* not a JSON syntax error: state the shape */
			*why = "must be {\"remaining\": 0..1000000000000, \"refill\": null or "
			    "{\"amount\": 1..1000000000000, \"interval\": \"daily\" or "
			    "\"monthly\", \"day_of_month\": 1..31 (monthly only)}}";
		if (o == NULL)
			return false;
		*out = credits_value(o);
		json_decref(o);
		return *out != NULL;
	}
	return false;
}

static void
problem(json_t *errors, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(json_t *errors, const char *field, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message", msg));
}

size_t
lk_fields_check(const struct lk_field *table, json_t *in, bool text, json_t **out,
    json_t *errors)
{
	const char		*name, *why;
	char			 whybuf[256];
	json_t			*v, *nv;
	const struct lk_field	*f;
	size_t			 n = json_array_size(errors);

	*out = json_object();
	json_object_foreach(in, name, v) {
		for (f = table; f->name != NULL; f++)
			if (strcmp(f->name, name) == 0)
				break;
		if (f->name == NULL)
			problem(errors, name, "Unknown or read-only field '%.64s'", name);
		else if ((f->flags & LK_FF_NULLABLE) && (json_is_null(v) ||
		    (json_is_string(v) && json_string_length(v) == 0)))
			json_object_set_new(*out, name, json_null());
		else if (json_is_array(v) && f->type != LK_FT_SCOPES && text)
			problem(errors, name, "Field '%s' is given more than once", name);
		else if (!lk_fields_value(f, v, text, &nv, &why, whybuf, sizeof(whybuf)))
			problem(errors, name, "Field '%s' %s", name, why);
		else
			json_object_set_new(*out, name, nv);
	}
	/* a field given with a bad value is not missing too */
	for (f = table; f->name != NULL; f++)
		if ((f->flags & LK_FF_REQUIRED) && json_object_get(in, f->name) == NULL)
			problem(errors, f->name, "Field '%s' is required", f->name);
	return json_array_size(errors) - n;
}

bool
lk_fields_object(json_t *in, const struct lk_field *table, bool text, json_t **out,
    struct lk_fields_err *err)
{
	json_t			*errors = json_array(), *first;
	const char		*name;
	const struct lk_field	*f;

	if (lk_fields_check(table, in, text, out, errors) == 0) {
		json_decref(errors);
		return true;
	}
	/* the first problem, its name as the table or in holds it (errors goes) */
	first = json_array_get(errors, 0);
	name = json_string_value(json_object_get(first, "field"));
	for (f = table; f->name != NULL && strcmp(f->name, name) != 0; f++)
		;
	err->field = f->name != NULL ? f->name :
	    json_object_iter_key(json_object_iter_at(in, name));
	err->unknown = f->name == NULL;
	snprintf(err->msg, sizeof(err->msg), "%s",
	    json_string_value(json_object_get(first, "message")));
	json_decref(errors);
	json_decref(*out);
	*out = NULL;
	return false;
}
