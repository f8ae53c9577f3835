"""Leaked-key reports (issue 19 item 2): POST /v1/leaks/github signed as GitHub's secret scanning
partner program signs (ECDSA P-256 / SHA-256 over the raw body, a key generated here and written
to github_secret_scanning_keys_file) revokes the key with reason leaked, writes one key.leaked
audit row with url and source, one key.leaked event in the outbox and one mail (parsed with
Python's email module); a bad signature, an unknown key id, a body changed after signing and
missing headers are 401 with nothing changed; a token that is no key here is false_positive; a
repeat is idempotent. POST /v1/leaks by the key itself or a keys:write key over its account;
another account's key is 404. The console's "Report leaked" form."""
import base64
import email
import email.policy
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from helpers import call, create_key, db_query, expect, make_account, uid


def _leaks_dir(stack):
    d = Path(stack.vardir, "leaks")
    (d / "mail").mkdir(parents=True, exist_ok=True)
    # the programs run as the web server's user (Apache: nobody): they write the mails here
    os.chmod(d, 0o755)
    os.chmod(d / "mail", 0o1777)
    script = d / "mail.sh"
    if not script.exists():
        script.write_text('#!/bin/sh\ncat > "$1/$(date +%s%N)-$$.eml"\n')
        script.chmod(0o755)
    return d


