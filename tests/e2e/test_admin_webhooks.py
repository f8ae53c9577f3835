"""The console's webhooks pages (issue 19): an endpoint made through the form shows its signing
secret once (not on a reload); a test event sent from its page is delivered by `latchkey deliver
--once` and verifies with the standardwebhooks npm library; the deliveries table shows the attempt;
Resend delivers the message again under the same webhook-id (audited); edit, rotate and delete
work; every invalid field is reported at once beside its input; a developer reads but cannot
write; another account's endpoint is 404; an endpoint the worker turned off for failing carries a
banner on the list and on its page. Plain HTTP; test_admin_browser.py checks layout and axe."""
import html
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from admin_util import CSRF_RE, FORM_TOKEN_RE, Console, db_exec, make_user
from harness import SANITIZER_PATTERNS
from helpers import call, db_query, expect, make_account, uid
from webhook_util import Receiver, verify

SECRET_RE = re.compile(r'<code id="new-secret">(whsec_[A-Za-z0-9+/=]+)</code>')
WH_LINK_RE = re.compile(r'/admin/webhooks/(wh_[0-9A-Za-z]{24})')


def text_of(fragment):
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def owner(server):
    return Console(server, server.stack.owner_login, server.stack.owner_password)


def create_form(c, **fields):
    """POST the create form (fresh token and CSRF) with fields -> (response, the data sent)."""
    r = c.get("/admin/webhooks/new")
    assert r.status_code == 200, r.text[:500]
    data = {"form_token": FORM_TOKEN_RE.search(r.text).group(1),
            "csrf_token": CSRF_RE.search(r.text).group(1)}
    data.update(fields)
    return c.s.post(c.base + "/admin/webhooks/new", data=data, headers={"Origin": c.base},
                    allow_redirects=False), data


