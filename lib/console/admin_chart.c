/*
 * admin_chart.c — the key page's usage section: 30 days of uses by outcome as
 * a server-drawn SVG bar chart (a y scale, every day ticked, dates), a
 * sentence of totals and the daily numbers as a table (its text alternative).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "console/admin.h"
#include "model/usage.h"

#define DAYS	30	/* of the usage chart */

#define OUTCOMES	LK_OUTCOME__MAX

/* DAYS days of usage, oldest first, as the usage API's "data" gives them. */
struct usage {
	int64_t		 n[DAYS][OUTCOMES], total[DAYS], sum[OUTCOMES], all, max;
	int		 busiest;		/* the day of max */
	char		 date[DAYS][11];	/* "YYYY-MM-DD" */
	char		 text[OUTCOMES][32];	/* each outcome in words: "rate limited" */
};

static void
usage_read(struct usage *u, json_t *data, int64_t now)
{
	size_t	 n = json_array_size(data), o;
	int	 d;

	memset(u, 0, sizeof(*u));
	for (o = 0; o < OUTCOMES; o++) {
		char *p;

		snprintf(u->text[o], sizeof(u->text[o]), "%s", lk_outcome_name(o));
		while ((p = strchr(u->text[o], '_')) != NULL)
			*p = ' ';
	}
	for (d = 0; d < DAYS; d++) {
		/* the newest DAYS entries, right-aligned so today is the last day */
		json_t *day = n >= DAYS ? json_array_get(data, n - DAYS + (size_t)d) : NULL;
		char t[LK_TIME_MAX];

		lk_time_format((now / 86400 - (DAYS - 1) + d) * 86400, t);
		snprintf(u->date[d], sizeof(u->date[d]), "%.10s",
		    day != NULL && json_is_string(json_object_get(day, "date")) ?
		    lk_admin_str(day, "date") : t);
		for (o = 0; day != NULL && o < OUTCOMES; o++) {
			u->n[d][o] = json_integer_value(json_object_get(day, lk_outcome_name(o)));
			u->total[d] += u->n[d][o];
			u->sum[o] += u->n[d][o];
		}
		u->all += u->total[d];
		if (u->total[d] > u->max) {
			u->max = u->total[d];
			u->busiest = d;
		}
	}
}

/* Whether the legend and the table show outcome o: valid always, the others if they occurred. */
static bool
occurred(const struct usage *u, size_t o)
{
	return o == LK_OUTCOME_VALID || u->sum[o] > 0;
}

/* A count in at most 4 characters for the chart: 950, 1.2k, 12k, 3.4M. */
static void
short_count(int64_t v, char *out, size_t size)
{
	if (v < 1000)
		snprintf(out, size, "%lld", (long long)v);
	else if (v < 10000)
		snprintf(out, size, "%lld.%lldk", (long long)(v / 1000), (long long)(v % 1000 / 100));
	else if (v < 1000000)
		snprintf(out, size, "%lldk", (long long)(v / 1000));
	else
		snprintf(out, size, "%lld.%lldM", (long long)(v / 1000000),
		    (long long)(v % 1000000 / 100000));
}

/* "Nov 4" of "YYYY-MM-DD". */
static void
short_date(const char *ymd, char *out, size_t size)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	int m = atoi(ymd + 5);

	snprintf(out, size, "%s %d", m >= 1 && m <= 12 ? months[m - 1] : "?", atoi(ymd + 8));
}

/* The y scale's step: 1, 2 or 5 times a power of ten, so that at most 5 steps reach max. */
static int64_t
scale_step(int64_t max)
{
	static const int	 m[] = { 1, 2, 5 };
	int64_t			 p;
	size_t			 i;

	for (p = 1; p < INT64_MAX / 50; p *= 10)
		for (i = 0; i < LK_NELEM(m); i++)
			if (m[i] * p * 5 >= max)
				return m[i] * p;
	return p;
}

/* The size of one drawing of the chart (in SVG user units = CSS px at scale 1). */
struct chart_box {
	const char	*cls;
	int		 w, h, left, right, top, bottom;
	bool		 values;	/* each day's total above its bar */
};

static void
svg_rect(struct lk_html *h, const char *cls, double x, double y, double w, double ht)
{
	char xs[24], ys[24], ws[24], hs[24];

	snprintf(xs, sizeof(xs), "%.1f", x);
	snprintf(ys, sizeof(ys), "%.1f", y);
	snprintf(ws, sizeof(ws), "%.1f", w);
	snprintf(hs, sizeof(hs), "%.1f", ht);
	lk_html_leaf(h, LK_E_RECT, NULL, LK_A_CLASS, cls, LK_A_X, xs, LK_A_Y, ys,
	    LK_A_WIDTH, ws, LK_A_HEIGHT, hs, LK_A__MAX);
}

