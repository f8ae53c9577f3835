"""Key lifecycle on every server: create, verify, revoke, reactivate, delete, expiry, rotate, verify scopes/meta."""
import time

from helpers import (KEY_RE, assert_error, assert_key_object, assert_verify, call, create_key, expect,
                     get_key, key_row, make_tenant, parse_ts, sleep_past, uid, verify)


def test_create_returns_full_key_object_once(server, stack):
    t = make_tenant(server)
    label = uid("Production API Server - us-east-1")
    before = time.time()
    k = create_key(server, t.key, label=label, scopes=["keys:read", "tasks:create"],
                   meta={"team": "core", "n": 3})
    assert k["account_id"] == t.account_id  # default account = caller's context account
    assert k["label"] == label
    assert sorted(k["scopes"]) == ["keys:read", "tasks:create"]
    assert k["env"] == "live" and "_live_" in k["key"]
    assert k["status"] == "active"
    assert k["expires_at"] is None and k["revoked_at"] is None and k["last_used_at"] is None
    assert k["rotated_from"] is None and k["ratelimit"] is None
    assert k["meta"] == {"team": "core", "n": 3}
    assert before - 2 <= parse_ts(k["created_at"]) <= time.time() + 2
    # stored: only the digest and the display start, never the plaintext
    row = key_row(stack, k["id"])
    assert row is not None
    assert k["key"] not in repr(row)
    assert row["start"] == k["start"]
    # the plaintext is returned exactly once: GET shows the object without it
    g = get_key(server, t.key, k["id"])
    assert_key_object(g)
    assert "key" not in g
    assert g["id"] == k["id"] and g["start"] == k["start"] and g["label"] == label
    # two creates never give the same key
    k2 = create_key(server, t.key, label=label)
    assert k2["key"] != k["key"] and k2["id"] != k["id"]


def test_create_test_env_key(server):
    t = make_tenant(server)
    k = create_key(server, t.key, env="test", scopes=[])
    assert k["env"] == "test"
    assert KEY_RE.fullmatch(k["key"]).group(1) == "test"
    assert k["scopes"] == []
    assert_verify(server, t.key, k["key"], "VALID", key_id=k["id"])


def test_lifecycle_revoke_reactivate_delete(server):
    t = make_tenant(server)
    k = create_key(server, t.key, scopes=["verify"], meta={"plan": "gold"})
    kid, plain = k["id"], k["key"]

    v = assert_verify(server, t.key, plain, "VALID", key_id=kid)
    assert v["key"]["account_id"] == t.account_id
    assert v["key"]["env"] == "live"
    assert v["key"]["scopes"] == ["verify"]
    assert v["key"]["expires_at"] is None
    assert v["key"]["meta"] == {"plan": "gold"}
    # verifying a key records its use
    assert get_key(server, t.key, kid)["last_used_at"] is not None

    r = expect(call(server, "POST", f"/v1/keys/{kid}/revoke", t.key), 200)
    assert r["id"] == kid and r["status"] == "revoked" and r["revoked_at"] is not None
    revoked_at = r["revoked_at"]
    assert_verify(server, t.key, plain, "REVOKED_API_KEY", key_id=kid)
    # revoked key as caller -> 401 REVOKED_API_KEY with details.revoked_at
    err = assert_error(call(server, "GET", "/v1/me", plain), 401, "REVOKED_API_KEY")
    assert err["details"]["revoked_at"] == revoked_at
    # revoking again: 200, revoked_at unchanged
    time.sleep(1.1)
    r2 = expect(call(server, "POST", f"/v1/keys/{kid}/revoke", t.key), 200)
    assert r2["status"] == "revoked" and r2["revoked_at"] == revoked_at

    r = expect(call(server, "POST", f"/v1/keys/{kid}/reactivate", t.key), 200)
    assert r["status"] == "active" and r["revoked_at"] is None
    assert_verify(server, t.key, plain, "VALID", key_id=kid)
    expect(call(server, "GET", "/v1/me", plain), 200)
    # reactivating an active key is a no-op 200
    r = expect(call(server, "POST", f"/v1/keys/{kid}/reactivate", t.key), 200)
    assert r["status"] == "active"

    expect(call(server, "DELETE", f"/v1/keys/{kid}", t.key), 204)
    assert_verify(server, t.key, plain, "INVALID_API_KEY")
    assert_error(call(server, "GET", f"/v1/keys/{kid}", t.key), 404, "NOT_FOUND")
    assert_error(call(server, "DELETE", f"/v1/keys/{kid}", t.key), 404, "NOT_FOUND")
    assert_error(call(server, "POST", f"/v1/keys/{kid}/reactivate", t.key), 404, "NOT_FOUND")
    # the deleted key as a caller
    assert_error(call(server, "GET", "/v1/me", plain), 401, "INVALID_API_KEY")


