"""The admin console over plain HTTP (requests): sessions, CSRF, tenancy, escaping, roles,
throttling, the one-time form token, GET /v1/audit, and REMOTE_USER mode on Apache."""
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
import requests

import harness
from admin_util import (COOKIE, CSRF_RE, FORM_TOKEN_RE, KEY_LINK_RE, Console, db_exec, db_one,
                        make_user)
from helpers import CREATED_KEYS, auth, uid


@pytest.fixture(autouse=True)
def _forgive_ip(stack):
    """Every test starts with no failed logins counted against 127.0.0.1 (all tests share it)."""
    db_exec(stack, "DELETE FROM login_failures WHERE subject LIKE 'ip:%%'")
    yield
    db_exec(stack, "DELETE FROM login_failures WHERE subject LIKE 'ip:%%'")


def owner(server):
    return Console(server, server.stack.owner_login, server.stack.owner_password)


def count(stack, sql, *args):
    return db_one(stack, sql, *args)[0]


def sub_account(stack, name=None):
    return stack.cli("account", "create", name or uid("sub")).stdout.strip()


# ---------------------------------------------------------------- headers, cookie, login

def test_pages_send_security_headers_and_cookie_flags(server):
    r = requests.get(server.url("/admin/login"))
    assert r.status_code == 200
    for resp in (r, requests.get(server.url("/admin/style.css"))):
        assert resp.headers["Content-Security-Policy"] == \
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Cache-Control"] == "no-store"
        assert resp.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Plain-HTTP development mode" in r.text      # the dev mode says so
    c = Console(server, server.stack.owner_login, server.stack.owner_password)
    r = c.login(server.stack.owner_login, server.stack.owner_password)
    cookie = r.headers["Set-Cookie"]
    assert re.fullmatch(COOKIE + r"=[0-9A-Za-z]{43}; HttpOnly; SameSite=Strict; Path=/", cookie)
    r = c.get("/admin/keys")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_session_id_is_stored_hashed(server):
    c = owner(server)
    sid = c.s.cookies[COOKIE]
    import hashlib
    digest = hashlib.sha256(sid.encode()).digest()
    assert count(server.stack, "SELECT COUNT(*) FROM sessions WHERE digest = %s", digest) == 1
    dump = server.stack.mariadb_dump(["latchkey"])
    assert sid not in dump


def test_get_never_changes_state(server):
    c = owner(server)
    before = count(server.stack, "SELECT COUNT(*) FROM audit_log")
    for path in ("/admin/logout", "/admin/keys/new", "/admin/accounts/new", "/admin/users/new"):
        c.get(path)
    assert count(server.stack, "SELECT COUNT(*) FROM audit_log") == before
    assert c.get("/admin/keys").status_code == 200      # GET /admin/logout did not log out


def test_wrong_and_unknown_logins_look_the_same(server):
    stack = server.stack
    email, pw, _ = make_user(stack, "viewer")
    a = requests.post(server.url("/admin/login"), data={"email": email, "password": "wrong password"},
                      headers={"Origin": server.base_url}, allow_redirects=False)
    b = requests.post(server.url("/admin/login"),
                      data={"email": f"{uid('nobody')}@example.com", "password": "wrong password"},
                      headers={"Origin": server.base_url}, allow_redirects=False)
    assert a.status_code == b.status_code == 401
    strip = lambda t: re.sub(r'value="[^"]*"', "", t)  # the email typed is kept in the form
    assert strip(a.text) == strip(b.text)
    assert "Set-Cookie" not in a.headers and "Set-Cookie" not in b.headers
    row = db_one(stack, "SELECT actor, changes FROM audit_log WHERE action = 'user.login_failed'"
                 " AND target_id = (SELECT public_id FROM users WHERE email = %s)", email)
    assert row[0] == "anonymous" and "wrong password" in row[1]


