/* test_auth.c — the authorization rules of lib/api/auth.c: dominance, test/live, plans (and plan ranks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/auth.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
caller(struct lk_caller *c, const char *scopes, const char *env, const char *path,
    const char *plan, uint64_t account_id)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->key.scopes, sizeof(c->key.scopes), "%s", scopes);
	snprintf(c->key.env, sizeof(c->key.env), "%s", env);
	snprintf(c->key.owner.path, sizeof(c->key.owner.path), "%s", path);
	snprintf(c->key.owner.plan, sizeof(c->key.owner.plan), "%s", plan);
	c->key.owner.id = account_id;
}

/* The error's details[name] as a string, or NULL. */
static const char *
detail(const struct lk_req *req, const char *name)
{
	return json_string_value(json_object_get(req->err_details, name));
}

static void
test_dominates_table(void **state)
{
	static const struct {
		const char *held, *target, *missing;	/* missing NULL: dominates */
	} cases[] = {
		{ "admin", "admin", NULL },
		{ "admin", "keys:read keys:write audit:read tasks:x", NULL },
		{ "keys:write", "admin", "admin" },
		{ "keys:read keys:write", "keys:read keys:write audit:read", "audit:read" },
		{ "keys:read keys:write", "", NULL },
		{ "keys:read keys:write", "keys:write", NULL },
		{ "keys:write keys:read", "keys:read keys:write", NULL },
		{ "tasks:*", "tasks:create tasks:read", NULL },
		{ "tasks:*", "tasks:*", NULL },
		{ "tasks:*", "tasks:create billing:read", "billing:read" },
		{ "keys:*", "keys:read", "keys:read" },		/* wildcards never cover built-ins */
		{ "tasks:create", "tasks:*", "tasks:*" },	/* nor does a scope cover a wildcard */
		{ "", "verify", "verify" },
		{ "verify", "verify admin", "admin" },
	};
	struct lk_caller	 c;
	struct lk_req		 req;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		enum lk_err e;

		caller(&c, cases[i].held, "live", "/1/", "free", 1);
		memset(&req, 0, sizeof(req));
		e = lk_auth_dominates(&req, &c, cases[i].target);
		if (cases[i].missing == NULL) {
			if (e != LK_OK)
				fail_msg("\"%s\" should dominate \"%s\"", cases[i].held, cases[i].target);
			assert_null(req.err_details);
		} else {
			if (e != LK_ERR_FORBIDDEN)
				fail_msg("\"%s\" should not dominate \"%s\"", cases[i].held, cases[i].target);
			assert_non_null(detail(&req, "required_scope"));
			assert_string_equal(detail(&req, "required_scope"), cases[i].missing);
		}
		json_decref(req.err_details);
	}
}

static void
test_env_rule(void **state)
{
	struct lk_caller	 live, test;
	struct lk_key		 k;

	(void)state;
	caller(&live, "admin", "live", "/1/7/", "pro", 7);
	caller(&test, "admin", "test", "/1/7/", "pro", 7);
	assert_true(lk_auth_env_ok(&live, "live"));
	assert_true(lk_auth_env_ok(&live, "test"));
	assert_false(lk_auth_env_ok(&test, "live"));
	assert_true(lk_auth_env_ok(&test, "test"));

	memset(&k, 0, sizeof(k));
	snprintf(k.owner.path, sizeof(k.owner.path), "/1/7/42/");
	snprintf(k.env, sizeof(k.env), "live");
	assert_true(lk_auth_sees(&live, &k));
	assert_false(lk_auth_sees(&test, &k));
	snprintf(k.env, sizeof(k.env), "test");
	assert_true(lk_auth_sees(&live, &k));
	assert_true(lk_auth_sees(&test, &k));
	/* outside the subtree: never, whatever the env */
	snprintf(k.owner.path, sizeof(k.owner.path), "/1/8/");
	assert_false(lk_auth_sees(&live, &k));
	assert_false(lk_auth_sees(&test, &k));
	snprintf(k.owner.path, sizeof(k.owner.path), "/1/");
	assert_false(lk_auth_sees(&live, &k));
	/* "/1/70/" is not below "/1/7/" */
	snprintf(k.owner.path, sizeof(k.owner.path), "/1/70/");
	assert_false(lk_auth_sees(&live, &k));
}