def test_revoke_is_immediately_effective_for_management_calls(server):
    t = make_tenant(server)
    k = create_key(server, t.key, scopes=["keys:read"])
    expect(call(server, "GET", "/v1/keys", k["key"]), 200)
    expect(call(server, "POST", f"/v1/keys/{k['id']}/revoke", t.key), 200)
    assert_error(call(server, "GET", "/v1/keys", k["key"]), 401, "REVOKED_API_KEY")


def test_expiry(server):
    t = make_tenant(server)
    k = create_key(server, t.key, scopes=["keys:read"], expires_in=2)
    assert k["expires_at"] is not None
    assert 1 <= parse_ts(k["expires_at"]) - parse_ts(k["created_at"]) <= 3
    assert_verify(server, t.key, k["key"], "VALID", key_id=k["id"])
    sleep_past(k["expires_at"])
    v = assert_verify(server, t.key, k["key"], "EXPIRED_API_KEY", key_id=k["id"])
    assert v["key"]["expires_at"] == k["expires_at"]
    assert get_key(server, t.key, k["id"])["status"] == "expired"
    err = assert_error(call(server, "GET", "/v1/keys", k["key"]), 401, "EXPIRED_API_KEY")
    assert err["details"]["expired_at"] == k["expires_at"]
    # an expired key cannot be reactivated or rotated
    assert_error(call(server, "POST", f"/v1/keys/{k['id']}/reactivate", t.key), 409, "CONFLICT")
    assert_error(call(server, "POST", f"/v1/keys/{k['id']}/rotate", t.key, body={}), 409, "CONFLICT")
    assert get_key(server, t.key, k["id"])["status"] == "expired"


def test_expires_in_duration_forms_and_expires_at(server):
    t = make_tenant(server)
    now = time.time()
    for value, seconds in (("30m", 1800), ("12h", 43200), ("90d", 90 * 86400), (3600, 3600), ("3600", 3600)):
        k = create_key(server, t.key, expires_in=value)
        got = parse_ts(k["expires_at"]) - parse_ts(k["created_at"])
        assert abs(got - seconds) <= 2, (value, k)
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 7200))
    k = create_key(server, t.key, expires_at=at)
    assert k["expires_at"] == at and k["status"] == "active"


def test_rotate_with_grace(server):
    t = make_tenant(server)
    old = create_key(server, t.key, scopes=["verify", "tasks:*"], meta={"m": 1},
                     ratelimit={"limit": 100, "window": 60})
    r = call(server, "POST", f"/v1/keys/{old['id']}/rotate", t.key, body={"grace_period": 3})
    new = expect(r, 201)
    assert_key_object(new, with_plaintext=True)
    assert new["id"] != old["id"] and new["key"] != old["key"]
    assert new["rotated_from"] == old["id"]
    for f in ("account_id", "label", "env", "meta", "ratelimit"):
        assert new[f] == old[f], f
    assert sorted(new["scopes"]) == sorted(old["scopes"])
    assert new["status"] == "active" and new["expires_at"] is None
    assert_verify(server, t.key, old["key"], "VALID", key_id=old["id"])
    assert_verify(server, t.key, new["key"], "VALID", key_id=new["id"])
    o = get_key(server, t.key, old["id"])
    assert o["expires_at"] is not None and o["revoked_at"] is None
    assert parse_ts(o["expires_at"]) - time.time() <= 4
    sleep_past(o["expires_at"])
    assert_verify(server, t.key, old["key"], "EXPIRED_API_KEY", key_id=old["id"])
    assert_verify(server, t.key, new["key"], "VALID", key_id=new["id"])
    assert get_key(server, t.key, old["id"])["status"] == "expired"


def test_rotate_without_grace_revokes_now(server):
    t = make_tenant(server)
    old = create_key(server, t.key)
    for b in ({"grace_period": 0}, None):
        new = expect(call(server, "POST", f"/v1/keys/{old['id']}/rotate", t.key,
                          **({"body": b} if b is not None else {})), 201)
        assert new["rotated_from"] == old["id"]
        assert_verify(server, t.key, old["key"], "REVOKED_API_KEY", key_id=old["id"])
        assert_verify(server, t.key, new["key"], "VALID", key_id=new["id"])
        # a revoked key cannot be rotated again
        assert_error(call(server, "POST", f"/v1/keys/{old['id']}/rotate", t.key, body={}), 409, "CONFLICT")
        old = new


