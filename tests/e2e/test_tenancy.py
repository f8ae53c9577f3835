"""Tenancy and privilege: cross-tenant access on every route, sub-accounts, scope escalation, plan limits."""
import pytest

from helpers import (ALL_NON_ADMIN, account_row, assert_error, assert_verify, audit_by_rid, call, child_count,
                     create_key, expect, key_count, key_row, make_account, make_tenant, new_rid, stable, uid)


def snapshot(stack, key_ids=(), acct_ids=()):
    return ({k: stable(key_row(stack, k)) for k in key_ids},
            {a: stable(account_row(stack, a)) for a in acct_ids},
            {a: (key_count(stack, a), child_count(stack, a)) for a in acct_ids})


def foreign_requests(victim_acct, victim_key_id):
    """Every route, aimed at another tenant's objects. (method, path, body)."""
    k, a = victim_key_id, victim_acct
    return [
        ("GET", f"/v1/keys/{k}", None),
        ("PATCH", f"/v1/keys/{k}", {"label": "pwned"}),
        ("DELETE", f"/v1/keys/{k}", None),
        ("POST", f"/v1/keys/{k}/revoke", None),
        ("POST", f"/v1/keys/{k}/reactivate", None),
        ("POST", f"/v1/keys/{k}/rotate", {"grace_period": 0}),
        ("GET", f"/v1/accounts/{a}", None),
        ("PATCH", f"/v1/accounts/{a}", {"name": "pwned"}),
        ("DELETE", f"/v1/accounts/{a}", None),
        ("GET", f"/v1/accounts/{a}/keys", None),
        ("GET", f"/v1/accounts/{a}/keys/{k}", None),
        ("PATCH", f"/v1/accounts/{a}/keys/{k}", {"label": "pwned"}),
        ("DELETE", f"/v1/accounts/{a}/keys/{k}", None),
        ("POST", f"/v1/accounts/{a}/keys/{k}/revoke", None),
        ("POST", f"/v1/accounts/{a}/keys/{k}/rotate", {}),
        ("GET", "/v1/keys", "HDR"),
        ("GET", "/v1/accounts", "HDR"),
    ]


def attack(server, stack, attacker_key, victim_acct, victim_key_id, victim_plain):
    for method, path, body in foreign_requests(victim_acct, victim_key_id):
        rid = new_rid()
        if body == "HDR":
            for h in ("X-Account-Id", "X-Tenant-ID"):
                r = call(server, method, path, attacker_key, headers={h: victim_acct}, rid=rid)
                assert_error(r, 404, "NOT_FOUND")
        else:
            kw = {"body": body} if body is not None else {}
            assert_error(call(server, method, path, attacker_key, rid=rid, **kw), 404, "NOT_FOUND")
        assert audit_by_rid(stack, rid) == [], (method, path)
    # creating in a foreign account: 403, whether it exists or not
    for acct in (victim_acct, "acct_" + "D" * 24):
        rid = new_rid()
        assert_error(call(server, "POST", "/v1/keys", attacker_key, body={"label": "x", "account_id": acct}, rid=rid),
                     403, "FORBIDDEN")
        assert_error(call(server, "POST", "/v1/keys", attacker_key, headers={"X-Account-Id": acct},
                          body={"label": "x"}), 403, "FORBIDDEN")
        assert_error(call(server, "POST", f"/v1/accounts/{acct}/keys", attacker_key, body={"label": "x"}),
                     403, "FORBIDDEN")
        assert_error(call(server, "POST", "/v1/accounts", attacker_key, body={"name": "x", "parent_id": acct}),
                     403, "FORBIDDEN")
        assert audit_by_rid(stack, rid) == []
    # verify from outside the subtree: INVALID, no key object
    assert_verify(server, attacker_key, victim_plain, "INVALID_API_KEY")


@pytest.mark.parametrize("attacker_scopes", [ALL_NON_ADMIN, ("admin",)], ids=["scoped", "admin"])
def test_cross_tenant_every_route(server, stack, attacker_scopes):
    a = make_tenant(server, scopes=attacker_scopes)
    b = make_tenant(server)
    bk = create_key(server, b.key, scopes=["verify"])
    snap = snapshot(stack, [bk["id"], b.key_id], [b.account_id])
    attack(server, stack, a.key, b.account_id, bk["id"], bk["key"])
    assert snapshot(stack, [bk["id"], b.key_id], [b.account_id]) == snap
    assert_verify(server, b.key, bk["key"], "VALID", key_id=bk["id"])
    # the 404 for a foreign object is indistinguishable from a missing one
    r1 = call(server, "GET", f"/v1/keys/{bk['id']}", a.key).json()["error"]
    r2 = call(server, "GET", "/v1/keys/key_" + "M" * 24, a.key).json()["error"]
    assert (r1["code"], r1["message"], r1.get("details")) == (r2["code"], r2["message"], r2.get("details"))


