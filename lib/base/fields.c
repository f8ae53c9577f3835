/* fields.c — the field validators: what a declared field accepts and how it is normalised. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/fields.h"
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
static bool
scopes_value(json_t *v, bool text, char *out, size_t size, const char **why)
{
	json_t	*e;
	size_t	 i;

	out[0] = '\0';
	*why = "must be a list of scopes";
	if (json_is_string(v) && !text) {
		*why = "must be a JSON array of scope strings, such as [\"keys:read\", \"verify\"]"
		    " (one space or comma separated string is for form bodies only)";
		return false;
	}
	if (json_is_string(v))
		return lk_scopes_add_text(out, size, json_string_value(v), why);
	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			*why = "must be a list of scope strings";
			return false;
		}
		if (!lk_scopes_add(out, size, json_string_value(e), why))
			return false;
	}
	return true;
}

/* A positive integer from a JSON integer or a string of digits. */
static bool
int_value(json_t *v, int64_t max, int64_t *out)
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
	return *out >= 1 && *out <= max;
}

/* Form values for object fields are JSON text. */
static json_t *
object_value(json_t *v)
{
	if (json_is_object(v))
		return json_incref(v);
	if (json_is_string(v)) {
		json_t *o = json_loads(json_string_value(v), JSON_REJECT_DUPLICATES, NULL);

		if (json_is_object(o))
			return o;
		json_decref(o);
	}
	return NULL;
}

bool
lk_fields_value(const struct lk_field *f, json_t *v, bool text, json_t **out,
    const char **why, char *buf, size_t size)
{
	char	 scopes[LK_SCOPES_BUF], max[24];
	int64_t	 n;
	json_t	*o;
	size_t	 i;

	switch (f->type) {
	case LK_FT_TEXT:
		*why = "must be text of the allowed length, without control characters";
		if (!json_is_string(v) || !lk_fields_text_ok(json_string_value(v), f->max))
			return false;
		*out = json_incref(v);
		return true;
	case LK_FT_WORD:
		*why = "must be visible ASCII of the allowed length, without spaces";
		if (!json_is_string(v) || !word_ok(json_string_value(v), f->max))
			return false;
		*out = json_incref(v);
		return true;
	case LK_FT_ENUM:
		*why = "is not one of the allowed values";
		for (i = 0; json_is_string(v) && f->choices[i] != NULL; i++)
			if (strcmp(json_string_value(v), f->choices[i]) == 0) {
				*out = json_incref(v);
				return true;
			}
		return false;
	case LK_FT_ID:
		*why = "is not a valid id";
		if (!json_is_string(v))
			return false;
		if (strcmp(json_string_value(v), "me") != 0 &&
		    !lk_crypto_public_id_ok(json_string_value(v), f->choices[0]))
			return false;
		*out = json_incref(v);
		return true;
	case LK_FT_SCOPES:
		if (!scopes_value(v, text, scopes, sizeof(scopes), why))
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
		*why = "must be a positive whole number in range";
		if (!int_value(v, f->max, &n))
			return false;
		*out = json_integer(n);
		return true;
	case LK_FT_OBJECT:
		*why = "must be a JSON object of limited size";
		if ((o = object_value(v)) == NULL)
			return false;
		{
			char *s = json_dumps(o, JSON_COMPACT);
			bool ok = s != NULL && (int64_t)strlen(s) <= f->max;

			free(s);
			if (!ok) {
				json_decref(o);
				return false;
			}
		}
		*out = o;
		return true;
	case LK_FT_RATELIMIT:
		*why = "must be {\"limit\": 1..1000000000, \"window\": 1..86400 seconds}";
		if ((o = object_value(v)) == NULL)
			return false;
		{
			int64_t lim, win;
			bool ok = json_object_size(o) == 2 &&
			    int_value(json_object_get(o, "limit"), 1000000000, &lim) &&
			    int_value(json_object_get(o, "window"), 86400, &win);

			json_decref(o);
			if (!ok)
				return false;
			*out = json_pack("{s:I,s:I}", "limit", (json_int_t)lim,
			    "window", (json_int_t)win);
		}
		return true;
	}
	return false;
}
