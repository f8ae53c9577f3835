"""Accounts: create/list/get/patch/delete, `me`, nested key routes, X-Account-Id / X-Tenant-ID, /v1/me."""
from helpers import (ACCOUNT_FIELDS, account_row, assert_error, assert_key_object, assert_verify, call,
                     create_key, expect, key_count, list_all, make_account, make_tenant, parse_ts, stable, uid)


def assert_account(obj):
    assert set(obj) == ACCOUNT_FIELDS, obj
    assert obj["id"].startswith("acct_")
    assert obj["plan"] in ("free", "pro", "enterprise")
    parse_ts(obj["created_at"])


def test_account_crud(server, stack):
    t = make_tenant(server, scopes=["accounts:read", "accounts:write", "keys:write"], plan="pro")
    name = uid("Child Co")
    child = expect(call(server, "POST", "/v1/accounts", t.key, body={"name": name}), 201)
    assert_account(child)
    assert child["name"] == name and child["parent_id"] == t.account_id and child["plan"] == "free"
    assert account_row(stack, child["id"])["name"] == name

    g = expect(call(server, "GET", f"/v1/accounts/{child['id']}", t.key), 200)
    assert g == child

    p = expect(call(server, "PATCH", f"/v1/accounts/{child['id']}", t.key,
                    body={"name": name + " renamed", "plan": "pro"}), 200)
    assert p["name"] == name + " renamed" and p["plan"] == "pro" and p["parent_id"] == t.account_id
    assert expect(call(server, "GET", f"/v1/accounts/{child['id']}", t.key), 200)["plan"] == "pro"

    before = stable(account_row(stack, child["id"]))
    for body, field in (({"parent_id": server.root_account}, "parent_id"), ({"id": "acct_x"}, "id"),
                        ({"name": ""}, "name"), ({"name": "n" * 101}, "name"), ({"plan": "gold"}, "plan"),
                        ({"colour": "red"}, "colour")):
        assert_error(call(server, "PATCH", f"/v1/accounts/{child['id']}", t.key, body=body),
                     400, "VALIDATION_ERROR", field=field)
    assert_error(call(server, "PATCH", f"/v1/accounts/{child['id']}", t.key, body={}), 400, "VALIDATION_ERROR")
    assert stable(account_row(stack, child["id"])) == before

    for body, field in (({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 101}, "name"),
                        ({"name": "ok", "plan": "platinum"}, "plan"), ({"name": "ok", "extra": 1}, "extra")):
        assert_error(call(server, "POST", "/v1/accounts", t.key, body=body), 400, "VALIDATION_ERROR", field=field)

    # delete: 409 with a key, 409 with a child, 204 when empty
    k = create_key(server, t.key, account_id=child["id"], scopes=[])
    assert_error(call(server, "DELETE", f"/v1/accounts/{child['id']}", t.key), 409, "CONFLICT")
    expect(call(server, "DELETE", f"/v1/keys/{k['id']}", server.admin_key), 204)
    grandchild = make_account(server, t.key, parent_id=child["id"])
    assert grandchild["parent_id"] == child["id"]
    assert_error(call(server, "DELETE", f"/v1/accounts/{child['id']}", t.key), 409, "CONFLICT")
    assert account_row(stack, child["id"]) is not None
    expect(call(server, "DELETE", f"/v1/accounts/{grandchild['id']}", t.key), 204)
    expect(call(server, "DELETE", f"/v1/accounts/{child['id']}", t.key), 204)
    assert account_row(stack, child["id"]) is None
    assert_error(call(server, "GET", f"/v1/accounts/{child['id']}", t.key), 404, "NOT_FOUND")
    assert_error(call(server, "DELETE", f"/v1/accounts/{child['id']}", t.key), 404, "NOT_FOUND")
    assert_error(call(server, "GET", "/v1/accounts/acct_" + "Q" * 24, t.key), 404, "NOT_FOUND")


def test_account_list_is_subtree_below_context(server):
    t = make_tenant(server, scopes=["accounts:read", "accounts:write"])
    c1 = make_account(server, t.key)
    c2 = make_account(server, t.key)
    g1 = make_account(server, t.key, parent_id=c1["id"])
    outsider = make_account(server)
    everything = {c1["id"], c2["id"], g1["id"]}
    for limit in (None, 1, 2, 100):
        items = list_all(server, t.key, "/v1/accounts", limit=limit)
        got = [i["id"] for i in items]
        assert len(got) == len(set(got))
        assert set(got) == everything, (limit, got)
        for i in items:
            assert_account(i)
        times = [parse_ts(i["created_at"]) for i in items]
        assert times == sorted(times, reverse=True)
    assert outsider["id"] not in got and t.account_id not in got
    # a narrower context: only c1's subtree
    sub = expect(call(server, "GET", "/v1/accounts", t.key, headers={"X-Account-Id": c1["id"]}), 200)
    assert {i["id"] for i in sub["data"]} == {g1["id"]}
    for bad in ("0", "101", "1000000000"):
        assert_error(call(server, "GET", "/v1/accounts", t.key, params={"limit": bad}), 400, "VALIDATION_ERROR",
                     field="limit")


