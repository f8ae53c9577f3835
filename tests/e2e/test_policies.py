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
