"""Rate limits: exact under concurrency, the headers, windows, plans and overrides, failure modes.

Limits are fixed windows aligned to UTC midnight. Tests that must stay inside one window use a
day-long window (86400 s) and repeat once if a burst happened to straddle midnight.
"""
import concurrent.futures
import json
import os
import re
import subprocess
import time

import pytest

from admin_util import KEY_LINK_RE, Console, make_user
from helpers import (CREATED_KEYS, assert_error, audit_by_rid, call, create_key, db_query, expect, key_count,
                     key_row, make_account, make_tenant, new_rid, stable, uid, verify)

DAY = 86400
IETF_POLICY = '"default";q={q};w={w}'


def parallel(fn, items, workers=32):
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(fn, items))


def same_day(fn):
    """Run fn(); if the UTC day changed while it ran (its window ended), run it once more."""
    for _ in range(2):
        day = int(time.time()) // DAY
        out = fn()
        if int(time.time()) // DAY == day:
            return out
    pytest.fail("two runs straddled midnight")


def key_limited(server, limit, window=DAY, scopes=("verify",), account_id=None, caller=None):
    return create_key(server, caller or server.admin_key, account_id=account_id, scopes=scopes,
                      ratelimit={"limit": limit, "window": window})


def check_headers(resp, limit, window, remaining):
    h = resp.headers
    assert h.get("RateLimit-Policy") == IETF_POLICY.format(q=limit, w=window), dict(h)
    assert h.get("RateLimit-Limit") == str(limit), dict(h)
    assert h.get("RateLimit-Remaining") == str(remaining), dict(h)
    reset = int(h["RateLimit-Reset"])
    assert 1 <= reset <= window, dict(h)
    assert h.get("RateLimit") == f'"default";r={remaining};t={reset}', dict(h)
    return reset


# ---------------------------------------------------------------- exactness

def test_exact_on_verify(server, stack):
    t = make_tenant(server, scopes=("verify",))

    def run():
        target = key_limited(server, 50, account_id=t.account_id)
        codes = parallel(lambda _: verify(server, t.key, target["key"])["code"], range(200))
        return codes, target

    codes, target = same_day(run)
    assert codes.count("VALID") == 50 and codes.count("RATE_LIMITED") == 150, codes
    rows = db_query(stack, "SELECT SUM(n) AS n, SUM(valid) AS v, SUM(rate_limited) AS r FROM key_usage u"
                           " JOIN api_keys k ON k.id = u.key_id WHERE k.public_id = %s", (target["id"],))
    assert (rows[0]["n"], rows[0]["v"], rows[0]["r"]) == (200, 50, 150), rows


def test_exact_on_management_route(server):
    def run():
        k = key_limited(server, 50, scopes=("keys:read",))
        return parallel(lambda _: call(server, "GET", "/v1/me", k["key"]), range(200))

    resps = same_day(run)
    ok = [r for r in resps if r.status_code == 200]
    denied = [r for r in resps if r.status_code == 429]
    assert len(ok) == 50 and len(denied) == 150, sorted(r.status_code for r in resps)
    for r in denied:
        err = assert_error(r, 429, "RATE_LIMITED")
        assert int(r.headers["Retry-After"]) >= 1, dict(r.headers)
        assert err["details"]["retry_after"] == int(r.headers["Retry-After"]), err
        check_headers(r, 50, DAY, 0)
    assert sorted(int(r.headers["RateLimit-Remaining"]) for r in ok) == list(range(50)), \
        "each success sees its own count"


def test_exact_across_lighttpd_and_apache(stack):
    if not {"lighttpd", "apache"} <= set(stack.servers):
        pytest.skip("needs both lighttpd and apache")
    lt, ap = stack.servers["lighttpd"], stack.servers["apache"]
    t = make_tenant(lt, scopes=("verify",))

    def run():
        target = key_limited(lt, 50, account_id=t.account_id)
        return parallel(lambda i: verify(lt if i % 2 else ap, t.key, target["key"])["code"], range(200))

    codes = same_day(run)
    assert codes.count("VALID") == 50 and codes.count("RATE_LIMITED") == 150, codes


