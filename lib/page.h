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

#include "crypto.h"
#include "req.h"

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

/* Read limit and cursor from validated query fields; 400 on a malformed cursor. */
enum lk_err	 lk_page_parse(struct lk_req *req, json_t *fields, int *limit,
		    struct lk_cursor *cur);

/* {"data": data, "next_cursor": next or null}; steals data. */
json_t		*lk_page_json(json_t *data, const struct lk_cursor *next);

#endif