def test_login_throttled_per_email(server):
    stack = server.stack
    email, pw, _ = make_user(stack, "viewer")
    for _ in range(5):
        r = requests.post(server.url("/admin/login"), data={"email": email, "password": "nope nope!"},
                          headers={"Origin": server.base_url}, allow_redirects=False)
        assert r.status_code == 401
    # now even the right password is refused, for a while
    r = requests.post(server.url("/admin/login"), data={"email": email, "password": pw},
                      headers={"Origin": server.base_url}, allow_redirects=False)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "Set-Cookie" not in r.headers
    # an unknown email is throttled the same way
    ghost = f"{uid('ghost')}@example.com"
    codes = [requests.post(server.url("/admin/login"), data={"email": ghost, "password": "nope nope!"},
                           headers={"Origin": server.base_url}, allow_redirects=False).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429]
    # after the window (moved back in the DB) the user can log in again
    db_exec(stack, "UPDATE login_failures SET window_start = window_start - 100000 WHERE subject = %s",
            "email:" + email.lower())
    Console(server, email, pw)


def test_login_throttled_per_ip(stack):
    server = next(iter(stack.servers.values()))     # the IP counter is shared by all servers
    limit = 30                                   # login_max_failures_ip in the test stack
    for i in range(limit):
        r = requests.post(server.url("/admin/login"),
                          data={"email": f"{uid('ip')}@example.com", "password": "x" * 12},
                          headers={"Origin": server.base_url}, allow_redirects=False)
        assert r.status_code == 401, i
    r = requests.post(server.url("/admin/login"),
                      data={"email": stack.owner_login, "password": stack.owner_password},
                      headers={"Origin": server.base_url}, allow_redirects=False)
    assert r.status_code == 429


