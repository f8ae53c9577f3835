"""Key and account policies (docs/api.md "Policies"): IP allowlists, credits with refill, account
suspension and scope ceilings, on verify, on management routes and through the authorizer (the
app does not run). Every refusal writes nothing; every change is audited."""
import concurrent.futures
import time

import pytest

import harness
from helpers import (assert_error, audit_by_target, call, create_key, db_query, expect, get_key,
                     make_account, make_tenant, new_rid, uid, verify)

DAY = 86400
APP = "/demo/index.php"
AUTHZ = [n for n in harness.AUTHORIZER_SERVERS if n in harness.server_names_from_env()]


def ran(srv, rid):
    try:
        return rid in open(srv.demo_log).read().split()
    except FileNotFoundError:
        return False


def app_call(srv, key):
    rid = new_rid()
    return call(srv, "GET", APP, key, rid=rid), rid


def error_code(r):
    return r.json()["error"]["code"]


def usage_today(server, caller, key_id):
    u = expect(call(server, "GET", f"/v1/keys/{key_id}/usage", caller, params={"days": 1}), 200)
    return u["data"][-1]


# --- IP allowlists ---------------------------------------------------------------------------

def test_allowlist_on_verify(server):
    t = make_tenant(server)
    k = create_key(server, t.key, allowed_ips=["203.0.113.0/24", "2001:db8::/32"])
    assert k["allowed_ips"] == ["203.0.113.0/24", "2001:db8::/32"], k
    ok = expect(call(server, "POST", "/v1/verify", t.key, body={"key": k["key"], "ip": "203.0.113.9"}), 200)
    assert ok["code"] == "VALID", ok
    v6 = expect(call(server, "POST", "/v1/verify", t.key, body={"key": k["key"], "ip": "2001:db8::7"}), 200)
    assert v6["code"] == "VALID", v6
    for ip in ("198.51.100.1", "2001:db9::1", None):
        body = {"key": k["key"]} if ip is None else {"key": k["key"], "ip": ip}
        v = expect(call(server, "POST", "/v1/verify", t.key, body=body), 200)
        assert v["valid"] is False and v["code"] == "IP_NOT_ALLOWED", (ip, v)
    # IPv4-mapped IPv6 counts as IPv4
    m = expect(call(server, "POST", "/v1/verify", t.key, body={"key": k["key"], "ip": "::ffff:203.0.113.5"}), 200)
    assert m["code"] == "VALID", m
    # a refused attempt is a denial, never a use
    u = usage_today(server, t.key, k["id"])
    assert u["valid"] == 3 and u["ip_not_allowed"] == 3, u
    # a bad address in the body is 400 naming the field
    assert_error(call(server, "POST", "/v1/verify", t.key, body={"key": k["key"], "ip": "300.1.1.1"}),
                 400, "VALIDATION_ERROR", "ip")


def test_allowlist_denials_do_not_spend_the_rate_limit(server):
    t = make_tenant(server)
    k = create_key(server, t.key, allowed_ips=["203.0.113.7"], ratelimit={"limit": 2, "window": 3600})
    for _ in range(5):
        v = expect(call(server, "POST", "/v1/verify", t.key, body={"key": k["key"], "ip": "198.51.100.1"}), 200)
        assert v["code"] == "IP_NOT_ALLOWED", v
    codes = [expect(call(server, "POST", "/v1/verify", t.key,
                         body={"key": k["key"], "ip": "203.0.113.7"}), 200)["code"] for _ in range(3)]
    assert codes == ["VALID", "VALID", "RATE_LIMITED"], codes


def test_allowlist_validation_names_the_entry(server, stack):
    t = make_tenant(server)
    before = db_query(stack, "SELECT COUNT(*) AS n FROM api_keys")[0]["n"]
    r = call(server, "POST", "/v1/keys", t.key, body={"label": "x", "allowed_ips": ["10.0.0.0/8", "10.0.0.1/33"]})
    e = assert_error(r, 400, "VALIDATION_ERROR", "allowed_ips")
    assert "entry 2" in e["message"] and "10.0.0.1/33" in e["message"], e
    r = call(server, "POST", "/v1/keys", t.key, body={"label": "x", "allowed_ips": ["10.0.0.1/8"]})
    assert_error(r, 400, "VALIDATION_ERROR", "allowed_ips")        # host bits set
    r = call(server, "POST", "/v1/keys", t.key,
             body={"label": "x", "allowed_ips": [f"10.0.{i // 250}.{i % 250}" for i in range(101)]})
    e = assert_error(r, 400, "VALIDATION_ERROR", "allowed_ips")
    assert "100" in e["message"], e
    assert db_query(stack, "SELECT COUNT(*) AS n FROM api_keys")[0]["n"] == before


