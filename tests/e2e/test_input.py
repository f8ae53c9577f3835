"""Request bodies and query strings: validation, hostile JSON, content types, size, forms, keys in URLs."""
import time

from helpers import (KEY_RE, assert_error, assert_verify, audit_by_rid, call, create_key, expect, key_count,
                     make_tenant, new_rid, read_logs, uid)


def post_raw(server, key, path, data, ctype="application/json", rid=None):
    return call(server, "POST", path, key, data=data, headers={"Content-Type": ctype}, rid=rid)


def test_create_validation(server, stack):
    t = make_tenant(server)
    past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    before = key_count(stack, t.account_id)
    cases = [
        ({}, "label"),
        ({"scopes": ["verify"]}, "label"),
        ({"label": ""}, "label"),
        ({"label": "x" * 101}, "label"),
        ({"label": "line\nbreak"}, "label"),
        ({"label": "esc\x1b[31m"}, "label"),
        ({"label": "del\x7f"}, "label"),
        ({"label": ["a"]}, "label"),
        ({"label": "ok", "scopes": ["UPPER"]}, "scopes"),
        ({"label": "ok", "scopes": ["has space"]}, "scopes"),
        ({"label": "ok", "scopes": [":leading"]}, "scopes"),
        ({"label": "ok", "scopes": ["a" * 65]}, "scopes"),
        ({"label": "ok", "scopes": [f"s{i}" for i in range(33)]}, "scopes"),
        ({"label": "ok", "scopes": [1]}, "scopes"),
        ({"label": "ok", "env": "prod"}, "env"),
        ({"label": "ok", "env": ""}, "env"),
        ({"label": "ok", "expires_at": past}, "expires_at"),
        ({"label": "ok", "expires_at": "2030-02-30T00:00:00Z"}, "expires_at"),
        ({"label": "ok", "expires_at": "next week"}, "expires_at"),
        ({"label": "ok", "expires_in": "forever"}, "expires_in"),
        ({"label": "ok", "expires_in": -5}, "expires_in"),
        ({"label": "ok", "expires_in": "0"}, "expires_in"),
        ({"label": "ok", "ratelimit": {"limit": 0, "window": 60}}, "ratelimit"),
        ({"label": "ok", "ratelimit": {"limit": 5, "window": 86401}}, "ratelimit"),
        ({"label": "ok", "meta": "notanobject"}, "meta"),
        ({"label": "ok", "meta": {"k": "v" * 4200}}, "meta"),
        ({"label": "ok", "account_id": "acct_"}, "account_id"),
        ({"label": "ok", "surprise": True}, "surprise"),
        ({"label": "ok", "key": "lk_live_" + "A" * 38}, "key"),
    ]
    for body, field in cases:
        rid = new_rid()
        r = call(server, "POST", "/v1/keys", t.key, body=body, rid=rid)
        if field == "account_id" and r.status_code in (403, 404):
            continue  # a malformed account id may also be treated as "not in your subtree"
        assert_error(r, 400, "VALIDATION_ERROR", field=field)
        assert audit_by_rid(stack, rid) == []
    # expires_at XOR expires_in
    r = call(server, "POST", "/v1/keys", t.key, body={"label": "ok", "expires_at": future, "expires_in": "1h"})
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"].get("field") in ("expires_at", "expires_in"), err
    assert key_count(stack, t.account_id) == before
    # boundaries that are fine
    create_key(server, t.key, label="x" * 100, scopes=[f"s{i}" for i in range(32)])
    create_key(server, t.key, label="unicode label \u00e9\u6f22\u5b57", ratelimit={"limit": 1, "window": 86400})
    assert key_count(stack, t.account_id) == before + 2


def test_hostile_json_bodies(server, stack):
    t = make_tenant(server)
    before = key_count(stack, t.account_id)
    bodies = {
        "deep nesting": b'{"label":"deep","meta":' + b'[' * 20000 + b']' * 20000 + b'}',
        "deep objects": b'{"label":"deep","meta":' + b'{"a":' * 5000 + b'1' + b'}' * 5000 + b'}',
        "NUL escape": b'{"label":"a\\u0000b"}',
        "raw NUL": b'{"label":"a\x00b"}',
        "invalid UTF-8": b'{"label":"\xff\xfe bad"}',
        "overlong UTF-8": b'{"label":"\xc0\xaf"}',
        "lone surrogate": b'{"label":"\\ud800"}',
        "duplicate keys": b'{"label":"one","label":"two"}',
        "duplicate nested keys": b'{"label":"x","meta":{"a":1,"a":2}}',
        "array": b'[{"label":"x"}]',
        "string": b'"label"',
        "number": b'42',
        "null": b'null',
        "truncated": b'{"label":"x"',
        "trailing garbage": b'{"label":"x"} {"label":"y"}',
        "not json": b'label=x',
        "empty object keys": b'{"":1,"label":"x"}',
        "huge number": b'{"label":"x","ratelimit":{"limit":1e999,"window":60}}',
    }
    for name, data in bodies.items():
        rid = new_rid()
        r = post_raw(server, t.key, "/v1/keys", data, rid=rid)
        assert_error(r, 400, "VALIDATION_ERROR")
        assert audit_by_rid(stack, rid) == [], name
    assert key_count(stack, t.account_id) == before
    # the process that got all that still serves normal requests
    create_key(server, t.key)
    # hostile bodies on the other programs too
    for path in ("/v1/verify", "/v1/accounts", f"/v1/keys/{t.key_id}"):
        for data in (bodies["deep nesting"], bodies["duplicate keys"], bodies["invalid UTF-8"], b"[]"):
            method = "PATCH" if path.startswith("/v1/keys/") else "POST"
            r = call(server, method, path, t.key, data=data, headers={"Content-Type": "application/json"})
            assert_error(r, 400, "VALIDATION_ERROR")
    expect(call(server, "GET", "/v1/me", t.key), 200)


