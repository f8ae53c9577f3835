"""Test/live separation: a test key sees and acts on test keys only (their audit rows and usage
included); a live key acts on both."""
from helpers import (assert_error, assert_verify, audit_by_rid, call, create_key, expect, key_count, key_row,
                     list_all, make_account, make_tenant, new_rid, uid)

SCOPES = ["keys:read", "keys:write", "verify"]


def two_envs(server):
    """A tenant whose live key and test key hold the same scopes, plus one live and one test key."""
    t = make_tenant(server, scopes=SCOPES)
    tk = create_key(server, server.admin_key, account_id=t.account_id, scopes=SCOPES, env="test")
    live = create_key(server, server.admin_key, account_id=t.account_id, scopes=["verify"], env="live")
    test = create_key(server, server.admin_key, account_id=t.account_id, scopes=["verify"], env="test")
    return t, tk, live, test


def test_list_shows_a_test_key_only_test_keys(server):
    t, tk, live, test = two_envs(server)
    for path in ("/v1/keys", f"/v1/accounts/{t.account_id}/keys"):
        seen = list_all(server, tk["key"], path)
        assert {k["env"] for k in seen} == {"test"}, seen
        ids = {k["id"] for k in seen}
        assert test["id"] in ids and tk["id"] in ids and live["id"] not in ids and t.key_id not in ids
        assert list_all(server, tk["key"], path, params={"env": "live"}) == []
        assert {k["id"] for k in list_all(server, tk["key"], path, params={"env": "test"})} == ids
        # a live key sees both
        both = {k["id"] for k in list_all(server, t.key, path)}
        assert {live["id"], test["id"], tk["id"], t.key_id} <= both


def test_live_key_is_not_found_for_a_test_key(server, stack):
    t, tk, live, test = two_envs(server)
    before = key_row(stack, live["id"])
    count = key_count(stack, t.account_id)
    for method, suffix, body in (("GET", "", None), ("PATCH", "", {"label": "x"}),
                                 ("PATCH", "", {"expires_at": None}), ("POST", "/revoke", None),
                                 ("POST", "/reactivate", None), ("POST", "/rotate", {}), ("DELETE", "", None)):
        for base in ("/v1/keys", f"/v1/accounts/{t.account_id}/keys"):
            rid = new_rid()
            kw = {} if body is None else {"body": body}
            assert_error(call(server, method, f"{base}/{live['id']}{suffix}", tk["key"], rid=rid, **kw),
                         404, "NOT_FOUND")
            assert audit_by_rid(stack, rid) == []
    assert key_row(stack, live["id"]) == before
    assert key_count(stack, t.account_id) == count
    # the same routes on a test key work for the test key
    assert expect(call(server, "GET", f"/v1/keys/{test['id']}", tk["key"]), 200)["env"] == "test"
    assert expect(call(server, "PATCH", f"/v1/keys/{test['id']}", tk["key"], body={"label": "t"}), 200)["label"] == "t"
    new = expect(call(server, "POST", f"/v1/keys/{test['id']}/rotate", tk["key"], body={}), 201)
    assert new["env"] == "test" and "_test_" in new["key"]
    # and the live key reaches both
    expect(call(server, "GET", f"/v1/keys/{live['id']}", t.key), 200)
    expect(call(server, "PATCH", f"/v1/keys/{new['id']}", t.key, body={"label": "by live"}), 200)


def test_create_by_a_test_key(server, stack):
    t, tk, live, test = two_envs(server)
    k = create_key(server, tk["key"], scopes=["verify"])
    assert k["env"] == "test" and "_test_" in k["key"]
    assert create_key(server, tk["key"], scopes=["verify"], env="test")["env"] == "test"
    count = key_count(stack, t.account_id)
    for b in ({"label": "l", "env": "live"}, {"label": "l", "env": "live", "account_id": t.account_id}):
        rid = new_rid()
        assert_error(call(server, "POST", "/v1/keys", tk["key"], body=b, rid=rid), 403, "FORBIDDEN", field="env")
        assert audit_by_rid(stack, rid) == []
    assert_error(call(server, "POST", "/v1/keys", tk["key"], data={"label": "l", "env": "live"}),
                 403, "FORBIDDEN", field="env")
    assert key_count(stack, t.account_id) == count
    # a live key still creates live keys by default, and test keys on request
    assert create_key(server, t.key, scopes=["verify"])["env"] == "live"
    assert create_key(server, t.key, scopes=["verify"], env="test")["env"] == "test"


def test_verify_by_a_test_key(server, stack):
    t, tk, live, test = two_envs(server)
    used = key_row(stack, live["id"])["last_used_at"]
    v = assert_verify(server, tk["key"], live["key"], "INVALID_API_KEY")
    assert "key" not in v
    assert key_row(stack, live["id"])["last_used_at"] == used  # not even its use is recorded
    assert_verify(server, tk["key"], test["key"], "VALID", key_id=test["id"])
    assert_verify(server, tk["key"], tk["key"], "VALID", key_id=tk["id"])
    # a live key verifies both
    assert_verify(server, t.key, live["key"], "VALID", key_id=live["id"])
    assert_verify(server, t.key, test["key"], "VALID", key_id=test["id"])


def test_me_and_own_key_for_a_test_key(server):
    t, tk, live, test = two_envs(server)
    me = expect(call(server, "GET", "/v1/me", tk["key"]), 200)
    assert me["key"]["id"] == tk["id"] and me["key"]["env"] == "test"


