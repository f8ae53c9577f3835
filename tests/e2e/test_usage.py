"""Usage history: daily counts by outcome per key and per account subtree; bounded storage; gc."""
import time

import pytest

from helpers import (assert_error, call, create_key, db_query, expect, make_account, make_tenant, verify)

DAY = 86400
OUTCOMES = ("valid", "rate_limited", "revoked", "expired", "insufficient_scope", "account_suspended",
            "ip_not_allowed", "usage_exceeded")


def today():
    return time.strftime("%Y-%m-%d", time.gmtime())


def day_string(days_ago):
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() - days_ago * DAY))


def check_shape(u, days):
    assert set(u) == {"data", "totals"}, u
    assert [d["date"] for d in u["data"]] == [day_string(i) for i in range(days - 1, -1, -1)], u["data"]
    for d in u["data"]:
        assert set(d) == {"date", *OUTCOMES}, d
    assert set(u["totals"]) == set(OUTCOMES)
    for o in OUTCOMES:
        assert u["totals"][o] == sum(d[o] for d in u["data"]), (o, u)


def scripted(server, t, limit=2):
    """A key used with a known sequence of outcomes; returns (key, expected counts)."""
    k = create_key(server, server.admin_key, account_id=t.account_id, scopes=("tasks:read",),
                   ratelimit={"limit": limit, "window": DAY})
    codes = [verify(server, t.key, k["key"])["code"] for _ in range(limit + 1)]        # 2 valid, 1 limited
    codes.append(verify(server, t.key, k["key"], scopes=["tasks:write"])["code"])       # lacks the scope
    expect(call(server, "POST", f"/v1/keys/{k['id']}/revoke", server.admin_key), 200)
    codes += [verify(server, t.key, k["key"])["code"] for _ in range(2)]                # revoked twice
    assert codes == ["VALID"] * limit + ["RATE_LIMITED", "INSUFFICIENT_SCOPE"] + ["REVOKED_API_KEY"] * 2, codes
    return k, {"valid": limit, "rate_limited": 1, "revoked": 2, "expired": 0, "insufficient_scope": 1,
               "account_suspended": 0, "ip_not_allowed": 0, "usage_exceeded": 0}


def test_key_usage_matches_a_scripted_sequence(server, stack):
    t = make_tenant(server, scopes=("verify", "keys:read", "accounts:read"))
    day = today()
    k, want = scripted(server, t)
    # an expired key: two uses after its expiry
    e = create_key(server, server.admin_key, account_id=t.account_id, expires_in=1)
    time.sleep(2.1)
    assert [verify(server, t.key, e["key"])["code"] for _ in range(2)] == ["EXPIRED_API_KEY"] * 2
    if today() != day:
        pytest.skip("crossed midnight while scripting")

    u = expect(call(server, "GET", f"/v1/keys/{k['id']}/usage", t.key), 200)
    check_shape(u, 30)
    assert u["data"][-1] == {"date": day, **want}, u["data"][-1]
    assert all(d[o] == 0 for d in u["data"][:-1] for o in OUTCOMES)
    assert u["totals"] == want

    u = expect(call(server, "GET", f"/v1/keys/{k['id']}/usage", t.key, params={"days": 3}), 200)
    check_shape(u, 3)
    u = expect(call(server, "GET", f"/v1/keys/{e['id']}/usage", t.key, params={"days": 1}), 200)
    assert u["data"] == [{"date": day, "valid": 0, "rate_limited": 0, "revoked": 0, "expired": 2,
                          "insufficient_scope": 0, "account_suspended": 0, "ip_not_allowed": 0,
                          "usage_exceeded": 0}], u
    # also under the account route
    u = expect(call(server, "GET", f"/v1/accounts/{t.account_id}/keys/{k['id']}/usage", t.key,
                    params={"days": 1}), 200)
    assert u["totals"] == want

    # last_used_at is the last valid use, derived from the counter rows
    obj = expect(call(server, "GET", f"/v1/keys/{k['id']}", t.key), 200)
    assert obj["last_used_at"] is not None

    # CLI: the same numbers as a plain table
    out = stack.cli("key", "usage", k["id"], "--days", "2").stdout.splitlines()
    assert out[0].split() == ["DATE", *OUTCOMES], out
    assert out[2].split() == [day, "2", "1", "2", "0", "1", "0", "0", "0"], out
    assert out[3].split() == ["total", "2", "1", "2", "0", "1", "0", "0", "0"], out


