/* audit_list.c — the audit listing query; SQL lives here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "model/audit_list.h"

/*
 * The env of the key a row is about: the key's own, or for a deleted key the
 * one its key.delete row recorded (every deletion writes one). NULL for rows
 * about anything else.
 */
#define ROW_KEY_ENV \
    "CASE WHEN LEFT(l.target_id, 4) = 'key_' THEN COALESCE(" \
    "(SELECT k.env FROM api_keys k WHERE k.public_id = l.target_id)," \
    " (SELECT JSON_VALUE(d.changes, '$.env') FROM audit_log d" \
    "  WHERE d.target_id = l.target_id AND d.action = 'key.delete' LIMIT 1)) END"

/*
 * The name of the user (email) or key (label) whose public id is the column
 * col, if it lives in the subtree (path LIKE ?) and, for a key, has the env
 * asked for (? IS NULL OR env = ?): names outside what the caller may see stay
 * unnamed.
 */
#define USER_NAME(col) \
    "(SELECT u.email FROM users u JOIN accounts ua ON ua.id = u.account_id" \
    " WHERE u.public_id = " col " AND ua.path LIKE ?)"
#define KEY_NAME(col) \
    "(SELECT k.label FROM api_keys k JOIN accounts ka ON ka.id = k.account_id" \
    " WHERE k.public_id = " col " AND ka.path LIKE ? AND (? IS NULL OR k.env = ?))"

/* Sign-ins and sign-outs: rows that record no change (kind "session"; the rest are "change"). */
#define SESSION_ACTIONS \
    "'user.login', 'user.logout', 'user.login_failed', 'user.password_failed'"

const char *const lk_audit_kinds[] = { "change", "session", NULL };

/* The cursor's number is the row's internal id: the log's own order, newest first. */
static const char SQL_LIST[] =
    "SELECT l.id, l.public_id, l.at, l.actor, l.account_id, l.action, l.target_id, l.ip,"
    " l.request_id, l.changes,"
    " COALESCE(" USER_NAME("l.actor") ", " KEY_NAME("l.actor") "),"
    " COALESCE(" USER_NAME("l.target_id") ", " KEY_NAME("l.target_id") ","
    "  (SELECT t.name FROM accounts t WHERE t.public_id = l.target_id AND t.path LIKE ?)),"
    " (SELECT n.name FROM accounts n WHERE n.public_id = l.account_id)"
    " FROM audit_log l WHERE l.account_path LIKE ?"
    " AND (? IS NULL OR l.target_id = ?) AND (? IS NULL OR l.action COLLATE ascii_bin = ?)"
    " AND (? IS NULL OR l.actor = ?) AND (? IS NULL OR l.at >= ?) AND (? IS NULL OR l.at < ?)"
    " AND (? IS NULL OR l.id < ?)"
    " AND (? IS NULL OR " ROW_KEY_ENV " = ?)"
    " AND (? IS NULL OR (l.action IN (" SESSION_ACTIONS ")) = (? = 'session'))"
    " ORDER BY l.id DESC LIMIT ?";

void
lk_audit_filter_of(json_t *fields, struct lk_audit_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->target_id = json_string_value(json_object_get(fields, "target_id"));
	f->action = json_string_value(json_object_get(fields, "action"));
	f->actor = json_string_value(json_object_get(fields, "actor"));
	f->has_since = json_is_integer(json_object_get(fields, "since"));
	f->since = json_integer_value(json_object_get(fields, "since"));
	f->has_until = json_is_integer(json_object_get(fields, "until"));
	f->until = json_integer_value(json_object_get(fields, "until"));
	f->kind = json_string_value(json_object_get(fields, "kind"));
}

struct list_ctx {
	const char			*root_path;
	const struct lk_audit_filter	*f;
	struct lk_page			*page;
};

static enum lk_err
list_row(const struct lk_row *r, void *arg)
{
	struct list_ctx	*c = arg;
	char		 at[LK_TIME_MAX];
	json_t		*changes, *o;

	if (!lk_page_wants(c->page))
		return LK_OK;
	lk_time_format(strtoll(r->v[2], NULL, 10), at);
	if ((changes = json_loads(r->v[9], 0, NULL)) == NULL)
		changes = json_object();
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s?,s:s?,s:s?}", "id", r->v[1],
	    "at", at, "actor", r->v[3], "account_id", r->v[4], "action", r->v[5],
	    "target_id", r->v[6], "ip", r->v[7], "request_id", r->v[8], "changes", changes,
	    "actor_name", r->null[10] ? NULL : r->v[10],
	    "target_name", r->null[11] ? NULL : r->v[11],
	    "account_name", r->null[12] ? NULL : r->v[12]);
	lk_page_add(c->page, o, strtoll(r->v[0], NULL, 10), r->v[1]);
	return LK_OK;
}

static enum lk_err
list_work(struct lk_db *db, void *arg)
{
	struct list_ctx			*c = arg;
	const struct lk_audit_filter	*f = c->f;
	const struct lk_cursor		*cur = &c->page->after;
	char				 like[300];

	snprintf(like, sizeof(like), "%s%%", c->root_path);
	const struct lk_param p[] = {
		LK_STR(like), LK_STR(like), LK_STR0(f->only_env), LK_STR0(f->only_env),
		LK_STR(like), LK_STR(like), LK_STR0(f->only_env), LK_STR0(f->only_env),
		LK_STR(like),
		LK_STR(like),
		LK_STR0(f->target_id), LK_STR0(f->target_id),
		LK_STR0(f->action), LK_STR0(f->action),
		LK_STR0(f->actor), LK_STR0(f->actor),
		f->has_since ? LK_INT(f->since) : LK_NULL, LK_INT(f->since),
		f->has_until ? LK_INT(f->until) : LK_NULL, LK_INT(f->until),
		cur->set ? LK_INT(cur->created_at) : LK_NULL, LK_INT(cur->created_at),
		LK_STR0(f->only_env), LK_STR0(f->only_env),
		LK_STR0(f->kind), LK_STR0(f->kind),
		LK_INT(c->page->limit + 1),
	};

	lk_page_begin(c->page);
	return lk_db_exec(db, SQL_LIST, p, LK_NELEM(p), list_row, c, NULL);
}

enum lk_err
lk_audit_list(struct lk_db *db, const char *root_path, const struct lk_audit_filter *f,
    struct lk_page *page)
{
	struct list_ctx c = { root_path, f, page };

	return lk_db_read(db, list_work, &c);
}