def test_rotate_keeps_lifetime_and_limits_grace(server):
    t = make_tenant(server)
    old = create_key(server, t.key, expires_in=3600)
    new = expect(call(server, "POST", f"/v1/keys/{old['id']}/rotate", t.key, body={"grace_period": "1h"}), 201)
    life = parse_ts(new["expires_at"]) - parse_ts(new["created_at"])
    assert abs(life - 3600) <= 2, new
    # old: min(existing expiry, now + grace)
    o = get_key(server, t.key, old["id"])
    assert abs(parse_ts(o["expires_at"]) - parse_ts(old["expires_at"])) <= 2, (old, o)
    # grace above 30 days -> 400
    k = create_key(server, t.key)
    assert_error(call(server, "POST", f"/v1/keys/{k['id']}/rotate", t.key, body={"grace_period": "31d"}),
                 400, "VALIDATION_ERROR", field="grace_period")
    assert_error(call(server, "POST", f"/v1/keys/{k['id']}/rotate", t.key, body={"grace_period": "soon"}),
                 400, "VALIDATION_ERROR", field="grace_period")
    assert_verify(server, t.key, k["key"], "VALID", key_id=k["id"])
    expect(call(server, "POST", f"/v1/keys/{k['id']}/rotate", t.key, body={"grace_period": "30d"}), 201)


def test_verify_scopes_and_wildcards(server):
    t = make_tenant(server)
    k = create_key(server, t.key, scopes=["tasks:*", "billing:read"])
    assert_verify(server, t.key, k["key"], "VALID", scopes=["tasks:create"], key_id=k["id"])
    assert_verify(server, t.key, k["key"], "VALID", scopes=["tasks:create", "billing:read"], key_id=k["id"])
    assert_verify(server, t.key, k["key"], "VALID", scopes=[], key_id=k["id"])
    v = assert_verify(server, t.key, k["key"], "INSUFFICIENT_SCOPE", scopes=["tasks:create", "billing:write"],
                      key_id=k["id"])
    assert v["valid"] is False
    assert_verify(server, t.key, k["key"], "INSUFFICIENT_SCOPE", scopes=["admin"], key_id=k["id"])
    # a key holding admin satisfies any scope
    a = create_key(server, t.key, scopes=["admin"])
    assert_verify(server, t.key, a["key"], "VALID", scopes=["anything:at-all", "keys:write"], key_id=a["id"])


def test_verify_malformed_and_unknown_keys(server):
    t = make_tenant(server)
    k = create_key(server, t.key)
    plain = k["key"]
    last = plain[-1]
    bad_checksum = plain[:-1] + ("A" if last != "A" else "B")
    wrong_body = plain[:-10] + ("x" if plain[-10] != "x" else "y") + plain[-9:]
    for candidate in ("hello", "lk_live_short", bad_checksum, wrong_body, plain + "x",
                      plain.replace("_live_", "_prod_"), plain.upper()):
        v = verify(server, t.key, candidate)
        assert v == {"valid": False, "code": "INVALID_API_KEY"} or (
            v["valid"] is False and v["code"] == "INVALID_API_KEY" and "key" not in v), (candidate, v)
    assert_verify(server, t.key, plain, "VALID", key_id=k["id"])


def test_verify_request_validation(server):
    t = make_tenant(server, scopes=["verify"])
    assert_error(call(server, "POST", "/v1/verify", t.key, body={}), 400, "VALIDATION_ERROR", field="key")
    assert_error(call(server, "POST", "/v1/verify", t.key, body={"key": 5}), 400, "VALIDATION_ERROR", field="key")
    assert_error(call(server, "POST", "/v1/verify", t.key, body={"key": t.key, "scopes": 5}),
                 400, "VALIDATION_ERROR", field="scopes")
    assert_error(call(server, "POST", "/v1/verify", t.key, body={"key": t.key, "extra": 1}),
                 400, "VALIDATION_ERROR", field="extra")
    # form-urlencoded verify works too
    r = call(server, "POST", "/v1/verify", t.key, data={"key": t.key, "scopes": "verify"})
    v = expect(r, 200)
    assert v["valid"] is True and v["code"] == "VALID"
