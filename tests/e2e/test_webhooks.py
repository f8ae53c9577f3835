"""Signed webhooks (issue 19): the /v1/webhooks API on every server; delivery (Standard Webhooks
signatures checked by the npm standardwebhooks library), the outbox written in the change's
transaction, retries, leases, two workers, secret rotation and the SSRF rule, once on the stack."""
import json
import re
import subprocess
import threading
import time

import pytest

from harness import SANITIZER_PATTERNS
from helpers import call, create_key, db_query, expect, make_account, make_tenant, uid
from webhook_util import Receiver, Worker, no_private_conf, verify, wait_for

WH_RE = re.compile(r"^wh_[0-9A-Za-z]{24}$")
SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9+/]{43}=$")


def new_webhook(server, url, account_id, events=None, caller=None):
    body = {"url": url, "account_id": account_id, "description": "test " + uid()}
    if events is not None:
        body["events"] = events
    return expect(call(server, "POST", "/v1/webhooks", caller or server.admin_key, body=body), 201)


def messages(server, wh_id):
    return expect(call(server, "GET", f"/v1/webhooks/{wh_id}/messages", server.admin_key), 200)["data"]


@pytest.fixture
def worker(stack):
    workers = []

    def start(conf=None):
        w = Worker(stack, conf)
        workers.append(w)
        return w
    yield start
    for w in workers:
        if w.proc.poll() is None:
            w.stop()
    log = (stack.vardir / "log" / "deliver.log").read_text() \
        if (stack.vardir / "log" / "deliver.log").exists() else ""
    assert not any(p in log for p in SANITIZER_PATTERNS), log[-4000:]


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


# ------------------------------------------------------------------ the API, every server

