"""Dominance: a caller changes (PATCH, revoke, reactivate, rotate, delete) only keys whose every scope
it holds; rotate never mints a key more powerful than its caller. Plans: never one's own account's,
never a sub-account's above one's own."""
import threading

import pytest

from helpers import (account_row, assert_error, assert_verify, audit_by_rid, audit_by_target, call,
                     child_count, create_key, db_query, expect, key_count, key_row, make_account,
                     make_tenant, new_rid, uid, wait_for_lock_wait)

# (method, path suffix, body, needs the target revoked first)
CHANGES = [
    ("POST", "/rotate", {}, False),
    ("POST", "/rotate", {"grace_period": "1h"}, False),
    ("POST", "/reactivate", None, True),
    ("POST", "/revoke", None, False),
    ("PATCH", "", {"label": "relabelled"}, False),
    ("PATCH", "", {"expires_at": None}, False),
    ("PATCH", "", {"expires_at": "2099-01-01T00:00:00Z"}, False),
    ("PATCH", "", {"scopes": ["tasks:patched"]}, False),
    ("PATCH", "", {"ratelimit": {"limit": 10, "window": 60}}, False),
    ("PATCH", "", {"ratelimit": None}, False),
    ("PATCH", "", {"meta": {"x": 1}}, False),
    ("DELETE", "", None, False),
]
CHANGE_IDS = ["rotate", "rotate-grace", "reactivate", "revoke", "patch-label", "patch-expiry-clear",
              "patch-expiry-set", "patch-scopes", "patch-ratelimit", "patch-ratelimit-clear", "patch-meta",
              "delete"]


def send(server, caller, key_id, change, rid):
    method, suffix, body, _ = change
    kw = {} if body is None else {"body": body}
    return call(server, method, f"/v1/keys/{key_id}{suffix}", caller, rid=rid, **kw)


def new_keys(stack, key_id):
    """Keys rotated from key_id."""
    return db_query(stack, "SELECT public_id FROM api_keys WHERE rotated_from = %s", (key_id,))


def target(server, t, scopes, revoked):
    """A key in t's account made by the root admin (so it may hold scopes t lacks)."""
    k = create_key(server, server.admin_key, account_id=t.account_id, scopes=scopes,
                   ratelimit={"limit": 5, "window": 60}, meta={"m": 1}, expires_in="30d")
    if revoked:
        expect(call(server, "POST", f"/v1/keys/{k['id']}/revoke", server.admin_key), 200)
    return k


def test_keys_write_only_cannot_rotate_admin_key(server, stack):
    """The critical finding: a keys:write key rotated an admin key into a working admin key."""
    t = make_tenant(server, scopes=["keys:write"])
    admin = create_key(server, server.admin_key, account_id=t.account_id, scopes=["admin"])
    before = key_row(stack, admin["id"])
    count = key_count(stack, t.account_id)
    for body in ({}, {"grace_period": 0}, {"grace_period": "30d"}):
        rid = new_rid()
        r = call(server, "POST", f"/v1/keys/{admin['id']}/rotate", t.key, body=body, rid=rid)
        err = assert_error(r, 403, "FORBIDDEN")
        assert err["details"]["required_scope"] == "admin", err
        assert "key" not in r.json() and "_live_" not in r.text
        assert audit_by_rid(stack, rid) == []
    assert key_row(stack, admin["id"]) == before
    assert new_keys(stack, admin["id"]) == []
    assert key_count(stack, t.account_id) == count
    # the admin key still works and was not revoked
    assert_verify(server, server.admin_key, admin["key"], "VALID", key_id=admin["id"])
    # and the keys:write key cannot mint an admin key any other way
    assert_error(call(server, "POST", "/v1/keys", t.key, body={"label": "x", "scopes": ["admin"]}),
                 403, "FORBIDDEN")
    assert key_count(stack, t.account_id) == count