def test_allowlist_on_management_routes(server):
    t = make_tenant(server)
    mine = create_key(server, t.key, scopes=("keys:read",), allowed_ips=["10.9.9.9"])
    r = call(server, "GET", "/v1/keys", mine["key"])
    e = assert_error(r, 403, "IP_NOT_ALLOWED")
    assert "127.0.0.1" in e["message"], e
    # PATCH lets the caller's own address in; audit row shows old -> new
    p = expect(call(server, "PATCH", f"/v1/keys/{mine['id']}", t.key,
                    body={"allowed_ips": ["10.9.9.9", "127.0.0.0/8", "::1"]}), 200)
    assert p["allowed_ips"] == ["10.9.9.9", "127.0.0.0/8", "::1"], p
    expect(call(server, "GET", "/v1/keys", mine["key"]), 200)
    cleared = expect(call(server, "PATCH", f"/v1/keys/{mine['id']}", t.key, body={"allowed_ips": None}), 200)
    assert cleared["allowed_ips"] is None, cleared


@pytest.mark.parametrize("name", AUTHZ)
def test_allowlist_through_the_authorizer(stack, name):
    srv = stack.servers[name]
    t = make_tenant(srv)
    far = create_key(srv, t.key, scopes=("demo:read",), allowed_ips=["192.0.2.0/24"])
    r, rid = app_call(srv, far["key"])
    assert r.status_code == 403 and error_code(r) == "IP_NOT_ALLOWED", r.text
    assert not ran(srv, rid)
    near = create_key(srv, t.key, scopes=("demo:read",), allowed_ips=["127.0.0.1", "::1"])
    r, rid = app_call(srv, near["key"])
    assert r.status_code == 200 and ran(srv, rid), r.text


# --- credits -----------------------------------------------------------------------------------

def test_credits_count_down_and_refuse_at_zero(server, stack):
    t = make_tenant(server)
    k = create_key(server, t.key, credits={"remaining": 3})
    assert k["credits"] == {"remaining": 3, "refill": None}, k
    v = verify(server, t.key, k["key"])
    assert v["code"] == "VALID" and v["credits"] == {"remaining": 2}, v
    v = expect(call(server, "POST", "/v1/verify", t.key, body={"key": k["key"], "cost": 2}), 200)
    assert v["code"] == "VALID" and v["credits"] == {"remaining": 0}, v
    v = verify(server, t.key, k["key"])
    assert v["valid"] is False and v["code"] == "USAGE_EXCEEDED" and v["credits"] == {"remaining": 0}, v
    # cost 0 checks without spending; a cost above 1000 is refused
    v = expect(call(server, "POST", "/v1/verify", t.key, body={"key": k["key"], "cost": 0}), 200)
    assert v["code"] == "VALID", v
    assert_error(call(server, "POST", "/v1/verify", t.key, body={"key": k["key"], "cost": 1001}),
                 400, "VALIDATION_ERROR", "cost")
    u = usage_today(server, t.key, k["id"])
    assert u["valid"] == 3 and u["usage_exceeded"] == 1, u
    assert db_query(stack, "SELECT credits_remaining AS c FROM api_keys WHERE public_id = %s",
                    (k["id"],))[0]["c"] == 0


