"""Inactivity revocation: accounts' revoke_after_inactive_days, the sweep, revoked_reason.

Keys are made to look old by writing their stored times (api_keys.created_at / last_used_at and
key_usage rows) with PyMySQL; nothing sleeps. Policies are only set on accounts made here, so
the sweep (the CLI's, or a program's hourly one running meanwhile) touches no other test's keys.
"""
import json
import secrets
import time

import pytest

from admin_util import Console, make_user
from helpers import (assert_error, audit_by_rid, audit_by_target, call, create_key, db_query, expect,
                     get_key, make_account, make_tenant, new_rid, uid)

DAY = 86400


@pytest.fixture(scope="module")
def api(stack):
    """Any running server, for the tests of the CLI's sweep."""
    return next(iter(stack.servers.values()))


def set_policy(server, caller, acct_id, days, status=200, rid=None):
    r = call(server, "PATCH", f"/v1/accounts/{acct_id}", caller,
             body={"revoke_after_inactive_days": days}, rid=rid)
    return expect(r, status) if status == 200 else r


def age(stack, key_id, created_days=None, last_used_days=None, usage_days=None):
    """Make a key look created / last used (the column, or a key_usage row's last valid use) that
    many days ago."""
    now = int(time.time())
    conn = stack.db_connect()
    try:
        with conn.cursor() as c:
            if created_days is not None:
                c.execute("UPDATE api_keys SET created_at = %s WHERE public_id = %s",
                          (now - created_days * DAY, key_id))
            if last_used_days is not None:
                c.execute("UPDATE api_keys SET last_used_at = %s WHERE public_id = %s",
                          (now - last_used_days * DAY, key_id))
            if usage_days is not None:
                t = now - usage_days * DAY
                c.execute("INSERT INTO key_usage (key_id, day, account_id, env, win_start, win_len, n, valid,"
                          " last_valid_at) SELECT id, %s, account_id, env, %s, 60, 1, 1, %s FROM api_keys"
                          " WHERE public_id = %s", (t // DAY, t - t % 60, t, key_id))
    finally:
        conn.close()


def key_in(server, account_id, **kw):
    return create_key(server, account_id=account_id, label=uid("inactive"), **kw)["id"]


def test_policy_only_from_above(server, stack):
    parent = make_tenant(server)
    child = make_tenant(server, parent_id=parent.account_id)
    rid = new_rid()
    a = set_policy(server, parent.key, child.account_id, 30, rid=rid)
    assert a["revoke_after_inactive_days"] == 30, a
    audit = audit_by_rid(stack, rid)
    assert [x["action"] for x in audit] == ["account.update"], audit
    assert json.loads(audit[0]["changes"])["revoke_after_inactive_days"] == {"old": None, "new": 30}
    assert expect(call(server, "GET", f"/v1/accounts/{child.account_id}", child.key),
                  200)["revoke_after_inactive_days"] == 30
    # a sub-account cannot change its own policy, nor reach its parent's
    for days in (3650, None):
        err = assert_error(set_policy(server, child.key, child.account_id, days, status=403), 403,
                           "FORBIDDEN", field="revoke_after_inactive_days")
        assert err
    assert_error(set_policy(server, child.key, parent.account_id, 1, status=404), 404, "NOT_FOUND")
    assert db_query(stack, "SELECT revoke_after_inactive_days AS d FROM accounts WHERE public_id IN (%s, %s)"
                           " ORDER BY id", (parent.account_id, child.account_id)) == [{"d": None}, {"d": 30}]
    # the caller's own name may still change along with nothing else
    expect(call(server, "PATCH", f"/v1/accounts/{child.account_id}", child.key, body={"name": uid("n")}), 200)
    for bad in (0, 3651, "x", 1.5, [30]):
        assert_error(set_policy(server, parent.key, child.account_id, bad, status=400), 400,
                     "VALIDATION_ERROR", field="revoke_after_inactive_days")
    # null clears it, audited old -> new
    rid = new_rid()
    assert set_policy(server, parent.key, child.account_id, None, rid=rid)["revoke_after_inactive_days"] is None
    assert json.loads(audit_by_rid(stack, rid)[0]["changes"])["revoke_after_inactive_days"] == \
        {"old": 30, "new": None}
    # needs accounts:write
    ro = create_key(server, account_id=parent.account_id, scopes=["accounts:read"])
    assert_error(set_policy(server, ro["key"], child.account_id, 5, status=403), 403, "FORBIDDEN")


def test_revoked_reason(server):
    t = make_tenant(server)
    k = create_key(server, t.key)
    assert k["revoked_reason"] is None
    r = expect(call(server, "POST", f"/v1/keys/{k['id']}/revoke", t.key), 200)
    assert r["status"] == "revoked" and r["revoked_reason"] == "manual", r
    assert get_key(server, t.key, k["id"])["revoked_reason"] == "manual"
    r = expect(call(server, "POST", f"/v1/keys/{k['id']}/reactivate", t.key), 200)
    assert r["revoked_reason"] is None, r
    expect(call(server, "POST", f"/v1/keys/{k['id']}/rotate", t.key, body={"grace_period": 0}), 201)
    assert get_key(server, t.key, k["id"])["revoked_reason"] == "rotated"
    k2 = create_key(server, t.key)
    expect(call(server, "POST", f"/v1/keys/{k2['id']}/rotate", t.key, body={"grace_period": "1h"}), 201)
    assert get_key(server, t.key, k2["id"])["revoked_reason"] is None


def test_inactive_days_filter(server, stack):
    t = make_tenant(server)
    old, used, new = (key_in(server, t.account_id) for _ in range(3))
    age(stack, old, created_days=40)
    age(stack, used, created_days=40, usage_days=3)
    listed = expect(call(server, "GET", "/v1/keys", t.key, params={"inactive_days": 30}), 200)["data"]
    assert [k["id"] for k in listed] == [old], listed
    listed = expect(call(server, "GET", "/v1/keys", t.key, params={"inactive_days": 2}), 200)["data"]
    assert {k["id"] for k in listed} == {old, used}, listed
    for bad in ("0", "3651", "x"):
        assert_error(call(server, "GET", "/v1/keys", t.key, params={"inactive_days": bad}), 400,
                     "VALIDATION_ERROR", field="inactive_days")
    assert new


def test_sweep(stack, api):
    """`latchkey sweep`: inactive keys revoked (reason inactive, audited), used ones kept, the
    shortest policy along the account's ancestors wins."""
    root = api.admin_key
    p = make_account(api, name=uid("pol-p"))
    c = make_account(api, name=uid("pol-c"), parent_id=p["id"])     # sets a shorter policy: 10
    g = make_account(api, name=uid("pol-g"), parent_id=c["id"])     # sets a longer one: 20 (10 wins)
    s = make_account(api, name=uid("pol-s"), parent_id=p["id"])     # none of its own: P's 30
    for acct, days in ((p, 30), (c, 10), (g, 20)):
        set_policy(api, root, acct["id"], days)
    keys = {
        "p_unused": (p, dict(created_days=40)),
        "p_used_long_ago": (p, dict(created_days=100, usage_days=40)),
        "p_used_recently": (p, dict(created_days=100, usage_days=2)),
        "p_column_recent": (p, dict(created_days=100, last_used_days=5)),
        "p_new": (p, dict()),
        "c_15": (c, dict(created_days=15)),
        "c_5": (c, dict(created_days=5)),
        "g_15": (g, dict(created_days=15)),
        "s_15": (s, dict(created_days=15)),
        "s_35": (s, dict(created_days=35)),
    }
    ids = {}
    for name, (acct, aging) in keys.items():
        ids[name] = key_in(api, acct["id"])
        age(stack, ids[name], **aging)
    # already revoked by hand: stays "manual"
    manual = key_in(api, p["id"])
    expect(call(api, "POST", f"/v1/keys/{manual}/revoke", root), 200)
    age(stack, manual, created_days=40)
    inactive = {"p_unused", "p_used_long_ago", "c_15", "g_15", "s_35"}

    # the candidates, before the sweep: key list --inactive-days
    out = stack.cli("key", "list", "--account", p["id"], "--inactive-days", "30").stdout
    assert ids["p_unused"] in out and ids["p_used_long_ago"] in out, out
    for name in ("p_used_recently", "p_column_recent", "p_new"):
        assert ids[name] not in out, (name, out)
    assert manual not in out
    js = json.loads(stack.cli("key", "list", "--account", s["id"], "--inactive-days", "10", "--json").stdout)
    assert {k["id"] for k in js} == {ids["s_15"], ids["s_35"]}, js
    bad = stack.cli("key", "list", "--account", p["id"], "--inactive-days", "0", check=False)
    assert bad.returncode == 2 and "--inactive-days" in bad.stderr, bad.stderr

    r = stack.cli("sweep")
    assert "removed" in r.stderr and "inactive key(s)" in r.stderr, r.stderr
    for name, kid in ids.items():
        k = get_key(api, root, kid)
        if name in inactive:
            assert k["status"] == "revoked" and k["revoked_reason"] == "inactive", (name, k)
            rows = [x for x in audit_by_target(stack, kid) if x["action"] == "key.revoke"]
            assert len(rows) == 1, (name, rows)
            ch = json.loads(rows[0]["changes"])
            assert ch["reason"] == "inactive" and ch["status"] == {"old": "active", "new": "revoked"}, ch
            assert rows[0]["actor"] in ("cli", "sweep"), rows   # a program's hourly sweep may come first
        else:
            assert k["status"] == "active" and k["revoked_reason"] is None, (name, k)
            assert not [x for x in audit_by_target(stack, kid) if x["action"] == "key.revoke"], name
    assert get_key(api, root, manual)["revoked_reason"] == "manual"
    # the policy holds: a second sweep (and the old name, gc) changes nothing more
    before = db_query(stack, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'key.revoke'")[0]["n"]
    stack.cli("gc")
    assert db_query(stack, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'key.revoke'")[0]["n"] == before
    # a used key is never revoked, even when its column says old: the usage row decides
    kid = key_in(api, c["id"])
    age(stack, kid, created_days=60, last_used_days=60, usage_days=1)
    stack.cli("sweep")
    assert get_key(api, root, kid)["status"] == "active"


def test_console_inactive(server, stack):
    t = make_tenant(server)
    old, new = key_in(server, t.account_id), key_in(server, t.account_id)
    age(stack, old, created_days=50)
    email, pw, _ = make_user(stack, "owner", account=t.account_id)
    con = Console(server, email, pw)
    page = con.get("/admin/keys?inactive_days=45").text
    assert old in page and new not in page, page[:2000]
    assert 'name="inactive_days"' in page and 'value="45"' in page
    expect(call(server, "POST", f"/v1/keys/{old}/revoke", t.key), 200)
    page = con.get(f"/admin/keys/{old}").text
    assert "Revoked because" in page and "(manual)" in page, page[:3000]
    bad = con.get("/admin/keys?inactive_days=0")
    assert bad.status_code == 400 and "inactive_days" in bad.text


def test_sweep_backlog(stack, api):
    """A program's sweep revokes at most 100 keys a run; `latchkey sweep` goes on until none is left."""
    acct = make_account(api, name=uid("pol-backlog"))
    set_policy(api, api.admin_key, acct["id"], 7)
    items = [{"hash": secrets.token_hex(32), "start": "old_" + secrets.token_hex(2), "label": uid("old")}
             for _ in range(150)]
    r = expect(call(api, "POST", "/v1/keys/import", api.admin_key,
                    body={"keys": items}, headers={"X-Account-Id": acct["id"]}), 207)
    assert r["summary"]["imported"] == 150, r["summary"]
    conn = stack.db_connect()
    try:
        with conn.cursor() as c:
            c.execute("UPDATE api_keys k JOIN accounts a ON a.id = k.account_id SET k.created_at = %s"
                      " WHERE a.public_id = %s", (int(time.time()) - 8 * DAY, acct["id"]))
    finally:
        conn.close()
    p = stack.cli("sweep")
    counts = [int(line.split("revoked ")[1].split()[0]) for line in p.stderr.splitlines() if "revoked" in line]
    # a program's hourly sweep may have taken some first; the CLI's calls revoke 100 at most each
    assert all(n <= 100 for n in counts) and counts[-1] < 100, p.stderr
    if sum(counts) > 100:
        assert counts[0] == 100 and len(counts) >= 2, p.stderr
    left = db_query(stack, "SELECT COUNT(*) AS n FROM api_keys k JOIN accounts a ON a.id = k.account_id"
                           " WHERE a.public_id = %s AND k.revoked_at IS NULL", (acct["id"],))[0]["n"]
    assert left == 0
    reasons = db_query(stack, "SELECT DISTINCT k.revoked_reason AS r FROM api_keys k JOIN accounts a"
                              " ON a.id = k.account_id WHERE a.public_id = %s", (acct["id"],))
    assert reasons == [{"r": "inactive"}], reasons
