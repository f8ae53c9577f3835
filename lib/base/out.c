/* out.c — the direct JSON writer (struct lk_out): escaping, integers, overflow. */
#include <stdio.h>
#include <string.h>

#include "base/out.h"

void
lk_out_reset(struct lk_out *o)
{
	o->len = 0;
	o->full = false;
}

void
lk_out_raw(struct lk_out *o, const char *s, size_t n)
{
	if (o->full || n > sizeof(o->buf) - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

void
lk_out_str(struct lk_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	lk_out_lit(o, "\"");
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch != '"' && ch != '\\' && ch != 0x7f)
			continue;
		lk_out_raw(o, s + run, i - run);
		run = i + 1;
		if (ch == '"' || ch == '\\') {
			char esc[2] = { '\\', (char)ch };

			lk_out_raw(o, esc, 2);
		} else {
			char esc[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };

			lk_out_raw(o, esc, 6);
		}
	}
	lk_out_raw(o, s + run, n - run);
	lk_out_lit(o, "\"");
}

void
lk_out_int(struct lk_out *o, int64_t v)
{
	char	b[24];
	int	n = snprintf(b, sizeof(b), "%lld", (long long)v);

	lk_out_raw(o, b, (size_t)n);
}
