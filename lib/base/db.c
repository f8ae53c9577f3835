/* db.c — connection, statement cache, retries. */
#include <stdio.h>
#include <stdlib.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "base/db.h"
#include "base/log.h"

/*
 * Every distinct statement a process runs stays prepared. The console runs the
 * handlers of every API area (keys, accounts, audit, users, sessions,
 * webhooks), well over 64 of them in a long-lived process.
 */
#define STMT_CACHE_MAX	128
#define COL_BUF_MAX	65536	/* a webhook message's payload (model/events) */
#define TRIES		2

struct cached {
	const char	*sql;
	MYSQL_STMT	*st;
	unsigned int	 ncols;
	MYSQL_BIND	*rbind;
	char		*bufs;		/* ncols buffers of bufsz[i] bytes */
	unsigned long	*len;
	my_bool		*isnull;
	my_bool		*error;
};

struct lk_db {
	const struct lk_conf	*conf;
	MYSQL			*my;		/* NULL while disconnected */
	unsigned int		 last_errno;	/* of the last failed call */
	uint64_t		 insert_id;
	struct cached		 cache[STMT_CACHE_MAX];
	unsigned int		 ncache;
};

static void
forget_statements(struct lk_db *db)
{
	unsigned int i;

	for (i = 0; i < db->ncache; i++) {
		struct cached *c = &db->cache[i];

		if (c->st != NULL)
			mysql_stmt_close(c->st);
		free(c->rbind);
		free(c->bufs);
		free(c->len);
		free(c->isnull);
		free(c->error);
	}
	memset(db->cache, 0, sizeof(db->cache));
	db->ncache = 0;
}

static void
disconnect(struct lk_db *db)
{
	forget_statements(db);
	if (db->my != NULL)
		mysql_close(db->my);
	db->my = NULL;
}

static bool
connect_db(struct lk_db *db)
{
	const struct lk_conf	*c = db->conf;
	MYSQL			*my;

	if ((my = mysql_init(NULL)) == NULL)
		return false;
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &c->db_connect_timeout);
	mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &c->db_read_timeout);
	mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &c->db_write_timeout);
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(my, c->db_host, c->db_user, c->db_password,
	    c->db_name, c->db_port, c->db_socket[0] ? c->db_socket : NULL,
	    0) == NULL) {
		db->last_errno = mysql_errno(my);
		lk_log_err("database connect failed: %u %s", mysql_errno(my),
		    mysql_error(my));
		mysql_close(my);
		return false;
	}
	db->my = my;
	return true;
}

struct lk_db *
lk_db_open(const struct lk_conf *conf)
{
	struct lk_db *db;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return NULL;
	db->conf = conf;
	if (conf != NULL)
		connect_db(db);
	return db;
}

void
lk_db_close(struct lk_db *db)
{
	if (db == NULL)
		return;
	disconnect(db);
	free(db);
}

const struct lk_conf *
lk_db_conf(const struct lk_db *db)
{
	return db->conf;
}

static bool
conn_lost(unsigned int e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	    e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	    e == CR_SERVER_LOST_EXTENDED || e == ER_CONNECTION_KILLED ||
	    e == CR_COMMANDS_OUT_OF_SYNC;
}

static bool
transient(unsigned int e)
{
	return conn_lost(e) || e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT;
}

static void
stmt_fail(struct lk_db *db, MYSQL_STMT *st, const char *what)
{
	db->last_errno = mysql_stmt_errno(st);
	lk_log_err("database %s failed: %u %s", what, mysql_stmt_errno(st),
	    mysql_stmt_error(st));
}