def test_credits_exact_under_concurrency(server):
    t = make_tenant(server)
    k = create_key(server, t.key, credits={"remaining": 50}, ratelimit={"limit": 50000, "window": 60})

    def one(_):
        return expect(call(server, "POST", "/v1/verify", t.key, body={"key": k["key"]}), 200)["code"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        codes = list(ex.map(one, range(200)))
    assert codes.count("VALID") == 50 and codes.count("USAGE_EXCEEDED") == 150, \
        {c: codes.count(c) for c in set(codes)}
    assert get_key(server, t.key, k["id"])["credits"]["remaining"] == 0


def test_credits_top_up_and_audit(server, stack):
    t = make_tenant(server)
    k = create_key(server, t.key, credits={"remaining": 1})
    verify(server, t.key, k["key"])
    p = expect(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"credits_add": 5}), 200)
    assert p["credits"]["remaining"] == 5, p
    row = [a for a in audit_by_target(stack, k["id"]) if a["action"] == "key.update"][-1]
    assert '"old"' in row["changes"] and '"remaining": 0' in row["changes"].replace('":', '": ') \
        or '"remaining":0' in row["changes"], row
    # top-up of an unlimited key, or both fields at once: 400, nothing written
    u = create_key(server, t.key)
    assert_error(call(server, "PATCH", f"/v1/keys/{u['id']}", t.key, body={"credits_add": 5}),
                 400, "VALIDATION_ERROR", "credits_add")
    assert_error(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key,
                      body={"credits_add": 5, "credits": {"remaining": 1}}), 400, "VALIDATION_ERROR")
    assert get_key(server, t.key, k["id"])["credits"]["remaining"] == 5
    # back to unlimited
    p = expect(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"credits": None}), 200)
    assert p["credits"] is None, p


def test_credits_validation(server):
    t = make_tenant(server)
    for bad in ({"remaining": -1}, {"remaining": 1, "refill": {"amount": 5, "interval": "weekly"}},
                {"remaining": 1, "refill": {"amount": 5, "interval": "daily", "day_of_month": 3}},
                {"remaining": 1, "refill": {"amount": 0, "interval": "daily"}}, {"remaining": 1, "x": 1}):
        e = assert_error(call(server, "POST", "/v1/keys", t.key, body={"label": "x", "credits": bad}),
                         400, "VALIDATION_ERROR", "credits")
        assert "remaining" in e["message"], e


def _age_refill(stack, key_id, seconds):
    db_query(stack, "UPDATE api_keys SET refilled_at = refilled_at - %s WHERE public_id = %s",
             (seconds, key_id))


def test_daily_refill_across_midnight(server, stack):
    t = make_tenant(server)
    k = create_key(server, t.key, credits={"remaining": 1, "refill": {"amount": 4, "interval": "daily"}})
    assert k["credits"]["refill"] == {"amount": 4, "interval": "daily", "day_of_month": None}, k
    assert verify(server, t.key, k["key"])["code"] == "VALID"
    assert verify(server, t.key, k["key"])["code"] == "USAGE_EXCEEDED"
    _age_refill(stack, k["id"], DAY)            # the last refill was yesterday's
    assert get_key(server, t.key, k["id"])["credits"]["remaining"] == 4
    v = verify(server, t.key, k["key"])
    assert v["code"] == "VALID" and v["credits"]["remaining"] == 3, v
    assert verify(server, t.key, k["key"])["credits"]["remaining"] == 2   # refilled once only


def test_monthly_refill_across_a_month(server, stack):
    t = make_tenant(server)
    k = create_key(server, t.key, credits={"remaining": 0, "refill": {"amount": 7, "interval": "monthly",
                                                                        "day_of_month": 31}})
    assert verify(server, t.key, k["key"])["code"] == "USAGE_EXCEEDED"
    _age_refill(stack, k["id"], 32 * DAY)       # the last refill was more than a month ago
    v = verify(server, t.key, k["key"])
    assert v["code"] == "VALID" and v["credits"]["remaining"] == 6, v


@pytest.mark.parametrize("name", AUTHZ)
def test_credits_through_the_authorizer(stack, name):
    srv = stack.servers[name]
    t = make_tenant(srv)
    k = create_key(srv, t.key, scopes=("demo:read",), credits={"remaining": 1})
    r, rid = app_call(srv, k["key"])
    assert r.status_code == 200 and ran(srv, rid), r.text
    r, rid = app_call(srv, k["key"])
    assert r.status_code == 429 and error_code(r) == "USAGE_EXCEEDED", r.text
    assert not ran(srv, rid)


