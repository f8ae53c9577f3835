/* db.c — connection, statement cache, retries. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
#define HOSTS_MAX	8
#define FAILOVER_TRIES	1	/* a lost or unready node: the work again on the next one */
#define CONFLICT_TRIES	16	/* deadlocks and Galera certification conflicts */
#define FAILBACK_SECS	30	/* away from the first node this long: go back at the next unit */
/* A node that answers but is not ready (Galera: not Primary, not Synced). Its own error 1047 says the same. */
#define NODE_NOT_READY	ER_UNKNOWN_COM_ERROR

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

/* One entry of db_host: "host" or "host:port". */
struct host {
	char		 name[256];	/* empty: the client library's default (localhost) */
	unsigned int	 port;
};

struct lk_db {
	const struct lk_conf	*conf;
	MYSQL			*my;		/* NULL while disconnected */
	unsigned int		 last_errno;	/* of the last failed call */
	uint64_t		 insert_id;
	struct cached		 cache[STMT_CACHE_MAX];
	unsigned int		 ncache;
	struct host		 hosts[HOSTS_MAX];
	unsigned int		 nhosts;
	int			 host;		/* the one connected last, -1 if none */
	int			 avoid;		/* failed last: tried last at the next connect, -1 */
	time_t			 connected_at;
	bool			 galera;	/* the connected server is a Galera node */
	char			 state[32];	/* its wsrep_local_state_comment */
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

/*
 * db_host as a list of nodes: "host[:port], ..." (a port-less entry takes
 * db_port). An entry with more than one ':' (an IPv6 address) is a host name.
 */
static void
parse_hosts(struct lk_db *db)
{
	const struct lk_conf	*c = db->conf;
	const char		*p = c->db_host, *colon;
	size_t			 len;

	db->nhosts = 0;
	do {
		struct host *h = &db->hosts[db->nhosts];

		p += strspn(p, " \t");
		len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len >= sizeof(h->name))
			len = sizeof(h->name) - 1;
		memcpy(h->name, p, len);
		h->name[len] = '\0';
		h->port = c->db_port;
		if ((colon = strchr(h->name, ':')) != NULL &&
		    strchr(colon + 1, ':') == NULL) {
			h->port = (unsigned int)strtoul(colon + 1, NULL, 10);
			h->name[colon - h->name] = '\0';
		}
		if (len > 0 || db->nhosts == 0)
			db->nhosts++;
		p += strcspn(p, ",");
	} while (*p++ == ',' && db->nhosts < HOSTS_MAX);
}

/*
 * Whether the connected server can take work: a plain server always; a Galera
 * node when wsrep_ready is ON and it is Synced. One SHOW STATUS, which a server
 * without wsrep answers with no rows or an empty provider. Records db->galera
 * and db->state; on a failed query db->last_errno says why.
 */
static bool
node_ready(struct lk_db *db)
{
	static const char	 q[] = "SHOW STATUS WHERE Variable_name IN "
	    "('wsrep_provider_name', 'wsrep_ready', 'wsrep_local_state_comment')";
	MYSQL_RES		*res;
	MYSQL_ROW		 r;
	bool			 ready = false;

	db->galera = false;
	snprintf(db->state, sizeof(db->state), "ok");
	if (mysql_real_query(db->my, q, sizeof(q) - 1) != 0 ||
	    (res = mysql_store_result(db->my)) == NULL) {
		db->last_errno = mysql_errno(db->my);
		lk_log_err("database status failed: %u %s", mysql_errno(db->my),
		    mysql_error(db->my));
		return false;
	}
	while ((r = mysql_fetch_row(res)) != NULL) {
		if (r[0] == NULL || r[1] == NULL)
			continue;
		if (strcmp(r[0], "wsrep_provider_name") == 0)
			db->galera = r[1][0] != '\0';
		else if (strcmp(r[0], "wsrep_ready") == 0)
			ready = strcmp(r[1], "ON") == 0;
		else
			snprintf(db->state, sizeof(db->state), "%s", r[1]);
	}
	mysql_free_result(res);
	if (!db->galera) {
		snprintf(db->state, sizeof(db->state), "ok");
		return true;
	}
	if (ready && strcmp(db->state, "Synced") == 0)
		return true;
	db->last_errno = NODE_NOT_READY;
	lk_log_err("database node %s:%u not ready: wsrep_ready %s, %s",
	    db->hosts[db->host].name, db->hosts[db->host].port,
	    ready ? "ON" : "OFF", db->state);
	return false;
}