@pytest.mark.parametrize("change", CHANGES, ids=CHANGE_IDS)
def test_change_of_a_more_powerful_key_refused(server, stack, change):
    t = make_tenant(server, scopes=["keys:read", "keys:write", "tasks:*"])
    for scopes, missing in ((["admin"], "admin"),
                            (["keys:read", "keys:write", "audit:read"], "audit:read"),
                            (["tasks:create", "billing:read"], "billing:read"),
                            (["keys:*"], "keys:*")):
        k = target(server, t, scopes, revoked=change[3])
        before = key_row(stack, k["id"])
        audit_before = audit_by_target(stack, k["id"])
        count = key_count(stack, t.account_id)
        rid = new_rid()
        err = assert_error(send(server, t.key, k["id"], change, rid), 403, "FORBIDDEN")
        assert err["details"]["required_scope"] == missing, err
        assert key_row(stack, k["id"]) == before
        assert audit_by_rid(stack, rid) == []
        assert audit_by_target(stack, k["id"]) == audit_before
        assert new_keys(stack, k["id"]) == []
        assert key_count(stack, t.account_id) == count
        # reading it is still allowed
        assert expect(call(server, "GET", f"/v1/keys/{k['id']}", t.key), 200)["scopes"] == scopes


@pytest.mark.parametrize("change", CHANGES, ids=CHANGE_IDS)
def test_change_of_a_dominated_key_allowed(server, stack, change):
    t = make_tenant(server, scopes=["keys:read", "keys:write", "tasks:*"])
    for scopes in (["keys:read"], ["keys:read", "keys:write", "tasks:create"], ["tasks:*"], []):
        k = target(server, t, scopes, revoked=change[3])
        before = key_row(stack, k["id"])
        rid = new_rid()
        r = send(server, t.key, k["id"], change, rid)
        expect(r, 204 if change[0] == "DELETE" else 201 if change[1] == "/rotate" else 200)
        assert len(audit_by_rid(stack, rid)) == 1
        after = key_row(stack, k["id"])
        assert after != before
        if change[1] == "/rotate":
            new = r.json()
            assert new["scopes"] == scopes and new["rotated_from"] == k["id"]


def test_own_key_may_be_changed(server, stack):
    t = make_tenant(server, scopes=["keys:read", "keys:write"])
    expect(call(server, "PATCH", f"/v1/keys/{t.key_id}", t.key, body={"label": "mine"}), 200)
    new = expect(call(server, "POST", f"/v1/keys/{t.key_id}/rotate", t.key, body={"grace_period": "1h"}), 201)
    assert sorted(new["scopes"]) == ["keys:read", "keys:write"]


def test_sub_account_route_same_rule(server, stack):
    """/v1/accounts/{id}/keys/{key}/… goes through the same check."""
    t = make_tenant(server, scopes=["keys:read", "keys:write", "accounts:read"])
    child = make_account(server, parent_id=t.account_id, plan="free")
    k = create_key(server, server.admin_key, account_id=child["id"], scopes=["keys:read", "audit:read"])
    before = key_row(stack, k["id"])
    base = f"/v1/accounts/{child['id']}/keys/{k['id']}"
    for method, suffix, body in (("POST", "/rotate", {}), ("POST", "/revoke", None),
                                 ("PATCH", "", {"label": "x"}), ("DELETE", "", None)):
        kw = {} if body is None else {"body": body}
        err = assert_error(call(server, method, base + suffix, t.key, **kw), 403, "FORBIDDEN")
        assert err["details"]["required_scope"] == "audit:read"
    assert key_row(stack, k["id"]) == before
    assert new_keys(stack, k["id"]) == []


def test_rotate_checks_dominance_under_the_row_lock(server, stack):
    """The key gains a scope between the request's first check and its change: the change, made
    under the row lock, must see the new scope and refuse."""
    t = make_tenant(server, scopes=["keys:read", "keys:write"])
    k = create_key(server, server.admin_key, account_id=t.account_id, scopes=["keys:read"])
    conn = stack.db_connect(autocommit=False)
    result = {}
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM api_keys WHERE public_id = %s FOR UPDATE", (k["id"],))
            cur.execute("UPDATE api_keys SET scopes = 'admin' WHERE public_id = %s", (k["id"],))
        rid = new_rid()
        th = threading.Thread(target=lambda: result.setdefault(
            "r", call(server, "POST", f"/v1/keys/{k['id']}/rotate", t.key, body={}, rid=rid)))
        th.start()
        wait_for_lock_wait(stack)
        conn.commit()
        th.join(60)
    finally:
        conn.close()
    err = assert_error(result["r"], 403, "FORBIDDEN")
    assert err["details"]["required_scope"] == "admin"
    assert new_keys(stack, k["id"]) == []
    assert key_row(stack, k["id"])["revoked_at"] is None
    assert audit_by_rid(stack, rid) == []


# ---------------------------------------------------------------- plans

