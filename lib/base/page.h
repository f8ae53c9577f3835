/*
 * page.h — list paging. Lists are ordered newest first by (created_at,
 * public_id); a cursor names the last item shown as "<created_at>.<public_id>"
 * and is opaque to clients.
 */
#ifndef LK_PAGE_H
#define LK_PAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/crypto.h"
#include "base/fields.h"

#define LK_PAGE_DEFAULT	20
#define LK_PAGE_MAX	100

struct lk_cursor {
	bool		 set;
	int64_t		 created_at;
	char		 id[LK_PUBLIC_ID_MAX];
};

/* The query fields every list accepts; append them to an endpoint's table. */
#define LK_PAGE_FIELDS \
	{ "limit", LK_FT_INT, 0, LK_PAGE_MAX, NULL }, \
	{ "cursor", LK_FT_TEXT, 0, 80, NULL }

/*
 * One page of a list. A model's query asks for after and fetches limit + 1
 * rows: the extra row only says that another page exists.
 */
struct lk_page {
	int		 limit;
	struct lk_cursor after;		/* where this page starts (from the request) */
	json_t		*data;		/* the items */
	bool		 more;		/* a row past limit was seen */
	struct lk_cursor last;		/* position of the last item taken */
};

/* Fill p from validated query fields (limit, cursor); false if the cursor is malformed. */
bool		 lk_page_parse(json_t *fields, struct lk_page *p);

/* An empty first page of limit items (the CLI's way in). */
void		 lk_page_init(struct lk_page *p, int limit);

/* Empty the page before its query runs (again, when a unit of work is retried). */
void		 lk_page_begin(struct lk_page *p);

/* For each fetched row: true if it belongs on the page, false for the extra row. */
bool		 lk_page_wants(struct lk_page *p);

/* Append item (stolen), the row at (created_at, id). */
void		 lk_page_add(struct lk_page *p, json_t *item, int64_t created_at,
		    const char *id);

/* Move on to the next page: false if this was the last one. */
bool		 lk_page_next(struct lk_page *p);

/* {"data": [...], "next_cursor": "…" | null}; the page gives up its items. */
json_t		*lk_page_json(struct lk_page *p);

void		 lk_page_free(struct lk_page *p);

#endif