static void
svg_text(struct lk_html *h, const char *cls, double x, double y, const char *text)
{
	char xs[24], ys[24];

	snprintf(xs, sizeof(xs), "%.1f", x);
	snprintf(ys, sizeof(ys), "%.1f", y);
	lk_html_leaf(h, LK_E_SVGTEXT, text, LK_A_CLASS, cls, LK_A_X, xs, LK_A_Y, ys, LK_A__MAX);
}

/*
 * One drawing of the chart: a y axis with a scale, a bar per day stacked by
 * outcome (each day titled with its numbers), a tick per day and a date every
 * 7 days. Drawn twice, wide and narrow (CSS shows one), so that its text is
 * legible at both sizes.
 */
static void
chart_svg(struct lk_admin *a, const struct usage *u, const struct chart_box *b,
    const char *label)
{
	struct lk_html	*h = &a->h;
	double		 x0 = b->left, x1 = b->w - b->right, y0 = b->top, y1 = b->h - b->bottom;
	double		 slot = (x1 - x0) / DAYS, bar = slot * .7;
	int64_t		 step = scale_step(u->max), top, v;
	char		 vb[32], text[64], cls[8];
	int		 d;
	size_t		 o;

	top = u->max > 0 ? (u->max + step - 1) / step * step : 4 * step;
	snprintf(vb, sizeof(vb), "0 0 %d %d", b->w, b->h);
	lk_html_elem(h, LK_E_SVG, LK_A_CLASS, b->cls, LK_A_VIEWBOX, vb, LK_A_ROLE, "img",
	    LK_A_ARIA_LABEL, label, LK_A__MAX);
	for (v = 0; v <= top; v += step) {
		double y = y1 - (double)v * (y1 - y0) / (double)top;

		svg_rect(h, v == 0 ? "axis" : "grid", x0, y - (v == 0 ? 0 : .5), x1 - x0, 1);
		short_count(v, text, sizeof(text));
		svg_text(h, "ya", x0 - 6, y + 4, text);
	}
	for (d = 0; d < DAYS; d++) {
		double	cx = x0 + slot * d + slot / 2, base = y1;

		lk_html_elem(h, LK_E_G, LK_A_CLASS, "day", LK_A__MAX);
		lk_html_elem(h, LK_E_SVGTITLE, LK_A__MAX);
		lk_html_textf(h, "%s: %lld", u->date[d], (long long)u->total[d]);
		for (o = 0; o < OUTCOMES; o++)
			if (u->n[d][o] > 0)
				lk_html_textf(h, ", %s %lld", u->text[o],
				    (long long)u->n[d][o]);
		lk_html_close(h);
		svg_rect(h, "slot", x0 + slot * d, y0, slot, y1 - y0);
		for (o = 0; o < OUTCOMES; o++) {
			double px = (double)u->n[d][o] * (y1 - y0) / (double)top;

			if (u->n[d][o] == 0)
				continue;
			base -= px;
			snprintf(cls, sizeof(cls), "o%zu", o);
			svg_rect(h, cls, cx - bar / 2, base, bar, px);
		}
		if (b->values && u->total[d] > 0) {
			short_count(u->total[d], text, sizeof(text));
			svg_text(h, "val", cx, base - 3, text);
		}
		svg_rect(h, "axis", cx - .5, y1, 1, 4);
		lk_html_close(h);
		if ((DAYS - 1 - d) % 7 == 0) {
			short_date(u->date[d], text, sizeof(text));
			/* the last date ends at the axis' end, the others are centred on their day */
			svg_text(h, d == DAYS - 1 ? "xr" : "xl", d == DAYS - 1 ? x1 : cx,
			    b->h - 8, text);
		}
	}
	if (u->max == 0)
		svg_text(h, "xl", (x0 + x1) / 2, (y0 + y1) / 2, "No uses in the last 30 days");
	lk_html_close(h);
}

/*
 * The usage section: totals in words, the chart (wide and narrow drawings),
 * its legend, and the daily numbers as a table (newest first; the outcomes
 * that occurred, valid always).
 */
