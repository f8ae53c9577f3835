"""PATCH /v1/keys/{id}: allowed fields, forbidden fields, validation; DB unchanged on refusal."""
import time

from helpers import (assert_error, assert_key_object, assert_verify, audit_by_rid, call, create_key, expect,
                     get_key, key_row, make_tenant, new_rid, stable, uid)


def patch(server, caller, kid, body, rid=None):
    return call(server, "PATCH", f"/v1/keys/{kid}", caller, body=body, rid=rid)


def test_patch_allowed_fields(server, stack):
    t = make_tenant(server)
    k = create_key(server, t.key, scopes=["verify"], expires_in="1h")
    kid = k["id"]

    label = uid("renamed")
    p = expect(patch(server, t.key, kid, {"label": label}), 200)
    assert_key_object(p)
    assert p["label"] == label and p["id"] == kid and p["scopes"] == ["verify"]
    assert key_row(stack, kid)["label"] == label

    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    p = expect(patch(server, t.key, kid, {"expires_at": at}), 200)
    assert p["expires_at"] == at
    p = expect(patch(server, t.key, kid, {"expires_at": None}), 200)
    assert p["expires_at"] is None and p["status"] == "active"
    assert key_row(stack, kid)["expires_at"] is None

    p = expect(patch(server, t.key, kid, {"scopes": ["keys:read", "tasks:create"]}), 200)
    assert sorted(p["scopes"]) == ["keys:read", "tasks:create"]
    assert_verify(server, t.key, k["key"], "VALID", scopes=["tasks:create"], key_id=kid)
    assert_verify(server, t.key, k["key"], "INSUFFICIENT_SCOPE", scopes=["verify"], key_id=kid)

    p = expect(patch(server, t.key, kid, {"ratelimit": {"limit": 100, "window": 60}}), 200)
    assert p["ratelimit"] == {"limit": 100, "window": 60}
    p = expect(patch(server, t.key, kid, {"ratelimit": None}), 200)
    assert p["ratelimit"] is None

    p = expect(patch(server, t.key, kid, {"meta": {"customer": "c-42", "tier": [1, 2]}}), 200)
    assert p["meta"] == {"customer": "c-42", "tier": [1, 2]}
    v = assert_verify(server, t.key, k["key"], "VALID", key_id=kid)
    assert v["key"]["meta"] == {"customer": "c-42", "tier": [1, 2]}

    # several fields at once; the key itself, its account and its env never change
    p = expect(patch(server, t.key, kid, {"label": label + "-2", "meta": {}}), 200)
    assert p["label"] == label + "-2" and p["meta"] == {}
    g = get_key(server, t.key, kid)
    assert g["account_id"] == t.account_id and g["env"] == "live" and g["start"] == k["start"]
    assert_verify(server, t.key, k["key"], "VALID", key_id=kid)


FORBIDDEN_FIELDS = [
    ("account_id", lambda t, other: other),
    ("id", lambda t, other: "key_" + "A" * 24),
    ("key", lambda t, other: t.key),
    ("digest", lambda t, other: "00" * 32),
    ("env", lambda t, other: "test"),
    ("start", lambda t, other: "lk_live_AAAAAAAA"),
    ("status", lambda t, other: "active"),
    ("revoked_at", lambda t, other: None),
    ("created_at", lambda t, other: "2020-01-01T00:00:00Z"),
    ("rotated_from", lambda t, other: None),
    ("last_used_at", lambda t, other: None),
    ("bogus", lambda t, other: 1),
]


def test_patch_forbidden_fields_change_nothing(server, stack):
    t = make_tenant(server)
    other = make_tenant(server)
    k = create_key(server, t.key)
    before = stable(key_row(stack, k["id"]))
    for field, value in FORBIDDEN_FIELDS:
        rid = new_rid()
        r = patch(server, t.key, k["id"], {"label": "changed", field: value(t, other.account_id)}, rid=rid)
        assert_error(r, 400, "VALIDATION_ERROR", field=field)
        assert stable(key_row(stack, k["id"])) == before, field
        assert audit_by_rid(stack, rid) == [], field
    g = get_key(server, t.key, k["id"])
    assert g["account_id"] == t.account_id and g["label"] == k["label"]


def test_patch_validation(server, stack):
    t = make_tenant(server)
    k = create_key(server, t.key)
    kid = k["id"]
    before = stable(key_row(stack, kid))
    past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    cases = [
        ({}, None),
        ({"label": ""}, "label"),
        ({"label": "x" * 101}, "label"),
        ({"label": "bad\x01label"}, "label"),
        ({"label": "tab\tlabel"}, "label"),
        ({"label": None}, "label"),
        ({"label": 12}, "label"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"expires_at": "2030-13-45T99:00:00Z"}, "expires_at"),
        ({"scopes": ["Not A Scope"]}, "scopes"),
        ({"scopes": ["x" * 65]}, "scopes"),
        ({"scopes": [f"s{i}" for i in range(33)]}, "scopes"),
        ({"scopes": 7}, "scopes"),
        ({"ratelimit": {"limit": 0, "window": 60}}, "ratelimit"),
        ({"ratelimit": {"limit": 1000000001, "window": 60}}, "ratelimit"),
        ({"ratelimit": {"limit": 10, "window": 0}}, "ratelimit"),
        ({"ratelimit": {"limit": 10, "window": 86401}}, "ratelimit"),
        ({"ratelimit": {"limit": 10}}, "ratelimit"),
        ({"ratelimit": {"limit": 10, "window": 60, "burst": 5}}, "ratelimit"),
        ({"ratelimit": 5}, "ratelimit"),
        ({"meta": [1, 2]}, "meta"),
        ({"meta": "text"}, "meta"),
        ({"meta": {"big": "x" * 4100}}, "meta"),
    ]
    for body, field in cases:
        r = patch(server, t.key, kid, body)
        if field is None:
            assert_error(r, 400, "VALIDATION_ERROR")
        else:
            assert_error(r, 400, "VALIDATION_ERROR", field=field)
    assert stable(key_row(stack, kid)) == before
    # a past expires_at must not silently succeed as "active"
    r = patch(server, t.key, kid, {"expires_at": past})
    if r.status_code == 200:
        assert r.json()["status"] == "expired"
    else:
        assert_error(r, 400, "VALIDATION_ERROR", field="expires_at")


def test_patch_unknown_and_other_account_key(server, stack):
    t = make_tenant(server)
    assert_error(patch(server, t.key, "key_" + "Z" * 24, {"label": "x"}), 404, "NOT_FOUND")
