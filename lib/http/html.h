/*
 * html.h — the one HTML writer (after kcgi's kcgihtml.h). It owns the page
 * buffer and the stack of open elements; every string it is given, text or
 * attribute value, is escaped, and there is no call that writes raw markup.
 * Pages are built in memory and sent whole (console/admin.c), so an error
 * half-way can still become an error page.
 */
#ifndef LK_HTML_H
#define LK_HTML_H

#include <stdbool.h>
#include <stddef.h>

#define LK_HTML_DEPTH	64

enum lk_elem {
	LK_E_A, LK_E_BODY, LK_E_BUTTON, LK_E_CAPTION, LK_E_CODE, LK_E_DD,
	LK_E_DETAILS, LK_E_DIV, LK_E_DL, LK_E_DT, LK_E_FIELDSET, LK_E_FOOTER,
	LK_E_FORM, LK_E_G, LK_E_H1, LK_E_H2, LK_E_HEAD, LK_E_HEADER, LK_E_HTML,
	LK_E_INPUT, LK_E_LABEL, LK_E_LEGEND, LK_E_LI, LK_E_LINK, LK_E_MAIN,
	LK_E_META, LK_E_NAV, LK_E_OPTION, LK_E_P, LK_E_PRE, LK_E_RECT, LK_E_SCRIPT,
	LK_E_SECTION, LK_E_SELECT, LK_E_SMALL, LK_E_SPAN, LK_E_STRONG, LK_E_SUMMARY,
	LK_E_SVG, LK_E_SVGTEXT, LK_E_SVGTITLE, LK_E_TABLE, LK_E_TBODY, LK_E_TD,
	LK_E_TEXTAREA, LK_E_TH, LK_E_THEAD, LK_E_TITLE, LK_E_TR, LK_E_UL,
	LK_E__MAX
};

enum lk_attr {
	LK_A_ACTION, LK_A_ARIA_CURRENT, LK_A_ARIA_DESCRIBEDBY, LK_A_ARIA_HIDDEN,
	LK_A_ARIA_INVALID, LK_A_ARIA_LABEL, LK_A_ARIA_LABELLEDBY, LK_A_AUTOCOMPLETE,
	LK_A_CHARSET, LK_A_CHECKED, LK_A_CLASS, LK_A_CONTENT, LK_A_DATA_COPY,
	LK_A_DATA_LABEL, LK_A_DEFER, LK_A_FILL, LK_A_FOR, LK_A_HEIGHT, LK_A_HIDDEN,
	LK_A_HREF, LK_A_ID, LK_A_LANG, LK_A_MAX, LK_A_METHOD, LK_A_MIN, LK_A_NAME,
	LK_A_OPEN, LK_A_REL, LK_A_REQUIRED, LK_A_ROLE, LK_A_ROWS, LK_A_SCOPE,
	LK_A_SELECTED, LK_A_SRC, LK_A_TABINDEX, LK_A_TITLE, LK_A_TYPE, LK_A_VALUE,
	LK_A_VIEWBOX, LK_A_WIDTH, LK_A_X, LK_A_Y,
	LK_A__MAX
};

struct lk_html {
	char		*buf;
	size_t		 len, cap;
	bool		 failed;		/* out of memory: the page is unusable */
	enum lk_elem	 stack[LK_HTML_DEPTH];
	size_t		 depth;
};

/* Start a page: "<!DOCTYPE html>". */
void	lk_html_init(struct lk_html *h);
void	lk_html_free(struct lk_html *h);

/*
 * Open element e with attributes given as (enum lk_attr, const char *value)
 * pairs ended by LK_A__MAX. A NULL value leaves the attribute out (for
 * conditional boolean attributes pass "" or NULL). Void elements (input,
 * meta, link) are not pushed.
 */
void	lk_html_elem(struct lk_html *h, enum lk_elem e, ...);

/* lk_html_elem, then text, then close it: one call for a leaf element. */
void	lk_html_leaf(struct lk_html *h, enum lk_elem e, const char *text, ...);

/* Escaped text; the printf form formats first and escapes the result. */
void	lk_html_text(struct lk_html *h, const char *s);
void	lk_html_textf(struct lk_html *h, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Close the innermost open element / every element above depth. */
void	lk_html_close(struct lk_html *h);
void	lk_html_closeto(struct lk_html *h, size_t depth);

/* Percent-encode s for a URL query value, appended to out (size bytes, NUL-terminated). */
void	lk_html_urlencode(char *out, size_t size, const char *s);

#endif
