"""Expiry notices (issue 19 item 3): key.expiring once per key per threshold, key.expired once,
from the periodic sweep (`latchkey gc`) run twice and from two processes at once; the mail to
the account's owners and developers through mail_command, parsed with Python's email module,
safe with a label holding CR/LF; `latchkey key list --expiring`."""
import email
import email.policy
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from harness import SANITIZER_PATTERNS
from helpers import call, create_key, db_query, expect, make_account, uid


@pytest.fixture
def one(stack):
    return next(iter(stack.servers.values()))


@pytest.fixture
def notice_conf(stack):
    """The stack's config with the default threshold (7 days) and a mail_command that keeps each
    mail in a file of its own."""
    maildir = Path(stack.vardir) / f"mail-{uid()}"
    maildir.mkdir()
    script = maildir / "capture.sh"
    script.write_text('#!/bin/sh\ncat > "$1/$(date +%s%N)-$$.eml"\n')
    script.chmod(0o755)
    text = Path(stack.conf_path).read_text().replace("expiry_notice_days = 1", "")
    conf = maildir / "latchkey.conf"
    conf.write_text(text + f"\nexpiry_notice_days = 7\nmail_command = {script} {maildir}\n"
                           "console_url = https://latchkey.example.com\n")
    os.chmod(conf, 0o600)
    return conf, maildir


def cli(stack, conf, *args, wait=True):
    cmd = [str(stack.cli_path), "--config", str(conf), *args]
    if not wait:
        return subprocess.Popen(cmd, env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    r = subprocess.run(cmd, env=stack.env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and not any(p in r.stderr for p in SANITIZER_PATTERNS), r.stderr
    return r


def events_of(stack, wh_id, key_id):
    rows = db_query(stack, "SELECT m.type, m.payload FROM webhook_messages m JOIN webhook_endpoints w"
                           " ON w.id = m.endpoint_id WHERE w.public_id = %s ORDER BY m.id", (wh_id,))
    return [r["type"] for r in rows if json.loads(r["payload"])["data"]["id"] == key_id]


def add_user(stack, acct, role):
    mail = f"{role}-{uid()}@example.com"
    stack.cli("user", "create", mail, "--account", acct, "--role", role, "--password-stdin",
              input="a long enough password 123\n")
    return mail


def test_expiring_once_with_mail(one, stack, notice_conf):
    conf, maildir = notice_conf
    acct = make_account(one)
    owner, dev, viewer = (add_user(stack, acct["id"], r) for r in ("owner", "developer", "viewer"))
    wh = expect(call(one, "POST", "/v1/webhooks", one.admin_key,
                     body={"url": "https://example.com/n", "account_id": acct["id"],
                           "events": ["key.expiring", "key.expired"]}), 201)
    soon = create_key(one, account_id=acct["id"], expires_in="6d")
    later = create_key(one, account_id=acct["id"], expires_in="30d")
    # a label with CR/LF (the API refuses one; an old or imported row may hold anything)
    db_query(stack, "UPDATE api_keys SET label = %s WHERE public_id = %s",
             ("ops key\r\nBcc: evil@example.com\r\n\r\nforged", soon["id"]))
    cli(stack, conf, "gc")
    cli(stack, conf, "gc")
    procs = [cli(stack, conf, "gc", wait=False) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert events_of(stack, wh["id"], soon["id"]) == ["key.expiring"]
    assert events_of(stack, wh["id"], later["id"]) == []
    mails = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
             for f in sorted(maildir.glob("*.eml"))]
    mine = [m for m in mails if soon["start"] in m["Subject"]]
    assert len(mine) == 1, [m["Subject"] for m in mails]
    m = mine[0]
    to = {a.addr_spec for a in m["To"].addresses}
    assert to == {owner, dev}, to
    assert m["Bcc"] is None and "evil@example.com" not in str(m["To"])
    body = m.get_content()
    assert "ops key  Bcc: evil@example.com    forged" in body and soon["id"] in body
    assert f"https://latchkey.example.com/admin/keys/{soon['id']}" in body
    assert viewer not in str(m)
    # the key list shows what the notice is about
    listed = cli(stack, conf, "key", "list", "--account", acct["id"], "--expiring", "7d", "--json")
    assert [k["id"] for k in json.loads(listed.stdout)] == [soon["id"]]


def test_expired_once(one, stack, notice_conf):
    conf, maildir = notice_conf
    acct = make_account(one)
    wh = expect(call(one, "POST", "/v1/webhooks", one.admin_key,
                     body={"url": "https://example.com/x", "account_id": acct["id"]}), 201)
    k = create_key(one, account_id=acct["id"], expires_in="1h")
    db_query(stack, "UPDATE api_keys SET expires_at = %s WHERE public_id = %s",
             (int(time.time()) - 60, k["id"]))
    for _ in range(2):
        cli(stack, conf, "gc")
    got = events_of(stack, wh["id"], k["id"])
    # the 1-hour key got its key.expiring (at creation it was inside 7 days), then key.expired
    assert got.count("key.expired") == 1 and got.count("key.expiring") <= 1, got
