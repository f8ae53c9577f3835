/* page.c — limit and cursor handling shared by every list. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page.h"

enum lk_err
lk_page_parse(struct lk_req *req, json_t *fields, int *limit, struct lk_cursor *cur)
{
	json_t		*l = json_object_get(fields, "limit");
	const char	*c = json_string_value(json_object_get(fields, "cursor"));
	const char	*dot;
	char		*end;
	size_t		 i;

	*limit = l != NULL ? (int)json_integer_value(l) : LK_PAGE_DEFAULT;
	memset(cur, 0, sizeof(*cur));
	if (c == NULL)
		return LK_OK;
	dot = strchr(c, '.');
	if (dot == NULL || !isdigit((unsigned char)c[0]) || dot - c > 18 ||
	    strlen(dot + 1) >= sizeof(cur->id) || dot[1] == '\0')
		goto bad;
	cur->created_at = strtoll(c, &end, 10);
	if (end != dot)
		goto bad;
	for (i = 1; dot[i] != '\0'; i++)
		if (!isalnum((unsigned char)dot[i]) && dot[i] != '_')
			goto bad;
	snprintf(cur->id, sizeof(cur->id), "%s", dot + 1);
	cur->set = true;
	return LK_OK;
bad:
	return lk_req_fail(req, LK_ERR_VALIDATION, "cursor", "The cursor is not valid");
}

json_t *
lk_page_json(json_t *data, const struct lk_cursor *next)
{
	char buf[LK_PUBLIC_ID_MAX + 24];

	if (!next->set)
		return json_pack("{s:o,s:n}", "data", data, "next_cursor");
	snprintf(buf, sizeof(buf), "%lld.%s", (long long)next->created_at, next->id);
	return json_pack("{s:o,s:s}", "data", data, "next_cursor", buf);
}
