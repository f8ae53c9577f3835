"""The contract check itself (contract.py) can fail: what it must refuse, on answers written here
(no server needed). The real answers are checked by every other test of the suite."""
import json

import pytest

import contract

CONTRACT = contract.Contract()

HEADERS = {"Content-Type": "application/json; charset=utf-8", "X-Request-Id": "req_a",
           "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
KEY = {"id": "key_" + "a" * 24, "account_id": "acct_" + "b" * 24, "label": "x",
       "start": "lk_live_abcdefgh", "env": "live", "scopes": ["verify"], "status": "active",
       "created_at": "2026-01-01T00:00:00Z", "expires_at": None, "revoked_at": None,
       "last_used_at": None, "rotated_from": None, "ratelimit": None, "meta": {},
       "revoked_reason": None, "imported": False, "allowed_ips": None, "credits": None}


def error(code, status):
    return {"error": {"code": code, "message": "m", "status": status, "request_id": "req_a"}}


def check(method, path, status, body, **headers):
    raw = b"" if body is None else json.dumps(body).encode()
    return CONTRACT.check(method, path, status, {**HEADERS, **headers}, raw)


def test_described_answers_pass():
    assert check("GET", "/v1/keys/key_x", 200, KEY) == []
    assert check("POST", "/v1/keys", 201, {**KEY, "key": "lk_live_" + "a" * 38}) == []
    assert check("DELETE", "/v1/accounts/me", 204, None) == []
    assert check("PUT", "/v1/keys", 405, error("METHOD_NOT_ALLOWED", 405), Allow="GET, POST") == []
    assert check("GET", "/v1/nothing/here", 404, error("NOT_FOUND", 404)) == []
    assert check("GET", "/v1/me", 401, error("INVALID_API_KEY", 401),
                 **{"WWW-Authenticate": 'Bearer realm="latchkey"'}) == []


@pytest.mark.parametrize("what,args", [
    ("an undescribed field", ("GET", "/v1/keys/key_x", 200, {**KEY, "secret": 1})),
    ("a missing field", ("GET", "/v1/keys/key_x", 200, {k: v for k, v in KEY.items() if k != "meta"})),
    ("a wrong type", ("GET", "/v1/keys/key_x", 200, {**KEY, "imported": "no"})),
    ("no plaintext on create", ("POST", "/v1/keys", 201, KEY)),
    ("an undescribed status", ("POST", "/v1/keys", 418, error("CONFLICT", 418))),
    ("a status of another route", ("GET", "/v1/me", 409, error("CONFLICT", 409))),
    ("a code of another status", ("GET", "/v1/keys", 403, error("NOT_FOUND", 403))),
    ("an undescribed detail", ("GET", "/v1/keys", 400, {"error": {**error("VALIDATION_ERROR", 400)["error"],
                                                                   "details": {"sql": "SELECT"}}})),
    ("a missing WWW-Authenticate", ("GET", "/v1/me", 401, error("MISSING_API_KEY", 401))),
    ("a body on 204", ("DELETE", "/v1/keys/key_x", 204, {})),
    ("no body where one is described", ("GET", "/v1/me", 200, None)),
    ("an unknown path answered 200", ("GET", "/v1/keysXYZ", 200, KEY)),
    ("verify's INVALID_API_KEY with a key", ("POST", "/v1/verify", 200,
                                             {"valid": False, "code": "INVALID_API_KEY", "key": {}})),
])
def test_what_is_not_described_fails(what, args):
    assert check(*args), what


def test_headers_are_checked():
    assert check("GET", "/v1/keys/key_x", 200, KEY, **{"Cache-Control": "max-age=60"})
    assert check("GET", "/v1/keys/key_x", 200, KEY, **{"RateLimit-Remaining": "-1"})
    assert check("GET", "/v1/keys/key_x", 200, KEY, **{"Content-Type": "text/html"})
    headers = dict(HEADERS)
    del headers["X-Request-Id"]
    assert CONTRACT.check("GET", "/v1/keys/key_x", 200, headers, json.dumps(KEY).encode())