def test_rotation_moves_the_credits(server):
    t = make_tenant(server)
    k = create_key(server, t.key, credits={"remaining": 5})
    verify(server, t.key, k["key"])
    n = expect(call(server, "POST", f"/v1/keys/{k['id']}/rotate", t.key, body={"grace_period": 3600}), 201)
    assert n["credits"]["remaining"] == 4, n
    assert verify(server, t.key, k["key"])["code"] == "USAGE_EXCEEDED"
    assert verify(server, t.key, n["key"])["code"] == "VALID"


# --- account suspension ------------------------------------------------------------------------

def test_suspended_grandparent_blocks_a_grandchild_and_reactivation_restores(server, stack):
    top = make_tenant(server)                                       # the operator of a subtree
    parent = make_account(server, top.key, parent_id=top.account_id)
    child = make_account(server, top.key, parent_id=parent["id"])
    grandchild_key = create_key(server, top.key, account_id=child["id"], scopes=("keys:read",))
    revoked = create_key(server, top.key, account_id=child["id"])
    expect(call(server, "POST", f"/v1/keys/{revoked['id']}/revoke", top.key), 200)
    s = expect(call(server, "POST", f"/v1/accounts/{parent['id']}/suspend", top.key,
                    body={"reason": "unpaid invoice"}), 200)
    assert s["status"] == "suspended" and s["suspend_reason"] == "unpaid invoice" and s["suspended_at"], s
    v = verify(server, top.key, grandchild_key["key"])
    assert v["valid"] is False and v["code"] == "ACCOUNT_SUSPENDED", v
    e = assert_error(call(server, "GET", "/v1/keys", grandchild_key["key"]), 403, "ACCOUNT_SUSPENDED")
    assert e["details"]["suspended_account_id"] == parent["id"], e
    # keys keep their own status: the revoked key is still reported revoked first
    assert verify(server, top.key, revoked["key"])["code"] == "REVOKED_API_KEY"
    # the verify and the refused management call: two denials, no use
    assert usage_today(server, top.key, grandchild_key["id"])["account_suspended"] == 2
    # listed by status; audit rows
    listed = expect(call(server, "GET", "/v1/accounts", top.key, params={"status": "suspended"}), 200)
    assert [a["id"] for a in listed["data"]] == [parent["id"]], listed
    assert [a["action"] for a in audit_by_target(stack, parent["id"])][-1] == "account.suspend"
    r = expect(call(server, "POST", f"/v1/accounts/{parent['id']}/reactivate", top.key), 200)
    assert r["status"] == "active" and r["suspended_at"] is None, r
    assert verify(server, top.key, grandchild_key["key"])["code"] == "VALID"
    assert verify(server, top.key, revoked["key"])["code"] == "REVOKED_API_KEY"
    assert [a["action"] for a in audit_by_target(stack, parent["id"])][-1] == "account.reactivate"


def test_suspension_dominance(server, stack):
    top = make_tenant(server)
    sub = make_tenant(server, parent_id=top.account_id)             # an admin key of the sub-account
    # a sub-account cannot suspend itself, nor its parent (outside its subtree: 404)
    e = assert_error(call(server, "POST", f"/v1/accounts/{sub.account_id}/suspend", sub.key), 403, "FORBIDDEN")
    assert "above" in e["message"], e
    assert_error(call(server, "POST", f"/v1/accounts/{top.account_id}/suspend", sub.key), 404, "NOT_FOUND")
    expect(call(server, "POST", f"/v1/accounts/{sub.account_id}/suspend", top.key, body={}), 200)
    # suspended, it cannot lift its own suspension: its keys are refused before anything else
    assert_error(call(server, "POST", f"/v1/accounts/{sub.account_id}/reactivate", sub.key),
                 403, "ACCOUNT_SUSPENDED")
    assert db_query(stack, "SELECT suspended_at FROM accounts WHERE public_id = %s",
                    (sub.account_id,))[0]["suspended_at"] is not None
    # the caller needs accounts:write
    reader = create_key(server, top.key, scopes=("accounts:read",))
    assert_error(call(server, "POST", f"/v1/accounts/{sub.account_id}/reactivate", reader["key"]),
                 403, "FORBIDDEN")
    expect(call(server, "POST", f"/v1/accounts/{sub.account_id}/reactivate", top.key), 200)
    expect(call(server, "GET", "/v1/keys", sub.key), 200)


