"""Key import (POST /v1/keys/import, `latchkey key import`): keys made elsewhere, known by SHA-256.

Plaintexts are made here and never sent: only their SHA-256 travels. Each is added to
CREATED_KEYS, so test_secrets checks that none of them is in the database dump or a log.
"""
import hashlib
import json
import secrets

from helpers import (CREATED_KEYS, assert_error, assert_key_object, assert_verify, audit_by_rid,
                     audit_by_target, call, create_key, db_query, expect, key_count, key_row, make_account,
                     make_tenant, new_rid, uid)


def foreign_key(prefix="sk_live_"):
    """A plaintext in another system's format (never a latchkey key: no checksum, other prefix)."""
    plain = prefix + secrets.token_urlsafe(30).replace("-", "x").replace("_", "y")
    CREATED_KEYS.append(plain)
    return plain


def sha(plain):
    return hashlib.sha256(plain.encode()).hexdigest()


def item(plain, **fields):
    b = {"hash": sha(plain), "start": plain[:12], "label": uid("imp")}
    b.update(fields)
    return b


def bulk_item():
    """An item with no plaintext behind it at all (a random digest): for the large imports."""
    return {"hash": secrets.token_hex(32), "start": "bulk_" + secrets.token_hex(3), "label": uid("bulk")}


def do_import(server, caller, items, rid=None, status=207):
    return expect(call(server, "POST", "/v1/keys/import", caller, body={"keys": items}, rid=rid), status)


def digest_rows(stack, plains):
    return db_query(stack, "SELECT public_id, imported, start FROM api_keys WHERE digest IN ("
                    + ",".join(["UNHEX(%s)"] * len(plains)) + ")", [sha(p) for p in plains])


def test_import_per_item_results(server, stack):
    t = make_tenant(server)
    a, b = foreign_key(), foreign_key("acme_")
    before = key_count(stack, t.account_id)
    rid = new_rid()
    items = [item(a, scopes=["tasks:read"], meta={"from": "legacy"}, expires_in="30d"),
             item(a),                                   # the same hash again: a duplicate
             {"hash": "xyz", "start": "sk_", "label": "bad"},   # invalid: not a SHA-256
             item(b, start=b[:6], env="test", label="second")]
    r = do_import(server, t.key, items, rid=rid)
    res = r["results"]
    assert [x["index"] for x in res] == [0, 1, 2, 3], res
    assert [x["status"] for x in res] == [201, 409, 400, 201], res
    assert r["summary"] == {"imported": 2, "duplicates": 1, "failed": 1}, r
    ka, kb = res[0]["key"], res[3]["key"]
    for k in (ka, kb):
        assert_key_object(k)
        assert k["imported"] is True and k["status"] == "active", k
        assert k["account_id"] == t.account_id, k
    assert ka["start"] == a[:12] and ka["scopes"] == ["tasks:read"] and ka["meta"] == {"from": "legacy"}
    assert ka["expires_at"] is not None and kb["env"] == "test" and kb["start"] == b[:6]
    assert res[1]["error"]["code"] == "CONFLICT" and res[1]["error"]["details"]["field"] == "hash", res[1]
    assert res[2]["error"]["code"] == "VALIDATION_ERROR", res[2]
    assert res[2]["error"]["details"]["field"] == "hash", res[2]
    for x in res:
        assert set(x) == {"index", "status", "key"} or set(x) == {"index", "status", "error"}, x
    # the stored digest is the key's SHA-256, as for latchkey's own keys; nothing else was written
    assert key_count(stack, t.account_id) == before + 2
    rows = {row["public_id"]: row for row in digest_rows(stack, [a, b])}
    assert set(rows) == {ka["id"], kb["id"]} and all(row["imported"] == 1 for row in rows.values())
    audit = audit_by_rid(stack, rid)
    assert [(x["action"], x["target_id"]) for x in audit] == [("key.import", ka["id"]),
                                                            ("key.import", kb["id"])], audit
    assert json.loads(audit[0]["changes"])["start"] == a[:12]
    assert expect(call(server, "GET", f"/v1/keys/{ka['id']}", t.key), 200)["imported"] is True
    # a key made here is not imported
    assert create_key(server, t.key)["imported"] is False
    # the same import again: every good item is now a duplicate, nothing is written
    again = do_import(server, t.key, [items[0], items[3]])
    assert [x["status"] for x in again["results"]] == [409, 409], again
    assert key_count(stack, t.account_id) == before + 3