def test_exact_on_management_across_servers(stack):
    if not {"lighttpd", "apache"} <= set(stack.servers):
        pytest.skip("needs both lighttpd and apache")
    lt, ap = stack.servers["lighttpd"], stack.servers["apache"]

    def run():
        k = key_limited(lt, 50, scopes=("keys:read",))
        return parallel(lambda i: call(lt if i % 2 else ap, "GET", "/v1/me", k["key"]).status_code,
                        range(200))

    codes = same_day(run)
    assert codes.count(200) == 50 and codes.count(429) == 150, codes


# ---------------------------------------------------------------- answers

def test_headers_and_verify_object(server):
    t = make_tenant(server, scopes=("verify", "keys:read"))

    def run():
        k = key_limited(server, 5, scopes=("keys:read",), account_id=t.account_id)
        r1 = call(server, "GET", "/v1/me", k["key"])
        r2 = call(server, "GET", f"/v1/keys/{k['id']}", k["key"])
        return k, r1, r2

    k, r1, r2 = same_day(run)
    expect(r1, 200)
    check_headers(r1, 5, DAY, 4)
    expect(r2, 200)
    check_headers(r2, 5, DAY, 3)
    # Errors counted against the caller carry the headers too (404 after authentication).
    r3 = call(server, "GET", "/v1/keys/key_doesnotexist000000000000", k["key"])
    assert_error(r3, 404, "NOT_FOUND")
    check_headers(r3, 5, DAY, 2)
    # Unknown and malformed keys count nothing and get no rate-limit headers.
    r4 = call(server, "GET", "/v1/me", "lk_live_" + "A" * 38)
    assert_error(r4, 401, "INVALID_API_KEY")
    assert "RateLimit" not in r4.headers and "RateLimit-Limit" not in r4.headers

    # Verify: the verified key's state in the body, no rate-limit headers (the caller is not counted).
    r = call(server, "POST", "/v1/verify", t.key, body={"key": k["key"]})
    v = expect(r, 200)
    assert v["code"] == "VALID" and v["key"]["id"] == k["id"], v
    assert set(v["ratelimit"]) == {"limit", "remaining", "reset"}, v
    assert v["ratelimit"]["limit"] == 5 and v["ratelimit"]["remaining"] == 1, v
    assert 1 <= v["ratelimit"]["reset"] <= DAY
    assert not [h for h in r.headers if h.lower().startswith("ratelimit") or h.lower() == "retry-after"], \
        dict(r.headers)
    v = verify(server, t.key, k["key"])
    assert v["code"] == "VALID" and v["ratelimit"]["remaining"] == 0, v
    v = verify(server, t.key, k["key"])
    assert v["valid"] is False and v["code"] == "RATE_LIMITED", v
    assert v["key"]["id"] == k["id"] and v["ratelimit"]["remaining"] == 0, v
    # An unknown key: no key object, no ratelimit object.
    v = verify(server, t.key, "lk_live_" + "A" * 38)
    assert v == {"valid": False, "code": "INVALID_API_KEY"}, v


def test_window_reset(server):
    k = key_limited(server, 3, window=2, scopes=("keys:read",))
    for _ in range(5):
        # start early in a fresh 2-second window so four calls fit in it
        time.sleep(2 - time.time() % 2 + 0.05)
        start = time.time()
        rs = [call(server, "GET", "/v1/me", k["key"]) for _ in range(4)]
        if int(time.time()) // 2 == int(start) // 2:
            break
    else:
        pytest.fail("could not fit four calls into one 2-second window")
    assert [r.status_code for r in rs] == [200, 200, 200, 429], [r.text for r in rs]
    check_headers(rs[0], 3, 2, 2)
    retry = int(rs[3].headers["Retry-After"])
    assert 1 <= retry <= 2
    time.sleep(2 - time.time() % 2 + 0.05)
    r = call(server, "GET", "/v1/me", k["key"])
    assert r.status_code == 200, r.text
    check_headers(r, 3, 2, 2)