def test_session_fixation_cookie_not_adopted(server):
    planted = "A" * 43
    s = requests.Session()
    s.cookies.set(COOKIE, planted)
    r = s.post(server.url("/admin/login"), data={"email": server.stack.owner_login,
               "password": server.stack.owner_password}, headers={"Origin": server.base_url},
               allow_redirects=False)
    assert r.status_code == 303
    new = re.search(COOKIE + r"=([0-9A-Za-z]+)", r.headers["Set-Cookie"]).group(1)
    assert new != planted
    r = requests.get(server.url("/admin/keys"), cookies={COOKIE: planted}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/login"


@pytest.mark.parametrize("column,seconds", [("last_seen_at", 1801), ("created_at", 43201)])
def test_idle_and_absolute_expiry(server, column, seconds):
    stack = server.stack
    email, pw, _ = make_user(stack, "viewer")
    c = Console(server, email, pw)
    assert c.get("/admin/keys").status_code == 200
    # Move the session's clock back past the timeout (30 min idle / 12 h absolute by default).
    db_exec(stack, f"UPDATE sessions s JOIN users u ON u.id = s.user_id SET s.{column} = s.{column} - %s"
            " WHERE u.email = %s", seconds, email)
    r = c.get("/admin/keys")
    assert r.status_code == 303 and r.headers["Location"] == "/admin/login"
    assert count(stack, "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id"
                 " WHERE u.email = %s", email) == 0


def test_logout_ends_every_session_of_the_user(server):
    stack = server.stack
    email, pw, usr = make_user(stack, "developer")
    c1, c2 = Console(server, email, pw), Console(server, email, pw)
    old_cookie = c1.s.cookies[COOKIE]
    r = c1.post("/admin/logout", {})
    assert r.status_code == 303 and r.headers["Location"] == "/admin/login"
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    for cookie in (old_cookie, c2.s.cookies[COOKIE]):
        r = requests.get(server.url("/admin/keys"), cookies={COOKIE: cookie}, allow_redirects=False)
        assert r.status_code == 303
    assert count(stack, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.logout' AND actor = %s", usr) == 1
    assert count(stack, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.login' AND actor = %s", usr) == 2


def test_password_change_ends_other_sessions(server):
    stack = server.stack
    email, pw, _ = make_user(stack, "viewer")
    c1, c2 = Console(server, email, pw), Console(server, email, pw)
    r = c1.post("/admin/password", {"current_password": "not it at all", "password": "n" * 12})
    assert r.status_code == 400 and "This is not your password." in r.text
    r = c1.post("/admin/password", {"current_password": pw, "password": "new password 2"})
    assert r.status_code == 200 and "other sessions were ended" in r.text
    assert c1.get("/admin/keys").status_code == 200
    assert c2.get("/admin/keys").status_code == 303
    Console(server, email, "new password 2")


# ---------------------------------------------------------------- CSRF and origin

def test_csrf_missing_wrong_or_other_session_is_403(server):
    stack = server.stack
    c = owner(server)
    other = owner(server)
    name = uid("csrf")
    for token in (None, "0" * 64, other.csrf()):
        data = {"name": name, "parent_id": stack.root_account, "plan": "free"}
        if token:
            data["csrf_token"] = token
        r = c.post("/admin/accounts/new", data, csrf=False)
        assert r.status_code == 403, token
        assert "security token" in r.text
    # the right token but a foreign or missing Origin
    r = c.post("/admin/accounts/new", {"name": name, "parent_id": stack.root_account},
               origin=False, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    r = c.post("/admin/accounts/new", {"name": name, "parent_id": stack.root_account}, origin=False)
    assert r.status_code == 403
    assert count(stack, "SELECT COUNT(*) FROM accounts WHERE name = %s", name) == 0
    # Sec-Fetch-Site: same-origin without Origin is accepted
    r = c.post("/admin/accounts/new", {"name": name, "parent_id": stack.root_account, "plan": "free"},
               origin=False, headers={"Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 303
    assert count(stack, "SELECT COUNT(*) FROM accounts WHERE name = %s", name) == 1


def test_post_without_session_writes_nothing(server):
    name = uid("nosession")
    r = requests.post(server.url("/admin/accounts/new"),
                      data={"name": name, "parent_id": server.stack.root_account},
                      headers={"Origin": server.base_url}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/login"
    assert count(server.stack, "SELECT COUNT(*) FROM accounts WHERE name = %s", name) == 0


# ---------------------------------------------------------------- keys: one-time form, tenancy

def test_create_form_resubmitted_makes_no_second_key(server):
    c = owner(server)
    label = uid("once")
    r, data = c.create_key(label)
    assert r.status_code == 201
    plain = re.search(r'id="new-key">([^<]+)<', r.text).group(1)
    CREATED_KEYS.append(plain)
    again = c.s.post(server.url("/admin/keys/new"), data=data, headers={"Origin": server.base_url},
                     allow_redirects=False)
    assert again.status_code == 409 and "already submitted" in again.text
    assert plain not in again.text
    assert KEY_LINK_RE.search(again.text).group(1) == KEY_LINK_RE.search(r.text).group(1)
    assert count(server.stack, "SELECT COUNT(*) FROM api_keys WHERE label = %s", label) == 1


def test_validation_error_keeps_input_and_names_field(server):
    c = owner(server)
    label = uid("meta")
    r, _ = c.create_key(label, meta="{not json")
    assert r.status_code == 400
    assert 'id="f-meta-error"' in r.text and "meta" in r.text
    assert f'value="{label}"' in r.text                   # input kept
    assert "{not json</textarea>" in r.text
    assert FORM_TOKEN_RE.search(r.text)                   # a fresh token to submit again
    assert count(server.stack, "SELECT COUNT(*) FROM api_keys WHERE label = %s", label) == 0


def test_cross_account_ids_are_404(server):
    stack = server.stack
    a, b = sub_account(stack), sub_account(stack)
    email, pw, _ = make_user(stack, "developer", account=a)
    c = Console(server, email, pw)
    other = owner(server)
    r, _ = other.create_key(uid("b-key"), account_id=b)
    kb = KEY_LINK_RE.search(r.text).group(1)
    CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))
    for path in (f"/admin/keys/{kb}", f"/admin/keys/{kb}/delete", f"/admin/keys?account_id={b}",
                 f"/admin/keys?account_id={stack.root_account}"):
        r = c.get(path)
        assert r.status_code == 404, path
        assert "NOT_FOUND" in r.text and "Request id" in r.text
    for action in ("revoke", "edit", "delete", "rotate"):
        r = c.post(f"/admin/keys/{kb}/{action}", {"label": "stolen", "grace_period": "0"})
        assert r.status_code == 404, action
    row = db_one(stack, "SELECT label, revoked_at FROM api_keys WHERE public_id = %s", kb)
    assert row[1] is None and row[0] != "stolen"
    # a form naming another account: refused, nothing written (403 as in the API)
    label = uid("xacct")
    r, _ = c.create_key(label, account_id=b)
    assert r.status_code == 403 and 'id="f-account_id"' in r.text
    assert count(stack, "SELECT COUNT(*) FROM api_keys WHERE label = %s", label) == 0


def test_viewer_cannot_reach_write_forms(server):
    stack = server.stack
    email, pw, _ = make_user(stack, "viewer")
    c = Console(server, email, pw)
    other = owner(server)
    r, _ = other.create_key(uid("ro"))
    kid = KEY_LINK_RE.search(r.text).group(1)
    CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))
    for path in ("/admin/keys/new", f"/admin/keys/{kid}/delete", "/admin/users"):
        r = c.get(path)
        assert r.status_code == 403, path
        assert "FORBIDDEN" in r.text
    detail = c.get(f"/admin/keys/{kid}").text
    assert "/revoke" not in detail and "Edit" not in detail
    label = uid("viewer")
    r = c.post("/admin/keys/new", {"label": label, "form_token": "x" * 32})
    assert r.status_code == 403
    for action in ("revoke", "delete", "edit"):
        assert c.post(f"/admin/keys/{kid}/{action}", {"label": "x"}).status_code == 403
    r = c.post("/admin/users/new", {"email": f"{uid('v')}@example.com", "role": "owner",
                                    "account_id": stack.root_account})
    assert r.status_code == 403
    assert count(stack, "SELECT COUNT(*) FROM api_keys WHERE label = %s", label) == 0
    assert db_one(stack, "SELECT revoked_at FROM api_keys WHERE public_id = %s", kid)[0] is None


def test_developer_cannot_manage_users_or_accounts(server):
    stack = server.stack
    email, pw, _ = make_user(stack, "developer")
    c = Console(server, email, pw)
    assert c.get("/admin/users").status_code == 403
    name = uid("dev-acct")
    r = c.post("/admin/accounts/new", {"name": name, "parent_id": stack.root_account})
    assert r.status_code == 403
    assert count(stack, "SELECT COUNT(*) FROM accounts WHERE name = %s", name) == 0


# ---------------------------------------------------------------- stored XSS

XSS_LABEL = "<script>alert('l')</script>\"'&"
XSS_META = '{"x": "<img src=x onerror=alert(1)>"}'
XSS_NAME = "<svg onload=alert('n')>"


def test_stored_xss_is_escaped_everywhere(server):
    stack = server.stack
    c = owner(server)
    r, _ = c.create_key(XSS_LABEL, meta=XSS_META)
    assert r.status_code == 201, r.text[:400]
    kid = KEY_LINK_RE.search(r.text).group(1)
    CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))
    r = c.post("/admin/accounts/new", {"name": XSS_NAME, "parent_id": stack.root_account, "plan": "free"})
    assert r.status_code == 303
    xss_email = f"<b>{uuid.uuid4().hex[:8]}</b>@example.com"
    r = c.post("/admin/users/new", {"email": xss_email, "role": "viewer", "account_id": stack.root_account})
    assert r.status_code == 201
    pages = ["/admin/keys", f"/admin/keys/{kid}", f"/admin/keys/{kid}/delete", "/admin/accounts",
             "/admin/users", "/admin/audit", "/admin/keys/new"]
    for p in pages:
        text = c.get(p).text
        for raw in ("<script>alert", "<img src=x", "<svg onload", "<b>"):
            assert raw not in text, (p, raw)
    assert "&lt;script&gt;alert(&#39;l&#39;)&lt;/script&gt;&quot;&#39;&amp;" in c.get(f"/admin/keys/{kid}").text
    assert "&lt;svg onload=alert(&#39;n&#39;)&gt;" in c.get("/admin/accounts").text
    assert "&lt;b&gt;" in c.get("/admin/users").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in c.get(f"/admin/keys/{kid}").text


# ---------------------------------------------------------------- accounts and users pages

def test_account_delete_refused_with_reason(server):
    stack = server.stack
    c = owner(server)
    parent = sub_account(stack)
    stack.cli("account", "create", uid("child"), "--parent", parent)
    r = c.post(f"/admin/accounts/{parent}/delete", {})
    assert r.status_code == 409 and "still has 1 sub-account; delete them first" in r.text
    assert count(stack, "SELECT COUNT(*) FROM accounts WHERE public_id = %s", parent) == 1
    # a console user keeps its account too (409, not a foreign-key 503)
    with_user = sub_account(stack)
    make_user(stack, "viewer", account=with_user)
    r = c.post(f"/admin/accounts/{with_user}/delete", {})
    assert r.status_code == 409 and "still has 1 console user; an account with console users cannot be" in r.text
    r = requests.delete(server.url(f"/v1/accounts/{with_user}"), headers=auth(stack.admin_key))
    assert r.status_code == 409
    empty = sub_account(stack)
    assert c.post(f"/admin/accounts/{empty}/delete", {}).status_code == 303
    assert count(stack, "SELECT COUNT(*) FROM accounts WHERE public_id = %s", empty) == 0


def test_users_role_disable_reset(server):
    stack = server.stack
    c = owner(server)
    email, pw, usr = make_user(stack, "viewer")
    u = Console(server, email, pw)
    assert c.post(f"/admin/users/{usr}/role", {"role": "developer"}).status_code == 303
    assert db_one(stack, "SELECT role FROM users WHERE public_id = %s", usr)[0] == "developer"
    assert c.post(f"/admin/users/{usr}/disable", {}).status_code == 303
    assert u.get("/admin/keys").status_code == 303          # its session ended
    r = requests.post(server.url("/admin/login"), data={"email": email, "password": pw},
                      headers={"Origin": server.base_url}, allow_redirects=False)
    assert r.status_code == 401
    assert c.post(f"/admin/users/{usr}/enable", {}).status_code == 303
    r = c.post(f"/admin/users/{usr}/password", {})
    new_pw = re.search(r'id="new-password">([0-9A-Za-z]{20})<', r.text).group(1)
    Console(server, email, new_pw)
    actions = [row[0] for row in _rows(stack, "SELECT action FROM audit_log WHERE target_id = %s ORDER BY id", usr)]
    assert actions[:1] == ["user.create"] and "user.update" in actions and "user.disable" in actions
    assert "user.enable" in actions and "user.password" in actions


def _rows(stack, sql, *args):
    conn = stack.db_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


# ---------------------------------------------------------------- GET /v1/audit

def test_v1_audit_lists_the_consoles_rows(server):
    stack = server.stack
    c = owner(server)
    label = uid("audited")
    r, _ = c.create_key(label)
    kid = KEY_LINK_RE.search(r.text).group(1)
    CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))
    r = requests.get(server.url("/v1/audit"), params={"target_id": kid}, headers=auth(stack.admin_key))
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    rows = r.json()["data"]
    assert [x["action"] for x in rows] == ["key.create"]
    assert rows[0]["actor"].startswith("usr_") and rows[0]["changes"]["label"] == label
    page = c.get(f"/admin/audit?target_id={kid}").text
    assert rows[0]["request_id"] in page and label in page
    # filters, paging and validation
    r = requests.get(server.url("/v1/audit"), params={"action": "user.login", "limit": 2},
                     headers=auth(stack.admin_key))
    body = r.json()
    assert len(body["data"]) == 2 and all(x["action"] == "user.login" for x in body["data"])
    r2 = requests.get(server.url("/v1/audit"), params={"action": "user.login", "limit": 2,
                      "cursor": body["next_cursor"]}, headers=auth(stack.admin_key))
    assert not {x["id"] for x in r2.json()["data"]} & {x["id"] for x in body["data"]}
    assert requests.get(server.url("/v1/audit"), params={"since": "yesterday"},
                        headers=auth(stack.admin_key)).status_code == 400
    assert requests.get(server.url("/v1/audit"), params={"bogus": "1"},
                        headers=auth(stack.admin_key)).status_code == 400