@pytest.mark.parametrize("name", AUTHZ)
def test_suspension_through_the_authorizer(stack, name):
    srv = stack.servers[name]
    top = make_tenant(srv)
    acct = make_account(srv, top.key, parent_id=top.account_id)
    k = create_key(srv, top.key, account_id=acct["id"], scopes=("demo:read",))
    expect(call(srv, "POST", f"/v1/accounts/{acct['id']}/suspend", top.key, body={"reason": "x"}), 200)
    r, rid = app_call(srv, k["key"])
    assert r.status_code == 403 and error_code(r) == "ACCOUNT_SUSPENDED", r.text
    assert not ran(srv, rid)
    expect(call(srv, "POST", f"/v1/accounts/{acct['id']}/reactivate", top.key), 200)
    r, rid = app_call(srv, k["key"])
    assert r.status_code == 200 and ran(srv, rid), r.text


# --- scope ceilings ----------------------------------------------------------------------------

def test_ceiling_limits_every_key_below_it(server, stack):
    top = make_tenant(server)
    sub = make_tenant(server, parent_id=top.account_id)            # its key holds admin
    grand = make_account(server, top.key, parent_id=sub.account_id)
    a = expect(call(server, "PATCH", f"/v1/accounts/{sub.account_id}", top.key,
                    body={"grantable_scopes": ["tasks:*", "reports:read"]}), 200)
    assert a["grantable_scopes"] == ["tasks:*", "reports:read"], a
    # the sub-account's own admin key: anything under the ceiling, nothing above it
    create_key(server, sub.key, scopes=("tasks:write", "reports:read", "keys:read"))
    e = assert_error(call(server, "POST", "/v1/keys", sub.key, body={"label": "x", "scopes": ["billing:read"]}),
                     403, "FORBIDDEN", "scopes")
    assert e["details"]["scope"] == "billing:read" and e["details"]["ceiling_account_id"] == sub.account_id, e
    # below it too, and whoever creates it (the root admin key included)
    assert_error(call(server, "POST", "/v1/keys", server.admin_key,
                      body={"label": "x", "account_id": grand["id"], "scopes": ["billing:read"]}),
                 403, "FORBIDDEN", "scopes")
    k = create_key(server, top.key, account_id=grand["id"], scopes=("tasks:read",))
    assert_error(call(server, "PATCH", f"/v1/keys/{k['id']}", top.key, body={"scopes": ["billing:read"]}),
                 403, "FORBIDDEN", "scopes")
    # a sub-account cannot raise its own ceiling
    assert_error(call(server, "PATCH", f"/v1/accounts/{sub.account_id}", sub.key,
                      body={"grantable_scopes": ["tasks:*", "billing:*"]}), 403, "FORBIDDEN", "grantable_scopes")
    assert db_query(stack, "SELECT grantable_scopes AS g FROM accounts WHERE public_id = %s",
                    (sub.account_id,))[0]["g"] == "tasks:* reports:read"


def test_lowering_a_ceiling_is_refused_or_revokes(server, stack):
    top = make_tenant(server)
    sub = make_account(server, top.key, parent_id=top.account_id)
    keep = create_key(server, top.key, account_id=sub["id"], scopes=("tasks:read",))
    out = create_key(server, top.key, account_id=sub["id"], scopes=("tasks:read", "reports:read"))
    r = call(server, "PATCH", f"/v1/accounts/{sub['id']}", top.key, body={"grantable_scopes": ["tasks:*"]})
    e = assert_error(r, 409, "CONFLICT", "grantable_scopes")
    assert [k["id"] for k in e["details"]["keys"]] == [out["id"]], e
    assert db_query(stack, "SELECT grantable_scopes AS g FROM accounts WHERE public_id = %s",
                    (sub["id"],))[0]["g"] is None
    assert verify(server, top.key, out["key"])["code"] == "VALID"
    a = expect(call(server, "PATCH", f"/v1/accounts/{sub['id']}", top.key, params={"apply": "revoke"},
                    body={"grantable_scopes": ["tasks:*"]}), 200)
    assert a["grantable_scopes"] == ["tasks:*"], a
    gone = get_key(server, top.key, out["id"])
    assert gone["status"] == "revoked" and gone["revoked_reason"] == "ceiling", gone
    assert get_key(server, top.key, keep["id"])["status"] == "active"
    rows = audit_by_target(stack, out["id"])
    assert rows[-1]["action"] == "key.revoke" and "ceiling" in rows[-1]["changes"], rows[-1]
    upd = [r for r in audit_by_target(stack, sub["id"]) if r["action"] == "account.update"][-1]
    assert "grantable_scopes" in upd["changes"] and '"old"' in upd["changes"], upd
    # apply without a ceiling change, or an unknown value: 400
    assert_error(call(server, "PATCH", f"/v1/accounts/{sub['id']}", top.key, params={"apply": "revoke"},
                      body={"name": "x"}), 400, "VALIDATION_ERROR", "apply")
    assert_error(call(server, "PATCH", f"/v1/accounts/{sub['id']}", top.key, params={"apply": "yes"},
                      body={"grantable_scopes": None}), 400, "VALIDATION_ERROR", "apply")