def test_own_plan_never_changed(server, stack):
    for scopes in (["admin"], ["accounts:read", "accounts:write"]):
        t = make_tenant(server, scopes=scopes, plan="pro")
        before = account_row(stack, t.account_id)
        for plan in ("enterprise", "free"):
            for path in ("/v1/accounts/me", f"/v1/accounts/{t.account_id}"):
                rid = new_rid()
                assert_error(call(server, "PATCH", path, t.key, body={"plan": plan}, rid=rid),
                             403, "FORBIDDEN", field="plan")
                assert audit_by_rid(stack, rid) == []
        assert account_row(stack, t.account_id) == before
        # naming the current plan is no change; the name may change
        p = expect(call(server, "PATCH", "/v1/accounts/me", t.key, body={"name": "renamed", "plan": "pro"}), 200)
        assert p["plan"] == "pro" and account_row(stack, t.account_id)["plan"] == "pro"


def test_admin_in_free_sub_account_cannot_raise_own_account(server, stack):
    """The probe: an admin key in a free sub-account of a pro account set its own account to enterprise."""
    parent = make_tenant(server, scopes=["admin"], plan="pro")
    child = make_account(server, parent.key, parent_id=parent.account_id, plan="free")
    ck = create_key(server, parent.key, account_id=child["id"], scopes=["admin"])
    assert_error(call(server, "PATCH", "/v1/accounts/me", ck["key"], body={"plan": "enterprise"}),
                 403, "FORBIDDEN", field="plan")
    assert account_row(stack, child["id"])["plan"] == "free"


def test_sub_account_plan_ceiling(server, stack):
    for scopes in (["admin"], ["accounts:read", "accounts:write"]):
        t = make_tenant(server, scopes=scopes, plan="pro")
        n = child_count(stack, t.account_id)
        # create above own: refused
        rid = new_rid()
        assert_error(call(server, "POST", "/v1/accounts", t.key, body={"name": uid("rich"), "plan": "enterprise"},
                          rid=rid), 403, "FORBIDDEN", field="plan")
        assert audit_by_rid(stack, rid) == []
        assert child_count(stack, t.account_id) == n
        # at or below own: allowed
        same = make_account(server, t.key, parent_id=t.account_id, plan="pro")
        low = make_account(server, t.key, parent_id=t.account_id, plan="free")
        assert child_count(stack, t.account_id) == n + 2
        # PATCH above own: refused, row unchanged
        before = account_row(stack, low["id"])
        rid = new_rid()
        assert_error(call(server, "PATCH", f"/v1/accounts/{low['id']}", t.key, body={"plan": "enterprise"},
                          rid=rid), 403, "FORBIDDEN", field="plan")
        assert account_row(stack, low["id"]) == before and audit_by_rid(stack, rid) == []
        # PATCH up to own, and down: allowed
        assert expect(call(server, "PATCH", f"/v1/accounts/{low['id']}", t.key, body={"plan": "pro"}), 200)["plan"] == "pro"
        assert expect(call(server, "PATCH", f"/v1/accounts/{same['id']}", t.key, body={"plan": "free"}), 200)["plan"] == "free"
        # a grandchild too
        grand = make_account(server, t.key, parent_id=low["id"], plan="free")
        assert_error(call(server, "PATCH", f"/v1/accounts/{grand['id']}", t.key, body={"plan": "enterprise"}),
                     403, "FORBIDDEN", field="plan")
        assert account_row(stack, grand["id"])["plan"] == "free"


def test_expired_target_still_guarded(server, stack):
    """An expired admin key cannot be relabelled or deleted by a lesser key either."""
    t = make_tenant(server, scopes=["keys:read", "keys:write"])
    k = create_key(server, server.admin_key, account_id=t.account_id, scopes=["admin"])
    db_query(stack, "UPDATE api_keys SET expires_at = UNIX_TIMESTAMP() - 10 WHERE public_id = %s", (k["id"],))
    assert expect(call(server, "GET", f"/v1/keys/{k['id']}", t.key), 200)["status"] == "expired"
    before = key_row(stack, k["id"])
    for method, suffix, body in (("PATCH", "", {"expires_at": None}), ("DELETE", "", None)):
        kw = {} if body is None else {"body": body}
        assert_error(call(server, method, f"/v1/keys/{k['id']}{suffix}", t.key, **kw), 403, "FORBIDDEN")
    assert key_row(stack, k["id"]) == before