def test_webhook_api(server, stack):
    acct = make_account(server)
    url = f"https://example.com/hooks/{uid()}"
    w = new_webhook(server, url, acct["id"], events=["key.created", "key.revoked"])
    assert WH_RE.match(w["id"]) and SECRET_RE.match(w["secret"]), w
    assert w["url"] == url and w["account_id"] == acct["id"] and w["enabled"] is True
    assert w["events"] == ["key.created", "key.revoked"]
    got = expect(call(server, "GET", f"/v1/webhooks/{w['id']}", server.admin_key), 200)
    assert "secret" not in got and got["id"] == w["id"]
    listed = expect(call(server, "GET", "/v1/webhooks", server.admin_key,
                         headers={"X-Account-Id": acct["id"]}), 200)
    assert [x["id"] for x in listed["data"]] == [w["id"]] and "secret" not in listed["data"][0]
    # every event when none are named
    w2 = new_webhook(server, url + "/all", acct["id"])
    assert w2["events"] == ["*"]
    p = expect(call(server, "PATCH", f"/v1/webhooks/{w['id']}", server.admin_key,
                    body={"enabled": False, "events": ["key.*"]}), 200)
    assert p["enabled"] is False and p["disabled_reason"] == "manual" and p["events"] == ["key.*"]
    p = expect(call(server, "PATCH", f"/v1/webhooks/{w['id']}", server.admin_key,
                    body={"enabled": True}), 200)
    assert p["enabled"] is True and p["disabled_reason"] is None
    r = expect(call(server, "POST", f"/v1/webhooks/{w['id']}/rotate", server.admin_key), 200)
    assert SECRET_RE.match(r["secret"]) and r["secret"] != w["secret"]
    assert r["old_secret_expires_at"] is not None
    t = expect(call(server, "POST", f"/v1/webhooks/{w['id']}/test", server.admin_key), 202)
    assert t["message_id"].startswith("msg_")
    ms = messages(server, w["id"])
    assert [m["id"] for m in ms] == [t["message_id"]] and ms[0]["status"] == "pending"
    expect(call(server, "POST", f"/v1/webhooks/{w['id']}/messages/{t['message_id']}/resend",
                server.admin_key), 202)
    # refusals: bad event, bad URL, unknown field, wrong scope, a test key, outside the subtree
    for body, field in (({"url": url, "events": ["key.exploded"]}, "events"),
                        ({"url": "ftp://example.com/x"}, "url"),
                        ({"url": "https://user:pw@example.com/x"}, "url"),
                        ({"url": url, "secret": "whsec_x"}, "secret")):
        e = expect(call(server, "POST", "/v1/webhooks", server.admin_key, body=body), 400)
        assert e["error"]["details"]["field"] == field, e
    # every invalid field at once
    e = expect(call(server, "POST", "/v1/webhooks", server.admin_key,
                    body={"url": "ftp://example.com/x", "events": ["key.exploded"]}), 400)
    assert {x["field"] for x in e["error"]["details"]["errors"]} == {"url", "events"}, e
    # the caller's list holds its whole subtree: the root sees the sub-account's endpoints
    top = expect(call(server, "GET", "/v1/webhooks", server.admin_key, params={"limit": "2"}), 200)
    assert {x["id"] for x in top["data"]} == {w["id"], w2["id"]}, top
    reader = make_tenant(server, scopes=("keys:read", "keys:write"))
    expect(call(server, "GET", "/v1/webhooks", reader.key), 403)
    tester = create_key(server, account_id=acct["id"], scopes=("admin",), env="test")
    expect(call(server, "GET", "/v1/webhooks", tester["key"]), 403)
    other = make_tenant(server, scopes=("webhooks:read", "webhooks:write"))
    expect(call(server, "GET", f"/v1/webhooks/{w['id']}", other.key), 404)
    expect(call(server, "DELETE", f"/v1/webhooks/{w['id']}", other.key), 404)
    expect(call(server, "PUT", f"/v1/webhooks/{w['id']}", server.admin_key, body={}), 405)
    # audited; the secret is in no audit row
    rows = db_query(stack, "SELECT action, changes FROM audit_log WHERE target_id = %s ORDER BY id",
                    (w["id"],))
    assert [r["action"] for r in rows] == ["webhook.create", "webhook.update", "webhook.update",
                                          "webhook.rotate", "webhook.resend"], rows
    assert json.loads(rows[-1]["changes"]) == {"message_id": t["message_id"]}
    assert not any("whsec_" in (r["changes"] or "") for r in rows)
    expect(call(server, "DELETE", f"/v1/webhooks/{w['id']}", server.admin_key), 204)
    expect(call(server, "GET", f"/v1/webhooks/{w['id']}", server.admin_key), 404)
    expect(call(server, "DELETE", f"/v1/webhooks/{w2['id']}", server.admin_key), 204)


# ------------------------------------------------------------------ delivery, once on the stack

@pytest.fixture
def one(stack):
    return next(iter(stack.servers.values()))


def test_delivery_is_signed_per_standard_webhooks(one, stack, receiver, worker):
    acct = make_account(one)
    w = new_webhook(one, receiver.url, acct["id"])
    key = create_key(one, account_id=acct["id"], label="hook " + uid())
    expect(call(one, "POST", f"/v1/keys/{key['id']}/revoke", one.admin_key), 200)
    worker()
    wait_for(lambda: len(receiver.got) >= 2, what="two deliveries")
    types = [json.loads(d["body"])["type"] for d in receiver.got]
    assert sorted(types) == ["key.created", "key.revoked"], types
    assert verify(receiver.got, w["secret"]) == [True, True]
    created = next(json.loads(d["body"]) for d in receiver.got
                   if json.loads(d["body"])["type"] == "key.created")
    assert created["data"]["id"] == key["id"] and created["data"]["label"] == key["label"]
    assert "key" not in created["data"] and key["key"] not in receiver.got[0]["body"]
    # the library rejects a tampered body, an old timestamp, another secret
    d = receiver.got[0]
    tampered = dict(d, body=d["body"].replace(key["id"], key["id"][:-1] + "X"))
    old = dict(d, headers=dict(d["headers"], **{"webhook-timestamp": str(int(time.time()) - 3600)}))
    res = verify([tampered, old], w["secret"])
    assert res[0] is not True and res[1] is not True and "timestamp" in res[1].lower(), res
    other = expect(call(one, "POST", f"/v1/webhooks/{w['id']}/rotate", one.admin_key), 200)
    assert verify([d], other["secret"]) != [True]
    ms = messages(one, w["id"])
    assert {m["status"] for m in ms} == {"delivered"} and all(m["response_code"] == 200 for m in ms)