def test_account_usage_sums_the_subtree(server, stack):
    t = make_tenant(server, scopes=("admin",))
    child = make_account(server, t.key, parent_id=t.account_id, plan="pro")
    grandchild = make_account(server, t.key, parent_id=child["id"], plan="pro")
    day = today()
    k1, w1 = scripted(server, t)
    k2 = create_key(server, t.key, account_id=grandchild["id"], scopes=())
    for _ in range(3):
        assert verify(server, t.key, k2["key"])["code"] == "VALID"
    if today() != day:
        pytest.skip("crossed midnight while scripting")
    u = expect(call(server, "GET", f"/v1/accounts/{t.account_id}/usage", t.key, params={"days": 7}), 200)
    # the tenant's own key made calls too (this GET included, counted before the sum was read)
    own = db_query(stack, "SELECT COALESCE(SUM(u.valid), 0) AS v FROM key_usage u JOIN api_keys k ON k.id = u.key_id"
                          " WHERE k.public_id = %s AND u.day = %s", (t.key_id, int(time.time()) // DAY))[0]["v"]
    check_shape(u, 7)
    last = u["data"][-1]
    assert last["rate_limited"] == 1 and last["revoked"] == 2 and last["insufficient_scope"] == 1, last
    assert last["valid"] == w1["valid"] + 3 + own, (last, own)

    u = expect(call(server, "GET", f"/v1/accounts/{child['id']}/usage", t.key, params={"days": 1}), 200)
    assert u["data"] == [{"date": day, "valid": 3, "rate_limited": 0, "revoked": 0, "expired": 0,
                          "insufficient_scope": 0, "account_suspended": 0, "ip_not_allowed": 0,
                          "usage_exceeded": 0}], u
    out = stack.cli("account", "usage", child["id"], "--days", "1").stdout.splitlines()
    assert out[1].split() == [day, "3", "0", "0", "0", "0", "0", "0", "0"], out

    # the subtree rule: a sub-account's key cannot read its parent's usage, nor its keys'
    sub = create_key(server, t.key, account_id=child["id"], scopes=("keys:read", "accounts:read"))
    assert_error(call(server, "GET", f"/v1/accounts/{t.account_id}/usage", sub["key"]), 404, "NOT_FOUND")
    assert_error(call(server, "GET", f"/v1/keys/{k1['id']}/usage", sub["key"]), 404, "NOT_FOUND")
    expect(call(server, "GET", f"/v1/keys/{k2['id']}/usage", sub["key"]), 200)
    # scopes
    no_read = create_key(server, t.key, account_id=child["id"], scopes=("verify",))
    assert_error(call(server, "GET", f"/v1/keys/{k2['id']}/usage", no_read["key"]), 403, "FORBIDDEN")
    assert_error(call(server, "GET", f"/v1/accounts/{child['id']}/usage", no_read["key"]), 403, "FORBIDDEN")


def test_usage_days_parameter(server):
    t = make_tenant(server, scopes=("keys:read", "accounts:read"))
    for bad in ("0", "401", "-1", "ten", "1.5"):
        assert_error(call(server, "GET", f"/v1/keys/{t.key_id}/usage", t.key, params={"days": bad}),
                     400, "VALIDATION_ERROR", field="days")
        assert_error(call(server, "GET", f"/v1/accounts/{t.account_id}/usage", t.key, params={"days": bad}),
                     400, "VALIDATION_ERROR", field="days")
    assert_error(call(server, "GET", f"/v1/keys/{t.key_id}/usage", t.key, params={"since": "1"}),
                 400, "VALIDATION_ERROR", field="since")
    u = expect(call(server, "GET", f"/v1/keys/{t.key_id}/usage", t.key, params={"days": 400}), 200)
    check_shape(u, 400)
    assert_error(call(server, "POST", f"/v1/keys/{t.key_id}/usage", t.key, body={}), 405, "METHOD_NOT_ALLOWED")
    assert_error(call(server, "DELETE", f"/v1/accounts/{t.account_id}/usage", t.key), 405, "METHOD_NOT_ALLOWED")


def usage_rows(stack, key_id):
    return db_query(stack, "SELECT u.* FROM key_usage u JOIN api_keys k ON k.id = u.key_id"
                           " WHERE k.public_id = %s ORDER BY u.day", (key_id,))


def test_counter_rows_stay_bounded(server, stack):
    """Many windows of one key leave one row per UTC day; gc removes days past the retention."""
    k = create_key(server, scopes=("keys:read",), ratelimit={"limit": 2, "window": 1})
    day = int(time.time()) // DAY
    codes = []
    for _ in range(6):  # at least five different 1-second windows
        codes += [call(server, "GET", "/v1/me", k["key"]).status_code for _ in range(3)]
        time.sleep(1.05)
    if int(time.time()) // DAY != day:
        pytest.skip("crossed midnight")
    rows = usage_rows(stack, k["id"])
    assert len(rows) == 1, rows
    assert rows[0]["valid"] == codes.count(200) and rows[0]["rate_limited"] == codes.count(429), (rows, codes)
    assert codes.count(200) >= 10, codes

    # Rows older than the retention (400 days) go, and the last valid use they held is kept.
    kid = db_query(stack, "SELECT id, account_id FROM api_keys WHERE public_id = %s", (k["id"],))[0]
    old = db_query(stack, "SELECT id, account_id FROM api_keys WHERE public_id = %s", (server.admin_key_id,))[0]
    conn = stack.db_connect()
    try:
        with conn.cursor() as c:
            for d in (day - 400, day - 401, day - 500):
                c.execute("INSERT INTO key_usage (key_id, day, account_id, win_start, win_len, n, valid,"
                          " last_valid_at) VALUES (%s, %s, %s, %s, 60, 1, 1, %s)",
                          (kid["id"], d, kid["account_id"], d * DAY, d * DAY + 5))
            # a deleted key's old row (no api_keys row) goes too
            c.execute("INSERT INTO key_usage (key_id, day, account_id, win_start, win_len, n, valid)"
                      " VALUES (%s, %s, %s, %s, 60, 1, 1)", (2 ** 62, day - 450, old["account_id"], 0))
    finally:
        conn.close()
    r = stack.cli("gc")
    assert "removed" in r.stderr, r.stderr
    days = [row["day"] for row in usage_rows(stack, k["id"])]
    assert days == [day], days
    assert not db_query(stack, "SELECT 1 FROM key_usage WHERE key_id = %s", (2 ** 62,))
    assert not db_query(stack, "SELECT 1 FROM key_usage WHERE day < %s", (day - 399,))
    # the retention boundary: day - 399 is kept (400 days including today)
    conn = stack.db_connect()
    try:
        with conn.cursor() as c:
            c.execute("INSERT INTO key_usage (key_id, day, account_id, win_start, win_len, n)"
                      " VALUES (%s, %s, %s, 0, 60, 1)", (kid["id"], day - 399, kid["account_id"]))
    finally:
        conn.close()
    stack.cli("gc")
    assert [row["day"] for row in usage_rows(stack, k["id"])] == [day - 399, day]


def test_gc_keeps_last_used_at(server, stack):
    k = create_key(server, scopes=("keys:read",))
    kid = db_query(stack, "SELECT id, account_id FROM api_keys WHERE public_id = %s", (k["id"],))[0]
    day = int(time.time()) // DAY
    conn = stack.db_connect()
    try:
        with conn.cursor() as c:
            c.execute("INSERT INTO key_usage (key_id, day, account_id, win_start, win_len, n, valid,"
                      " last_valid_at) VALUES (%s, %s, %s, %s, 60, 1, 1, %s)",
                      (kid["id"], day - 401, kid["account_id"], (day - 401) * DAY, (day - 401) * DAY + 7))
    finally:
        conn.close()
    before = expect(call(server, "GET", f"/v1/keys/{k['id']}", server.admin_key), 200)["last_used_at"]
    stack.cli("gc")
    assert not usage_rows(stack, k["id"])
    after = expect(call(server, "GET", f"/v1/keys/{k['id']}", server.admin_key), 200)["last_used_at"]
    assert before == after == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((day - 401) * DAY + 7))


def test_gc_trims_the_cache_feed(stack):
    """Every change writes a cache_feed row whether or not a host runs the verify cache: the sweep
    (here `latchkey gc`) removes the rows older than an hour, and keeps the newer ones."""
    conn = stack.db_connect()
    try:
        with conn.cursor() as c:
            c.execute("INSERT INTO cache_feed (at, target_id) VALUES (UNIX_TIMESTAMP() - 3700, 'key_trimold'),"
                      " (UNIX_TIMESTAMP() - 3500, 'key_trimnew')")
    finally:
        conn.close()
    stack.cli("gc")
    left = {r["target_id"] for r in db_query(stack, "SELECT target_id FROM cache_feed"
                                                    " WHERE target_id IN ('key_trimold', 'key_trimnew')")}
    assert left == {"key_trimnew"}, left
