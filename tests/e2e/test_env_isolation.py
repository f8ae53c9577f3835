"""Test/live separation: a test key sees and acts on test keys only; a live key acts on both."""
from helpers import (assert_error, assert_verify, audit_by_rid, call, create_key, expect, key_count, key_row,
                     list_all, make_tenant, new_rid)

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