def test_v1_audit_scope_and_subtree(server):
    stack = server.stack
    a, b = sub_account(stack), sub_account(stack)
    key_a = stack.cli("key", "create", "--account", a, "--label", uid("a"), "--scopes", "audit:read").stdout.strip()
    key_nr = stack.cli("key", "create", "--account", a, "--label", uid("a"), "--scopes", "keys:read").stdout.strip()
    CREATED_KEYS.extend([key_a, key_nr])
    stack.cli("key", "create", "--account", b, "--label", uid("b"))
    r = requests.get(server.url("/v1/audit"), headers=auth(key_nr))
    assert r.status_code == 403
    r = requests.get(server.url("/v1/audit"), params={"limit": 100}, headers=auth(key_a))
    assert r.status_code == 200
    assert r.json()["data"] and all(x["account_id"] == a for x in r.json()["data"])
    r = requests.get(server.url("/v1/audit"), headers={**auth(key_a), "X-Account-Id": b})
    assert r.status_code == 404


# ---------------------------------------------------------------- REMOTE_USER on Apache

def test_remote_user_mode_on_apache(stack):
    """A second Apache whose /admin needs HTTP Basic auth (htpasswd), with latchkey trusting
    REMOTE_USER: no password form, the web server's user is the latchkey user."""
    if "apache" not in stack.servers:
        pytest.skip("Apache is not in LATCHKEY_E2E_SERVERS")
    email, _, usr = make_user(stack, "developer")
    vardir = Path(tempfile.mkdtemp(prefix="lk-ru-", dir="/tmp"))
    os.chmod(vardir, 0o755)
    port = harness.free_port()
    try:
        conf = Path(stack.conf_path).read_text() + "admin_trust_remote_user = yes\n"
        (vardir / "latchkey.conf").write_text(conf)
        htpasswd = vardir / "htpasswd"
        subprocess.run(["htpasswd", "-c", "-b", "-B", str(htpasswd), email, "basic pass 1"], check=True,
                       capture_output=True)
        subprocess.run(["htpasswd", "-b", "-B", str(htpasswd), "stranger@example.com", "basic pass 2"],
                       check=True, capture_output=True)
        env = dict(stack.env, ADMIN_HTPASSWD=str(htpasswd))
        subprocess.run([str(harness.SCRIPTS / "webserver.sh"), "start", "apache", str(vardir), str(port),
                        str(stack.bin_dir)], env=env, check=True, capture_output=True, timeout=120)
        base = f"http://127.0.0.1:{port}"
        assert requests.get(base + "/admin/keys").status_code == 401        # Apache asks
        s = requests.Session()
        s.auth = (email, "basic pass 1")
        r = s.get(base + "/admin/login", allow_redirects=False)
        assert r.status_code == 303 and r.headers["Location"] == "/admin/keys"   # no password form
        r = s.get(base + "/admin/keys")
        assert r.status_code == 200 and email in r.text and "Log out" not in r.text
        # forms work: CSRF token of the session made for REMOTE_USER
        name = uid("ru-acct")
        token = CSRF_RE.search(s.get(base + "/admin/keys/new").text).group(1)
        r = s.post(base + "/admin/keys/new", data={"csrf_token": token, "form_token": "z" * 32,
                   "label": name}, headers={"Origin": base})
        assert r.status_code == 400 and "expired" in r.text          # a made-up form token
        r = s.get(base + "/admin/keys/new")
        form_token = FORM_TOKEN_RE.search(r.text).group(1)
        r = s.post(base + "/admin/keys/new", data={"csrf_token": token, "form_token": form_token,
                   "label": name, "scopes": "keys:read"}, headers={"Origin": base})
        assert r.status_code == 201
        CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))
        assert db_one(stack, "SELECT actor FROM audit_log WHERE action = 'key.create' AND"
                      " changes LIKE %s", f'%{name}%')[0] == usr
        assert count(stack, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.login' AND actor = %s"
                     " AND changes LIKE '%%remote_user%%'", usr) == 1
        # a web-server user who is not a latchkey user gets nothing
        r = requests.get(base + "/admin/keys", auth=("stranger@example.com", "basic pass 2"))
        assert r.status_code == 403 and "REMOTE_USER" in r.text
    finally:
        subprocess.run([str(harness.SCRIPTS / "webserver.sh"), "stop", "apache", str(vardir)],
                       env=stack.env, capture_output=True, timeout=120)
        log = (vardir / "log" / "apache-error.log")
        report = [l for l in (log.read_text(errors="replace").splitlines() if log.exists() else [])
                  if any(p in l for p in harness.SANITIZER_PATTERNS)]
        shutil.rmtree(vardir, ignore_errors=True)
    assert not report, report


