/* page.c — limit and cursor handling shared by every list. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/page.h"

bool
lk_page_parse(json_t *fields, struct lk_page *p)
{
	struct lk_cursor *cur = &p->after;
	json_t		*l = json_object_get(fields, "limit");
	const char	*c = json_string_value(json_object_get(fields, "cursor"));
	const char	*dot;
	char		*end;
	size_t		 i;

	lk_page_init(p, l != NULL ? (int)json_integer_value(l) : LK_PAGE_DEFAULT);
	if (c == NULL)
		return true;
	dot = strchr(c, '.');
	if (dot == NULL || !isdigit((unsigned char)c[0]) || dot - c > 18 ||
	    strlen(dot + 1) >= sizeof(cur->id) || dot[1] == '\0')
		return false;
	cur->created_at = strtoll(c, &end, 10);
	if (end != dot)
		return false;
	for (i = 1; dot[i] != '\0'; i++)
		if (!isalnum((unsigned char)dot[i]) && dot[i] != '_')
			return false;
	snprintf(cur->id, sizeof(cur->id), "%s", dot + 1);
	cur->set = true;
	return true;
}

void
lk_page_init(struct lk_page *p, int limit)
{
	memset(p, 0, sizeof(*p));
	p->limit = limit;
	p->data = json_array();
}

void
lk_page_begin(struct lk_page *p)
{
	json_array_clear(p->data);
	p->more = false;
	memset(&p->last, 0, sizeof(p->last));
}

bool
lk_page_wants(struct lk_page *p)
{
	if (json_array_size(p->data) < (size_t)p->limit)
		return true;
	p->more = true;
	return false;
}

void
lk_page_add(struct lk_page *p, json_t *item, int64_t created_at, const char *id)
{
	json_array_append_new(p->data, item);
	p->last.set = true;
	p->last.created_at = created_at;
	snprintf(p->last.id, sizeof(p->last.id), "%s", id);
}

bool
lk_page_next(struct lk_page *p)
{
	if (!p->more)
		return false;
	p->after = p->last;
	lk_page_begin(p);
	return true;
}

json_t *
lk_page_json(struct lk_page *p)
{
	char	 buf[LK_PUBLIC_ID_MAX + 24];
	json_t	*data = p->data;

	p->data = json_array();
	if (!p->more)
		return json_pack("{s:o,s:n}", "data", data, "next_cursor");
	snprintf(buf, sizeof(buf), "%lld.%s", (long long)p->last.created_at, p->last.id);
	return json_pack("{s:o,s:s}", "data", data, "next_cursor", buf);
}

void
lk_page_free(struct lk_page *p)
{
	json_decref(p->data);
	p->data = NULL;
}