def test_plan_and_key_override(server):
    # 63 uses and a plan change inside one minute (start with at least 15 s of it left). As CGI
    # with ASan on a loaded machine that can take longer: a run the minute ended in is made again.
    for _ in range(3):
        acct = make_account(server, plan="free")
        k = create_key(server, account_id=acct["id"], scopes=("keys:read",))
        if time.time() % 60 > 45:
            time.sleep(60 - time.time() % 60 + 0.1)
        minute = int(time.time()) // 60
        codes = parallel(lambda _: call(server, "GET", "/v1/me", k["key"]).status_code, range(61), workers=8)
        r = call(server, "GET", "/v1/me", k["key"])
        # The plan changes: the very next request gets the pro limit in the same window.
        expect(call(server, "PATCH", f"/v1/accounts/{acct['id']}", server.admin_key, body={"plan": "pro"}), 200)
        after = call(server, "GET", "/v1/me", k["key"])
        if int(time.time()) // 60 == minute:
            break
    else:
        pytest.fail("three runs each took more than the minute they had")
    assert codes.count(200) == 60 and codes.count(429) == 1, codes
    assert_error(r, 429, "RATE_LIMITED")
    check_headers(r, 60, 60, 0)
    expect(after, 200)
    check_headers(after, 600, 60, 600 - 63)
    # A key override beats the plan, also immediately.
    expect(call(server, "PATCH", f"/v1/keys/{k['id']}", server.admin_key,
                body={"ratelimit": {"limit": 7, "window": 3600}}), 200)
    r = call(server, "GET", "/v1/me", k["key"])
    expect(r, 200)
    assert r.headers["RateLimit-Policy"] == IETF_POLICY.format(q=7, w=3600)
    assert r.headers["RateLimit-Remaining"] == "6", dict(r.headers)  # a new window: the first use


def test_only_admin_sets_override_above_plan(server):
    acct = make_account(server, plan="free")
    writer = create_key(server, account_id=acct["id"], scopes=("keys:write", "keys:read"))
    # 60/min is the plan: equal is fine, above is admin-only.
    create_key(server, writer["key"], scopes=(), ratelimit={"limit": 60, "window": 60})
    create_key(server, writer["key"], scopes=(), ratelimit={"limit": 1, "window": 1})
    r = call(server, "POST", "/v1/keys", writer["key"],
             body={"label": "fast", "ratelimit": {"limit": 61, "window": 60}})
    assert_error(r, 403, "FORBIDDEN", field="ratelimit")
    slow = create_key(server, writer["key"], scopes=())
    r = call(server, "PATCH", f"/v1/keys/{slow['id']}", writer["key"],
             body={"ratelimit": {"limit": 1000, "window": 60}})
    assert_error(r, 403, "FORBIDDEN", field="ratelimit")
    fast = create_key(server, server.admin_key, account_id=acct["id"], scopes=("keys:read",),
                      ratelimit={"limit": 1000, "window": 60})
    r = call(server, "GET", "/v1/me", fast["key"])
    expect(r, 200)
    assert r.headers["RateLimit-Limit"] == "1000"


MAX_OVERRIDE = 60000    # ratelimit_max_override's default, per minute (the tests' config keeps it)