def test_import_rules_of_create(server, stack):
    """Each item is checked like POST /v1/keys: fields, dominance, the account subtree, test/live."""
    t = make_tenant(server, scopes=("keys:import", "keys:read", "verify"))
    other = make_tenant(server)
    child = make_account(server, parent_id=t.account_id)
    p = [foreign_key() for _ in range(7)]
    before = key_count(stack, t.account_id)
    items = [item(p[0], scopes=["verify"]),
             item(p[1], scopes=["keys:write"]),             # a scope the caller lacks
             item(p[2], account_id=other.account_id),       # outside the caller's subtree
             item(p[3], account_id=child["id"], scopes=["keys:read"]),
             item(p[4], label=""),                          # create's label rule
             item(p[5], unknown="x"),                       # unknown field
             item(p[6], start="has space")]                 # start: visible ASCII only
    res = do_import(server, t.key, items)["results"]
    assert [x["status"] for x in res] == [201, 403, 403, 201, 400, 400, 400], res
    assert res[1]["error"]["details"]["field"] == "scopes", res[1]
    assert res[2]["error"]["details"]["field"] == "account_id", res[2]
    assert res[3]["key"]["account_id"] == child["id"]
    assert [res[i]["error"]["details"]["field"] for i in (4, 5, 6)] == ["label", "unknown", "start"]
    assert key_count(stack, t.account_id) == before + 1
    assert not digest_rows(stack, [p[1], p[2], p[4], p[5], p[6]])
    # a scope ceiling on the target account holds for imports too
    expect(call(server, "PATCH", f"/v1/accounts/{child['id']}", server.admin_key,
                body={"grantable_scopes": ["tasks:*"]}), 200)
    res = do_import(server, server.admin_key, [item(foreign_key(), account_id=child["id"],
                                                    scopes=["billing:read"]),
                                               item(foreign_key(), account_id=child["id"],
                                                    scopes=["tasks:read"])])["results"]
    assert [x["status"] for x in res] == [403, 201], res
    assert res[0]["error"]["details"]["ceiling_account_id"] == child["id"], res[0]
    # keys:import is needed (keys:write is not enough); admin implies it
    w = make_tenant(server, scopes=("keys:write", "keys:read"))
    err = assert_error(call(server, "POST", "/v1/keys/import", w.key, body={"keys": [item(foreign_key())]}),
                       403, "FORBIDDEN")
    assert err["details"]["required_scope"] == "keys:import", err
    # a test key imports test keys only (its default env is test)
    tk = create_key(server, account_id=t.account_id,
                    scopes=["keys:import"], env="test")
    res = do_import(server, tk["key"], [item(foreign_key()), item(foreign_key(), env="live")])["results"]
    assert res[0]["status"] == 201 and res[0]["key"]["env"] == "test", res
    assert res[1]["status"] == 403 and res[1]["error"]["details"]["field"] == "env", res


def test_import_request_shape(server, stack):
    t = make_tenant(server)
    many = [bulk_item() for _ in range(1001)]
    before = key_count(stack, t.account_id)
    # 1001 items (a body larger than max_body, which the import route allows): 400, nothing written
    err = assert_error(call(server, "POST", "/v1/keys/import", t.key, body={"keys": many}), 400,
                       "VALIDATION_ERROR", field="keys")
    assert err["details"]["max_items"] == 1000, err
    assert key_count(stack, t.account_id) == before
    assert_error(call(server, "POST", "/v1/keys/import", t.key, body={"keys": []}), 400, "VALIDATION_ERROR",
                 field="keys")
    assert_error(call(server, "POST", "/v1/keys/import", t.key, body={"keys": {}}), 400, "VALIDATION_ERROR",
                 field="keys")
    assert_error(call(server, "POST", "/v1/keys/import", t.key, body={"keys": [], "x": 1}), 400,
                 "VALIDATION_ERROR", field="x")
    assert_error(call(server, "POST", "/v1/keys/import", t.key, data={"keys": "x"}), 415,
                 "UNSUPPORTED_MEDIA_TYPE")
    r = assert_error(call(server, "GET", "/v1/keys/import", t.key), 405, "METHOD_NOT_ALLOWED")
    assert r
    assert_error(call(server, "POST", "/v1/keys/import", None, body={"keys": []}), 401, "MISSING_API_KEY")
    res = do_import(server, t.key, ["not an object", item(foreign_key())])["results"]
    assert [x["status"] for x in res] == [400, 201], res
    # 1000 items is the most, and they all go in
    res = do_import(server, t.key, many[:1000])
    assert res["summary"] == {"imported": 1000, "duplicates": 0, "failed": 0}, res["summary"]
    assert key_count(stack, t.account_id) == before + 1001