def test_me_alias_and_v1_me(server):
    t = make_tenant(server, scopes=["accounts:read"])
    a = expect(call(server, "GET", "/v1/accounts/me", t.key), 200)
    assert_account(a)
    assert a["id"] == t.account_id and a["parent_id"] == server.root_account

    # /v1/me needs no scope at all
    bare = create_key(server, server.admin_key, account_id=t.account_id, scopes=[])
    for key in (t.key, bare["key"]):
        me = expect(call(server, "GET", "/v1/me", key), 200)
        assert set(me) == {"key", "account"}, me
        assert isinstance(me["key"], dict), me  # the key object, never the plaintext
        assert_key_object(me["key"])
        assert me["account"]["id"] == t.account_id
        assert_account(me["account"])
    assert expect(call(server, "GET", "/v1/me", bare["key"]), 200)["key"]["id"] == bare["id"]
    assert_error(call(server, "GET", "/v1/me"), 401, "MISSING_API_KEY")
    # the root key's me
    root_me = expect(call(server, "GET", "/v1/me", server.admin_key), 200)
    assert root_me["account"]["id"] == server.root_account and root_me["account"]["parent_id"] is None
    assert "admin" in root_me["key"]["scopes"]


def test_nested_key_routes(server, stack):
    t = make_tenant(server)
    child = make_account(server, t.key)
    base = f"/v1/accounts/{child['id']}/keys"
    k = expect(call(server, "POST", base, t.key, body={"label": uid("nested"), "scopes": ["verify"]}), 201)
    assert_key_object(k, with_plaintext=True)
    assert k["account_id"] == child["id"]
    assert key_count(stack, child["id"]) == 1

    page = expect(call(server, "GET", base, t.key), 200)
    assert [i["id"] for i in page["data"]] == [k["id"]]
    assert expect(call(server, "GET", f"{base}/{k['id']}", t.key), 200)["id"] == k["id"]
    p = expect(call(server, "PATCH", f"{base}/{k['id']}", t.key, body={"label": "nested-renamed"}), 200)
    assert p["label"] == "nested-renamed"
    assert expect(call(server, "POST", f"{base}/{k['id']}/revoke", t.key), 200)["status"] == "revoked"
    assert expect(call(server, "POST", f"{base}/{k['id']}/reactivate", t.key), 200)["status"] == "active"
    new = expect(call(server, "POST", f"{base}/{k['id']}/rotate", t.key, body={"grace_period": "1h"}), 201)
    assert new["rotated_from"] == k["id"] and new["account_id"] == child["id"]
    assert_verify(server, t.key, new["key"], "VALID", key_id=new["id"])
    expect(call(server, "DELETE", f"{base}/{k['id']}", t.key), 204)
    expect(call(server, "DELETE", f"{base}/{new['id']}", t.key), 204)
    assert key_count(stack, child["id"]) == 0

    # `me` works in nested routes
    mine = expect(call(server, "GET", "/v1/accounts/me/keys", t.key), 200)
    assert t.key_id in [i["id"] for i in mine["data"]]
    made = expect(call(server, "POST", "/v1/accounts/me/keys", t.key, body={"label": uid("me-nested")}), 201)
    assert made["account_id"] == t.account_id

    # a key of another account is not reachable through this account's nested route
    sibling = make_account(server, t.key)
    sk = create_key(server, t.key, account_id=sibling["id"])
    assert_error(call(server, "GET", f"{base}/{sk['id']}", t.key), 404, "NOT_FOUND")
    assert_error(call(server, "POST", f"{base}/{sk['id']}/revoke", t.key), 404, "NOT_FOUND")
    assert_verify(server, t.key, sk["key"], "VALID", key_id=sk["id"])
    assert_error(call(server, "GET", f"/v1/accounts/acct_{'N' * 24}/keys", t.key), 404, "NOT_FOUND")


def test_account_context_headers(server, stack):
    t = make_tenant(server)
    child = make_account(server, t.key)
    for h in ("X-Account-Id", "X-Tenant-ID"):
        k = expect(call(server, "POST", "/v1/keys", t.key, headers={h: child["id"]},
                        body={"label": uid(h)}), 201)
        assert k["account_id"] == child["id"], h
        page = expect(call(server, "GET", "/v1/keys", t.key, headers={h: child["id"]}), 200)
        assert k["id"] in [i["id"] for i in page["data"]]
        assert all(i["account_id"] == child["id"] for i in page["data"])
        me = expect(call(server, "GET", "/v1/accounts/me", t.key, headers={h: child["id"]}), 200)
        assert me["id"] == t.account_id  # `me` is the caller's account, whatever the context
    assert key_count(stack, child["id"]) == 2
    # without a header the default context is the caller's own account
    k = create_key(server, t.key)
    assert k["account_id"] == t.account_id
