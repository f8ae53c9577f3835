/* test_audit.c — the audit chain's canonical MAC, key files, checkpoint lines and anchor files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/conf.h"
#include "model/audit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Key 00 01 02 ... 1f. */
static const char KEY_HEX[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static struct lk_audit_row
sample_row(void)
{
	return (struct lk_audit_row){
		.key_id = "0123456789ABCDEF", .seq = 42, .public_id = "evt_abc",
		.at = 1795348423, .actor = "key_x", .account_id = "acct_y",
		.account_path = "/1/2/", .action = "key.create", .target_id = "key_z",
		.ip = "127.0.0.1", .request_id = "req_1", .changes = "{\"label\":\"\xc3\xa9\"}",
	};
}

static void
mac_hex(const struct lk_audit_key *k, const unsigned char prev[32],
    const struct lk_audit_row *r, char hex[65])
{
	unsigned char mac[LK_AUDIT_MAC_LEN];

	assert_true(lk_audit_mac(k, prev, r, mac));
	lk_audit_hex(mac, hex);
}

/*
 * Known answer, computed independently (Python hmac over the documented encoding:
 * prev || for each field: 4-byte big-endian length, bytes).
 */
static void
test_mac_known_answer(void **state)
{
	struct lk_audit_key	 k;
	struct lk_audit_row	 r = sample_row();
	unsigned char		 prev[32];
	char			 hex[65];

	(void)state;
	assert_true(lk_audit_key_parse(KEY_HEX, &k));
	memset(prev, 0xab, sizeof(prev));
	mac_hex(&k, prev, &r, hex);
	assert_string_equal(hex,
	    "09D9F9B46A3987D89650CBDE65316BC9D8E67A5CD4495DA3486F6717326F0BD1");
}

/* Every field, the previous MAC and the key change the MAC; moving a boundary does too. */
static void
test_mac_covers_everything(void **state)
{
	struct lk_audit_key	 k, k2;
	struct lk_audit_row	 base = sample_row(), r;
	unsigned char		 prev[32];
	char			 want[65], got[65];
	size_t			 i;
	const char		*const *fields[] = {
		&r.key_id, &r.public_id, &r.actor, &r.account_id, &r.account_path, &r.action,
		&r.target_id, &r.ip, &r.request_id, &r.changes,
	};

	(void)state;
	assert_true(lk_audit_key_parse(KEY_HEX, &k));
	memset(prev, 0xab, sizeof(prev));
	mac_hex(&k, prev, &base, want);
	for (i = 0; i < NELEM(fields); i++) {
		r = base;
		*(const char **)fields[i] = "changed";
		mac_hex(&k, prev, &r, got);
		if (strcmp(got, want) == 0)
			fail_msg("field %zu is not covered by the MAC", i);
	}
	r = base;
	r.seq++;
	mac_hex(&k, prev, &r, got);
	assert_string_not_equal(got, want);
	r = base;
	r.at++;
	mac_hex(&k, prev, &r, got);
	assert_string_not_equal(got, want);
	prev[31] ^= 1;
	mac_hex(&k, prev, &base, got);
	assert_string_not_equal(got, want);
	prev[31] ^= 1;
	assert_true(lk_audit_key_parse(
	    "100102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &k2));
	mac_hex(&k2, prev, &base, got);
	assert_string_not_equal(got, want);

	/* ("ab", "c") and ("a", "bc"): same bytes, other field boundary */
	r = base;
	r.actor = "ab";
	r.account_id = "c";
	mac_hex(&k, prev, &r, want);
	r.actor = "a";
	r.account_id = "bc";
	mac_hex(&k, prev, &r, got);
	assert_string_not_equal(got, want);
	r.actor = "";
	r.account_id = "abc";
	mac_hex(&k, prev, &r, got);
	assert_string_not_equal(got, want);
}

static void
test_key_parse(void **state)
{
	static const struct { const char *text; bool ok; } cases[] = {
		{ KEY_HEX, true },
		{ "  000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F \r\n", true },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", true },
		{ "", false },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e", false },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1", false },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g", false },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f x", false },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00", false },
		{ "00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15", false },
	};
	struct lk_audit_key	 k;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (lk_audit_key_parse(cases[i].text, &k) != cases[i].ok)
			fail_msg("case %zu: \"%s\"", i, cases[i].text);
	assert_true(lk_audit_key_parse(KEY_HEX, &k));
	assert_int_equal(k.len, 32);
	assert_int_equal(k.k[31], 0x1f);
	/* first 8 bytes of SHA-256("lk-audit-key-id" || key), hex (computed independently) */
	assert_string_equal(k.id, "BA29B338A1FD40AF");
}

static void
test_key_file_create_and_load(void **state)
{
	struct lk_audit_key	 made, loaded, old[4];
	struct stat		 st;
	char			 dir[] = "/tmp/latchkey-test-audit-XXXXXX", path[128], oldpath[128];
	size_t			 n;
	FILE			*f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.key", dir);
	assert_int_equal(lk_audit_key_load(path, &loaded), LK_ERR_NOT_FOUND);
	assert_int_equal(lk_audit_key_create(path, &made), LK_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(lk_audit_key_create(path, &loaded), LK_ERR_CONFLICT);
	assert_int_equal(lk_audit_key_load(path, &loaded), LK_OK);
	assert_int_equal(loaded.len, LK_AUDIT_KEY_MIN);
	assert_memory_equal(made.k, loaded.k, LK_AUDIT_KEY_MIN);
	assert_string_equal(made.id, loaded.id);

	snprintf(oldpath, sizeof(oldpath), "%s/old.keys", dir);
	assert_int_equal(lk_audit_keys_load_old(oldpath, old, NELEM(old), &n), LK_OK);
	assert_int_equal(n, 0);
	assert_non_null(f = fopen(oldpath, "w"));
	fprintf(f, "# retired\n\n%s\n  %s\n", KEY_HEX, KEY_HEX);
	fclose(f);
	assert_int_equal(lk_audit_keys_load_old(oldpath, old, NELEM(old), &n), LK_OK);
	assert_int_equal(n, 2);
	assert_string_equal(old[1].id, "BA29B338A1FD40AF");
	assert_non_null(f = fopen(oldpath, "a"));
	fprintf(f, "not a key\n");
	fclose(f);
	assert_int_equal(lk_audit_keys_load_old(oldpath, old, NELEM(old), &n), LK_ERR_VALIDATION);
	unlink(oldpath);
	unlink(path);
	rmdir(dir);
}

static void
test_checkpoint_parse(void **state)
{
	static const char mac[] =
	    "0A6B91FBE895914A99F0A823CC2EB5306C5A7797874A5B94142E7FA49EB91EDB";
	struct lk_audit_checkpoint	 cp;
	char				 line[300], hex[65];

	(void)state;
	snprintf(line, sizeof(line), "2026-11-23T18:16:53Z latchkey[5501] info req=- "
	    "audit checkpoint id=10 mac=%s\n", mac);
	assert_true(lk_audit_checkpoint_parse(line, &cp));
	assert_int_equal(cp.id, 10);
	lk_audit_hex(cp.mac, hex);
	assert_string_equal(hex, mac);
	/* Apache wraps program stderr in its own prefix */
	snprintf(line, sizeof(line), "[fcgid:warn] [pid 1] mod_fcgid: stderr: audit checkpoint "
	    "id=18446744073709551615 mac=%s", mac);
	assert_true(lk_audit_checkpoint_parse(line, &cp));
	assert_true(cp.id == UINT64_MAX);
	assert_false(lk_audit_checkpoint_parse("audit checkpoint id= mac=00", &cp));
	assert_false(lk_audit_checkpoint_parse("audit checkpoint id=1 mac=0A6B", &cp));
	assert_false(lk_audit_checkpoint_parse("audit checkpoint id=-1 mac=0A6B91FBE895914A99F0A823"
	    "CC2EB5306C5A7797874A5B94142E7FA49EB91EDB", &cp));
	assert_false(lk_audit_checkpoint_parse("audit checkpoint id=1 mac=0A6B91FBE895914A99F0A823"
	    "CC2EB5306C5A7797874A5B94142E7FA49EB91EDX", &cp));
	assert_false(lk_audit_checkpoint_parse("nothing here", &cp));
}

static void
test_anchor_parse(void **state)
{
	static const char mac[] =
	    "0A6B91FBE895914A99F0A823CC2EB5306C5A7797874A5B94142E7FA49EB91EDB";
	static const char *const bad[] = {
		"",
		"audit anchor id=0 key_id=BA29B338A1FD40AF mac=%s",		/* no row 0 */
		"audit anchor id=01 key_id=BA29B338A1FD40AF mac=%s",
		"audit anchor id=-1 key_id=BA29B338A1FD40AF mac=%s",
		"audit anchor id=18446744073709551616 key_id=BA29B338A1FD40AF mac=%s",
		"audit anchor id= key_id=BA29B338A1FD40AF mac=%s",
		"audit anchor id=7 key_id=ba29b338a1fd40af mac=%s",		/* key ids are upper case */
		"audit anchor id=7 key_id=BA29B338A1FD40A mac=%s",
		"audit anchor id=7 key_id=BA29B338A1FD40AF0 mac=%s",
		"audit anchor id=7 mac=%s",
		"audit anchor id=7 key_id=BA29B338A1FD40AF mac=%s0",
		"audit anchor id=7 key_id=BA29B338A1FD40AF mac=%s x",
		"audit anchor id=7 key_id=BA29B338A1FD40AF mac=%.62s",
		" audit anchor id=7 key_id=BA29B338A1FD40AF mac=%s",
		"audit checkpoint id=7 mac=%s",
		"x audit anchor id=7 key_id=BA29B338A1FD40AF mac=%s",
	};
	struct lk_audit_anchor	 a;
	char			 line[300], hex[65];
	size_t			 i;

	(void)state;
	snprintf(line, sizeof(line), "audit anchor id=7 key_id=BA29B338A1FD40AF mac=%s\n", mac);
	assert_true(lk_audit_anchor_parse(line, &a));
	assert_true(a.id == 7);
	assert_string_equal(a.key_id, "BA29B338A1FD40AF");
	lk_audit_hex(a.mac, hex);
	assert_string_equal(hex, mac);
	snprintf(line, sizeof(line), "audit anchor id=18446744073709551615 key_id=BA29B338A1FD40AF "
	    "mac=%s", mac);
	assert_true(lk_audit_anchor_parse(line, &a));
	assert_true(a.id == UINT64_MAX);
	for (i = 0; i < NELEM(bad); i++) {
		snprintf(line, sizeof(line), bad[i], mac);
		if (lk_audit_anchor_parse(line, &a))
			fail_msg("case %zu accepted: \"%s\"", i, line);
	}
	/* a lower-case MAC is not what latchkey writes */
	snprintf(line, sizeof(line), "audit anchor id=7 key_id=BA29B338A1FD40AF mac=%s",
	    "0a6b91fbe895914a99f0a823cc2eb5306c5a7797874a5b94142e7fa49eb91edb");
	assert_false(lk_audit_anchor_parse(line, &a));
}

/* The anchor file: its path, written once (0600, the line parse reads), never replaced. */
static void
test_anchor_file(void **state)
{
	struct lk_audit_anchor	 a, b;
	struct stat		 st;
	char			 dir[] = "/tmp/latchkey-test-anchor-XXXXXX", key[128];
	char			 path[LK_AUDIT_ANCHOR_PATH_MAX], text[256];
	FILE			*f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/audit.key", dir);
	lk_audit_anchor_path(key, path);
	snprintf(text, sizeof(text), "%s.anchor", key);
	assert_string_equal(path, text);
	assert_int_equal(lk_audit_anchor_load(path, &b), LK_ERR_NOT_FOUND);

	memset(&a, 0, sizeof(a));
	a.id = 12345;
	snprintf(a.key_id, sizeof(a.key_id), "BA29B338A1FD40AF");
	memset(a.mac, 0xc3, sizeof(a.mac));
	assert_int_equal(lk_audit_anchor_create(path, &a), LK_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_string_equal(text, "audit anchor id=12345 key_id=BA29B338A1FD40AF mac="
	    "C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3\n");
	assert_int_equal(lk_audit_anchor_load(path, &b), LK_OK);
	assert_true(b.id == a.id);
	assert_string_equal(b.key_id, a.key_id);
	assert_memory_equal(b.mac, a.mac, LK_AUDIT_MAC_LEN);

	/* never replaced: the first anchor stays */
	a.id = 1;
	assert_int_equal(lk_audit_anchor_create(path, &a), LK_ERR_CONFLICT);
	assert_int_equal(lk_audit_anchor_load(path, &b), LK_OK);
	assert_true(b.id == 12345);

	/* a damaged file is refused, not taken as "no anchor" */
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "audit anchor id=12345\n");
	fclose(f);
	assert_int_equal(lk_audit_anchor_load(path, &b), LK_ERR_VALIDATION);
	unlink(path);
	rmdir(dir);
}

/* The settings the audit chain and the owner DB user add to the config file. */
static void
test_conf_settings(void **state)
{
	struct lk_conf	 c;
	char		 err[256];

	(void)state;
	lk_conf_defaults(&c);
	assert_int_equal(c.audit_checkpoint_every, 100);
	assert_string_equal(c.audit_key_file, "");
	assert_int_equal(lk_conf_parse(&c, "audit_key_file = /etc/latchkey/audit.key\n"
	    "audit_old_keys_file = /etc/latchkey/audit-old.keys\n"
	    "audit_checkpoint_every = 5\ndb_admin_user = owner\n"
	    "db_admin_password_file = /nonexistent/is/read/only/by/migrate\n", err, sizeof(err)),
	    LK_OK);
	assert_string_equal(c.audit_key_file, "/etc/latchkey/audit.key");
	assert_string_equal(c.audit_old_keys_file, "/etc/latchkey/audit-old.keys");
	assert_int_equal(c.audit_checkpoint_every, 5);
	assert_string_equal(c.db_admin_user, "owner");
	assert_string_equal(c.db_user, "latchkey");
	assert_int_equal(lk_conf_parse(&c, "audit_checkpoint_every = 0", err, sizeof(err)),
	    LK_ERR_VALIDATION);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_known_answer),
		cmocka_unit_test(test_mac_covers_everything),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_key_file_create_and_load),
		cmocka_unit_test(test_checkpoint_parse),
		cmocka_unit_test(test_anchor_parse),
		cmocka_unit_test(test_anchor_file),
		cmocka_unit_test(test_conf_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