def test_imported_key_verifies(server, stack):
    """An imported key works whatever its format: verify finds it by the SHA-256 of its text."""
    t = make_tenant(server)
    plain = foreign_key("legacy_")
    k = do_import(server, t.key, [item(plain, scopes=["tasks:read", "keys:read"])])["results"][0]["key"]
    v = assert_verify(server, t.key, plain, "VALID", key_id=k["id"])
    assert sorted(v["key"]["scopes"]) == ["keys:read", "tasks:read"], v
    assert_verify(server, t.key, plain, "INSUFFICIENT_SCOPE", scopes=["tasks:write"])
    # and as a caller of the management routes
    assert k["id"] in call(server, "GET", "/v1/me", plain).text
    expect(call(server, "GET", "/v1/keys", plain), 200)
    expect(call(server, "POST", f"/v1/keys/{k['id']}/revoke", t.key), 200)
    assert_verify(server, t.key, plain, "REVOKED_API_KEY", key_id=k["id"])


# ---------------------------------------------------------------- the CLI (once, not per server)

def test_cli_import(stack, tmp_path):
    acct = stack.cli("account", "create", uid("cli-import")).stdout.strip()
    a, b, c = foreign_key(), foreign_key(), foreign_key()
    lines = [json.dumps(item(a, scopes=["verify"], meta={"n": 1})),
             "{not json",
             json.dumps({"hash": sha(b), "start": "sk_live_x"}),        # no label
             "",
             json.dumps(item(a)),                                       # duplicate of line 1
             json.dumps(item(c, account_id=acct, env="test"))]
    f = tmp_path / "keys.jsonl"
    f.write_text("\n".join(lines) + "\n")
    p = stack.cli("key", "import", str(f), "--account", acct, check=False)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "line 2: not valid JSON" in p.stderr, p.stderr
    assert "line 3: Field 'label' is required" in p.stderr, p.stderr
    assert "done, 6 line(s): imported 2, duplicates 1, errors 2 (lines 2, 3)" in p.stderr, p.stderr
    assert p.stdout == ""
    rows = {r["start"]: r for r in digest_rows(stack, [a, c])}
    assert len(rows) == 2 and all(r["imported"] == 1 for r in rows.values()), rows
    assert not digest_rows(stack, [b])
    ka = key_row(stack, rows[a[:12]]["public_id"])
    assert ka["scopes"] == "verify" and ka["env"] == "live" and json.loads(ka["meta"]) == {"n": 1}
    assert key_row(stack, rows[c[:12]]["public_id"])["env"] == "test"
    audit = audit_by_target(stack, ka["public_id"])
    assert [(x["action"], x["actor"]) for x in audit] == [("key.import", "cli")], audit
    # again, from stdin: both are duplicates now, and that is not an error
    p = stack.cli("key", "import", "-", "--account", acct, input=lines[0] + "\n" + lines[5] + "\n")
    assert "imported 0, duplicates 2, errors 0" in p.stderr, p.stderr
    # the scope ceilings bind the operator's import as its create
    api = next(iter(stack.servers.values()))
    expect(call(api, "PATCH", f"/v1/accounts/{acct}", api.admin_key, body={"grantable_scopes": ["tasks:*"]}),
           200)
    p = stack.cli("key", "import", "-", "--account", acct, check=False,
                  input=json.dumps(item(foreign_key(), scopes=["billing:read"])) + "\n")
    assert p.returncode == 1 and "outside the scope ceiling" in p.stderr, p.stderr
    expect(call(api, "PATCH", f"/v1/accounts/{acct}", api.admin_key, body={"grantable_scopes": None}), 200)
    # a line without account_id and no --account
    p = stack.cli("key", "import", "-", input=json.dumps(item(foreign_key())) + "\n", check=False)
    assert p.returncode == 1 and "line 1: no account_id" in p.stderr, p.stderr
    # progress every 1000 lines
    many = "\n".join(json.dumps(bulk_item()) for _ in range(1001)) + "\n"
    p = stack.cli("key", "import", "-", "--account", acct, input=many, timeout=300)
    assert "after 1000 line(s): imported 1000" in p.stderr, p.stderr
    assert "done, 1001 line(s): imported 1001, duplicates 0, errors 0" in p.stderr, p.stderr
    # key show says it was imported
    assert "imported      true" in stack.cli("key", "show", ka["public_id"]).stdout
