"""The password page (/admin/password) is throttled with the logins: a wrong current password
counts against the user's email and the client's address (login_failures, the same limits), is
audited as user.password_failed, and at the limit the page answers 429 with Retry-After even to
the right password, ends the session and changes nothing. A right password clears the email's
count, as a login does. Each test has a fresh user; the address's count is cleared around each
test (every test client is 127.0.0.1)."""
import re
from pathlib import Path

import pytest
import requests

from admin_util import COOKIE, Console, db_exec, db_one, make_user
from helpers import db_query, uid

NOT_YOURS = "This is not your password."


@pytest.fixture(autouse=True)
def _forgive_ip(stack):
    db_exec(stack, "DELETE FROM login_failures WHERE subject LIKE 'ip:%%'")
    yield
    db_exec(stack, "DELETE FROM login_failures WHERE subject LIKE 'ip:%%'")


def setting(stack, name, default):
    m = re.search(rf"^{name}\s*=\s*(\d+)", Path(stack.conf_path).read_text(), re.M)
    return int(m.group(1)) if m else default


def failures(stack, subject):
    row = db_one(stack, "SELECT failures FROM login_failures WHERE subject = %s", subject)
    return row[0] if row else 0


def password_rows(stack, usr):
    return db_query(stack, "SELECT actor, changes FROM audit_log WHERE action = 'user.password_failed'"
                           " AND target_id = %s ORDER BY id", (usr,))


def password_hash(stack, email):
    return db_one(stack, "SELECT password_hash FROM users WHERE email = %s", email)[0]


def change(c, csrf, current, new="a new password 9"):
    return c.post("/admin/password", {"current_password": current, "password": new}, csrf=csrf)


def login(server, email, password):
    return requests.post(server.url("/admin/login"), data={"email": email, "password": password},
                         headers={"Origin": server.base_url}, allow_redirects=False)


def assert_throttled(r):
    assert r.status_code == 429, (r.status_code, r.text[:300])
    assert int(r.headers["Retry-After"]) > 0
    assert "you were logged out" in r.text
    assert re.match(COOKIE + r"=;.*Max-Age=0", r.headers["Set-Cookie"])


def test_guessing_the_current_password_is_throttled_per_email(server):
    stack = server.stack
    limit = setting(stack, "login_max_failures", 5)
    email, pw, usr = make_user(stack, "viewer")
    before = password_hash(stack, email)
    c = Console(server, email, pw)
    cookie, csrf = c.s.cookies[COOKIE], c.csrf("/admin/password")
    for i in range(limit):
        r = change(c, csrf, f"guess number {i}")
        assert r.status_code == 400 and NOT_YOURS in r.text, (i, r.status_code)
    assert failures(stack, "email:" + email.lower()) == limit

    # at the limit even the right password is refused, and the session is over
    r = change(c, csrf, pw)
    assert_throttled(r)
    assert password_hash(stack, email) == before
    r = requests.get(server.url("/admin/"), cookies={COOKIE: cookie}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/login"
    r = requests.post(server.url("/admin/password"), cookies={COOKIE: cookie},
                      data={"csrf_token": csrf, "current_password": pw, "password": "a new password 9"},
                      headers={"Origin": server.base_url}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/login"
    assert db_one(stack, "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id"
                         " WHERE u.email = %s", email)[0] == 0
    assert password_hash(stack, email) == before

    # one audit row per wrong password and one for the refusal, all by the user
    rows = password_rows(stack, usr)
    assert [r["actor"] for r in rows] == [usr] * (limit + 1)
    assert ['"wrong password"' in r["changes"] for r in rows] == [True] * limit + [False]
    assert '"throttled"' in rows[-1]["changes"]

    # the count is the login's: logging in with the right password is refused too
    r = login(server, email, pw)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # once the window is over (moved back in the DB) the old password still logs in
    db_exec(stack, "UPDATE login_failures SET window_start = window_start - 100000 WHERE subject = %s",
            "email:" + email.lower())
    Console(server, email, pw)
    assert failures(stack, "email:" + email.lower()) == 0


def test_failed_logins_count_on_the_password_page(server):
    """One budget per email: failures at the login form and on the password page add up."""
    stack = server.stack
    limit = setting(stack, "login_max_failures", 5)
    email, pw, _ = make_user(stack, "developer")
    c = Console(server, email, pw)
    csrf = c.csrf("/admin/password")
    for _ in range(limit - 1):
        assert login(server, email, "not the password").status_code == 401
    r = change(c, csrf, "not the password either")
    assert r.status_code == 400 and NOT_YOURS in r.text
    assert_throttled(change(c, csrf, pw))


def test_the_right_password_clears_the_emails_count(server):
    stack = server.stack
    limit = setting(stack, "login_max_failures", 5)
    email, pw, usr = make_user(stack, "viewer")
    c = Console(server, email, pw)
    csrf = c.csrf("/admin/password")
    for i in range(limit - 1):
        assert change(c, csrf, f"guess number {i}").status_code == 400
    assert failures(stack, "email:" + email.lower()) == limit - 1
    r = change(c, csrf, pw, new="a new password 9")
    assert r.status_code == 200 and "other sessions were ended" in r.text
    assert failures(stack, "email:" + email.lower()) == 0
    # a fresh budget: limit more wrong passwords are each a 400 (without the clearing the
    # second one would already be refused)
    for i in range(limit):
        r = change(c, csrf, f"second round {i}")
        assert r.status_code == 400 and NOT_YOURS in r.text, i
    assert_throttled(change(c, csrf, "a new password 9"))
    assert len(password_rows(stack, usr)) == (limit - 1) + limit + 1


def test_the_password_page_counts_against_the_address(server):
    stack = server.stack
    ip_limit = setting(stack, "login_max_failures_ip", 50)
    email, pw, usr = make_user(stack, "viewer")
    c = Console(server, email, pw)
    cookie, csrf = c.s.cookies[COOKIE], c.csrf("/admin/password")
    # all but one of the address's failures, each under another (unknown) email
    for i in range(ip_limit - 1):
        assert login(server, f"{uid('ip')}@example.com", "x" * 12).status_code == 401, i
    r = change(c, csrf, "one wrong password")
    assert r.status_code == 400 and NOT_YOURS in r.text
    assert failures(stack, "email:" + email.lower()) == 1     # far below the email's limit
    before = password_hash(stack, email)
    assert_throttled(change(c, csrf, pw))                      # the address's limit
    assert password_hash(stack, email) == before
    r = requests.get(server.url("/admin/keys"), cookies={COOKIE: cookie}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/login"
    assert '"throttled"' in password_rows(stack, usr)[-1]["changes"]
