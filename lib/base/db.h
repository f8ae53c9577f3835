/*
 * db.h — one MySQL/MariaDB connection per process. Statements are prepared
 * once on first use and cached by their SQL text's address; after a lost
 * connection the next unit of work reconnects and re-prepares. Every query
 * runs inside lk_db_read() or lk_db_txn(), which retry lost connections,
 * deadlocks and lock-wait timeouts and map what remains to LK_ERR_UNAVAILABLE.
 *
 * db_host may list several nodes of a Galera cluster ("host:port, ..."): the
 * first that answers and is ready (wsrep_ready, Synced) is used, so every
 * program writes through one node; a lost or unready node sends the unit of
 * work once to the next one, and certification conflicts (1213) are retried
 * a few times with jitter. On Galera each session sets wsrep_sync_wait to
 * db_sync_wait (causal reads).
 */
#ifndef LK_DB_H
#define LK_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/conf.h"
#include "base/err.h"
#include "base/page.h"

#define LK_DB_COLS_MAX	40
#define LK_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct lk_db;

enum lk_ptype { LK_P_NULL, LK_P_STR, LK_P_INT, LK_P_BLOB };

struct lk_param {
	enum lk_ptype	 type;
	const void	*p;
	size_t		 len;
	int64_t		 i;
};

#define LK_NULL		((struct lk_param){ LK_P_NULL, NULL, 0, 0 })
#define LK_STR(s)	((struct lk_param){ LK_P_STR, (s), strlen(s), 0 })
#define LK_INT(v)	((struct lk_param){ LK_P_INT, NULL, 0, (int64_t)(v) })
#define LK_BLOB(b, n)	((struct lk_param){ LK_P_BLOB, (b), (n), 0 })
/* NULL when s is NULL or empty / when v is 0. */
#define LK_STR0(s)	((s) != NULL && *(s) != '\0' ? LK_STR(s) : LK_NULL)
#define LK_INT0(v)	((v) != 0 ? LK_INT(v) : LK_NULL)

/* One fetched row: every column as a NUL-terminated string, valid during the callback. */
struct lk_row {
	unsigned int	 n;
	const char	*v[LK_DB_COLS_MAX];
	bool		 null[LK_DB_COLS_MAX];
};

typedef enum lk_err (*lk_db_row_fn)(const struct lk_row *row, void *arg);
typedef enum lk_err (*lk_db_work_fn)(struct lk_db *db, void *arg);

/*
 * A struct member filled from a column of a row (lk_db_row_map): the i-th entry of
 * a table maps column i. ID: uint64_t; INT: int64_t, NULL as 0; TEXT: char[],
 * truncated to fit and NUL-terminated.
 */
enum lk_coltype { LK_CT_ID, LK_CT_INT, LK_CT_TEXT };
struct lk_col {
	enum lk_coltype	 type;
	size_t		 off, size;
};
#define LK_COL_ID(s, m)		{ LK_CT_ID, offsetof(struct s, m), 0 }
#define LK_COL_INT(s, m)	{ LK_CT_INT, offsetof(struct s, m), 0 }
#define LK_COL_TEXT(s, m)	{ LK_CT_TEXT, offsetof(struct s, m), sizeof(((struct s *)0)->m) }

/* How one row fills one struct: for lk_db_get and lk_db_row_map. */
struct lk_db_map {
	const struct lk_col	*cols;
	size_t			 ncols;
	void			*out;
	size_t			 size;
};
/* The map of the column table cols (an array) onto *out. */
#define LK_DB_MAP(cols, out) \
	(&(struct lk_db_map){ (cols), LK_NELEM(cols), (out), sizeof(*(out)) })

/*
 * A row callback (arg: a struct lk_db_map): zero the map's struct, then fill
 * it from the row's first columns by the table. Always LK_OK.
 */
enum lk_err	 lk_db_row_map(const struct lk_row *r, void *arg);

/* The same from column first of r on: the map's i-th entry takes column first + i. */
void		 lk_db_row_map_at(const struct lk_row *r, unsigned int first,
		    const struct lk_db_map *map);

/*
 * One row of sql, with one string parameter value (NULL: none), into m->out,
 * in a unit of work of its own (lk_db_read): LK_ERR_NOT_FOUND if no row.
 */
enum lk_err	 lk_db_get(struct lk_db *db, const char *sql, const char *value,
		    const struct lk_db_map *m);