def test_management_scopes_pass_an_application_ceiling(server):
    top = make_tenant(server)
    sub = make_account(server, top.key, parent_id=top.account_id)
    expect(call(server, "PATCH", f"/v1/accounts/{sub['id']}", top.key,
                body={"grantable_scopes": ["tasks:read"]}), 200)
    create_key(server, top.key, account_id=sub["id"], scopes=("keys:write", "audit:read", "tasks:read"))
    # a ceiling that names a management scope limits management scopes to those it names
    expect(call(server, "PATCH", f"/v1/accounts/{sub['id']}", top.key, params={"apply": "revoke"},
                body={"grantable_scopes": ["tasks:read", "keys:read"]}), 200)
    create_key(server, top.key, account_id=sub["id"], scopes=("keys:read",))
    assert_error(call(server, "POST", "/v1/keys", top.key,
                      body={"label": "x", "account_id": sub["id"], "scopes": ["keys:write"]}),
                 403, "FORBIDDEN", "scopes")


def test_console_users_of_a_suspended_account_are_refused(server, stack):
    from admin_util import Console, make_user
    top = make_tenant(server)
    sub = make_account(server, top.key, parent_id=top.account_id)
    email, password, _ = make_user(stack, "developer", account=sub["id"])
    c = Console(server, email, password)
    assert c.get("/admin/keys").status_code == 200
    expect(call(server, "POST", f"/v1/accounts/{top.account_id}/suspend", server.admin_key, body={}), 200)
    r = c.get("/admin/keys")
    assert r.status_code == 403 and "suspended" in r.text, (r.status_code, r.text[:300])
    expect(call(server, "POST", f"/v1/accounts/{top.account_id}/reactivate", server.admin_key), 200)
    assert c.get("/admin/keys").status_code == 200


def test_console_key_forms_set_allowlist_and_credits(server, stack):
    from admin_util import KEY_LINK_RE
    from helpers import CREATED_KEYS
    from test_admin_forms import edit_form, key_updates, owner
    import re
    c = owner(server)
    acct = make_account(server, server.admin_key)["id"]
    r, _ = c.create_key(uid("pol"), account_id=acct, allowed_ips="203.0.113.0/24\r\n2001:db8::/32",
                        **{"credits.remaining": "10", "credits.refill": "monthly", "credits.amount": "10",
                           "credits.day": "15"})
    assert r.status_code == 201, r.text[:500]
    kid = KEY_LINK_RE.search(r.text).group(1)
    CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))
    k = get_key(server, server.admin_key, kid)
    assert k["allowed_ips"] == ["203.0.113.0/24", "2001:db8::/32"], k
    assert k["credits"] == {"remaining": 10, "refill": {"amount": 10, "interval": "monthly", "day_of_month": 15}}, k
    page = c.get(f"/admin/keys/{kid}").text
    assert "203.0.113.0/24 2001:db8::/32" in page and "10 left, refilled to 10 monthly on day 15" in page
    form = edit_form(c, kid)
    assert form["allowed_ips"].split() == ["203.0.113.0/24", "2001:db8::/32"] and form["credits.remaining"] == "10"
    # the key is used after the form was shown: a label edit must not reset its credits
    verify(server, server.admin_key, CREATED_KEYS[-1])  # no ip: refused, nothing spent
    db_query(stack, "UPDATE api_keys SET credits_remaining = 7 WHERE public_id = %s", (kid,))
    r = c.post(f"/admin/keys/{kid}/edit", dict(form, label="renamed", allowed_ips=form["allowed_ips"].replace("\n", "\r\n")))
    assert r.status_code in (200, 303), r.text[:500]
    k = get_key(server, server.admin_key, kid)
    assert k["label"] == "renamed" and k["credits"]["remaining"] == 7, k
    assert set(key_updates(stack, kid)[-1]) == {"label"}, key_updates(stack, kid)
    # clearing both
    form = edit_form(c, kid)
    r = c.post(f"/admin/keys/{kid}/edit", dict(form, allowed_ips="", **{"credits.remaining": ""}))
    k = get_key(server, server.admin_key, kid)
    assert k["allowed_ips"] is None and k["credits"] is None, k
    # a bad entry is named in the re-rendered form, nothing written
    form = edit_form(c, kid)
    r = c.post(f"/admin/keys/{kid}/edit", dict(form, allowed_ips="10.0.0.1/40"))
    assert r.status_code == 400 and "10.0.0.1/40" in r.text, r.text[:300]
    assert get_key(server, server.admin_key, kid)["allowed_ips"] is None