def test_unsupported_media_type(server, stack):
    t = make_tenant(server)
    before = key_count(stack, t.account_id)
    for ctype, data in (("text/plain", b'{"label":"x"}'), ("application/xml", b"<label>x</label>"),
                        ("multipart/form-data; boundary=zz", b'--zz\r\nContent-Disposition: form-data; name="label"'
                                                              b'\r\n\r\nx\r\n--zz--\r\n'),
                        ("application/json; charset=iso-8859-1", b'{"label":"x"}'),
                        ("application/octet-stream", b"\x00\x01")):
        rid = new_rid()
        assert_error(post_raw(server, t.key, "/v1/keys", data, ctype, rid=rid), 415, "UNSUPPORTED_MEDIA_TYPE")
        assert audit_by_rid(stack, rid) == []
    assert_error(post_raw(server, t.key, "/v1/verify", b'{"key":"x"}', "text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_error(call(server, "PATCH", f"/v1/keys/{t.key_id}", t.key, data=b'{"label":"x"}',
                      headers={"Content-Type": "text/csv"}), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert key_count(stack, t.account_id) == before
    # charset=utf-8 is fine, in any case
    for ctype in ("application/json; charset=utf-8", "application/json;charset=UTF-8"):
        expect(post_raw(server, t.key, "/v1/keys", b'{"label":"charset ok"}', ctype), 201)
    # an empty POST without a content type is fine for actions
    k = create_key(server, t.key)
    expect(call(server, "POST", f"/v1/keys/{k['id']}/revoke", t.key), 200)


def test_payload_too_large(server, stack):
    t = make_tenant(server)
    before = key_count(stack, t.account_id)
    big = b'{"label":"big","meta":{"pad":"' + b"x" * 70000 + b'"}}'
    rid = new_rid()
    assert_error(post_raw(server, t.key, "/v1/keys", big, rid=rid), 413, "PAYLOAD_TOO_LARGE")
    assert audit_by_rid(stack, rid) == []
    form = b"label=big&meta=" + b"y" * 70000
    assert_error(post_raw(server, t.key, "/v1/keys", form, "application/x-www-form-urlencoded"),
                 413, "PAYLOAD_TOO_LARGE")
    assert_error(post_raw(server, t.key, "/v1/verify", b'{"key":"' + b"z" * 70000 + b'"}'), 413,
                 "PAYLOAD_TOO_LARGE")
    assert key_count(stack, t.account_id) == before
    expect(call(server, "GET", "/v1/me", t.key), 200)
    # just under the limit is not refused for size
    ok = b'{"label":"near","meta":{"pad":"' + b"x" * 60000 + b'"}}'
    r = post_raw(server, t.key, "/v1/keys", ok)
    assert_error(r, 400, "VALIDATION_ERROR", field="meta")  # meta > 4 KiB, but not 413


def test_form_urlencoded_create(server, stack):
    t = make_tenant(server)
    # repeated fields
    label = uid("form")
    r = call(server, "POST", "/v1/keys", t.key,
             data=[("label", label), ("scopes", "verify"), ("scopes", "tasks:create"), ("env", "test")])
    k = expect(r, 201)
    assert k["label"] == label and sorted(k["scopes"]) == ["tasks:create", "verify"] and k["env"] == "test"
    assert KEY_RE.fullmatch(k["key"])
    assert_verify(server, t.key, k["key"], "VALID", scopes=["tasks:create"], key_id=k["id"])
    # one space separated value, and a comma separated one
    for value in ("verify tasks:create", "verify,tasks:create"):
        k = expect(call(server, "POST", "/v1/keys", t.key, data={"label": uid("form2"), "scopes": value}), 201)
        assert sorted(k["scopes"]) == ["tasks:create", "verify"], value
    # object fields as JSON text, expiry as a duration
    k = expect(call(server, "POST", "/v1/keys", t.key,
                    data={"label": uid("form3"), "meta": '{"a": 1}', "ratelimit": '{"limit": 10, "window": 60}',
                          "expires_in": "1h"}), 201)
    assert k["meta"] == {"a": 1} and k["ratelimit"] == {"limit": 10, "window": 60} and k["expires_at"]
    # form errors are the same as JSON errors
    assert_error(call(server, "POST", "/v1/keys", t.key, data={"label": "x", "nope": "1"}),
                 400, "VALIDATION_ERROR", field="nope")
    assert_error(call(server, "POST", "/v1/keys", t.key, data={"scopes": "verify"}),
                 400, "VALIDATION_ERROR", field="label")
    assert_error(call(server, "POST", "/v1/keys", t.key, data={"label": "x", "meta": "{not json"}),
                 400, "VALIDATION_ERROR", field="meta")
    assert_error(call(server, "POST", "/v1/keys", t.key, data=b"label=a%00b",
                      headers={"Content-Type": "application/x-www-form-urlencoded"}), 400, "VALIDATION_ERROR")
    assert_error(call(server, "POST", "/v1/keys", t.key, data=b"label=%ff%fe",
                      headers={"Content-Type": "application/x-www-form-urlencoded"}), 400, "VALIDATION_ERROR")
    # form PATCH: empty value clears a nullable field
    k = create_key(server, t.key, expires_in="1h")
    p = expect(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, data={"expires_at": ""}), 200)
    assert p["expires_at"] is None
    # form account create
    a = expect(call(server, "POST", "/v1/accounts", t.key, data={"name": uid("form acct")}), 201)
    assert a["parent_id"] == t.account_id