static void
test_plan_rank(void **state)
{
	(void)state;
	assert_int_equal(lk_plan_rank("free"), 0);
	assert_int_equal(lk_plan_rank("pro"), 1);
	assert_int_equal(lk_plan_rank("enterprise"), 2);
	assert_int_equal(lk_plan_rank("gold"), -1);
	assert_int_equal(lk_plan_rank(""), -1);
	assert_int_equal(lk_plan_rank("Free"), -1);
}

static void
test_plan_rule(void **state)
{
	static const struct {
		const char	*own;		/* the caller's account's plan */
		bool		 own_account;	/* the target is the caller's account */
		const char	*target_plan;	/* NULL: a create */
		const char	*plan;		/* NULL: not set */
		bool		 ok;
	} cases[] = {
		{ "pro", false, NULL, NULL, true },
		{ "pro", false, NULL, "free", true },
		{ "pro", false, NULL, "pro", true },
		{ "pro", false, NULL, "enterprise", false },
		{ "free", false, NULL, "pro", false },
		{ "enterprise", false, NULL, "enterprise", true },
		{ "pro", false, "free", "pro", true },
		{ "pro", false, "free", "enterprise", false },
		{ "pro", false, "enterprise", "free", true },	/* lowering is fine */
		{ "pro", true, "pro", "pro", true },		/* no change */
		{ "pro", true, "pro", "enterprise", false },
		{ "pro", true, "pro", "free", false },		/* not even down */
		{ "pro", true, "pro", NULL, true },
		{ "free", true, "free", "enterprise", false },
	};
	struct lk_caller	 c;
	struct lk_account	 target;
	struct lk_req		 req;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		enum lk_err e;

		caller(&c, "admin", "live", "/1/7/", cases[i].own, 7);
		memset(&target, 0, sizeof(target));
		target.id = cases[i].own_account ? 7 : 42;
		if (cases[i].target_plan != NULL)
			snprintf(target.plan, sizeof(target.plan), "%s", cases[i].target_plan);
		memset(&req, 0, sizeof(req));
		e = lk_auth_plan(&req, &c, cases[i].target_plan != NULL ? &target : NULL,
		    cases[i].plan);
		if ((e == LK_OK) != cases[i].ok)
			fail_msg("case %zu: own %s, plan %s: got %d", i, cases[i].own,
			    cases[i].plan ? cases[i].plan : "(none)", e);
		if (!cases[i].ok) {
			assert_int_equal(e, LK_ERR_FORBIDDEN);
			assert_string_equal(detail(&req, "field"), "plan");
		}
		json_decref(req.err_details);
	}
}

static void
test_can_nest(void **state)
{
	struct lk_account	 a;

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(a.path, sizeof(a.path), "/1/");
	assert_true(lk_accounts_can_nest(&a));
	memset(a.path, '1', LK_ACCOUNT_PATH_MAX - 22);
	a.path[LK_ACCOUNT_PATH_MAX - 22] = '\0';
	assert_true(lk_accounts_can_nest(&a));
	memset(a.path, '1', LK_ACCOUNT_PATH_MAX - 21);
	a.path[LK_ACCOUNT_PATH_MAX - 21] = '\0';
	assert_false(lk_accounts_can_nest(&a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dominates_table),
		cmocka_unit_test(test_env_rule),
		cmocka_unit_test(test_plan_rank),
		cmocka_unit_test(test_plan_rule),
		cmocka_unit_test(test_can_nest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