def audit_and_usage_tenant(server):
    """A tenant whose live and test keys may read keys, accounts and the audit log."""
    scopes = ["keys:read", "keys:write", "accounts:read", "audit:read", "verify"]
    t = make_tenant(server, scopes=scopes)
    tk = create_key(server, server.admin_key, account_id=t.account_id, scopes=scopes, env="test")
    return t, tk


def test_audit_shows_a_test_key_only_rows_about_test_keys(server):
    t, tk = audit_and_usage_tenant(server)
    admin = server.admin_key
    live = create_key(server, admin, account_id=t.account_id, env="live")
    expect(call(server, "PATCH", f"/v1/keys/{live['id']}", admin, body={"label": "live renamed"}), 200)
    live_gone = create_key(server, admin, account_id=t.account_id, env="live")
    expect(call(server, "PATCH", f"/v1/keys/{live_gone['id']}", admin, body={"label": "x"}), 200)
    expect(call(server, "DELETE", f"/v1/keys/{live_gone['id']}", admin), 204)
    test = create_key(server, admin, account_id=t.account_id, env="test")
    expect(call(server, "POST", f"/v1/keys/{test['id']}/revoke", admin), 200)
    # a deleted test key's rows stay visible (its env is known from its key.delete row)
    test_gone = create_key(server, admin, account_id=t.account_id, env="test")
    expect(call(server, "PATCH", f"/v1/keys/{test_gone['id']}", admin, body={"label": "y"}), 200)
    expect(call(server, "DELETE", f"/v1/keys/{test_gone['id']}", admin), 204)
    rotated = create_key(server, admin, account_id=t.account_id, env="test")
    expect(call(server, "POST", f"/v1/keys/{rotated['id']}/rotate", admin, body={}), 201)
    sub = make_account(server, admin, name=uid("sub"), parent_id=t.account_id)   # an account row

    test_ids = {tk["id"], test["id"], test_gone["id"], rotated["id"]}
    live_ids = {t.key_id, live["id"], live_gone["id"]}
    seen = list_all(server, tk["key"], "/v1/audit")
    assert seen, seen
    assert {r["target_id"] for r in seen} == test_ids, seen
    actions = {(r["target_id"], r["action"]) for r in seen}
    assert {(test_gone["id"], "key.create"), (test_gone["id"], "key.update"),
            (test_gone["id"], "key.delete"), (test["id"], "key.revoke"),
            (rotated["id"], "key.rotate")} <= actions, actions
    # filters cannot reach the hidden rows
    for params in ({"target_id": live["id"]}, {"target_id": live_gone["id"]}, {"target_id": sub["id"]},
                   {"action": "account.create"}, {"target_id": t.account_id}):
        assert list_all(server, tk["key"], "/v1/audit", params=params) == [], params
    assert {r["action"] for r in list_all(server, tk["key"], "/v1/audit",
                                          params={"target_id": test_gone["id"]})} == \
        {"key.create", "key.update", "key.delete"}
    # the live key sees everything: both envs and the account rows
    every = list_all(server, t.key, "/v1/audit")
    targets = {r["target_id"] for r in every}
    assert test_ids | live_ids | {sub["id"]} <= targets, targets
    assert len(every) > len(seen)


def usage_totals(server, key, path):
    return expect(call(server, "GET", path, key), 200)["totals"]


def test_usage_for_a_test_key(server):
    t, tk = audit_and_usage_tenant(server)
    admin = server.admin_key
    live = create_key(server, admin, account_id=t.account_id, env="live")
    test = create_key(server, admin, account_id=t.account_id, env="test")
    live_gone = create_key(server, admin, account_id=t.account_id, env="live")
    test_gone = create_key(server, admin, account_id=t.account_id, env="test")
    # uses counted against the verified keys (the admin key lives in the root account)
    for k, n in ((live, 3), (test, 2), (live_gone, 5), (test_gone, 4)):
        for _ in range(n):
            assert_verify(server, admin, k["key"], "VALID")
    for k in (live_gone, test_gone):
        expect(call(server, "DELETE", f"/v1/keys/{k['id']}", admin), 204)

    # a live key's usage is 404 to a test key, like every other live-key route
    for path in (f"/v1/keys/{live['id']}/usage", f"/v1/accounts/{t.account_id}/keys/{live['id']}/usage"):
        assert_error(call(server, "GET", path, tk["key"]), 404, "NOT_FOUND")
    assert usage_totals(server, tk["key"], f"/v1/keys/{test['id']}/usage")["valid"] == 2
    # the test keys only (the deleted one included), and tk itself: its calls are uses of a test
    # key (3 so far, this one the 4th; 404s after authentication count too)
    totals = usage_totals(server, tk["key"], f"/v1/accounts/{t.account_id}/usage")
    assert totals["valid"] == 2 + 4 + 4, totals
    assert usage_totals(server, tk["key"], "/v1/accounts/me/usage")["valid"] == 2 + 4 + 5
    # the live key sums every key of the account: both envs, deleted keys included, tk's 5 uses
    # and its own one
    totals = usage_totals(server, t.key, f"/v1/accounts/{t.account_id}/usage")
    assert totals["valid"] == 3 + 2 + 5 + 4 + 5 + 1, totals
    assert usage_totals(server, t.key, f"/v1/keys/{live['id']}/usage")["valid"] == 3