def test_override_cap_outside_the_root_account(server, stack):
    """A sub-account's admin may raise a key above its plan, but not above ratelimit_max_override;
    the root account's admin may, on create and PATCH, from the API and the console."""
    t = make_tenant(server, scopes=("admin",))          # enterprise plan: 6000/min
    at_cap = [{"limit": MAX_OVERRIDE, "window": 60}, {"limit": MAX_OVERRIDE // 60, "window": 1},
              {"limit": MAX_OVERRIDE * 1440, "window": DAY}]
    above = [{"limit": MAX_OVERRIDE + 1, "window": 60}, {"limit": MAX_OVERRIDE // 60 + 1, "window": 1},
             {"limit": 1000000000, "window": 1}, {"limit": MAX_OVERRIDE * 1440 + 1, "window": DAY}]
    n = key_count(stack, t.account_id)
    for rl in above:
        for kw in ({"body": {"label": "fast", "ratelimit": rl}},
                   {"data": {"label": "fast", "ratelimit": json.dumps(rl)}}):
            rid = new_rid()
            err = assert_error(call(server, "POST", "/v1/keys", t.key, rid=rid, **kw), 403, "FORBIDDEN",
                               field="ratelimit")
            assert err["details"]["max_per_minute"] == MAX_OVERRIDE and "60000" in err["message"], err
            assert audit_by_rid(stack, rid) == []
    assert key_count(stack, t.account_id) == n
    for rl in at_cap:
        assert create_key(server, t.key, scopes=(), ratelimit=rl)["ratelimit"] == rl
    k = create_key(server, t.key, scopes=())
    before = stable(key_row(stack, k["id"]))
    for rl in above:
        rid = new_rid()
        assert_error(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"ratelimit": rl}, rid=rid),
                     403, "FORBIDDEN", field="ratelimit")
        assert audit_by_rid(stack, rid) == []
    assert stable(key_row(stack, k["id"])) == before
    for rl in at_cap:
        assert expect(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"ratelimit": rl}),
                      200)["ratelimit"] == rl
    # a grandchild account's admin is held to it too
    g = make_tenant(server, scopes=("admin",), parent_id=t.account_id)
    assert_error(call(server, "POST", "/v1/keys", g.key, body={"label": "fast", "ratelimit": above[0]}),
                 403, "FORBIDDEN", field="ratelimit")
    # the root account's admin is not, in any account
    for rl in above:
        assert create_key(server, server.admin_key, account_id=t.account_id, scopes=(),
                          ratelimit=rl)["ratelimit"] == rl
        assert expect(call(server, "PATCH", f"/v1/keys/{k['id']}", server.admin_key, body={"ratelimit": rl}),
                      200)["ratelimit"] == rl

    # the console goes through the same handlers: a sub-account owner is refused, the root owner not
    email, pw, _ = make_user(stack, "owner", account=t.account_id)
    sub = Console(server, email, pw)
    fast = {"ratelimit.limit": str(MAX_OVERRIDE + 1), "ratelimit.window": "60"}
    n = key_count(stack, t.account_id)
    r, _ = sub.create_key(uid("fast"), account_id=t.account_id, **fast)
    assert r.status_code == 403 and "ratelimit_max_override" in r.text, (r.status_code, r.text[:500])
    assert key_count(stack, t.account_id) == n
    r = sub.post(f"/admin/keys/{k['id']}/edit", {"label": k["label"], "scopes": [""], "meta": "{}", **fast})
    assert r.status_code == 403 and "ratelimit_max_override" in r.text, (r.status_code, r.text[:500])
    root = Console(server, stack.owner_login, stack.owner_password)
    r, _ = root.create_key(uid("fast"), account_id=t.account_id, **fast)
    assert r.status_code == 201, r.text[:500]
    CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))
    kid = KEY_LINK_RE.search(r.text).group(1)
    assert key_row(stack, kid)["rl_limit"] == MAX_OVERRIDE + 1


def test_verify_counts_the_verified_key_not_the_caller(server, stack):
    t = make_tenant(server, scopes=("verify",))
    caller = key_limited(server, 1, account_id=t.account_id)     # one use a day

    def run():
        target = key_limited(server, 100, account_id=t.account_id, scopes=("tasks:read",))
        return target, [verify(server, caller["key"], target["key"])["code"] for _ in range(5)]

    target, codes = same_day(run)
    assert codes == ["VALID"] * 5, codes
    n = db_query(stack, "SELECT COALESCE(SUM(u.n), 0) AS n FROM key_usage u JOIN api_keys k ON k.id = u.key_id"
                        " WHERE k.public_id = %s", (caller["id"],))[0]["n"]
    assert n == 0, "the caller of verify was counted"
    v = verify(server, caller["key"], target["key"])
    assert v["ratelimit"]["remaining"] == 100 - 6, v
    # The caller's own budget is untouched: its first management use passes.
    expect(call(server, "GET", "/v1/me", caller["key"]), 200)


def test_status_wins_over_the_counter(server):
    t = make_tenant(server, scopes=("verify",))
    k = key_limited(server, 1, account_id=t.account_id, scopes=("tasks:read",))
    assert verify(server, t.key, k["key"])["code"] == "VALID"
    assert verify(server, t.key, k["key"])["code"] == "RATE_LIMITED"
    assert verify(server, t.key, k["key"], scopes=["tasks:write"])["code"] == "INSUFFICIENT_SCOPE"
    expect(call(server, "POST", f"/v1/keys/{k['id']}/revoke", server.admin_key), 200)
    v = verify(server, t.key, k["key"])
    assert v["code"] == "REVOKED_API_KEY" and v["ratelimit"]["remaining"] == 0, v
    # and on a management route
    m = key_limited(server, 1, scopes=("keys:read",))
    expect(call(server, "GET", "/v1/me", m["key"]), 200)
    assert_error(call(server, "GET", "/v1/me", m["key"]), 429, "RATE_LIMITED")
    expect(call(server, "POST", f"/v1/keys/{m['id']}/revoke", server.admin_key), 200)
    r = call(server, "GET", "/v1/me", m["key"])
    assert_error(r, 401, "REVOKED_API_KEY")
    check_headers(r, 1, DAY, 0)


