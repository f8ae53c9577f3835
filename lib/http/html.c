/* html.c — an escaping HTML writer over a growing buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/html.h"

static const struct {
	const char	*name;
	bool		 is_void;
} elems[LK_E__MAX] = {
	[LK_E_A] = { "a", false }, [LK_E_BODY] = { "body", false },
	[LK_E_BUTTON] = { "button", false }, [LK_E_CAPTION] = { "caption", false },
	[LK_E_CODE] = { "code", false }, [LK_E_DD] = { "dd", false },
	[LK_E_DETAILS] = { "details", false },
	[LK_E_DIV] = { "div", false }, [LK_E_DL] = { "dl", false },
	[LK_E_DT] = { "dt", false }, [LK_E_FIELDSET] = { "fieldset", false },
	[LK_E_FOOTER] = { "footer", false }, [LK_E_FORM] = { "form", false },
	[LK_E_G] = { "g", false }, [LK_E_H1] = { "h1", false },
	[LK_E_H2] = { "h2", false }, [LK_E_HEAD] = { "head", false },
	[LK_E_HEADER] = { "header", false }, [LK_E_HTML] = { "html", false },
	[LK_E_INPUT] = { "input", true }, [LK_E_LABEL] = { "label", false },
	[LK_E_LEGEND] = { "legend", false }, [LK_E_LI] = { "li", false },
	[LK_E_LINK] = { "link", true }, [LK_E_MAIN] = { "main", false },
	[LK_E_META] = { "meta", true }, [LK_E_NAV] = { "nav", false },
	[LK_E_OPTION] = { "option", false }, [LK_E_P] = { "p", false },
	[LK_E_PRE] = { "pre", false }, [LK_E_RECT] = { "rect", false },
	[LK_E_SCRIPT] = { "script", false },
	[LK_E_SECTION] = { "section", false }, [LK_E_SELECT] = { "select", false },
	[LK_E_SMALL] = { "small", false }, [LK_E_SPAN] = { "span", false },
	[LK_E_STRONG] = { "strong", false }, [LK_E_SUMMARY] = { "summary", false },
	[LK_E_SVG] = { "svg", false },
	[LK_E_SVGTEXT] = { "text", false }, [LK_E_SVGTITLE] = { "title", false },
	[LK_E_TABLE] = { "table", false }, [LK_E_TBODY] = { "tbody", false },
	[LK_E_TD] = { "td", false }, [LK_E_TEXTAREA] = { "textarea", false },
	[LK_E_TH] = { "th", false }, [LK_E_THEAD] = { "thead", false },
	[LK_E_TITLE] = { "title", false }, [LK_E_TR] = { "tr", false },
	[LK_E_UL] = { "ul", false },
};

static const char *const attrs[LK_A__MAX] = {
	[LK_A_ACTION] = "action", [LK_A_ARIA_CURRENT] = "aria-current",
	[LK_A_ARIA_DESCRIBEDBY] = "aria-describedby", [LK_A_ARIA_HIDDEN] = "aria-hidden",
	[LK_A_ARIA_INVALID] = "aria-invalid",
	[LK_A_ARIA_LABEL] = "aria-label", [LK_A_ARIA_LABELLEDBY] = "aria-labelledby",
	[LK_A_AUTOCOMPLETE] = "autocomplete", [LK_A_CHARSET] = "charset",
	[LK_A_CHECKED] = "checked", [LK_A_CLASS] = "class", [LK_A_CONTENT] = "content",
	[LK_A_DATA_COPY] = "data-copy", [LK_A_DATA_LABEL] = "data-label",
	[LK_A_DEFER] = "defer", [LK_A_FILL] = "fill", [LK_A_FOR] = "for",
	[LK_A_HEIGHT] = "height", [LK_A_HIDDEN] = "hidden",
	[LK_A_HREF] = "href", [LK_A_ID] = "id", [LK_A_LANG] = "lang", [LK_A_MAX] = "max",
	[LK_A_METHOD] = "method", [LK_A_MIN] = "min", [LK_A_NAME] = "name",
	[LK_A_OPEN] = "open", [LK_A_REL] = "rel", [LK_A_REQUIRED] = "required",
	[LK_A_ROLE] = "role", [LK_A_ROWS] = "rows", [LK_A_SCOPE] = "scope",
	[LK_A_SELECTED] = "selected", [LK_A_SRC] = "src",
	[LK_A_TABINDEX] = "tabindex", [LK_A_TITLE] = "title",
	[LK_A_TYPE] = "type", [LK_A_VALUE] = "value", [LK_A_VIEWBOX] = "viewBox",
	[LK_A_WIDTH] = "width", [LK_A_X] = "x", [LK_A_Y] = "y",
};

static void
put(struct lk_html *h, const char *s, size_t n)
{
	if (h->failed)
		return;
	if (h->len + n + 1 > h->cap) {
		size_t	 cap = h->cap ? h->cap : 8192;
		char	*p;

		while (h->len + n + 1 > cap)
			cap *= 2;
		if ((p = realloc(h->buf, cap)) == NULL) {
			h->failed = true;
			return;
		}
		h->buf = p;
		h->cap = cap;
	}
	memcpy(h->buf + h->len, s, n);
	h->len += n;
	h->buf[h->len] = '\0';
}

static void
puts_raw(struct lk_html *h, const char *s)
{
	put(h, s, strlen(s));
}

/* The one escaper, for text and (double-quoted) attribute values alike. */
static void
put_escaped(struct lk_html *h, const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		const char *ent = NULL;

		switch (*p) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: break;
		}
		if (ent != NULL) {
			put(h, s, (size_t)(p - s));
			puts_raw(h, ent);
			s = p + 1;
		}
	}
	put(h, s, (size_t)(p - s));
}