/* Size the result buffers of c from its metadata. False on failure. */
static bool
bind_results(struct cached *c, MYSQL_RES *meta)
{
	MYSQL_FIELD	*f = mysql_fetch_fields(meta);
	size_t		 off = 0, sz[LK_DB_COLS_MAX];
	unsigned int	 i;

	c->ncols = mysql_num_fields(meta);
	if (c->ncols > LK_DB_COLS_MAX) {
		lk_log_err("too many result columns");
		return false;
	}
	for (i = 0; i < c->ncols; i++) {
		sz[i] = f[i].length + 2 > COL_BUF_MAX ? COL_BUF_MAX :
		    f[i].length + 2 < 32 ? 32 : f[i].length + 2;
		off += sz[i];
	}
	c->rbind = calloc(c->ncols, sizeof(*c->rbind));
	c->bufs = malloc(off);
	c->len = calloc(c->ncols, sizeof(*c->len));
	c->isnull = calloc(c->ncols, sizeof(*c->isnull));
	c->error = calloc(c->ncols, sizeof(*c->error));
	if (c->rbind == NULL || c->bufs == NULL || c->len == NULL ||
	    c->isnull == NULL || c->error == NULL)
		return false;
	for (off = 0, i = 0; i < c->ncols; off += sz[i], i++) {
		c->rbind[i].buffer_type = MYSQL_TYPE_STRING;
		c->rbind[i].buffer = c->bufs + off;
		c->rbind[i].buffer_length = sz[i] - 1;
		c->rbind[i].length = &c->len[i];
		c->rbind[i].is_null = &c->isnull[i];
		c->rbind[i].error = &c->error[i];
	}
	return true;
}

/*
 * The cached statement for sql, prepared now if needed. NULL after logging;
 * a half-built entry is dropped with the whole cache (disconnect).
 */
static struct cached *
statement(struct lk_db *db, const char *sql)
{
	struct cached	*c;
	MYSQL_RES	*meta;
	unsigned int	 i;
	bool		 ok = true;

	for (i = 0; i < db->ncache; i++)
		if (db->cache[i].sql == sql)
			return &db->cache[i];
	if (db->ncache == STMT_CACHE_MAX) {
		lk_log_err("statement cache full");
		return NULL;
	}
	c = &db->cache[db->ncache++];
	if ((c->st = mysql_stmt_init(db->my)) == NULL) {
		disconnect(db);
		return NULL;
	}
	if (mysql_stmt_prepare(c->st, sql, strlen(sql)) != 0) {
		stmt_fail(db, c->st, "prepare");
		disconnect(db);
		return NULL;
	}
	c->sql = sql;
	if ((meta = mysql_stmt_result_metadata(c->st)) != NULL) {
		ok = bind_results(c, meta);
		mysql_free_result(meta);
	}
	if (!ok) {
		disconnect(db);
		return NULL;
	}
	return c;
}