def test_console_users_get_the_apis_grant_and_dominance_rules(server):
    """A developer (keys:read keys:write accounts:read verify audit:read webhooks:read) in the
    console is held to the API's rules: it cannot grant a scope it lacks, nor change a key holding
    one."""
    stack = server.stack
    email, pw, _ = make_user(stack, "developer")
    c = Console(server, email, pw)
    label = uid("grant")
    r, _ = c.create_key(label, scopes=("keys:read", "accounts:write"))
    assert r.status_code == 403 and 'id="f-scopes-error"' in r.text and "accounts:write" in r.text
    assert count(stack, "SELECT COUNT(*) FROM api_keys WHERE label = %s", label) == 0
    admin_key = stack.cli("key", "create", "--account", stack.root_account, "--label", uid("adm"),
                          "--scopes", "admin").stdout.strip()
    CREATED_KEYS.append(admin_key)
    kid = requests.get(server.url("/v1/me"), headers=auth(admin_key)).json()["key"]["id"]
    assert c.get(f"/admin/keys/{kid}").status_code == 200            # may read it
    for action, data in (("revoke", {}), ("rotate", {"grace_period": "0"}), ("edit", {"label": "mine"}),
                         ("delete", {})):
        r = c.post(f"/admin/keys/{kid}/{action}", data)
        assert r.status_code == 403, (action, r.status_code)
    row = db_one(stack, "SELECT label, revoked_at FROM api_keys WHERE public_id = %s", kid)
    assert row[0] != "mine" and row[1] is None
    assert requests.post(server.url("/v1/verify"), json={"key": admin_key},
                         headers=auth(admin_key)).json()["valid"] is True