void
lk_admin_usage_section(struct lk_admin *a, json_t *data)
{
	static const struct chart_box wide = { "chart chart-wide", 760, 240, 44, 10, 18, 28, true };
	static const struct chart_box narrow = { "chart chart-narrow", 360, 200, 34, 6, 10, 28,
	    false };
	struct lk_html	*h = &a->h;
	struct usage	 u;
	char		 label[300], cls[16];
	const char	*sep;
	int		 d;
	size_t		 o;

	usage_read(&u, data, a->req->now);
	lk_html_elem(h, LK_E_SECTION, LK_A_ID, "usage", LK_A_ARIA_LABELLEDBY, "usage-h", LK_A__MAX);
	lk_html_leaf(h, LK_E_H2, "Usage, last 30 days", LK_A_ID, "usage-h", LK_A__MAX);
	lk_html_elem(h, LK_E_P, LK_A_ID, "usage-totals", LK_A__MAX);
	lk_html_textf(h, "%lld use%s in 30 days", (long long)u.all, u.all == 1 ? "" : "s");
	for (sep = ":", o = 0; o < OUTCOMES; o++)
		if (u.sum[o] > 0) {
			lk_html_textf(h, "%s %lld %s", sep, (long long)u.sum[o], u.text[o]);
			sep = ",";
		}
	lk_html_textf(h, ". Today: %lld.", (long long)u.total[DAYS - 1]);
	if (u.max > 0)
		lk_html_textf(h, " Busiest day: %s (%lld).", u.date[u.busiest], (long long)u.max);
	lk_html_close(h);
	snprintf(label, sizeof(label), "Bar chart of uses per day over the last %d days, stacked "
	    "by outcome: %lld in all, at most %lld on one day. The daily numbers are in the "
	    "table below.", DAYS, (long long)u.all, (long long)u.max);
	chart_svg(a, &u, &wide, label);
	chart_svg(a, &u, &narrow, label);
	lk_html_elem(h, LK_E_P, LK_A_CLASS, "legend", LK_A__MAX);
	for (o = 0; o < OUTCOMES; o++) {
		if (!occurred(&u, o))
			continue;
		snprintf(cls, sizeof(cls), "sw o%zu", o);
		lk_html_elem(h, LK_E_SPAN, LK_A__MAX);
		lk_html_leaf(h, LK_E_SPAN, NULL, LK_A_CLASS, cls, LK_A_ARIA_HIDDEN, "true", LK_A__MAX);
		lk_html_text(h, u.text[o]);
		lk_html_close(h);
	}
	lk_html_close(h);

	lk_html_elem(h, LK_E_DETAILS, LK_A_CLASS, "edit", LK_A__MAX);
	lk_html_leaf(h, LK_E_SUMMARY, "Daily numbers", LK_A__MAX);
	lk_html_elem(h, LK_E_TABLE, LK_A_CLASS, "days", LK_A_ID, "usage-days", LK_A__MAX);
	lk_html_leaf(h, LK_E_CAPTION, "Uses per day by outcome, newest first", LK_A__MAX);
	lk_html_elem(h, LK_E_THEAD, LK_A__MAX);
	lk_html_elem(h, LK_E_TR, LK_A__MAX);
	lk_html_leaf(h, LK_E_TH, "Date", LK_A_SCOPE, "col", LK_A__MAX);
	for (o = 0; o < OUTCOMES; o++)
		if (occurred(&u, o))
			lk_html_leaf(h, LK_E_TH, u.text[o], LK_A_SCOPE, "col",
			    LK_A_CLASS, "num", LK_A__MAX);
	lk_html_leaf(h, LK_E_TH, "total", LK_A_SCOPE, "col", LK_A_CLASS, "num", LK_A__MAX);
	lk_html_close(h);
	lk_html_close(h);
	lk_html_elem(h, LK_E_TBODY, LK_A__MAX);
	for (d = DAYS - 1; d >= 0; d--) {
		lk_html_elem(h, LK_E_TR, LK_A__MAX);
		lk_html_leaf(h, LK_E_TH, u.date[d], LK_A_SCOPE, "row", LK_A__MAX);
		for (o = 0; o < OUTCOMES; o++)
			if (occurred(&u, o)) {
				lk_html_elem(h, LK_E_TD, LK_A_CLASS, "num", LK_A__MAX);
				lk_html_textf(h, "%lld", (long long)u.n[d][o]);
				lk_html_close(h);
			}
		lk_html_elem(h, LK_E_TD, LK_A_CLASS, "num", LK_A__MAX);
		lk_html_textf(h, "%lld", (long long)u.total[d]);
		lk_html_close(h);
		lk_html_close(h);
	}
	lk_html_close(h);
	lk_html_close(h);
	lk_html_close(h);
	lk_html_close(h);
}