enum lk_err
lk_db_exec(struct lk_db *db, const char *sql, const struct lk_param *params,
    unsigned int nparams, lk_db_row_fn fn, void *arg, uint64_t *affected)
{
	struct cached	*c;
	MYSQL_BIND	 b[32];
	struct lk_row	 row;
	unsigned int	 i;
	int		 rc;
	enum lk_err	 e = LK_OK;

	if (db->my == NULL || (c = statement(db, sql)) == NULL)
		return LK_ERR_UNAVAILABLE;
	if (nparams > LK_NELEM(b) || nparams != mysql_stmt_param_count(c->st)) {
		lk_log_err("statement given %u parameters, wants %lu", nparams,
		    mysql_stmt_param_count(c->st));
		return LK_ERR_INTERNAL;
	}
	memset(b, 0, sizeof(b));
	for (i = 0; i < nparams; i++) {
		const struct lk_param *p = &params[i];

		switch (p->type) {
		case LK_P_NULL:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		case LK_P_INT:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&p->i;
			break;
		case LK_P_STR:
		case LK_P_BLOB:
			b[i].buffer_type = p->type == LK_P_STR ?
			    MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
			b[i].buffer = (void *)p->p;
			b[i].buffer_length = p->len;
			break;
		}
	}
	if ((nparams > 0 && mysql_stmt_bind_param(c->st, b) != 0) ||
	    mysql_stmt_execute(c->st) != 0) {
		stmt_fail(db, c->st, "execute");
		/* A foreign key refused the change: a state conflict (a race). */
		if (db->last_errno == ER_ROW_IS_REFERENCED_2 ||
		    db->last_errno == ER_NO_REFERENCED_ROW_2)
			return LK_ERR_CONFLICT;
		return LK_ERR_UNAVAILABLE;
	}
	if (c->ncols == 0) {
		db->insert_id = mysql_stmt_insert_id(c->st);
		if (affected != NULL)
			*affected = mysql_stmt_affected_rows(c->st);
		return LK_OK;
	}
	if (mysql_stmt_bind_result(c->st, c->rbind) != 0) {
		stmt_fail(db, c->st, "bind result");
		mysql_stmt_free_result(c->st);
		return LK_ERR_UNAVAILABLE;
	}
	row.n = c->ncols;
	while ((rc = mysql_stmt_fetch(c->st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
		if (rc == MYSQL_DATA_TRUNCATED) {
			lk_log_err("database value too long for its buffer");
			e = LK_ERR_INTERNAL;
		}
		if (e != LK_OK)
			continue;	/* drain the result */
		for (i = 0; i < c->ncols; i++) {
			char *v = c->rbind[i].buffer;

			v[c->isnull[i] ? 0 : c->len[i]] = '\0';
			row.v[i] = v;
			row.null[i] = c->isnull[i];
		}
		if (fn != NULL)
			e = fn(&row, arg);
	}
	if (rc == 1) {
		stmt_fail(db, c->st, "fetch");
		e = LK_ERR_UNAVAILABLE;
	}
	mysql_stmt_free_result(c->st);
	return e;
}

struct page_ctx {
	const char			*sql;
	const struct lk_param		*params;
	unsigned int			 nparams;
	struct lk_page			*page;
	const struct lk_db_items	*items;
};

static enum lk_err
page_row(const struct lk_row *r, void *arg)
{
	struct page_ctx			*c = arg;
	const struct lk_db_items	*it = c->items;

	if (!lk_page_wants(c->page))
		return LK_OK;
	lk_db_row_map(r, (void *)&it->map);
	lk_page_add(c->page, it->json(it->map.out, it->arg), *it->created_at, it->public_id);
	return LK_OK;
}

static enum lk_err
page_work(struct lk_db *db, void *arg)
{
	struct page_ctx *c = arg;

	lk_page_begin(c->page);
	return lk_db_exec(db, c->sql, c->params, c->nparams, page_row, c, NULL);
}

enum lk_err
lk_db_page(struct lk_db *db, const char *sql, const struct lk_param *params,
    unsigned int nparams, struct lk_page *page, const struct lk_db_items *items)
{
	const struct lk_cursor	*cur = &page->after;
	struct lk_param		 p[LK_DB_PAGE_PARAMS_MAX + 5];
	struct page_ctx		 c = { sql, p, nparams + 5, page, items };

	if (nparams > LK_DB_PAGE_PARAMS_MAX) {
		lk_log_err("paged statement given %u parameters", nparams);
		return LK_ERR_INTERNAL;
	}
	memcpy(p, params, nparams * sizeof(*p));
	p[nparams] = cur->set ? LK_INT(cur->created_at) : LK_NULL;
	p[nparams + 1] = LK_INT(cur->created_at);
	p[nparams + 2] = LK_INT(cur->created_at);
	p[nparams + 3] = LK_STR(cur->id);
	p[nparams + 4] = LK_INT(page->limit + 1);
	return lk_db_read(db, page_work, &c);
}

uint64_t
lk_db_insert_id(struct lk_db *db)
{
	return db->insert_id;
}

static enum lk_err
run(struct lk_db *db, lk_db_work_fn work, void *arg, bool txn)
{
	enum lk_err	 e = LK_ERR_UNAVAILABLE;
	int		 try;

	for (try = 0; try < TRIES; try++) {
		if (db->my == NULL && !connect_db(db))
			return LK_ERR_UNAVAILABLE;
		db->last_errno = 0;
		if (txn && mysql_real_query(db->my, "START TRANSACTION", 17) != 0) {
			db->last_errno = mysql_errno(db->my);
			lk_log_err("start transaction failed: %u %s",
			    mysql_errno(db->my), mysql_error(db->my));
			e = LK_ERR_UNAVAILABLE;
		} else {
			e = work(db, arg);
			if (txn && e == LK_OK && mysql_commit(db->my) != 0) {
				lk_log_err("commit failed: %u %s",
				    mysql_errno(db->my), mysql_error(db->my));
				/* The outcome is unknown: never retry, never report success. */
				disconnect(db);
				return LK_ERR_UNAVAILABLE;
			}
			if (txn && e != LK_OK && db->my != NULL)
				mysql_rollback(db->my);
		}
		if (e == LK_OK || !transient(db->last_errno))
			return e;
		if (conn_lost(db->last_errno))
			disconnect(db);
		lk_log_info("retrying after database error %u", db->last_errno);
	}
	return LK_ERR_UNAVAILABLE;
}

enum lk_err
lk_db_read(struct lk_db *db, lk_db_work_fn work, void *arg)
{
	return run(db, work, arg, false);
}

enum lk_err
lk_db_txn(struct lk_db *db, lk_db_work_fn work, void *arg)
{
	return run(db, work, arg, true);
}

enum lk_err
lk_db_exec_ddl(struct lk_db *db, const char *sql)
{
	if (db->my == NULL && !connect_db(db))
		return LK_ERR_UNAVAILABLE;
	if (mysql_real_query(db->my, sql, strlen(sql)) != 0) {
		db->last_errno = mysql_errno(db->my);
		lk_log_err("statement failed: %u %s", mysql_errno(db->my),
		    mysql_error(db->my));
		return LK_ERR_UNAVAILABLE;
	}
	return LK_OK;
}

unsigned int
lk_db_errno(const struct lk_db *db)
{
	return db->last_errno;
}

bool
lk_db_denied(unsigned int e)
{
	return e == ER_DBACCESS_DENIED_ERROR || e == ER_TABLEACCESS_DENIED_ERROR ||
	    e == ER_COLUMNACCESS_DENIED_ERROR || e == ER_SPECIFIC_ACCESS_DENIED_ERROR ||
	    e == ER_PROCACCESS_DENIED_ERROR;
}

enum lk_err
lk_db_row_map(const struct lk_row *r, void *arg)
{
	lk_db_row_map_at(r, 0, arg);
	return LK_OK;
}

void
lk_db_row_map_at(const struct lk_row *r, unsigned int first, const struct lk_db_map *map)
{
	const struct lk_col	*cols = map->cols;
	char			*base = map->out;
	size_t			 i, c, len;

	memset(map->out, 0, map->size);
	for (i = 0, c = first; i < map->ncols && c < r->n; i++, c++) {
		void *m = base + cols[i].off;

		switch (cols[i].type) {
		case LK_CT_ID:
			*(uint64_t *)m = strtoull(r->v[c], NULL, 10);
			break;
		case LK_CT_INT:
			*(int64_t *)m = r->null[c] ? 0 : strtoll(r->v[c], NULL, 10);
			break;
		case LK_CT_TEXT:
			len = strlen(r->v[c]);
			if (len >= cols[i].size)
				len = cols[i].size - 1;
			memcpy(m, r->v[c], len);
			((char *)m)[len] = '\0';
			break;
		}
	}
}

struct get_ctx {
	const char		*sql, *value;
	const struct lk_db_map	*m;
	bool			 found;
};

static enum lk_err
get_row(const struct lk_row *r, void *arg)
{
	struct get_ctx *c = arg;

	c->found = true;
	return lk_db_row_map(r, (void *)c->m);
}

static enum lk_err
get_work(struct lk_db *db, void *arg)
{
	struct get_ctx		*c = arg;
	const struct lk_param	 p[] = { c->value != NULL ? LK_STR(c->value) : LK_NULL };
	enum lk_err		 e;

	c->found = false;
	e = lk_db_exec(db, c->sql, p, c->value != NULL ? 1 : 0, get_row, c, NULL);
	return e == LK_OK && !c->found ? LK_ERR_NOT_FOUND : e;
}

enum lk_err
lk_db_get(struct lk_db *db, const char *sql, const char *value, const struct lk_db_map *m)
{
	struct get_ctx c = { sql, value, m, false };

	return lk_db_read(db, get_work, &c);
}

enum lk_err
lk_db_row_int(const struct lk_row *row, void *arg)
{
	*(int64_t *)arg = strtoll(row->v[0], NULL, 10);
	return LK_OK;
}