/* Connect to entry i of db_host and check it can take work. */
static bool
connect_host(struct lk_db *db, int i)
{
	const struct lk_conf	*c = db->conf;
	const struct host	*h = &db->hosts[i];
	MYSQL			*my;
	char			 q[64];

	if ((my = mysql_init(NULL)) == NULL)
		return false;
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &c->db_connect_timeout);
	mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &c->db_read_timeout);
	mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &c->db_write_timeout);
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(my, h->name[0] ? h->name : NULL, c->db_user,
	    c->db_password, c->db_name, h->port,
	    c->db_socket[0] ? c->db_socket : NULL, 0) == NULL) {
		db->last_errno = mysql_errno(my);
		lk_log_err("database connect to %s:%u failed: %u %s", h->name,
		    h->port, mysql_errno(my), mysql_error(my));
		mysql_close(my);
		return false;
	}
	db->my = my;
	db->host = i;
	if (!node_ready(db)) {
		disconnect(db);
		return false;
	}
	/* Causal reads: a read waits until this node has applied every earlier commit. */
	snprintf(q, sizeof(q), "SET SESSION wsrep_sync_wait = %u", c->db_sync_wait);
	if (db->galera && mysql_real_query(db->my, q, strlen(q)) != 0) {
		db->last_errno = mysql_errno(db->my);
		lk_log_err("database session setup failed: %u %s",
		    mysql_errno(db->my), mysql_error(db->my));
		disconnect(db);
		return false;
	}
	db->connected_at = time(NULL);
	return true;
}

/*
 * The first node of db_host that answers within db_connect_timeout and is
 * ready, in list order, so that every program writes through the same node
 * and conflicts stay rare; a node that failed just now is tried last.
 */
static bool
connect_db(struct lk_db *db)
{
	int i, k, n = (int)db->nhosts;

	for (k = 0; k <= n; k++) {
		i = k < n ? k : db->avoid;
		if (i < 0 || (k < n && i == db->avoid))
			continue;
		if (connect_host(db, i)) {
			db->avoid = -1;
			return true;
		}
	}
	return false;
}

struct lk_db *
lk_db_open(const struct lk_conf *conf)
{
	struct lk_db *db;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return NULL;
	db->conf = conf;
	db->host = db->avoid = -1;
	if (conf != NULL) {
		parse_hosts(db);
		connect_db(db);
	}
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
	    e == CR_COMMANDS_OUT_OF_SYNC || e == NODE_NOT_READY;
}

/* A deadlock, or on Galera a certification conflict with a commit on another node (both 1213). */
static bool
conflict(unsigned int e)
{
	return e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT;
}

static void
stmt_fail(struct lk_db *db, MYSQL_STMT *st, const char *what)
{
	db->last_errno = mysql_stmt_errno(st);
	lk_log_err("database %s failed: %u %s", what, mysql_stmt_errno(st),
	    mysql_stmt_error(st));
	/* A row fetch cut short (Galera: the transaction aborted for a replicated one) may say it only on the connection. */
	if (db->last_errno == 0 && db->my != NULL) {
		db->last_errno = mysql_errno(db->my);
		lk_log_err("database connection error: %u %s", mysql_errno(db->my),
		    mysql_error(db->my));
	}
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

/*
 * A pause of 1 to 4 ms times the conflicts so far (at most 8), so writers
 * retrying on one hot row (a key's counter updated through several nodes)
 * drift apart: at most about 0.4 s in all.
 */
static void
jitter(int conflicts)
{
	long		 n = conflicts < 8 ? conflicts : 8;
	struct timespec	 ts = { 0, (long)(1 + arc4random_uniform(4)) * n * 1000000L };

	nanosleep(&ts, NULL);
}

static enum lk_err
run(struct lk_db *db, lk_db_work_fn work, void *arg, bool txn)
{
	enum lk_err	 e = LK_ERR_UNAVAILABLE;
	int		 failovers = 0, conflicts = 0;

	/* After a failover, the first node again once it has had time to come back. */
	if (db->my != NULL && db->host > 0 &&
	    time(NULL) - db->connected_at >= FAILBACK_SECS)
		disconnect(db);
	for (;;) {
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
				db->last_errno = mysql_errno(db->my);
				lk_log_err("commit failed: %u %s",
				    mysql_errno(db->my), mysql_error(db->my));
				/*
				 * A certification conflict is a rollback, safe to
				 * redo. Otherwise the outcome is unknown: never
				 * retry, never report success.
				 */
				if (db->last_errno != ER_LOCK_DEADLOCK) {
					disconnect(db);
					return LK_ERR_UNAVAILABLE;
				}
				e = LK_ERR_UNAVAILABLE;
			}
			if (txn && e != LK_OK && db->my != NULL)
				mysql_rollback(db->my);
		}
		if (e == LK_OK)
			return e;
		if (conn_lost(db->last_errno) && failovers++ < FAILOVER_TRIES) {
			/* This node is gone or not ready: the next one of the list. */
			db->avoid = db->host;
			disconnect(db);
		} else if (conflict(db->last_errno) && ++conflicts < CONFLICT_TRIES)
			jitter(conflicts);
		else
			return conn_lost(db->last_errno) || conflict(db->last_errno) ?
			    LK_ERR_UNAVAILABLE : e;
		lk_log_info("retrying after database error %u", db->last_errno);
	}
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

static enum lk_err
health_work(struct lk_db *db, void *arg)
{
	(void)arg;
	return node_ready(db) ? LK_OK : LK_ERR_UNAVAILABLE;
}

enum lk_err
lk_db_health(struct lk_db *db, char *state, size_t statesz)
{
	enum lk_err e;

	snprintf(db->state, sizeof(db->state), "unavailable");
	e = lk_db_read(db, health_work, NULL);
	snprintf(state, statesz, "%s", e == LK_OK || db->galera ? db->state :
	    "unavailable");
	return e;
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
