#!/usr/bin/python3
"""Screenshots of the admin console, for people to look at (not a test; not part of `make test`).

    make asan build/npm/node_modules/axe-core/axe.min.js   # once (or LATCHKEY_BIN_DIR=build/bin)
    /usr/bin/python3 tests/e2e/screenshots.py docs/screenshots/after

starts a private stack (MariaDB + lighttpd, as the e2e tests do), fills it with a few accounts,
keys in every state and 30 days of usage, signs in with headless chromium and saves full-page
PNGs of the keys list, a key page, its usage chart, the one-time plaintext page, a replaced key,
an empty list and one whose filters match nothing, the audit log, the accounts and users pages,
the webhooks list and an endpoint's page with its deliveries, each at 1280×900 and 390×844 (NAME-1280.png, NAME-390.png)."""
import sys
import time
import tempfile
import shutil
from pathlib import Path

import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from admin_util import Console, KEY_LINK_RE, db_exec, db_one  # noqa: E402
from webhook_util import Receiver  # noqa: E402

WIDTHS = ((1280, 900), (390, 844))
DAY = 86400


def new_browser():
    profile = tempfile.mkdtemp(prefix="lk-shots-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--hide-scrollbars", "--window-size=1280,900", f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    drv = webdriver.Chrome(options=opts, service=Service(executable_path="/usr/bin/chromedriver"))
    drv.set_page_load_timeout(60)
    return drv, profile


def viewport(drv, width, height):
    """The page's viewport exactly width × height CSS px (a phone's when narrow)."""
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def full_page(drv, path, width, height):
    viewport(drv, width, height)
    tall = drv.execute_script("return document.documentElement.scrollHeight")
    viewport(drv, width, max(height, min(tall, 6000)))
    drv.save_screenshot(str(path))
    viewport(drv, width, height)


def element(drv, path, width, height, selectors):
    viewport(drv, width, height)
    tall = drv.execute_script("return document.documentElement.scrollHeight")
    viewport(drv, width, max(height, min(tall, 6000)))
    for sel in selectors:
        found = drv.find_elements(By.CSS_SELECTOR, sel)
        if found:
            found[0].screenshot(str(path))
            break
    viewport(drv, width, height)


def seed(stack, server):
    """Accounts, keys in each state and a month of usage of one key; returns its id and the
    path of a page that shows a new key's plaintext (made afresh for each width)."""
    c = Console(server, stack.owner_login, stack.owner_password)
    cli = stack.cli
    acme = cli("account", "create", "Acme Corp", "--plan", "pro").stdout.strip()
    cli("account", "create", "Acme Staging", "--parent", acme)
    beta = cli("account", "create", "Beta Labs").stdout.strip()
    for email, role in (("dev@example.com", "developer"), ("auditor@example.com", "viewer")):
        cli("user", "create", email, "--account", stack.root_account, "--role", role,
            "--password-stdin", input="correct horse 1\n")
    keys = {}
    for label, scopes, extra in (
            ("billing-service", ("verify", "tasks:read", "tasks:write"), {}),
            ("ci-deploy", ("keys:read",), {"expires_at": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * DAY))}),
            ("mobile-app (test)", ("verify",), {"env": "test"}),
            ("old-reporting-job", ("audit:read",), {}),
            ("partner-webhooks", ("verify", "webhooks:send"), {})):
        r, _ = c.create_key(label, scopes=scopes, meta='{"team": "payments"}', **extra)
        assert r.status_code == 201, r.text[:400]
        keys[label] = KEY_LINK_RE.search(r.text).group(1)
        plain = r.text.split('id="new-key">', 1)[1].split("<", 1)[0]
        if label == "billing-service":
            billing_plain = plain
    c.post(f"/admin/keys/{keys['old-reporting-job']}/revoke", {})
    r = c.post(f"/admin/keys/{keys['partner-webhooks']}/rotate", {"grace_period": "24h"})
    assert r.status_code == 201, r.text[-400:]
    r, _ = c.create_key("acme-backend", scopes=("verify",), account_id=acme)
    assert r.status_code == 201, r.text[:400]
    # today: real verifies; the 29 days before: rows in key_usage, as the verify path writes them
    for _ in range(12):
        requests.post(server.url("/v1/verify"), json={"key": billing_plain},
                      headers={"Authorization": f"Bearer {stack.admin_key}"})
    kid, acct = db_one(stack, "SELECT id, account_id FROM api_keys WHERE public_id = %s",
                       keys["billing-service"])
    today = int(time.time()) // DAY
    for back in range(1, 30):
        valid = (40 + 25 * ((back * 7) % 5) + (0 if back % 7 in (0, 6) else 60)) if back != 9 else 0
        limited = 6 if back in (3, 4, 17) else 0
        db_exec(stack, "INSERT INTO key_usage (key_id, day, account_id, win_start, win_len, n, "
                "valid, rate_limited, insufficient_scope) VALUES (%s, %s, %s, 0, 60, 0, %s, %s, %s)",
                kid, today - back, acct, valid, limited, 2 if back % 11 == 0 else 0)
    return {"key": keys["billing-service"], "replaced": keys["partner-webhooks"], "empty": beta,
            "webhook": seed_webhooks(stack, server, acme)}


