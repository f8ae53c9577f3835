/* migrate.c — apply schema/NNN_*.sql once each, statement by statement (no multi-statements). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/migrate.h"

static const char SQL_CREATE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " name VARCHAR(100) NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)"
    " ENGINE=InnoDB";
static const char SQL_APPLIED[] =
    "SELECT COUNT(*) FROM schema_migrations WHERE name = ?";
static const char SQL_RECORD[] =
    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)";

/* Run each statement of sql: they end with ';' at the end of a line. */
static enum lk_err
run_statements(struct lk_db *db, const char *sql)
{
	char		*buf, *stmt, *p;
	enum lk_err	 e = LK_OK;

	if ((buf = strdup(sql)) == NULL)
		return LK_ERR_INTERNAL;
	for (stmt = p = buf; e == LK_OK && *p != '\0'; p++) {
		if (*p == ';' && (p[1] == '\n' || p[1] == '\0')) {
			*p = '\0';
			/* Skip statements that hold only comments and blanks. */
			char *q = stmt;
			while (*q != '\0') {
				q += strspn(q, " \t\r\n");
				if (strncmp(q, "--", 2) == 0)
					q += strcspn(q, "\n");
				else
					break;
			}
			if (*q != '\0')
				e = lk_db_exec_ddl(db, stmt);
			stmt = p + 1;
		}
	}
	free(buf);
	return e;
}

enum lk_err
lk_migrate(struct lk_db *db, const struct lk_migration *list,
    void (*progress)(const char *name), int *applied)
{
	const struct lk_migration	*m;
	enum lk_err			 e;
	int64_t				 n;

	*applied = 0;
	if ((e = lk_db_exec_ddl(db, SQL_CREATE)) != LK_OK)
		return e;
	for (m = list; m->name != NULL; m++) {
		const struct lk_param p[] = { LK_STR(m->name), LK_INT(time(NULL)) };

		n = 0;
		if ((e = lk_db_exec(db, SQL_APPLIED, p, 1, lk_db_row_int, &n, NULL)) != LK_OK)
			return e;
		if (n > 0)
			continue;
		if (progress != NULL)
			progress(m->name);
		if ((e = run_statements(db, m->sql)) != LK_OK ||
		    (e = lk_db_exec(db, SQL_RECORD, p, 2, NULL, NULL, NULL)) != LK_OK) {
			lk_log_err("migration %s failed", m->name);
			return e;
		}
		(*applied)++;
	}
	return LK_OK;
}