/* A row callback: *(int64_t *)arg = the first column as an integer (COUNT(*), an id). */
enum lk_err	 lk_db_row_int(const struct lk_row *row, void *arg);

/* Allocate the handle and try to connect (a failed connect is retried by the next unit of work). */
struct lk_db	*lk_db_open(const struct lk_conf *conf);
void		 lk_db_close(struct lk_db *db);

/* The configuration db was opened with (NULL if none). */
const struct lk_conf *lk_db_conf(const struct lk_db *db);

/*
 * Run sql (a static string: it is the cache key) with params. For a query,
 * call fn for each row (fn may be NULL). For other statements, set *affected
 * (may be NULL). Returns LK_OK, the first error fn returned,
 * LK_ERR_CONFLICT when a foreign key refused the change (MariaDB 1451/1452:
 * a row still referenced, or a referenced row gone), or LK_ERR_UNAVAILABLE
 * after logging a database error.
 */
enum lk_err	 lk_db_exec(struct lk_db *db, const char *sql,
		    const struct lk_param *params, unsigned int nparams,
		    lk_db_row_fn fn, void *arg, uint64_t *affected);

/*
 * The end of a paged SELECT over table alias t, newest first: the rows after
 * the page's cursor, and its limit. lk_db_page gives its parameters.
 */
#define LK_DB_PAGE_AFTER(t) \
    " AND (? IS NULL OR " t ".created_at < ? OR (" t ".created_at = ? AND " t ".public_id < ?))" \
    " ORDER BY " t ".created_at DESC, " t ".public_id DESC LIMIT ?"
#define LK_DB_PAGE_PARAMS_MAX	32

/*
 * How the rows of a list become a page's items: each row fills the caller's
 * struct by the map, json makes the item of it (arg: the caller's), and the
 * struct's created_at and public_id members are the item's cursor.
 */
struct lk_db_items {
	struct lk_db_map	 map;
	const int64_t		*created_at;
	const char		*public_id;
	json_t			*(*json)(const void *out, const void *arg);
	const void		*arg;
};
/* The items of the column table cols read into *out (a struct with created_at, public_id). */
#define LK_DB_ITEMS(cols, out, json, arg) \
	(&(struct lk_db_items){ { (cols), LK_NELEM(cols), (out), sizeof(*(out)) }, \
	    &(out)->created_at, (out)->public_id, (json), (arg) })

/*
 * One page of a list, in a unit of work of its own (lk_db_read): sql ends with
 * LK_DB_PAGE_AFTER, params (at most LK_DB_PAGE_PARAMS_MAX) are those before
 * it; the page's cursor and limit + 1 are added. Begins the page, then adds
 * an item of each row while the page wants one.
 */
enum lk_err	 lk_db_page(struct lk_db *db, const char *sql,
		    const struct lk_param *params, unsigned int nparams,
		    struct lk_page *page, const struct lk_db_items *items);

/* AUTO_INCREMENT id of the last INSERT run through lk_db_exec. */
uint64_t	 lk_db_insert_id(struct lk_db *db);

/* Run work in autocommit mode; retried after a lost connection (on the next node) or a deadlock. */
enum lk_err	 lk_db_read(struct lk_db *db, lk_db_work_fn work, void *arg);

/*
 * Run work in one transaction and commit if it returns LK_OK; roll back
 * otherwise. Retried whole after a deadlock, lock-wait timeout or lost
 * connection (work must only change its arg in ways safe to redo). Never
 * reports success without a commit.
 */
enum lk_err	 lk_db_txn(struct lk_db *db, lk_db_work_fn work, void *arg);

/*
 * Whether the database can take work (GET /v1/health): LK_OK after a status
 * read on a ready node, whose state goes into state ("ok" for a plain server,
 * Galera's wsrep_local_state_comment: "Synced"); LK_ERR_UNAVAILABLE when no
 * node of db_host is ready (state: the last one's, or "unavailable").
 */
enum lk_err	 lk_db_health(struct lk_db *db, char *state, size_t statesz);

/* The server's or client library's error number of the last failed call (0 if none). */
unsigned int	 lk_db_errno(const struct lk_db *db);

/* True if e is a MySQL/MariaDB "access denied" error for a statement or database (1044, 1142, 1227, ...). */
bool		 lk_db_denied(unsigned int e);

/* Run one SQL text outside the statement cache (migrations, DDL). */
enum lk_err	 lk_db_exec_ddl(struct lk_db *db, const char *sql);

#endif
