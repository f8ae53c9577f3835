/* test_html.c — the HTML writer escapes everything; users' roles, emails, passwords; session cookies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "console/sessions.h"
#include "http/html.h"
#include "model/users.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *
body(struct lk_html *h)
{
	return h->buf + strlen("<!DOCTYPE html>\n");
}

static void
test_text_and_attributes_are_escaped(void **state)
{
	struct lk_html h;

	(void)state;
	lk_html_init(&h);
	lk_html_elem(&h, LK_E_A, LK_A_HREF, "/x?a=1&b=\"2\"", LK_A_CLASS, NULL,
	    LK_A_ID, "'><script>", LK_A__MAX);
	lk_html_text(&h, "<script>alert('x')</script> & \"q\"");
	lk_html_close(&h);
	assert_string_equal(body(&h),
	    "<a href=\"/x?a=1&amp;b=&quot;2&quot;\" id=\"&#39;&gt;&lt;script&gt;\">"
	    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</a>");
	lk_html_free(&h);
}

static void
test_leaf_void_and_closeto(void **state)
{
	struct lk_html	h;
	size_t		d;

	(void)state;
	lk_html_init(&h);
	lk_html_elem(&h, LK_E_DIV, LK_A__MAX);
	d = h.depth;
	lk_html_elem(&h, LK_E_P, LK_A__MAX);
	lk_html_elem(&h, LK_E_INPUT, LK_A_VALUE, "<v>", LK_A_CHECKED, "", LK_A__MAX);
	lk_html_leaf(&h, LK_E_CODE, "a<b", LK_A__MAX);
	lk_html_textf(&h, "%d<%s", 1, "2");
	lk_html_closeto(&h, d);
	assert_int_equal(h.depth, 1);
	lk_html_closeto(&h, 0);
	assert_string_equal(body(&h), "<div><p><input value=\"&lt;v&gt;\" checked=\"\">"
	    "<code>a&lt;b</code>1&lt;2</p>\n</div>\n");
	lk_html_free(&h);
}

static void
test_urlencode(void **state)
{
	char out[64] = "/k?q=";

	(void)state;
	lk_html_urlencode(out, sizeof(out), "a b&c=\"d\"/é");
	assert_string_equal(out, "/k?q=a%20b%26c%3D%22d%22%2F%C3%A9");
}

static void
test_roles_and_dominance(void **state)
{
	(void)state;
	assert_string_equal(lk_role_scopes("owner"), "admin");
	assert_string_equal(lk_role_scopes("viewer"), "keys:read accounts:read audit:read");
	assert_null(lk_role_scopes("root"));
	assert_null(lk_role_scopes(NULL));
	assert_true(lk_users_may_manage("admin", "owner"));
	assert_true(lk_users_may_manage(lk_role_scopes("developer"), "viewer"));
	assert_true(lk_users_may_manage(lk_role_scopes("developer"), "developer"));
	assert_false(lk_users_may_manage(lk_role_scopes("developer"), "owner"));
	assert_false(lk_users_may_manage(lk_role_scopes("viewer"), "developer"));
	assert_false(lk_users_may_manage("admin", "nobody"));
}

static void
test_email_and_password_rules(void **state)
{
	static const struct { const char *s; bool ok; } emails[] = {
		{ "a@b", true }, { "owner@localhost", true }, { "<b>x</b>@example.com", true },
		{ "", false }, { "ab", false }, { "@b", false }, { "a@", false }, { "a@b@c", false },
		{ "a b@c", false }, { "a\n@b", false },
	};
	static const struct { const char *s; bool ok; } passwords[] = {
		{ "0123456789", true }, { "correct horse", true }, { "012345678", false },
		{ "", false }, { "0123456789\t", false },
	};
	char	long_pw[200];
	char	gen[LK_PASSWORD_GEN + 1];
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(emails); i++)
		if (lk_email_ok(emails[i].s) != emails[i].ok)
			fail_msg("email_ok(\"%s\") != %d", emails[i].s, emails[i].ok);
	for (i = 0; i < NELEM(passwords); i++)
		if (lk_password_ok(passwords[i].s) != passwords[i].ok)
			fail_msg("password_ok(\"%s\") != %d", passwords[i].s, passwords[i].ok);
	memset(long_pw, 'x', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = '\0';
	assert_false(lk_password_ok(long_pw));
	long_pw[LK_PASSWORD_MAX] = '\0';
	assert_true(lk_password_ok(long_pw));
	assert_true(lk_password_generate(gen, sizeof(gen)));
	assert_int_equal(strlen(gen), LK_PASSWORD_GEN);
	assert_true(lk_password_ok(gen));
}

static void
test_session_cookie(void **state)
{
	struct lk_conf	c;
	char		out[200];

	(void)state;
	lk_conf_defaults(&c);
	lk_sessions_set_cookie(&c, "abc", out, sizeof(out));
	assert_string_equal(out,
	    "__Host-latchkey_session=abc; Secure; HttpOnly; SameSite=Strict; Path=/");
	lk_sessions_set_cookie(&c, NULL, out, sizeof(out));
	assert_string_equal(out, "__Host-latchkey_session=; Secure; HttpOnly; SameSite=Strict; "
	    "Path=/; Max-Age=0");
	c.admin_insecure_cookie = true;
	lk_sessions_set_cookie(&c, "abc", out, sizeof(out));
	assert_string_equal(out, "latchkey_session=abc; HttpOnly; SameSite=Strict; Path=/");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_and_attributes_are_escaped),
		cmocka_unit_test(test_leaf_void_and_closeto),
		cmocka_unit_test(test_urlencode),
		cmocka_unit_test(test_roles_and_dominance),
		cmocka_unit_test(test_email_and_password_rules),
		cmocka_unit_test(test_session_cookie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