void
lk_html_init(struct lk_html *h)
{
	memset(h, 0, sizeof(*h));
	puts_raw(h, "<!DOCTYPE html>\n");
}

void
lk_html_free(struct lk_html *h)
{
	free(h->buf);
	memset(h, 0, sizeof(*h));
}

static void
open_elem(struct lk_html *h, enum lk_elem e, va_list ap)
{
	int		 a;
	const char	*v;

	if ((unsigned)e >= LK_E__MAX)
		return;
	put(h, "<", 1);
	puts_raw(h, elems[e].name);
	while ((a = va_arg(ap, int)) != LK_A__MAX) {
		v = va_arg(ap, const char *);
		if (v == NULL || a < 0 || a >= LK_A__MAX)
			continue;
		put(h, " ", 1);
		puts_raw(h, attrs[a]);
		put(h, "=\"", 2);
		put_escaped(h, v);
		put(h, "\"", 1);
	}
	put(h, ">", 1);
	if (!elems[e].is_void) {
		if (h->depth < LK_HTML_DEPTH)
			h->stack[h->depth++] = e;
		else
			h->failed = true;
	}
}

void
lk_html_elem(struct lk_html *h, enum lk_elem e, ...)
{
	va_list ap;

	va_start(ap, e);
	open_elem(h, e, ap);
	va_end(ap);
}

void
lk_html_leaf(struct lk_html *h, enum lk_elem e, const char *text, ...)
{
	va_list ap;

	va_start(ap, text);
	open_elem(h, e, ap);
	va_end(ap);
	if (elems[e].is_void)
		return;
	lk_html_text(h, text != NULL ? text : "");
	lk_html_close(h);
}

void
lk_html_text(struct lk_html *h, const char *s)
{
	put_escaped(h, s);
}

void
lk_html_textf(struct lk_html *h, const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put_escaped(h, buf);
}

void
lk_html_close(struct lk_html *h)
{
	if (h->depth == 0)
		return;
	h->depth--;
	put(h, "</", 2);
	puts_raw(h, elems[h->stack[h->depth]].name);
	put(h, ">", 1);
	/* Line breaks between blocks keep the source readable. */
	switch (h->stack[h->depth]) {
	case LK_E_TR: case LK_E_P: case LK_E_DIV: case LK_E_LI: case LK_E_FORM:
	case LK_E_SECTION: case LK_E_TABLE: case LK_E_H1: case LK_E_H2:
		put(h, "\n", 1);
		break;
	default:
		break;
	}
}

void
lk_html_closeto(struct lk_html *h, size_t depth)
{
	while (h->depth > depth)
		lk_html_close(h);
}

void
lk_html_urlencode(char *out, size_t size, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 o = strlen(out);

	for (; *s != '\0' && o + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}