def deliver_once(stack, conf=None):
    """One pass of the delivery worker (`latchkey deliver --once`), with the stack's config or conf."""
    r = subprocess.run([str(stack.cli_path), "--config", str(conf or stack.conf_path), "deliver",
                        "--once"], env=stack.env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and not any(p in r.stderr for p in SANITIZER_PATTERNS), r.stderr


def api_webhook(server, wh_id, status=200):
    return expect(call(server, "GET", f"/v1/webhooks/{wh_id}", server.admin_key), status)


def audit_actions(stack, wh_id):
    return [r["action"] for r in db_query(
        stack, "SELECT action FROM audit_log WHERE target_id = %s ORDER BY id", (wh_id,))]


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def test_create_deliver_resend_edit_rotate_delete(server, receiver):
    stack = server.stack
    c = owner(server)
    acct = make_account(server)
    desc = "billing sync " + uid()
    r, sent = create_form(c, url=receiver.url, events=["webhook.test", "key.created"],
                          description=desc, account_id=acct["id"])
    assert r.status_code == 201, r.text[-2000:]
    secret = SECRET_RE.search(r.text).group(1)
    assert "shown only this once" in r.text and 'data-copy="new-secret"' in r.text
    assert acct["name"] in text_of(r.text)          # the account by its name
    wh_id = WH_LINK_RE.search(r.text).group(1)
    w = api_webhook(server, wh_id)
    assert w["url"] == receiver.url and w["account_id"] == acct["id"] and w["description"] == desc
    assert w["events"] == ["webhook.test", "key.created"]
    # a reload posts the same form again: no second endpoint, no secret
    again = c.s.post(c.base + "/admin/webhooks/new", data=sent, headers={"Origin": c.base},
                     allow_redirects=False)
    assert again.status_code == 409 and "whsec_" not in again.text and wh_id in again.text
    page = c.get(f"/admin/webhooks/{wh_id}")
    assert page.status_code == 200 and "whsec_" not in page.text
    assert 'id="no-deliveries"' in page.text
    listed = c.get("/admin/webhooks")
    assert listed.status_code == 200 and wh_id in listed.text and desc in listed.text

    # a test event from the page, delivered by one pass of the worker, signed with the secret
    r = c.post(f"/admin/webhooks/{wh_id}/test", {})
    assert r.status_code == 303 and r.headers["Location"].startswith(f"/admin/webhooks/{wh_id}?done=test")
    deliver_once(stack)
    assert len(receiver.got) == 1
    assert verify(receiver.got, secret) == [True]
    body = json.loads(receiver.got[0]["body"])
    assert body["type"] == "webhook.test" and body["data"]["webhook_id"] == wh_id
    msg_id = receiver.got[0]["headers"]["webhook-id"]
    page = c.get(f"/admin/webhooks/{wh_id}?done=test").text
    row = re.search(r'<table id="deliveries-table">.*?</table>', page, re.S).group(0)
    cells = text_of(row)
    assert msg_id in row and "delivered" in cells and "webhook.test" in cells
    assert re.search(r'data-label="Attempts">1<', row), row
    assert re.search(r'data-label="Response">200<', row), row
    assert re.search(r'data-label="Latency">\d+ ms<', row), row
    assert "A webhook.test event was queued" in page

    # Resend: queued again, delivered again under the same webhook-id, audited
    r = c.post(f"/admin/webhooks/{wh_id}/resend", {"message_id": msg_id})
    assert r.status_code == 303, r.text[-800:]
    deliver_once(stack)
    assert [d["headers"]["webhook-id"] for d in receiver.got] == [msg_id, msg_id]
    assert verify(receiver.got, secret) == [True, True]
    assert "webhook.resend" in audit_actions(stack, wh_id)
    assert c.post(f"/admin/webhooks/{wh_id}/resend", {"message_id": "msg_" + "x" * 24}).status_code == 404

    # edit: url, events, description; unticking Enabled turns it off
    r = c.post(f"/admin/webhooks/{wh_id}/edit", {"url": receiver.url + "/v2", "events": ["*"],
                                                 "description": desc + " v2"})
    assert r.status_code == 303 and "done=saved" in r.headers["Location"], re.findall(r"class=.error[^>]*>([^<]*)<", r.text)
    w = api_webhook(server, wh_id)
    assert w["url"] == receiver.url + "/v2" and w["events"] == ["*"] and w["enabled"] is False
    assert w["disabled_reason"] == "manual" and w["description"] == desc + " v2"
    r = c.post(f"/admin/webhooks/{wh_id}/edit", {"url": receiver.url + "/v2", "events": ["*"],
                                                 "description": desc + " v2", "enabled": "yes"})
    assert r.status_code == 303 and api_webhook(server, wh_id)["enabled"] is True

    # rotate: a new secret, once, and the old one signing beside it
    r = c.post(f"/admin/webhooks/{wh_id}/rotate", {})
    assert r.status_code == 200, r.text[-1500:]
    new_secret = SECRET_RE.search(r.text).group(1)
    assert new_secret != secret and "keeps signing beside the new one" in text_of(r.text)
    assert "whsec_" not in c.get(f"/admin/webhooks/{wh_id}").text
    assert audit_actions(stack, wh_id)[-1] == "webhook.rotate"

    # delete: a confirmation page, then gone
    r = c.get(f"/admin/webhooks/{wh_id}/delete")
    assert r.status_code == 200 and "Delete the endpoint" in r.text
    r = c.post(f"/admin/webhooks/{wh_id}/delete", {})
    assert r.status_code == 303 and r.headers["Location"] == "/admin/webhooks?done=deleted"
    api_webhook(server, wh_id, 404)
    assert c.get(f"/admin/webhooks/{wh_id}").status_code == 404


def test_every_invalid_field_at_once(server):
    c = owner(server)
    r, _ = create_form(c, url="ftp://example.com/hook", description="x")
    assert r.status_code == 400, r.text[-1500:]
    summary = re.search(r'<div class="error-summary".*?</div>', r.text, re.S).group(0)
    assert 'href="#f-url"' in summary and 'href="#f-events"' in summary, summary
    assert re.search(r'id="f-url" name="url"[^>]*aria-invalid="true"', r.text)
    assert 'id="f-events-error"' in r.text
    assert 'value="ftp://example.com/hook"' in r.text     # what was typed is kept
    # the same on the edit form of an endpoint
    acct = make_account(server)
    w = expect(call(server, "POST", "/v1/webhooks", server.admin_key,
                    body={"url": "https://example.com/" + uid(), "account_id": acct["id"]}), 201)
    r = c.post(f"/admin/webhooks/{w['id']}/edit", {"url": "not a url", "description": ""})
    assert r.status_code == 400
    assert 'href="#f-url"' in r.text and 'href="#f-events"' in r.text
    assert "<details class=\"edit\" id=\"edit\" open" in r.text
    assert api_webhook(server, w["id"])["url"] == w["url"]


def test_developer_reads_viewer_does_not_see(server):
    stack = server.stack
    acct = make_account(server)
    w = expect(call(server, "POST", "/v1/webhooks", server.admin_key,
                    body={"url": "https://example.com/" + uid(), "account_id": acct["id"]}), 201)
    email, pw, _ = make_user(stack, "developer", account=acct["id"])
    dev = Console(server, email, pw)
    listed = dev.get("/admin/webhooks")
    assert listed.status_code == 200 and w["id"] in listed.text
    assert 'href="/admin/webhooks"' in listed.text and 'id="create-webhook"' not in listed.text
    page = dev.get(f"/admin/webhooks/{w['id']}")
    assert page.status_code == 200 and 'id="actions"' not in page.text and "Resend" not in page.text
    assert dev.get("/admin/webhooks/new").status_code == 403
    for action in ("test", "rotate", "delete", "edit"):
        r = dev.post(f"/admin/webhooks/{w['id']}/{action}", {"url": "https://example.com/x"})
        assert r.status_code == 403, (action, r.status_code)
    assert api_webhook(server, w["id"])["url"] == w["url"]
    email, pw, _ = make_user(stack, "viewer", account=acct["id"])
    viewer = Console(server, email, pw)
    assert viewer.get("/admin/webhooks").status_code == 403
    assert 'href="/admin/webhooks"' not in viewer.get("/admin/keys").text


def test_another_accounts_endpoint_is_404(server):
    stack = server.stack
    mine, other = make_account(server), make_account(server)
    theirs = expect(call(server, "POST", "/v1/webhooks", server.admin_key,
                         body={"url": "https://example.com/" + uid(), "account_id": other["id"]}), 201)
    email, pw, _ = make_user(stack, "owner", account=mine["id"])
    c = Console(server, email, pw)
    assert c.get(f"/admin/webhooks/{theirs['id']}").status_code == 404
    assert c.post(f"/admin/webhooks/{theirs['id']}/test", {}).status_code == 404
    assert c.post(f"/admin/webhooks/{theirs['id']}/delete", {}).status_code == 404
    listed = c.get("/admin/webhooks").text
    assert theirs["id"] not in listed
    assert 'id="empty"' in listed and 'id="empty-create"' in listed     # says what to do
    # nor can the form create one there
    r, _ = create_form(c, url="https://example.com/" + uid(), events="*", account_id=other["id"])
    assert r.status_code == 403 and "whsec_" not in r.text
    api_webhook(server, theirs["id"])


def test_turned_off_for_failing_has_a_banner(server, receiver):
    """The worker's own path: deliveries answered 500 for longer than webhook_disable_after (1 s
    here; the failure's start is moved back instead of waiting) turn the endpoint off."""
    stack = server.stack
    conf = Path(stack.vardir) / f"latchkey-disable-{os.getpid()}.conf"
    text = "".join(l for l in Path(stack.conf_path).read_text().splitlines(True)
                   if not l.startswith("webhook_disable_after"))
    conf.write_text(text + "webhook_disable_after = 1\n")
    os.chmod(conf, 0o600)
    c = owner(server)
    acct = make_account(server)
    receiver.statuses = [500] * 5
    r, _ = create_form(c, url=receiver.url, events="webhook.test", account_id=acct["id"])
    assert r.status_code == 201, r.text[-1500:]
    wh_id = WH_LINK_RE.search(r.text).group(1)
    assert c.post(f"/admin/webhooks/{wh_id}/test", {}).status_code == 303
    deliver_once(stack, conf)     # fails: failing_since is set
    page = c.get(f"/admin/webhooks/{wh_id}").text
    assert 'id="failing-banner"' in page and "Every delivery has failed since" in page
    db_exec(stack, "UPDATE webhook_endpoints SET failing_since = failing_since - 10"
                  " WHERE public_id = %s", wh_id)
    db_exec(stack, "UPDATE webhook_messages m JOIN webhook_endpoints w ON w.id = m.endpoint_id"
                  " SET m.next_attempt_at = 0 WHERE w.public_id = %s", wh_id)
    deliver_once(stack, conf)     # fails again: turned off
    w = api_webhook(server, wh_id)
    assert w["enabled"] is False and w["disabled_reason"] == "failing", w
    assert "webhook.disable" in audit_actions(stack, wh_id)
    page = c.get(f"/admin/webhooks/{wh_id}").text
    banner = re.search(r'<p class="banner"[^>]*id="failing-banner">(.*?)</p>', page, re.S).group(1)
    assert "Turned off automatically" in text_of(banner)
    listed = c.get("/admin/webhooks").text
    banner = re.search(r'<div class="banner"[^>]*id="failing-banner">(.*?)</div>', listed, re.S).group(1)
    assert wh_id in banner and receiver.url in banner
    # enabling it again clears the state
    r = c.post(f"/admin/webhooks/{wh_id}/edit", {"url": receiver.url, "events": "webhook.test",
                                                 "enabled": "yes"})
    assert r.status_code == 303
    w = api_webhook(server, wh_id)
    assert w["enabled"] is True and w["failing_since"] is None
    assert 'id="failing-banner"' not in c.get(f"/admin/webhooks/{wh_id}").text