def test_key_in_query_string_is_refused_and_not_logged(server, stack):
    t = make_tenant(server)
    secret = create_key(server, t.key, scopes=["keys:read"])
    plain = secret["key"]
    shaped = "lk_live_" + "Q" * 38  # key-shaped but never issued
    for name in ("key", "api_key", "apikey", "access_token", "token", "x-api-key"):
        for path in ("/v1/keys", "/v1/me"):
            for caller in (t.key, None):
                r = call(server, "GET", path, caller, params={name: plain})
                assert_error(r, 400, "VALIDATION_ERROR", field=name)
                assert plain not in r.text
    r = call(server, "GET", "/v1/keys", t.key, params={"q": plain})
    assert_error(r, 400, "VALIDATION_ERROR", field="q")
    r = call(server, "POST", "/v1/verify", t.key, params={"key": plain}, body={"key": plain})
    assert_error(r, 400, "VALIDATION_ERROR", field="key")
    r = call(server, "GET", "/v1/keys", t.key, params={"note": shaped})
    assert_error(r, 400, "VALIDATION_ERROR", field="note")
    # a key as a parameter name: refused too, and details.field does not echo it
    for qs in (plain, f"{plain}=1", f"x=1&{shaped}", f"lk%5Flive%5F{plain[8:]}"):
        r = call(server, "GET", f"/v1/me?{qs}", t.key)
        assert_error(r, 400, "VALIDATION_ERROR")
        assert "details" not in r.json()["error"] and plain not in r.text and shaped not in r.text, r.text
    # the key was not used by those requests
    assert expect(call(server, "GET", f"/v1/keys/{secret['id']}", t.key), 200)["last_used_at"] is None
    time.sleep(1.5)  # let the servers flush their logs
    for path, data in read_logs(stack).items():
        for s in (plain, shaped):
            assert s not in data, f"{s[:12]}... found in {path}"


def test_short_body_and_disconnect(server, stack):
    """A client that promises more body than it sends, then hangs up: nothing written, next request fine."""
    import socket
    import urllib.parse
    t = make_tenant(server)
    before = key_count(stack, t.account_id)
    u = urllib.parse.urlsplit(server.base_url)
    for partial in (b'{"label":"sho', b""):
        s = socket.create_connection((u.hostname, u.port), timeout=30)
        try:
            head = (f"POST /v1/keys HTTP/1.1\r\nHost: {u.hostname}\r\nAuthorization: Bearer {t.key}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: 500\r\nConnection: close\r\n\r\n").encode()
            s.sendall(head + partial)
            s.shutdown(socket.SHUT_WR)
            try:
                reply = s.recv(200)
            except (socket.timeout, ConnectionResetError):
                reply = b""
        finally:
            s.close()
        assert not reply.startswith(b"HTTP/1.1 2") and not reply.startswith(b"HTTP/1.0 2"), reply
    for _ in range(4):
        expect(call(server, "GET", "/v1/me", t.key), 200)
    create_key(server, t.key)
    assert key_count(stack, t.account_id) == before + 1
