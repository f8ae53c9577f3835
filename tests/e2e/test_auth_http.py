"""Credentials, 401/403/404/405, X-Request-Id, Cache-Control and the error shape, on every server."""
import json

from helpers import (KEY_RE, SANE_RID_RE, assert_common_headers, assert_error, assert_no_leaks, call,
                     create_key, expect, make_tenant, new_rid, raw_request, uid)


def test_missing_credential(server):
    for method, path in (("GET", "/v1/keys"), ("POST", "/v1/keys"), ("GET", "/v1/me"), ("POST", "/v1/verify"),
                         ("GET", "/v1/accounts"), ("GET", "/v1/keys/key_" + "A" * 24),
                         ("POST", "/v1/keys/key_" + "A" * 24 + "/revoke"), ("GET", "/v1/accounts/me")):
        r = call(server, method, path)
        assert_error(r, 401, "MISSING_API_KEY")
        assert r.headers.get("WWW-Authenticate") == 'Bearer realm="latchkey"', (path, r.headers)
    # empty credential values count as missing or invalid, never as authenticated
    for headers in ({"Authorization": "Bearer "}, {"X-API-Key": ""}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        r = call(server, "GET", "/v1/me", headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.json()["error"]["code"] in ("MISSING_API_KEY", "INVALID_API_KEY")


def test_invalid_credentials(server):
    t = make_tenant(server, scopes=["keys:read"])
    plain = t.key
    bad_checksum = plain[:-1] + ("A" if plain[-1] != "A" else "B")
    # (a well-formed but unknown/deleted key is covered by the lifecycle tests)
    for cand in ("nonsense", "lk_live_", bad_checksum, plain[:-2], plain + "AA", plain.replace("_live_", "_test_")):
        for style in ("bearer", "x-api-key"):
            r = call(server, "GET", "/v1/keys", cand, style=style)
            assert_error(r, 401, "INVALID_API_KEY")
            assert cand not in r.text or len(cand) < 10, r.text


def test_both_credential_headers_and_trimming(server):
    t = make_tenant(server, scopes=["keys:read"])
    for headers in ({"Authorization": f"Bearer {t.key}"}, {"X-API-Key": t.key},
                    {"Authorization": f"Bearer    {t.key}   "}, {"X-API-Key": f"{t.key}  \t"}):
        r = call(server, "GET", "/v1/me", headers=headers)
        me = expect(r, 200)
        assert me["key"]["id"] == t.key_id, headers
    # leading whitespace too (requests refuses to send it; use http.client)
    for name, value in (("X-API-Key", f"   {t.key}"), ("Authorization", f"  Bearer {t.key} "),
                        ("X-API-Key", f"\t{t.key}\t")):
        status, resp, data = raw_request(server, "GET", "/v1/me", headers=[(name, value)])
        assert status == 200, (name, value, data[:300])
        assert json.loads(data)["key"]["id"] == t.key_id


def test_forbidden_reports_required_scope(server):
    t = make_tenant(server)
    verify_only = create_key(server, t.key, scopes=["verify"])
    target = create_key(server, t.key, scopes=["verify"])
    kid = target["id"]
    cases = [
        ("GET", "/v1/keys", None, "keys:read"),
        ("POST", "/v1/keys", {"label": "x"}, "keys:write"),
        ("GET", f"/v1/keys/{kid}", None, "keys:read"),
        ("PATCH", f"/v1/keys/{kid}", {"label": "x"}, "keys:write"),
        ("DELETE", f"/v1/keys/{kid}", None, "keys:write"),
        ("POST", f"/v1/keys/{kid}/revoke", None, "keys:write"),
        ("POST", f"/v1/keys/{kid}/reactivate", None, "keys:write"),
        ("POST", f"/v1/keys/{kid}/rotate", {}, "keys:write"),
        ("GET", "/v1/accounts", None, "accounts:read"),
        ("POST", "/v1/accounts", {"name": "x"}, "accounts:write"),
        ("GET", "/v1/accounts/me", None, "accounts:read"),
        ("PATCH", f"/v1/accounts/{t.account_id}", {"name": "x"}, "accounts:write"),
        ("DELETE", f"/v1/accounts/{t.account_id}", None, "accounts:write"),
        ("GET", f"/v1/accounts/{t.account_id}/keys", None, "keys:read"),
    ]
    for method, path, body, scope in cases:
        kw = {"body": body} if body is not None else {}
        err = assert_error(call(server, method, path, verify_only["key"], **kw), 403, "FORBIDDEN")
        assert err["details"]["required_scope"] == scope, (method, path, err)
    # a key without `verify` cannot verify
    reader = create_key(server, t.key, scopes=["keys:read"])
    err = assert_error(call(server, "POST", "/v1/verify", reader["key"], body={"key": target["key"]}),
                       403, "FORBIDDEN")
    assert err["details"]["required_scope"] == "verify"
    # and the verify-only key can verify
    v = expect(call(server, "POST", "/v1/verify", verify_only["key"], body={"key": target["key"]}), 200)
    assert v["valid"] is True
    # nothing happened to the target
    g = expect(call(server, "GET", f"/v1/keys/{kid}", t.key), 200)
    assert g["status"] == "active" and g["label"] == target["label"]


def test_method_not_allowed(server):
    t = make_tenant(server)
    k = create_key(server, t.key)
    cases = [
        ("PUT", "/v1/keys", {"GET", "POST"}),
        ("DELETE", "/v1/keys", {"GET", "POST"}),
        ("PATCH", "/v1/keys", {"GET", "POST"}),
        ("PUT", f"/v1/keys/{k['id']}", {"GET", "PATCH", "DELETE"}),
        ("POST", f"/v1/keys/{k['id']}", {"GET", "PATCH", "DELETE"}),
        ("GET", f"/v1/keys/{k['id']}/revoke", {"POST"}),
        ("DELETE", f"/v1/keys/{k['id']}/rotate", {"POST"}),
        ("GET", "/v1/verify", {"POST"}),
        ("PUT", "/v1/verify", {"POST"}),
        ("POST", "/v1/me", {"GET"}),
        ("DELETE", "/v1/me", {"GET"}),
        ("PUT", "/v1/accounts", {"GET", "POST"}),
        ("POST", f"/v1/accounts/{t.account_id}", {"GET", "PATCH", "DELETE"}),
    ]
    for method, path, allow in cases:
        for key in (t.key, None):  # routing (405) comes before authentication
            r = call(server, method, path, key)
            assert_error(r, 405, "METHOD_NOT_ALLOWED")
            got = {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}
            assert allow <= got and got <= allow | {"HEAD", "OPTIONS"}, (method, path, r.headers.get("Allow"))
    assert expect(call(server, "GET", f"/v1/keys/{k['id']}", t.key), 200)["status"] == "active"


def test_not_found_routes(server):
    t = make_tenant(server)
    k = create_key(server, t.key)
    for path in (f"/v1/keys/{k['id']}/explode", f"/v1/keys/{k['id']}/revoke/extra",
                 "/v1/keys/key_" + "A" * 24, f"/v1/accounts/{t.account_id}/widgets",
                 f"/v1/accounts/{t.account_id}/keys/{k['id']}/explode"):
        assert_error(call(server, "POST" if path.endswith("explode") else "GET", path, t.key), 404, "NOT_FOUND")
    # unknown paths inside a program's prefix are 404 before authentication
    assert_error(call(server, "GET", f"/v1/keys/{k['id']}/revoke/extra"), 404, "NOT_FOUND")


def test_request_id_echo_and_replacement(server):
    t = make_tenant(server, scopes=["keys:read"])
    sane = ["abc", "A.b-c_9", "x" * 64, new_rid()]
    for rid in sane:
        for key, status in ((t.key, 200), (None, 401)):
            r = call(server, "GET", "/v1/keys", key, rid=rid)
            assert r.status_code == status
            assert r.headers.get("X-Request-Id") == rid
            if status != 200:
                assert r.json()["error"]["request_id"] == rid
    seen = set()
    for rid in ("has spaces in it", "y" * 65, "z" * 200, "<script>", "a;b", "\u00e9t\u00e9".encode().decode("latin-1"),
                "a/b", "semi;colon"):
        for key, status in ((t.key, 200), (None, 401)):
            r = call(server, "GET", "/v1/keys", key, headers={"X-Request-Id": rid})
            assert r.status_code == status
            got = r.headers.get("X-Request-Id")
            assert got and got != rid and SANE_RID_RE.match(got), (rid, got)
            assert got not in seen, "generated request ids must be unique"
            seen.add(got)
            if status != 200:
                assert r.json()["error"]["request_id"] == got
    # no request id sent: one is generated, unique per request
    a = call(server, "GET", "/v1/keys", t.key).headers.get("X-Request-Id")
    b = call(server, "GET", "/v1/keys", t.key).headers.get("X-Request-Id")
    assert a and b and a != b and SANE_RID_RE.match(a)


def test_common_headers_on_every_response(server):
    """Cache-Control: no-store, X-Request-Id and nosniff on successes, 201, 204 and every error class."""
    t = make_tenant(server)
    k = create_key(server, t.key)
    child = expect(call(server, "POST", "/v1/accounts", t.key, body={"name": uid("hdr")}), 201)
    responses = [
        call(server, "GET", "/v1/keys", t.key),                                            # 200 list
        call(server, "POST", "/v1/keys", t.key, body={"label": uid("h")}),                # 201
        call(server, "GET", f"/v1/keys/{k['id']}", t.key),                                  # 200
        call(server, "POST", "/v1/verify", t.key, body={"key": k["key"]}),                # 200 verify
        call(server, "GET", "/v1/me", t.key),
        call(server, "GET", "/v1/accounts", t.key),
        call(server, "DELETE", f"/v1/accounts/{child['id']}", t.key),                       # 204
        call(server, "DELETE", f"/v1/keys/{k['id']}", t.key),                               # 204
        call(server, "GET", "/v1/keys"),                                                    # 401
        call(server, "GET", "/v1/keys", t.key, params={"limit": "0"}),                      # 400
        call(server, "GET", f"/v1/keys/{k['id']}", t.key),                                  # 404
        call(server, "PUT", "/v1/keys", t.key),                                             # 405
        call(server, "POST", "/v1/keys", t.key, data="x", headers={"Content-Type": "text/plain"}),  # 415
    ]
    statuses = [r.status_code for r in responses]
    assert statuses == [200, 201, 200, 200, 200, 200, 204, 204, 401, 400, 404, 405, 415], statuses
    for r in responses:
        assert_common_headers(r)
        if r.status_code != 204:
            assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
            if r.status_code >= 400:
                assert_no_leaks(r.text, allowed=(r.headers.get("X-Request-Id"),))
    # the plaintext appears only in the 201 create response
    assert KEY_RE.search(responses[1].text)
    for r in responses[2:]:
        assert not KEY_RE.search(r.text), r.text


def test_unknown_query_parameter(server):
    t = make_tenant(server)
    k = create_key(server, t.key)
    assert_error(call(server, "GET", f"/v1/keys/{k['id']}", t.key, params={"expand": "all"}),
                 400, "VALIDATION_ERROR", field="expand")
    assert_error(call(server, "GET", "/v1/me", t.key, params={"x": "1"}), 400, "VALIDATION_ERROR", field="x")
