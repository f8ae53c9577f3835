/* test_html.c — the HTML writer escapes everything and keeps its open elements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/html.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_and_attributes_are_escaped),
		cmocka_unit_test(test_leaf_void_and_closeto),
		cmocka_unit_test(test_urlencode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
