/* migrate.h — numbered, forward-only schema migrations recorded in schema_migrations. */
#ifndef LK_MIGRATE_H
#define LK_MIGRATE_H

#include "base/db.h"

struct lk_migration {
	const char	*name;	/* "001_init" */
	const char	*sql;	/* statements, each ending with ';' at the end of a line */
};

/* The migrations compiled into the program from schema/, NULL-terminated. */
extern const struct lk_migration lk_migrations[];

/*
 * Apply every migration of list not yet recorded, in order; report each to
 * progress (may be NULL). *applied counts them. Safe to re-run.
 */
enum lk_err	lk_migrate(struct lk_db *db, const struct lk_migration *list,
		    void (*progress)(const char *name), int *applied);

#endif
