"""Every validation error says what to do: its message names the field and the rule (the limit,
the allowed values, the grammar, the offending entry), and details.field names the field.
Runs on every server mode (the messages are latchkey's, whatever the web server)."""
import json

import pytest

from helpers import auth, call

ACCT = "acct_"

# (method, path, body, field, words the message must contain)
CASES = [
    ("POST", "/v1/keys", {"label": ""}, "label", ["label", "1", "100 characters"]),
    ("POST", "/v1/keys", {"label": "x" * 101}, "label", ["label", "100 characters"]),
    ("POST", "/v1/keys", {"label": "a\u0001b"}, "label", ["label", "control characters"]),
    ("POST", "/v1/keys", {"label": "x", "env": "prod"}, "env", ["env", "live", "test"]),
    ("POST", "/v1/keys", {"label": "x", "scopes": ["verify", "bad scope!"]}, "scopes",
     ["scopes", "'bad scope!'", "[a-z0-9]"]),
    ("POST", "/v1/keys", {"label": "x", "meta": ["a"]}, "meta", ["meta", "JSON object"]),
    ("POST", "/v1/keys", {"label": "x", "meta": {"a": "x" * 5000}}, "meta", ["meta", "4096 bytes"]),
    ("POST", "/v1/keys", {"label": "x", "expires_at": "tomorrow"}, "expires_at",
     ["expires_at", "RFC 3339"]),
    ("POST", "/v1/keys", {"label": "x", "expires_in": "3 weeks"}, "expires_in",
     ["expires_in", "36500d"]),
    ("POST", "/v1/keys", {"label": "x", "ratelimit": {"limit": 0, "window": 1}}, "ratelimit",
     ["ratelimit", "1..1000000000", "1..86400"]),
    ("POST", "/v1/keys", {"label": "x", "account_id": "nope"}, "account_id", ["account_id", ACCT]),
    ("POST", "/v1/keys", {}, "label", ["label", "required"]),
    ("POST", "/v1/accounts", {"name": ""}, "name", ["name", "100 characters"]),
    ("POST", "/v1/accounts", {"name": "x", "plan": "gold"}, "plan", ["plan", "free", "pro", "enterprise"]),
    ("POST", "/v1/accounts", {"name": "x", "parent_id": "zzz"}, "parent_id", ["parent_id", ACCT]),
    ("GET", "/v1/keys?limit=0", None, "limit", ["limit", "1", "100"]),
    ("GET", "/v1/keys?status=weird", None, "status", ["status", "active", "revoked", "expired"]),
    ("GET", "/v1/audit?since=yesterday", None, "since", ["since", "RFC 3339"]),
]


@pytest.mark.parametrize("method,path,body,field,words", CASES,
                         ids=[f"{c[0]} {c[1]} {c[3]}:{i}" for i, c in enumerate(CASES)])
def test_validation_message_names_field_and_rule(server, method, path, body, field, words):
    kw = {} if body is None else {"body": body}
    r = call(server, method, path, server.admin_key, **kw)
    assert r.status_code == 400, (r.status_code, r.text)
    err = r.json()["error"]
    assert err["code"] == "VALIDATION_ERROR" and err["details"]["field"] == field, err
    missing = [w for w in words if w not in err["message"]]
    assert not missing, f"message {err['message']!r} does not say {missing}"


def test_meta_array_is_not_called_a_repeat(server):
    """An array is the wrong type for meta, not a field given twice (that is a form's repeat)."""
    r = call(server, "POST", "/v1/keys", server.admin_key, body={"label": "x", "meta": ["a"]})
    assert "more than once" not in r.json()["error"]["message"], r.text
    r = call(server, "POST", "/v1/keys", server.admin_key, data=[("label", "x"), ("label", "y")])
    assert r.status_code == 400 and "more than once" in r.json()["error"]["message"], r.text


def test_json_sent_as_a_form_gets_a_content_type_hint(server):
    """`curl -d '{"label": "x"}'` sends JSON labelled as a form: the answer says to set the type."""
    import requests
    h = auth(server.admin_key)
    h["Content-Type"] = "application/x-www-form-urlencoded"
    r = requests.post(server.url("/v1/keys"), headers=h, data=json.dumps({"label": "x"}), timeout=30)
    assert r.status_code == 400, r.text
    msg = r.json()["error"]["message"]
    assert "Content-Type: application/json" in msg and "Unknown or read-only field" not in msg, msg