def test_sub_account_cannot_reach_parent_or_sibling(server, stack):
    parent = make_tenant(server)
    c1 = make_tenant(server, scopes=ALL_NON_ADMIN, parent_id=parent.account_id)
    c2 = make_tenant(server, parent_id=parent.account_id)
    pk = create_key(server, parent.key, scopes=["verify"])
    sk = create_key(server, c2.key, scopes=["verify"])
    snap = snapshot(stack, [pk["id"], sk["id"], parent.key_id], [parent.account_id, c2.account_id])
    attack(server, stack, c1.key, parent.account_id, pk["id"], pk["key"])
    attack(server, stack, c1.key, c2.account_id, sk["id"], sk["key"])
    # the root account too
    assert_error(call(server, "GET", f"/v1/accounts/{server.root_account}", c1.key), 404, "NOT_FOUND")
    assert snapshot(stack, [pk["id"], sk["id"], parent.key_id], [parent.account_id, c2.account_id]) == snap
    # c1's own account list does not show its parent or sibling
    lst = expect(call(server, "GET", "/v1/accounts", c1.key), 200)
    assert {i["id"] for i in lst["data"]} == set()
    # while the parent reaches down into both children
    assert expect(call(server, "GET", f"/v1/keys/{sk['id']}", parent.key), 200)["account_id"] == c2.account_id
    assert_verify(server, parent.key, sk["key"], "VALID", key_id=sk["id"])
    got = {i["id"] for i in expect(call(server, "GET", "/v1/accounts", parent.key), 200)["data"]}
    assert got == {c1.account_id, c2.account_id}


def test_scope_escalation_refused_on_create(server, stack):
    t = make_tenant(server, scopes=["keys:read", "keys:write", "tasks:*", "verify"])
    before = key_count(stack, t.account_id)
    for scopes, offending in ((["admin"], "admin"), (["verify", "accounts:write"], "accounts:write"),
                              (["audit:read"], "audit:read"), (["tasks:create", "billing:read"], "billing:read"),
                              (["keys:*"], "keys:*"), (["task:create"], "task:create")):
        rid = new_rid()
        err = assert_error(call(server, "POST", "/v1/keys", t.key, body={"label": uid("esc"), "scopes": scopes},
                                rid=rid), 403, "FORBIDDEN")
        assert err["details"].get("scope") == offending, err
        assert audit_by_rid(stack, rid) == []
    # form create too
    assert_error(call(server, "POST", "/v1/keys", t.key, data={"label": "esc", "scopes": "verify admin"}),
                 403, "FORBIDDEN")
    assert key_count(stack, t.account_id) == before
    # what it holds (exactly or via its wildcard) it may grant
    ok = create_key(server, t.key, scopes=["tasks:create", "tasks:*", "keys:read", "verify"])
    assert sorted(ok["scopes"]) == ["keys:read", "tasks:*", "tasks:create", "verify"]


def test_scope_escalation_refused_on_patch(server, stack):
    t = make_tenant(server, scopes=["keys:read", "keys:write", "verify"])
    k = create_key(server, t.key, scopes=["verify"])
    before = stable(key_row(stack, k["id"]))
    for scopes in (["admin"], ["verify", "accounts:read"], ["keys:*"]):
        rid = new_rid()
        assert_error(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"scopes": scopes}, rid=rid),
                     403, "FORBIDDEN")
        assert audit_by_rid(stack, rid) == []
    # nor can it escalate its own key
    own = stable(key_row(stack, t.key_id))
    assert_error(call(server, "PATCH", f"/v1/keys/{t.key_id}", t.key, body={"scopes": ["admin"]}), 403, "FORBIDDEN")
    assert stable(key_row(stack, t.key_id)) == own
    assert stable(key_row(stack, k["id"])) == before
    # an admin-made key with scopes the caller lacks: the caller may not keep them in a PATCH
    rich = create_key(server, server.admin_key, account_id=t.account_id, scopes=["verify", "accounts:read"])
    rich_before = stable(key_row(stack, rich["id"]))
    assert_error(call(server, "PATCH", f"/v1/keys/{rich['id']}", t.key,
                      body={"scopes": ["verify", "accounts:read"]}), 403, "FORBIDDEN")
    assert stable(key_row(stack, rich["id"])) == rich_before
    # allowed narrowing
    p = expect(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"scopes": ["keys:read"]}), 200)
    assert p["scopes"] == ["keys:read"]


def test_plan_limits_for_non_admin(server, stack):
    t = make_tenant(server, scopes=ALL_NON_ADMIN, plan="free")
    k = create_key(server, t.key, scopes=["verify"])
    before = stable(key_row(stack, k["id"]))
    # free plan = 60/min: 61/min or 2/s is above it
    for rl in ({"limit": 61, "window": 60}, {"limit": 2, "window": 1}, {"limit": 100000, "window": 3600}):
        assert_error(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"ratelimit": rl}), 403, "FORBIDDEN")
        assert_error(call(server, "POST", "/v1/keys", t.key, body={"label": "rl", "ratelimit": rl}), 403,
                     "FORBIDDEN")
    assert stable(key_row(stack, k["id"])) == before
    expect(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"ratelimit": {"limit": 60, "window": 60}}), 200)
    # account plan above its own plan
    children_before = child_count(stack, t.account_id)
    assert_error(call(server, "POST", "/v1/accounts", t.key, body={"name": uid("rich"), "plan": "pro"}),
                 403, "FORBIDDEN")
    child = make_account(server, t.key, plan="free")
    assert_error(call(server, "PATCH", f"/v1/accounts/{child['id']}", t.key, body={"plan": "enterprise"}),
                 403, "FORBIDDEN")
    assert account_row(stack, child["id"])["plan"] == "free"
    assert child_count(stack, t.account_id) == children_before + 1
    # nor raise its own account's plan
    assert_error(call(server, "PATCH", "/v1/accounts/me", t.key, body={"plan": "enterprise"}), 403, "FORBIDDEN")
    assert account_row(stack, t.account_id)["plan"] == "free"
    # the root admin may
    big = create_key(server, server.admin_key, account_id=t.account_id, ratelimit={"limit": 100000, "window": 60})
    assert big["ratelimit"] == {"limit": 100000, "window": 60}