def test_refusals_before_the_credits_show_what_remains(server):
    t = make_tenant(server)
    k = create_key(server, t.key, allowed_ips=["203.0.113.7"], credits={"remaining": 4})
    v = verify(server, t.key, k["key"])
    assert v["code"] == "IP_NOT_ALLOWED" and v["credits"] == {"remaining": 4}, v
    expect(call(server, "POST", f"/v1/accounts/{t.account_id}/suspend", server.admin_key, body={}), 200)
    v = expect(call(server, "POST", "/v1/verify", server.admin_key, body={"key": k["key"], "ip": "203.0.113.7"}), 200)
    assert v["code"] == "ACCOUNT_SUSPENDED" and v["credits"] == {"remaining": 4}, v


def test_console_account_page_sets_status_and_policies(server, stack):
    from test_admin_forms import owner
    c = owner(server)
    acct = make_account(server, server.admin_key)
    k = create_key(server, server.admin_key, account_id=acct["id"], scopes=("tasks:read",))
    page = c.get(f"/admin/accounts/{acct['id']}")
    assert page.status_code == 200 and 'id="account-status">Active' in page.text, page.text[:300]
    r = c.post(f"/admin/accounts/{acct['id']}/suspend", {"reason": "unpaid"})
    assert r.status_code in (200, 303), r.text[:300]
    a = expect(call(server, "GET", f"/v1/accounts/{acct['id']}", server.admin_key), 200)
    assert a["status"] == "suspended" and a["suspend_reason"] == "unpaid", a
    assert verify(server, server.admin_key, k["key"])["code"] == "ACCOUNT_SUSPENDED"
    assert "unpaid" in c.get(f"/admin/accounts/{acct['id']}").text
    c.post(f"/admin/accounts/{acct['id']}/reactivate", {})
    assert verify(server, server.admin_key, k["key"])["code"] == "VALID"
    # a ceiling below the key's scopes is refused unless its keys are revoked with it
    r = c.post(f"/admin/accounts/{acct['id']}/policy",
               {"grantable_scopes": "reports:*", "revoke_after_inactive_days": ""})
    assert r.status_code == 409 and "outside" in r.text, r.text[:300]
    r = c.post(f"/admin/accounts/{acct['id']}/policy",
               {"grantable_scopes": "reports:*", "apply": "revoke", "revoke_after_inactive_days": "90"})
    assert r.status_code in (200, 303), r.text[:300]
    a = expect(call(server, "GET", f"/v1/accounts/{acct['id']}", server.admin_key), 200)
    assert a["grantable_scopes"] == ["reports:*"] and a["revoke_after_inactive_days"] == 90, a
    assert get_key(server, server.admin_key, k["id"])["revoked_reason"] == "ceiling"
    # the user's own account: no forms, a note
    own = c.get(f"/admin/accounts/{stack.root_account}").text
    assert "set from an account above" in own and "/suspend" not in own