class Signer:
    """A P-256 key pair standing in for GitHub's, its public key in the keys file."""

    def __init__(self, stack, key_id=None):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.key_id = key_id or uid("ghk")
        self.dir = _leaks_dir(stack)

    def pem(self):
        return self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def publish(self, *others):
        keys = [{"key_identifier": s.key_id, "key": s.pem(), "is_current": i == 0}
                for i, s in enumerate((self,) + others)]
        path = self.dir / "keys.json"
        path.write_text(json.dumps({"public_keys": keys}))
        os.chmod(path, 0o644)

    def sign(self, body):
        return base64.b64encode(self.key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()


@pytest.fixture(scope="module")
def signer(stack):
    s = Signer(stack)
    s.publish()
    return s


def github_post(server, body, key_id=None, sig=None, headers=None):
    h = {"Content-Type": "application/json"}
    if key_id is not None:
        h["Github-Public-Key-Identifier"] = key_id
    if sig is not None:
        h["Github-Public-Key-Signature"] = sig
    h.update(headers or {})
    return call(server, "POST", "/v1/leaks/github", data=body, headers=h)


def reports(*items):
    return json.dumps([{"token": t, "type": "latchkey_api_key", "url": u, "source": "content"}
                       for t, u in items]).encode()


def key_row(stack, key_id):
    return db_query(stack, "SELECT revoked_at, revoked_reason FROM api_keys WHERE public_id = %s",
                    (key_id,))[0]


def leak_audit(stack, key_id):
    rows = db_query(stack, "SELECT actor, changes FROM audit_log WHERE target_id = %s"
                           " AND action = 'key.leaked' ORDER BY id", (key_id,))
    return [dict(r, changes=json.loads(r["changes"])) for r in rows]


def leak_events(stack, wh_id, key_id):
    rows = db_query(stack, "SELECT m.payload FROM webhook_messages m JOIN webhook_endpoints w"
                           " ON w.id = m.endpoint_id WHERE w.public_id = %s AND m.type = 'key.leaked'",
                    (wh_id,))
    return [json.loads(r["payload"]) for r in rows if json.loads(r["payload"])["data"]["id"] == key_id]


def mails_about(stack, key_id):
    out = []
    for p in sorted((_leaks_dir(stack) / "mail").glob("*.eml")):
        m = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        if key_id in m.get_content():
            out.append(m)
    return out


def add_user(stack, acct, role):
    mail = f"{role}-{uid()}@example.com"
    stack.cli("user", "create", mail, "--account", acct, "--role", role, "--password-stdin",
              input="a long enough password 123\n")
    return mail


@pytest.fixture
def account(server, stack):
    acct = make_account(server)
    wh = expect(call(server, "POST", "/v1/webhooks", server.admin_key,
                     body={"url": "https://example.com/leaks", "account_id": acct["id"],
                           "events": ["key.leaked"]}), 201)
    return acct, wh


def test_github_report_revokes_audits_emits_mails(server, stack, signer, account):
    acct, wh = account
    owner, dev = add_user(stack, acct["id"], "owner"), add_user(stack, acct["id"], "developer")
    viewer = add_user(stack, acct["id"], "viewer")
    # a label that tries to start a header of its own in the mail
    k = create_key(server, account_id=acct["id"], label="ci key")
    db_query(stack, "UPDATE api_keys SET label = %s WHERE public_id = %s",
             ("ci key\r\nBcc: evil@example.com", k["id"]))
    url = f"https://github.com/octo/{uid()}/blob/main/.env"
    body = reports((k["key"], url), ("ghp_" + "x" * 36, url),
                   (k["key"][:-1] + ("A" if k["key"][-1] != "A" else "B"), url))
    got = expect(github_post(server, body, signer.key_id, signer.sign(body)), 200)
    assert [g["label"] for g in got] == ["true_positive", "false_positive", "false_positive"]
    assert got[0]["token_raw"] == k["key"] and got[0]["token_type"] == "latchkey_api_key"
    assert key_row(stack, k["id"])["revoked_reason"] == "leaked"
    rows = leak_audit(stack, k["id"])
    assert len(rows) == 1 and rows[0]["actor"] == "github"
    assert rows[0]["changes"]["url"] == url and rows[0]["changes"]["source"] == "github:content"
    assert rows[0]["changes"]["status"] == {"old": "active", "new": "revoked"}
    ev = leak_events(stack, wh["id"], k["id"])
    assert len(ev) == 1 and ev[0]["data"]["revoked_reason"] == "leaked"
    mails = mails_about(stack, k["id"])
    assert len(mails) == 1
    m = mails[0]
    assert sorted(a.strip() for a in m["To"].split(",")) == sorted([owner, dev])
    assert viewer not in m["To"] and m["Bcc"] is None
    assert k["start"] in m["Subject"] and "leak" in m["Subject"]
    text = m.get_content()
    assert url in text and "revoked" in text and "create a new key" in text
    assert "ci key  Bcc: evil@example.com" in text

    # GitHub sends it again: one audit row, one event, one mail per key per url
    again = expect(github_post(server, body, signer.key_id, signer.sign(body)), 200)
    assert [g["label"] for g in again] == ["true_positive", "false_positive", "false_positive"]
    assert len(leak_audit(stack, k["id"])) == 1
    assert len(leak_events(stack, wh["id"], k["id"])) == 1
    assert len(mails_about(stack, k["id"])) == 1
    # found somewhere else too: a second row (the key stays revoked, no status change)
    body2 = reports((k["key"], url + "#L2"))
    expect(github_post(server, body2, signer.key_id, signer.sign(body2)), 200)
    rows = leak_audit(stack, k["id"])
    assert len(rows) == 2 and "status" not in rows[1]["changes"]
    assert len(db_query(stack, "SELECT l.id FROM key_leaks l JOIN api_keys a ON a.id = l.key_id"
                               " WHERE a.public_id = %s", (k["id"],))) == 2


def test_github_refuses_unsigned_and_forged(server, stack, signer):
    k = create_key(server)
    body = reports((k["key"], "https://github.com/o/r"))
    other = Signer(stack)   # never published: its signatures are not GitHub's
    changed = body.replace(b"github.com/o/r", b"github.com/o/x")
    cases = {
        "missing headers": github_post(server, body),
        "missing signature": github_post(server, body, signer.key_id),
        "wrong signature": github_post(server, body, signer.key_id, other.sign(body)),
        "unknown key id": github_post(server, body, other.key_id, other.sign(body)),
        "changed after signing": github_post(server, changed, signer.key_id, signer.sign(body)),
        "not base64": github_post(server, body, signer.key_id, "%%%not base64%%%"),
        "empty body": github_post(server, b"", signer.key_id, signer.sign(body)),
    }
    for what, r in cases.items():
        got = expect(r, 401)
        assert got["error"]["code"] == "INVALID_SIGNATURE", what
    assert key_row(stack, k["id"])["revoked_at"] is None
    assert leak_audit(stack, k["id"]) == []


def test_github_keys_file_read_per_report(server, stack, signer):
    """A refreshed keys file applies at once: a key GitHub adds verifies, one it drops no longer."""
    new = Signer(stack)
    k = create_key(server)
    body = reports((k["key"], "https://github.com/o/rotated"))
    expect(github_post(server, body, new.key_id, new.sign(body)), 401)
    new.publish(signer)
    try:
        assert expect(github_post(server, body, new.key_id, new.sign(body)), 200)[0]["label"] == \
            "true_positive"
        expect(github_post(server, body, signer.key_id, signer.sign(body)), 200)
    finally:
        signer.publish()
    expect(github_post(server, body, new.key_id, new.sign(body)), 401)


def test_report_by_the_key_itself(server, stack, account):
    acct, wh = account
    k = create_key(server, account_id=acct["id"], scopes=["verify"])
    url = "https://pastebin.example/" + uid()
    got = expect(call(server, "POST", "/v1/leaks", k["key"], style="x-api-key",
                      body={"key": k["key"], "url": url, "source": "a person"}), 200)
    assert got["key"]["id"] == k["id"] and got["key"]["revoked_reason"] == "leaked"
    assert got["recorded"] is True and got["revoked"] is True and got["url"] == url
    rows = leak_audit(stack, k["id"])
    assert len(rows) == 1 and rows[0]["actor"] == k["id"] and rows[0]["changes"]["source"] == "a person"
    # the same report again, with the key that is now revoked: still accepted, nothing new
    again = expect(call(server, "POST", "/v1/leaks", k["key"], style="x-api-key",
                        body=[{"key": k["key"], "url": url}]), 200)
    assert again["data"][0]["recorded"] is False and again["data"][0]["revoked"] is False
    assert len(leak_audit(stack, k["id"])) == 1
    assert len(leak_events(stack, wh["id"], k["id"])) == 1


def test_report_by_keys_write_over_the_account(server, stack):
    acct = make_account(server)
    other = make_account(server)
    writer = create_key(server, account_id=acct["id"], scopes=["keys:write", "keys:read"])
    reader = create_key(server, account_id=acct["id"], scopes=["verify"])
    a, b = (create_key(server, account_id=acct["id"]) for _ in range(2))
    theirs = create_key(server, account_id=other["id"])
    got = expect(call(server, "POST", "/v1/leaks", writer["key"],
                      body=[{"key": a["key"], "url": "https://x.example/1", "source": "gitguardian"},
                            {"key": b["key"]}]), 200)
    assert [d["key"]["id"] for d in got["data"]] == [a["id"], b["id"]]
    assert all(key_row(stack, x["id"])["revoked_reason"] == "leaked" for x in (a, b))
    assert leak_audit(stack, b["id"])[0]["changes"] == {
        "url": "", "source": "api", "status": {"old": "active", "new": "revoked"}, "reason": "leaked"}
    # another account's key is no key to this caller (404), and nothing of the batch is done
    c = create_key(server, account_id=acct["id"])
    r = expect(call(server, "POST", "/v1/leaks", writer["key"],
                    body=[{"key": c["key"]}, {"key": theirs["key"]}]), 404)
    assert r["error"]["details"]["index"] == 1
    assert key_row(stack, theirs["id"])["revoked_at"] is None
    assert key_row(stack, c["id"])["revoked_at"] is None
    # a key without keys:write reports only itself
    r = expect(call(server, "POST", "/v1/leaks", reader["key"], body={"key": c["key"]}), 403)
    assert key_row(stack, c["id"])["revoked_at"] is None
    # no credential at all
    expect(call(server, "POST", "/v1/leaks", body={"key": c["key"]}), 401)


def test_report_input_errors(server):
    k = create_key(server)
    bad = [
        ({"url": "x"}, "key"),
        ({"key": k["key"], "colour": "red"}, "colour"),
        ({"key": k["key"], "url": "x" * 2049}, "url"),
        ([], None),
        ([{"key": k["key"]}] * 101, None),
        ("a string", None),
    ]
    for body, field in bad:
        r = expect(call(server, "POST", "/v1/leaks", k["key"], body=body), 400)
        assert r["error"]["code"] == "VALIDATION_ERROR"
        if field:
            assert r["error"]["details"]["field"] == field, (body, r)
    expect(call(server, "POST", "/v1/leaks", k["key"], data=b"{not json",
                headers={"Content-Type": "application/json"}), 400)
    expect(call(server, "POST", "/v1/leaks", k["key"], data="key=x",
                headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    expect(call(server, "GET", "/v1/leaks", k["key"]), 405)
    expect(call(server, "GET", "/v1/leaks/github"), 405)
    expect(call(server, "POST", "/v1/leaks/elsewhere", k["key"], body={}), 404)
    # a key that is not one here: 404 to a keys:write caller, as an unknown key is on every
    # route; a verify-only key reporting another key is refused before anything is looked up
    fake = k["key"][:-6] + ("000000" if not k["key"].endswith("000000") else "000001")
    r = expect(call(server, "POST", "/v1/leaks", server.admin_key, body={"key": fake}), 404)
    assert r["error"]["details"] == {"field": "key", "index": 0}
    expect(call(server, "POST", "/v1/leaks", k["key"], body={"key": fake}), 403)
    # a well-formed key that is not one here, reporting itself: its credential is no key
    unknown = create_key(server)
    expect(call(server, "DELETE", f"/v1/keys/{unknown['id']}", server.admin_key), 204)
    r = expect(call(server, "POST", "/v1/leaks", unknown["key"], body={"key": unknown["key"]}), 401)
    assert r["error"]["code"] == "INVALID_API_KEY"


def test_refresh_keys_cli(stack, tmp_path):
    """`latchkey leaks refresh-keys` against a keys server this test runs on loopback over http
    (the test cannot reach api.github.com; --allow-http is what lets it use http://): the file is
    replaced whole, mode 0644, and kept as it was when the answer is not a list of keys."""
    import http.server
    import threading

    signer = Signer(stack)
    good = json.dumps({"public_keys": [{"key_identifier": signer.key_id, "key": signer.pem(),
                                        "is_current": True}]}).encode()
    answers = {"/keys": (200, good), "/limited": (403, b'{"message": "rate limited"}'),
               "/junk": (200, b"<html>hello</html>"), "/empty": (200, b'{"public_keys": []}')}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = answers.get(self.path, (404, b""))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_port}"
    out = tmp_path / "keys.json"
    try:
        r = stack.cli("leaks", "refresh-keys", "--out", out, "--url", base + "/keys", "--allow-http")
        assert out.read_bytes() == good and (out.stat().st_mode & 0o777) == 0o644, r.stderr
        for bad in ("/limited", "/junk", "/empty", "/missing"):
            r = stack.cli("leaks", "refresh-keys", "--out", out, "--url", base + bad, "--allow-http",
                          check=False)
            assert r.returncode == 1 and "kept as it was" in r.stderr, (bad, r.stderr)
            assert out.read_bytes() == good
        # http:// only with --allow-http
        r = stack.cli("leaks", "refresh-keys", "--out", out, "--url", base + "/keys", check=False)
        assert r.returncode == 1 and out.read_bytes() == good
        assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]  # no temporary left
    finally:
        srv.shutdown()


def test_console_report_leaked(server, stack, account):
    """The key page's "Report leaked" form: refused without the confirmation tick, then the
    same report as the API's (revoked, reason leaked, one key.leaked row with the place, the
    event, a mail); the page shows the reason; a viewer has no form and is refused."""
    from admin_util import Console, make_user

    acct, wh = account
    owner_mail, pw, _ = make_user(stack, "owner", account=acct["id"])
    viewer_mail, vpw, _ = make_user(stack, "viewer", account=acct["id"])
    k = create_key(server, account_id=acct["id"], label="deploy key")
    c = Console(server, owner_mail, pw)
    page = c.get(f"/admin/keys/{k['id']}").text
    assert 'action="/admin/keys/%s/leak"' % k["id"] in page and "Report leaked" in page
    where = "https://tickets.example/T-" + uid()
    r = c.post(f"/admin/keys/{k['id']}/leak", {"url": where})
    assert r.status_code == 400 and "Tick the box" in r.text, r.text[:300]
    assert key_row(stack, k["id"])["revoked_at"] is None
    # without the CSRF token nothing happens either
    r = c.post(f"/admin/keys/{k['id']}/leak", {"url": where, "confirm": "yes"}, csrf="0" * 64)
    assert r.status_code == 403 and key_row(stack, k["id"])["revoked_at"] is None
    r = c.post(f"/admin/keys/{k['id']}/leak", {"url": where, "confirm": "yes"})
    assert r.status_code == 303 and r.headers["Location"].startswith(f"/admin/keys/{k['id']}?done=leaked")
    assert key_row(stack, k["id"])["revoked_reason"] == "leaked"
    rows = leak_audit(stack, k["id"])
    assert len(rows) == 1 and rows[0]["changes"]["url"] == where
    assert rows[0]["changes"]["source"] == "console" and rows[0]["actor"].startswith("usr_")
    assert len(leak_events(stack, wh["id"], k["id"])) == 1
    assert len(mails_about(stack, k["id"])) == 1
    page = c.get(r.headers["Location"]).text
    assert "reported as leaked (leaked)" in page and "The leak was reported" in page
    # a viewer (no keys:write) sees no form and cannot post one
    v = Console(server, viewer_mail, vpw)
    assert "Report leaked" not in v.get(f"/admin/keys/{k['id']}").text
    r = v.post(f"/admin/keys/{k['id']}/leak", {"url": "x", "confirm": "yes"})
    assert r.status_code == 403 and len(leak_audit(stack, k["id"])) == 1
