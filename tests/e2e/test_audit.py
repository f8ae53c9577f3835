"""Exactly one audit row per change, none for refused or no-op requests, no secrets in audit rows."""
import json
import socket

from helpers import (KEY_RE, audit_by_rid, audit_by_target, call, create_key, expect, make_tenant,
                     new_rid, uid)


def ip_text(ip):
    if isinstance(ip, (bytes, bytearray)):
        if len(ip) in (4, 16):
            return socket.inet_ntop(socket.AF_INET if len(ip) == 4 else socket.AF_INET6, bytes(ip))
        return ip.decode()
    return str(ip)


def one_row(stack, rid, action, target, actor, account_id):
    rows = audit_by_rid(stack, rid)
    assert len(rows) == 1, f"{action}: {len(rows)} audit rows for request {rid}: {rows}"
    row = rows[0]
    assert row["action"] == action, row
    assert row["target_id"] == target, row
    assert row["actor"] == actor, row
    ok = account_id if isinstance(account_id, tuple) else (account_id,)
    assert row["account_id"] in ok, row
    assert row["request_id"] == rid
    assert str(row["public_id"]).startswith("evt_"), row
    assert ip_text(row["ip"]) in ("127.0.0.1", "::1", "::ffff:127.0.0.1"), row
    assert row["hash"] and row["prev_hash"] is not None, row
    text = json.dumps({k: str(v) for k, v in row.items()})
    assert not KEY_RE.search(text), f"plaintext in audit row: {row}"
    if row["changes"]:
        json.loads(row["changes"])
    return row


def test_key_changes_write_exactly_one_row_each(server, stack):
    t = make_tenant(server)
    actor, acct = t.key_id, t.account_id

    rid = new_rid()
    k = expect(call(server, "POST", "/v1/keys", t.key, body={"label": uid("aud"), "scopes": ["verify"]}, rid=rid), 201)
    kid = k["id"]
    row = one_row(stack, rid, "key.create", kid, actor, acct)
    assert k["key"] not in (row["changes"] or "")

    rid = new_rid()
    expect(call(server, "PATCH", f"/v1/keys/{kid}", t.key, body={"label": "new-label"}, rid=rid), 200)
    row = one_row(stack, rid, "key.update", kid, actor, acct)
    assert "label" in (row["changes"] or ""), row

    rid = new_rid()
    expect(call(server, "POST", f"/v1/keys/{kid}/revoke", t.key, rid=rid), 200)
    one_row(stack, rid, "key.revoke", kid, actor, acct)

    rid = new_rid()  # no-op: already revoked
    expect(call(server, "POST", f"/v1/keys/{kid}/revoke", t.key, rid=rid), 200)
    assert audit_by_rid(stack, rid) == []

    rid = new_rid()
    expect(call(server, "POST", f"/v1/keys/{kid}/reactivate", t.key, rid=rid), 200)
    one_row(stack, rid, "key.reactivate", kid, actor, acct)

    rid = new_rid()  # no-op: already active
    expect(call(server, "POST", f"/v1/keys/{kid}/reactivate", t.key, rid=rid), 200)
    assert audit_by_rid(stack, rid) == []

    rid = new_rid()
    new = expect(call(server, "POST", f"/v1/keys/{kid}/rotate", t.key, body={"grace_period": "1h"}, rid=rid), 201)
    row = one_row(stack, rid, "key.rotate", kid, actor, acct)
    assert new["id"] in (row["changes"] or ""), row
    assert "new_key_id" in json.loads(row["changes"]), row
    assert new["key"] not in row["changes"]

    rid = new_rid()
    expect(call(server, "DELETE", f"/v1/keys/{kid}", t.key, rid=rid), 204)
    one_row(stack, rid, "key.delete", kid, actor, acct)

    # the audit keeps the record of the deleted key
    actions = [r["action"] for r in audit_by_target(stack, kid)]
    assert actions == ["key.create", "key.update", "key.revoke", "key.reactivate", "key.rotate", "key.delete"]


def test_account_changes_write_exactly_one_row_each(server, stack):
    t = make_tenant(server)
    rid = new_rid()
    a = expect(call(server, "POST", "/v1/accounts", t.key, body={"name": uid("aud-acct")}, rid=rid), 201)
    either = (t.account_id, a["id"])  # API.md leaves open whether "account" is the actor's or the object's
    one_row(stack, rid, "account.create", a["id"], t.key_id, either)
    rid = new_rid()
    expect(call(server, "PATCH", f"/v1/accounts/{a['id']}", t.key, body={"name": "renamed"}, rid=rid), 200)
    one_row(stack, rid, "account.update", a["id"], t.key_id, either)
    rid = new_rid()
    expect(call(server, "DELETE", f"/v1/accounts/{a['id']}", t.key, rid=rid), 204)
    one_row(stack, rid, "account.delete", a["id"], t.key_id, either)
    assert [r["action"] for r in audit_by_target(stack, a["id"])] == [
        "account.create", "account.update", "account.delete"]


def test_refused_and_read_requests_write_nothing(server, stack):
    t = make_tenant(server)
    reader = create_key(server, t.key, scopes=["keys:read", "verify"])
    k = create_key(server, t.key, expires_in=3600)
    n_before = len(audit_by_target(stack, k["id"]))
    requests_ = [
        ("GET", "/v1/keys", t.key, None, 200),
        ("GET", f"/v1/keys/{k['id']}", t.key, None, 200),
        ("GET", "/v1/me", t.key, None, 200),
        ("GET", "/v1/accounts", t.key, None, 200),
        ("POST", "/v1/verify", reader["key"], {"key": k["key"]}, 200),
        ("PATCH", f"/v1/keys/{k['id']}", reader["key"], {"label": "no"}, 403),
        ("PATCH", f"/v1/keys/{k['id']}", t.key, {"account_id": t.account_id}, 400),
        ("PATCH", f"/v1/keys/{k['id']}", None, {"label": "no"}, 401),
        ("POST", f"/v1/keys/{k['id']}/rotate", t.key, {"grace_period": "99d"}, 400),
        ("DELETE", f"/v1/keys/{k['id']}", reader["key"], None, 403),
        ("POST", "/v1/keys", t.key, {"label": ""}, 400),
        ("DELETE", f"/v1/accounts/{t.account_id}", server.admin_key, None, 409),
        ("PUT", f"/v1/keys/{k['id']}", t.key, None, 405),
    ]
    for method, path, key, body, status in requests_:
        rid = new_rid()
        kw = {"body": body} if body is not None else {}
        r = call(server, method, path, key, rid=rid, **kw)
        assert r.status_code == status, (method, path, r.text)
        assert audit_by_rid(stack, rid) == [], (method, path)
    assert len(audit_by_target(stack, k["id"])) == n_before