def seed_webhooks(stack, server, acme):
    """Two endpoints: one receiving (a delivered test event and key event), one the worker
    turned off for failing. Returns the id of the first."""
    def create(body):
        r = requests.post(server.url("/v1/webhooks"), json=body,
                          headers={"Authorization": f"Bearer {stack.admin_key}"})
        assert r.status_code == 201, r.text[:400]
        return r.json()["id"]

    rec = Receiver().start()
    try:
        ok = create({"url": rec.url, "description": "Billing sync",
                     "events": ["key.created", "key.revoked", "webhook.test"], "account_id": acme})
        bad = create({"url": "https://crm.example.invalid/hooks/latchkey",
                      "description": "Old CRM bridge"})
        for wh in (ok, bad):
            requests.post(server.url(f"/v1/webhooks/{wh}/test"),
                          headers={"Authorization": f"Bearer {stack.admin_key}"})
        Console(server, stack.owner_login, stack.owner_password).create_key(
            "hooked-key", account_id=acme)
        stack.cli("deliver", "--once")
    finally:
        rec.stop()
    db_exec(stack, "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = 'failing',"
            " failing_since = UNIX_TIMESTAMP() - 6 * 86400 WHERE public_id = %s", bad)
    return ok


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots/after")
    out.mkdir(parents=True, exist_ok=True)
    stack = harness.Stack(server_names=["lighttpd"])
    drv = profile = None
    try:
        stack.start()
        server = stack.servers["lighttpd"]
        ids = seed(stack, server)
        drv, profile = new_browser()
        drv.get(server.url("/admin/login"))
        drv.find_element(By.ID, "f-email").send_keys(stack.owner_login)
        drv.find_element(By.ID, "f-password").send_keys(stack.owner_password)
        drv.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        for width, height in WIDTHS:
            def shot(name, path=None):
                if path:
                    drv.get(server.url(path))
                full_page(drv, out / f"{name}-{width}.png", width, height)

            shot("keys-list", "/admin/keys")
            shot("key-page", f"/admin/keys/{ids['key']}")
            element(drv, out / f"chart-{width}.png", width, height,
                    ("section#usage", "svg.chart"))
            # the plaintext page: a fresh key each time, created through the form
            drv.get(server.url("/admin/keys/new"))
            drv.find_element(By.ID, "f-label").send_keys(f"screenshot-{width}")
            drv.find_element(By.CSS_SELECTOR, "input[name=scopes][value='keys:read']").click()
            drv.find_element(By.CSS_SELECTOR, "main form.stack button[type=submit]").click()
            shot("plaintext")
            # only in after/: pages the console did not have before
            shot("key-replaced", f"/admin/keys/{ids['replaced']}")
            shot("keys-empty", f"/admin/keys?account_id={ids['empty']}")
            shot("keys-no-match", "/admin/keys?q=nothing-is-called-this")
            shot("audit", "/admin/audit")
            shot("accounts", "/admin/accounts")
            shot("users", "/admin/users")
            shot("webhooks", "/admin/webhooks")
            shot("webhook-page", f"/admin/webhooks/{ids['webhook']}")
        print("\n".join(sorted(str(p) for p in out.glob("*.png"))))
    finally:
        if drv is not None:
            drv.quit()
            shutil.rmtree(profile, ignore_errors=True)
        stack.stop()
        stack.remove_vardir()


if __name__ == "__main__":
    main()