def test_audit_page_shows_whether_the_chain_verifies(server):
    stack = server.stack
    c = owner(server)
    page = c.get("/admin/audit").text
    assert "Verify the audit chain" in page and 'id="chain-result"' not in page
    r = c.get("/admin/audit?verify=1")
    assert r.status_code == 200
    assert re.search(r'id="chain-result"[^>]*>The audit chain verifies: \d+ rows', r.text), r.text[-2000:]
    # from the start the anchor file records (Apache's programs read the copy staged with the key)
    anchored = re.match(r"audit anchor id=(\d+) ", (Path(stack.vardir) / "audit.key.anchor").read_text())
    assert f"from its anchored start (row {anchored.group(1)})" in r.text, r.text[-2000:]
    # an edited row is found (the DB's root edits it; the runtime user could not), then put back
    root = stack.db_connect(root=True, database="latchkey")
    try:
        with root.cursor() as cur:
            cur.execute("SELECT id, public_id, changes FROM audit_log WHERE action = 'key.create'"
                        " ORDER BY id DESC LIMIT 1")
            rid, pid, changes = cur.fetchone()
            cur.execute("UPDATE audit_log SET changes = %s WHERE id = %s", ('{"edited":true}', rid))
            try:
                r = c.get("/admin/audit?verify=1")
                assert "does NOT verify" in r.text and pid in r.text
            finally:
                cur.execute("UPDATE audit_log SET changes = %s WHERE id = %s", (changes, rid))
    finally:
        root.close()
    assert "The audit chain verifies" in c.get("/admin/audit?verify=1").text
    # an emptied log: the anchor says a signed chain began, so it does not verify
    root = stack.db_connect(root=True, database="latchkey")
    try:
        with root.cursor() as cur:
            for t in ("audit_log", "audit_head"):
                cur.execute(f"CREATE TABLE {t}_console_saved LIKE {t}")
                cur.execute(f"INSERT INTO {t}_console_saved SELECT * FROM {t}")
            try:
                cur.execute("DELETE FROM audit_log")
                cur.execute("UPDATE audit_head SET hash = REPEAT(CHAR(0), 32), seq = 0, last_id = 0, key_id = ''")
                r = c.get("/admin/audit?verify=1")
                assert "does NOT verify" in r.text and "the log is empty, but the anchor file" in r.text, r.text[-2000:]
            finally:
                for t in ("audit_log", "audit_head"):
                    cur.execute(f"DELETE FROM {t}")
                    cur.execute(f"INSERT INTO {t} SELECT * FROM {t}_console_saved")
                    cur.execute(f"DROP TABLE {t}_console_saved")
    finally:
        root.close()
    if not server.name.startswith("apache"):  # (Apache's programs read a staged copy)
        # an anchor this program cannot read: the start is not checked, and the page says so
        anchor = Path(stack.vardir) / "audit.key.anchor"
        os.rename(anchor, f"{anchor}.away")
        try:
            text = c.get("/admin/audit?verify=1").text
        finally:
            os.rename(f"{anchor}.away", anchor)
        assert "The audit chain verifies" in text and "Its start is not checked" in text, text[-2000:]
    assert "from its anchored start" in c.get("/admin/audit?verify=1").text
    # only owners of the root account see the chain (it spans every account)
    email, pw, _ = make_user(stack, "owner", account=sub_account(stack))
    assert "Audit chain" not in Console(server, email, pw).get("/admin/audit?verify=1").text