def test_outbox_is_written_with_the_change(one, stack):
    acct = make_account(one)
    w = new_webhook(one, "https://example.com/atomic", acct["id"])
    root = stack.db_connect(root=True, database="latchkey")
    label = "atomic " + uid()
    try:
        for trigger in (
                # the change fails after its event was written: neither stays
                "CREATE TRIGGER lk_test_fail BEFORE UPDATE ON audit_head FOR EACH ROW "
                "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'test: fail the change'",
                # the event cannot be written: the change does not land either
                "CREATE TRIGGER lk_test_fail BEFORE INSERT ON webhook_messages FOR EACH ROW "
                "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'test: fail the event'"):
            with root.cursor() as c:
                c.execute(trigger)
            try:
                r = call(one, "POST", "/v1/keys", one.admin_key,
                         body={"label": label, "scopes": ["verify"], "account_id": acct["id"]})
                assert r.status_code in (500, 503), r.text
            finally:
                with root.cursor() as c:
                    c.execute("DROP TRIGGER lk_test_fail")
            assert db_query(stack, "SELECT id FROM api_keys WHERE label = %s", (label,)) == []
            assert messages(one, w["id"]) == []
        k = create_key(one, account_id=acct["id"], label=label)
        ms = messages(one, w["id"])
        assert [m["type"] for m in ms] == ["key.created"], ms
        body = db_query(stack, "SELECT payload FROM webhook_messages WHERE public_id = %s",
                        (ms[0]["id"],))[0]["payload"]
        assert json.loads(body)["data"]["id"] == k["id"]
    finally:
        root.close()


def test_receiver_down_then_up_same_id(one, stack, worker):
    acct = make_account(one)
    rec = Receiver()   # not listening yet
    w = new_webhook(one, rec.url, acct["id"], events=["webhook.test"])
    msg = expect(call(one, "POST", f"/v1/webhooks/{w['id']}/test", one.admin_key), 202)["message_id"]
    worker()
    wait_for(lambda: messages(one, w["id"])[0]["attempts"] >= 1, what="a failed attempt")
    m = messages(one, w["id"])[0]
    assert m["status"] == "pending" and m["last_error"] and m["response_code"] is None, m
    rec.start()
    try:
        wait_for(lambda: messages(one, w["id"])[0]["status"] == "delivered", what="delivery")
        assert [d["headers"]["webhook-id"] for d in rec.got] == [msg]
        assert messages(one, w["id"])[0]["attempts"] >= 2
        assert verify(rec.got, w["secret"]) == [True]
    finally:
        rec.stop()


def test_500_then_200(one, stack, receiver, worker):
    acct = make_account(one)
    receiver.statuses = [500]
    w = new_webhook(one, receiver.url, acct["id"])
    msg = expect(call(one, "POST", f"/v1/webhooks/{w['id']}/test", one.admin_key), 202)["message_id"]
    worker()
    wait_for(lambda: messages(one, w["id"])[0]["status"] == "delivered", what="delivery")
    assert [d["headers"]["webhook-id"] for d in receiver.got] == [msg, msg]
    assert verify(receiver.got, w["secret"]) == [True, True]
    m = messages(one, w["id"])[0]
    assert m["attempts"] == 2 and m["response_code"] == 200 and m["last_error"] is None, m


def test_failed_after_the_last_retry(one, stack, receiver, worker):
    acct = make_account(one)
    receiver.statuses = [500] * 10
    w = new_webhook(one, receiver.url, acct["id"])
    expect(call(one, "POST", f"/v1/webhooks/{w['id']}/test", one.admin_key), 202)
    worker()
    # the test config's schedule is 1,1,1: four attempts, then failed
    wait_for(lambda: messages(one, w["id"])[0]["status"] == "failed", what="failed")
    m = messages(one, w["id"])[0]
    assert m["attempts"] == 4 and m["response_code"] == 500 and len(receiver.got) == 4, m
    assert expect(call(one, "GET", f"/v1/webhooks/{w['id']}", one.admin_key), 200)["failing_since"]