# ---------------------------------------------------------------- the counter cannot be written

TRIGGER = "lk_test_counter_unwritable"


def break_counter(stack, key_id):
    """A trigger that makes every count of this one key fail (reads still work)."""
    root = stack.db_connect(root=True, database="latchkey")
    try:
        with root.cursor() as c:
            c.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
            c.execute(f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON key_usage FOR EACH ROW "
                      f"IF NEW.key_id = (SELECT id FROM api_keys WHERE public_id = '{key_id}') THEN "
                      f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'counter unwritable (test)'; END IF")
    finally:
        root.close()


def mend_counter(stack):
    root = stack.db_connect(root=True, database="latchkey")
    try:
        with root.cursor() as c:
            c.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
    finally:
        root.close()


def run_cgi(stack, program, conf, key, body):
    """Run a latchkey program as plain CGI (one process, its own config file)."""
    env = {k: v for k, v in stack.env.items() if k in ("PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")}
    env.update(LATCHKEY_CONF=str(conf), REQUEST_METHOD="POST", SCRIPT_NAME="/v1/verify", PATH_INFO="",
               CONTENT_TYPE="application/json", CONTENT_LENGTH=str(len(body)),
               HTTP_AUTHORIZATION=f"Bearer {key}", REMOTE_ADDR="127.0.0.1", GATEWAY_INTERFACE="CGI/1.1")
    r = subprocess.run([str(stack.bin_dir / program)], input=body, capture_output=True, env=env, timeout=60)
    assert "ERROR: AddressSanitizer" not in r.stderr.decode(errors="replace"), r.stderr
    head, _, payload = r.stdout.decode().partition("\r\n\r\n")
    return head, payload


def test_counter_unwritable_closed_is_503(stack, server):
    t = make_tenant(server, scopes=("verify",))
    target = key_limited(server, 100, account_id=t.account_id)
    m = key_limited(server, 100, scopes=("keys:read",))
    break_counter(stack, target["id"])
    try:
        r = call(server, "POST", "/v1/verify", t.key, body={"key": target["key"]})
        assert_error(r, 503, "SERVICE_UNAVAILABLE")
        assert '"valid":true' not in r.text.replace(" ", "")
    finally:
        mend_counter(stack)
    break_counter(stack, m["id"])
    try:
        assert_error(call(server, "GET", "/v1/me", m["key"]), 503, "SERVICE_UNAVAILABLE")
    finally:
        mend_counter(stack)
    assert verify(server, t.key, target["key"])["code"] == "VALID"
    expect(call(server, "GET", "/v1/me", m["key"]), 200)


@pytest.mark.parametrize("mode", ["closed", "open"])
def test_counter_unwritable_mode(stack, tmp_path, mode):
    """ratelimit_on_db_error, on the real program run as CGI with its own config file."""
    srv = next(iter(stack.servers.values()))
    t = make_tenant(srv, scopes=("verify",))
    target = key_limited(srv, 100, account_id=t.account_id)
    conf = tmp_path / "latchkey.conf"
    conf.write_text(open(stack.conf_path).read() + f"\nratelimit_on_db_error = {mode}\n")
    os.chmod(conf, 0o644)
    body = ('{"key": "%s"}' % target["key"]).encode()
    break_counter(stack, target["id"])
    try:
        head, payload = run_cgi(stack, "verify.fcgi", conf, t.key, body)
    finally:
        mend_counter(stack)
    if mode == "closed":
        assert head.startswith("Status: 503"), (head, payload)
        assert "SERVICE_UNAVAILABLE" in payload
    else:
        assert head.startswith("Status: 200"), (head, payload)
        assert '"valid":true' in payload and '"code":"VALID"' in payload, payload
    head, payload = run_cgi(stack, "verify.fcgi", conf, t.key, body)
    assert head.startswith("Status: 200") and '"valid":true' in payload, (head, payload)