def test_logins_prune_expired_sessions_and_old_failures(server):
    stack = server.stack
    email, pw, _ = make_user(stack, "viewer")
    Console(server, email, pw)                      # a session that is then left alone
    db_exec(stack, "UPDATE sessions s JOIN users u ON u.id = s.user_id SET s.last_seen_at ="
            " s.last_seen_at - 1801 WHERE u.email = %s", email)
    ghost = f"{uid('old')}@example.com"
    requests.post(server.url("/admin/login"), data={"email": ghost, "password": "x" * 12},
                  headers={"Origin": server.base_url}, allow_redirects=False)
    db_exec(stack, "UPDATE login_failures SET window_start = window_start - 901 WHERE subject = %s",
            "email:" + ghost)
    owner(server)                                    # any login tidies up
    assert count(stack, "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id"
                 " WHERE u.email = %s", email) == 0
    assert count(stack, "SELECT COUNT(*) FROM login_failures WHERE subject = %s", "email:" + ghost) == 0


def test_keys_list_filters_paging_and_expiry_banner(server):
    stack = server.stack
    acct = sub_account(stack)
    for i in range(22):
        CREATED_KEYS.append(stack.cli("key", "create", "--account", acct, "--label", f"page-{i:02d}").stdout.strip())
    soon = stack.cli("key", "create", "--account", acct, "--label", "soon", "--expires-in", "3d",
                     "--env", "test").stdout.strip()
    CREATED_KEYS.append(soon)
    c = owner(server)
    r = c.get(f"/admin/keys?account_id={acct}")
    rows = re.findall(r'<tr><td><a href="/admin/keys/(key_[0-9A-Za-z]+)">', r.text)
    assert len(rows) == 20
    assert "1 active key of this account expires within 7 days" in r.text
    nxt = re.search(r'<a href="([^"]+)">Next page</a>', r.text).group(1).replace("&amp;", "&")
    r2 = c.get(nxt)
    rows2 = re.findall(r'<tr><td><a href="/admin/keys/(key_[0-9A-Za-z]+)">', r2.text)
    assert len(rows2) == 3 and not set(rows) & set(rows2) and "Next page" not in r2.text
    # filters: env, label, expiring within 7 days, status
    for query, labels in ((f"env=test", {"soon"}), (f"q=page-0", {f"page-0{i}" for i in range(10)}),
                          ("expiring=7d", {"soon"})):
        t = c.get(f"/admin/keys?account_id={acct}&{query}").text
        assert set(re.findall(r'<tr><td><a href="/admin/keys/key_[0-9A-Za-z]+">([^<]+)</a>', t)) == labels, query
    assert "No keys match." in c.get(f"/admin/keys?account_id={acct}&status=revoked").text
    r = c.get(f"/admin/keys?account_id={acct}&status=bogus")
    assert r.status_code == 400 and "status" in r.text
