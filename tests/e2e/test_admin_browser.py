"""The admin console in a real browser: Selenium driving Debian's headless chromium against
lighttpd and Apache. Every page visited is checked at 1280 and 390 CSS px wide (a phone): nothing
scrolls sideways (neither the page nor any element of it), axe-core (WCAG 2.1 A/AA) finds nothing,
and a full-page screenshot goes under build/screenshots/. The login and create-key forms are
driven with the keyboard alone."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

import harness
from admin_util import db_exec, db_one
from helpers import CREATED_KEYS, uid

AXE = harness.REPO / "build" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = harness.REPO / "build" / "screenshots"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = ((390, 844), (1280, 900))      # a phone, then a laptop (where the forms are driven)

# Every element (and the document) whose content is wider than its box: something that scrolls
# sideways, or would if it were allowed to. Not text fields: a value longer than its input scrolls
# inside it as one types, which is how inputs work.
OVERFLOW_JS = """
const out = [], d = document.documentElement;
if (d.scrollWidth > d.clientWidth)
    out.push(['document', d.scrollWidth, d.clientWidth]);
for (const el of document.body.querySelectorAll('*')) {
    if (el.matches('input, textarea'))
        continue;
    if (el.scrollWidth > el.clientWidth) {
        let path = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
            (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '');
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
            path = p.tagName.toLowerCase() + (p.id ? '#' + p.id : '') + ' > ' + path;
        out.push([path, el.scrollWidth, el.clientWidth]);
    }
}
return out;
"""
SERVERS = [n for n in ("lighttpd", "apache") if n in harness.server_names_from_env()]


@pytest.fixture(scope="module")
def browser():
    assert AXE.is_file(), f"{AXE} missing: the Makefile installs it (make e2e)"
    profile = tempfile.mkdtemp(prefix="lk-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                 f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    service = Service(executable_path="/usr/bin/chromedriver")
    drv = webdriver.Chrome(options=opts, service=service)
    drv.set_page_load_timeout(60)
    drv.set_script_timeout(60)
    yield drv
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)


class Visit:
    """Checks every page: axe-core WCAG 2.1 A/AA, a screenshot, no server error."""

    def __init__(self, drv, server):
        self.drv, self.server, self.n = drv, server, 0
        self.axe = AXE.read_text()
        SHOTS.mkdir(parents=True, exist_ok=True)

    def viewport(self, width, height):
        """The page's viewport exactly width × height CSS px (a phone's when narrow)."""
        self.drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})

    def check(self, name):
        self.n += 1
        for width, height in WIDTHS:
            self.viewport(width, height)
            wide = self.drv.execute_script(OVERFLOW_JS)
            assert wide == [], f"{name} at {width} px: wider than their box: {wide}"
            # the whole page in one picture
            tall = self.drv.execute_script("return document.documentElement.scrollHeight")
            self.viewport(width, min(max(tall, height), 4000))
            self.drv.save_screenshot(str(SHOTS / f"{self.server.name}-{self.n:02d}-{name}-{width}.png"))
            self.viewport(width, height)
            self.drv.execute_script(self.axe)
            violations = self.drv.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
                ".then(r => done(r.violations.map(v => [v.id, v.help, v.nodes.map(n => n.html)])))"
                ".catch(e => done([['axe-error', String(e), []]]));", WCAG)
            assert violations == [], f"{name} at {width} px: accessibility violations: {violations}"
        assert "Internal error" not in self.drv.page_source

    def go(self, path, name):
        self.drv.get(self.server.url(path))
        self.check(name)

    def css(self, sel):
        return self.drv.find_element(By.CSS_SELECTOR, sel)

    def all(self, sel):
        return self.drv.find_elements(By.CSS_SELECTOR, sel)

    def submit(self, form_sel, name):
        self.css(form_sel + " button[type=submit]").click()
        self.check(name)


def keys_with_label(stack, label):
    return db_one(stack, "SELECT COUNT(*) FROM api_keys WHERE label = %s", label)[0]


@pytest.mark.parametrize("name", SERVERS)
def test_console_in_a_browser(stack, browser, name):
    server = stack.servers[name]
    v = Visit(browser, server)
    drv = browser
    drv.delete_all_cookies()

    # Log in with the keyboard alone: type, Tab, type, Enter.
    v.go("/admin/keys", "login")
    assert "/admin/login" in drv.current_url
    assert "Plain-HTTP development mode" in drv.page_source
    email = v.css("#f-email")
    email.click()
    email.send_keys(stack.owner_login)
    drv.switch_to.active_element.send_keys(Keys.TAB)
    active = drv.switch_to.active_element
    assert active.get_attribute("id") == "f-password"
    active.send_keys(stack.owner_password)
    active.send_keys(Keys.ENTER)
    v.check("keys-list")
    assert drv.current_url.endswith("/admin/keys")
    assert stack.owner_login in drv.page_source

    # Create a key with the keyboard alone; read its plaintext once.
    label = uid("browser")
    v.go("/admin/keys/new", "create-form")
    field = v.css("#f-label")
    field.click()
    field.send_keys(label)
    # Tab to the first scope checkbox (admin) and on to keys:read, tick it with Space.
    for _ in range(2):
        drv.switch_to.active_element.send_keys(Keys.TAB)
    assert drv.switch_to.active_element.get_attribute("value") == "keys:read"
    drv.switch_to.active_element.send_keys(Keys.SPACE)
    drv.switch_to.active_element.send_keys(Keys.TAB)  # -> verify ... keep tabbing to app scopes
    while drv.switch_to.active_element.get_attribute("id") != "f-scopes":
        drv.switch_to.active_element.send_keys(Keys.TAB)
    drv.switch_to.active_element.send_keys("tasks:read")
    drv.switch_to.active_element.send_keys(Keys.ENTER)   # Enter in a text field submits
    v.check("key-created")
    plaintext = v.css("#new-key").text
    CREATED_KEYS.append(plaintext)
    assert "shown only this once" in drv.page_source
    r = requests.post(server.url("/v1/verify"), json={"key": plaintext},
                      headers={"Authorization": f"Bearer {stack.admin_key}"})
    assert r.json()["valid"] is True
    assert r.json()["key"]["scopes"] == ["keys:read", "tasks:read"]
    assert keys_with_label(stack, label) == 1

    # Reload the result page: the form is sent again, no second key, no plaintext.
    drv.refresh()
    v.check("key-resubmitted")
    assert "already submitted" in drv.page_source
    assert plaintext not in drv.page_source
    assert keys_with_label(stack, label) == 1

    # Filter the list by label.
    v.go("/admin/keys", "keys-list-2")
    v.css("#f-q").send_keys(label)
    v.submit("form[role=search]", "keys-filtered")
    rows = v.all("#keys tbody tr")
    assert len(rows) == 1 and label in rows[0].text and "active" in rows[0].text
    rows[0].find_element(By.LINK_TEXT, label).click()
    v.check("key-detail")
    key_url = drv.current_url

    # The usage chart: 30 days, today's bar the one valid verify above, the numbers in words.
    chart = v.css("svg.chart-wide")
    assert chart.get_attribute("role") == "img" and "1 in all" in chart.get_attribute("aria-label")
    days = [t.get_attribute("textContent") for t in v.all("svg.chart-wide g.day title")]
    assert len(days) == 30 and days[-1].endswith(": 1, valid 1"), days
    assert all(d.endswith(": 0") for d in days[:-1]), days
    assert v.css("#usage-totals").text.startswith("1 use in 30 days: 1 valid.")
    # and the key's audit rows
    audit_rows = v.all("table.audit tbody tr")
    assert any("key.create" in r.text for r in audit_rows)

    # Edit the label (the form is folded until asked for).
    new_label = label + "-edited"
    v.css("details#edit summary").click()
    f = v.css("form[action$='/edit'] #f-label")
    f.clear()
    f.send_keys(new_label)
    v.submit("form[action$='/edit']", "key-edited")
    assert "Your changes were saved." in drv.page_source
    assert v.css("h1").text == new_label

    # Revoke, then reactivate.
    v.submit("form[action$='/revoke']", "key-revoked")
    assert v.css("#key-fields .status-revoked").text == "revoked"
    v.submit("form[action$='/reactivate']", "key-reactivated")
    assert v.css("#key-fields .status-active").text == "active"

    # Rotate with a grace period (24 h unless another is chosen): the new plaintext once.
    grace = Select(v.css("form[action$='/rotate'] select[name=grace_period]"))
    assert grace.first_selected_option.get_attribute("value") == "24h"
    grace.select_by_value("1h")
    v.submit("form[action$='/rotate']", "key-rotated")
    new_plain = v.css("#new-key").text
    CREATED_KEYS.append(new_plain)
    assert new_plain != plaintext
    assert new_label in v.css("#new-key-fields").text and "tasks:read" in v.css("#new-key-fields").text
    # The copy button (shown by admin.js) puts the key on the clipboard.
    drv.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": server.base_url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    copy = v.css("button[data-copy='new-key']")
    assert copy.is_displayed()
    copy.click()
    WebDriverWait(drv, 10).until(lambda d: d.find_element(By.ID, "copy-status").text)
    assert v.css("#copy-status").text == "Copied to the clipboard."
    pasted = drv.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, e => done('error: ' + e));")
    assert pasted == new_plain
    v.css("#stored").click()                                          # "I have stored it"
    v.check("rotated-key-detail")
    new_key_url = drv.current_url
    assert key_url.rsplit("/", 1)[1] in v.css("#key-fields").text   # rotated_from
    # The old key names the key that replaced it.
    drv.get(key_url)
    v.check("replaced-key-detail")
    assert v.css("#replaced a").get_attribute("href") == new_key_url
    drv.get(new_key_url)

    # Delete it, through the confirmation page that names it.
    v.css("#delete-link").click()
    v.check("delete-confirm")
    assert new_label in v.css("main").text
    v.submit("main form", "key-deleted")
    assert "The key was deleted." in drv.page_source
    r = requests.post(server.url("/v1/verify"), json={"key": new_plain},
                      headers={"Authorization": f"Bearer {stack.admin_key}"})
    assert r.json()["code"] == "INVALID_API_KEY"

    # A sub-account.
    acct = uid("Browser Co")
    v.go("/admin/accounts", "accounts")
    v.css("form[action$='/accounts/new'] #f-name").send_keys(acct)
    v.submit("form[action$='/accounts/new']", "account-created")
    assert "The account was created." in drv.page_source
    assert acct in v.css("#accounts").text

    # A user, with a generated password shown once.
    email = f"{uid('browser')}@example.com"
    v.go("/admin/users", "users")
    v.css("form[action$='/users/new'] #f-email").send_keys(email)
    v.submit("form[action$='/users/new']", "user-created")
    assert email in v.css("#users").text
    assert len(v.css("#new-password").text) == 20

    # The audit log shows what happened, with changed fields.
    v.go("/admin/audit?action=key.update", "audit")
    assert new_label in v.css("table.audit").text
    drv.get(new_key_url)
    v.check("deleted-key-gone")
    assert "Not found" in drv.page_source

    # Webhooks: the list, the create form (every invalid field at once), the secret once,
    # the endpoint page with a failed delivery, the banner of an endpoint turned off for
    # failing, rotate, and delete through its confirmation page.
    v.go("/admin/webhooks", "webhooks")
    v.go("/admin/webhooks/new", "webhook-form")
    for box in v.all("#f-events input:checked"):
        box.click()
    v.css("#f-url").send_keys("ftp://example.com/nowhere")
    v.submit("main form.stack", "webhook-form-errors")
    assert len(v.all(".error-summary li")) == 2
    url = v.css("#f-url")
    url.clear()
    url.send_keys("http://127.0.0.1:9/" + uid("hook"))   # nothing listens: the delivery fails
    v.css("#f-events input[value='webhook.test']").click()
    v.css("#f-description").send_keys("Browser receiver")
    v.submit("main form.stack", "webhook-created")
    assert v.css("#new-secret").text.startswith("whsec_")
    v.css("#stored").click()
    v.check("webhook-page")
    wh_url = drv.current_url
    wh_id = wh_url.rsplit("/", 1)[1]
    v.submit("form[action$='/test']", "webhook-test-sent")
    stack.cli("deliver", "--once")
    db_exec(stack, "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = 'failing',"
            " failing_since = UNIX_TIMESTAMP() - 6 * 86400 WHERE public_id = %s", wh_id)
    drv.get(wh_url)
    v.check("webhook-failing")
    assert v.css("#failing-banner").is_displayed()
    assert v.css("#deliveries-table .status-expired").text == "pending"
    assert "when enabled" in v.css("#deliveries-table").text     # not tried while off
    v.go("/admin/webhooks", "webhooks-failing")
    assert "Browser receiver" in v.css("#webhooks").text
    drv.get(wh_url)
    v.submit("form[action$='/rotate']", "webhook-rotated")
    assert v.css("#old-secret").is_displayed()
    drv.get(wh_url)
    v.css("#delete-link").click()
    v.check("webhook-delete-confirm")
    v.submit("main form", "webhook-deleted")
    assert "The endpoint was deleted." in drv.page_source

    # Own password page, then log out: the session is gone.
    v.go("/admin/password", "password")
    v.css("header form[action$='/logout'] button").click()
    v.check("logged-out")
    assert "/admin/login" in drv.current_url
    drv.get(server.url("/admin/keys"))
    assert "/admin/login" in drv.current_url