def test_worker_killed_mid_delivery(one, stack, receiver, worker):
    acct = make_account(one)
    w = new_webhook(one, receiver.url, acct["id"])
    receiver.hold = threading.Event()
    msg = expect(call(one, "POST", f"/v1/webhooks/{w['id']}/test", one.admin_key), 202)["message_id"]
    first = worker()
    assert receiver.arrived.wait(30), "no delivery attempt"
    first.kill()
    receiver.hold.set()
    receiver.hold = None
    assert messages(one, w["id"])[0]["status"] == "pending"
    worker()
    wait_for(lambda: messages(one, w["id"])[0]["status"] == "delivered", what="delivery after the lease")
    assert {d["headers"]["webhook-id"] for d in receiver.got} == {msg} and len(receiver.got) == 2


def test_two_workers_deliver_each_message_once(one, stack, receiver, worker):
    acct = make_account(one)
    w = new_webhook(one, receiver.url, acct["id"])
    ids = [expect(call(one, "POST", f"/v1/webhooks/{w['id']}/test", one.admin_key), 202)["message_id"]
           for _ in range(30)]
    worker(), worker()
    wait_for(lambda: all(m["status"] == "delivered" for m in messages(one, w["id"])), what="all delivered")
    by_id = receiver.by_id()
    assert sorted(by_id) == sorted(ids) and all(len(v) == 1 for v in by_id.values()), \
        {k: len(v) for k, v in by_id.items() if len(v) != 1}


def test_secret_rotation_overlap(one, stack, receiver, worker):
    acct = make_account(one)
    w = new_webhook(one, receiver.url, acct["id"])
    new = expect(call(one, "POST", f"/v1/webhooks/{w['id']}/rotate", one.admin_key), 200)
    expect(call(one, "POST", f"/v1/webhooks/{w['id']}/test", one.admin_key), 202)
    worker()
    wait_for(lambda: receiver.got, what="delivery")
    assert len(receiver.got[0]["headers"]["webhook-signature"].split(" ")) == 2
    assert verify(receiver.got, w["secret"]) == [True]
    assert verify(receiver.got, new["secret"]) == [True]


SSRF_URLS = ["http://example.com/x", "https://127.0.0.1/x", "https://10.1.2.3/x",
             "https://169.254.169.254/latest/meta-data/", "https://[::1]/x",
             "https://[::ffff:127.0.0.1]/x", "https://localhost/x", "https://192.168.1.1/x"]


def cli_with(stack, conf, *args):
    """The CLI with another config file."""
    r = subprocess.run([str(stack.cli_path), "--config", str(conf), *args], env=stack.env,
                       capture_output=True, text=True, timeout=120)
    assert not any(p in r.stderr for p in SANITIZER_PATTERNS), r.stderr
    return r


def test_ssrf_refused_without_allow_private(one, stack, receiver):
    conf = no_private_conf(stack)
    for url in SSRF_URLS:
        r = cli_with(stack, conf, "webhook", "create", "--url", url)
        assert r.returncode != 0 and "refused" in r.stderr, (url, r.stdout, r.stderr)
        assert "whsec_" not in r.stdout
    # checked again on every attempt, after resolving: endpoints made while private addresses
    # were allowed (the test config) are refused by a worker that does not allow them
    acct = make_account(one)
    for url, why in ((receiver.url, "https://"), (f"https://localhost:{receiver.port}/x", "loopback")):
        w = new_webhook(one, url, acct["id"])
        expect(call(one, "POST", f"/v1/webhooks/{w['id']}/test", one.admin_key), 202)
        assert cli_with(stack, conf, "deliver", "--once").returncode == 0
        m = messages(one, w["id"])[0]
        assert m["attempts"] == 1 and m["status"] == "pending" and why in m["last_error"], m
        assert m["response_code"] is None
    assert receiver.got == []
