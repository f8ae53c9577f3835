"""Helpers for the admin console tests (plain HTTP with requests, and the DB)."""
import re

import requests

from helpers import uid

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
FORM_TOKEN_RE = re.compile(r'name="form_token" value="([0-9A-Za-z]+)"')
KEY_LINK_RE = re.compile(r'/admin/keys/(key_[0-9A-Za-z]+)')
COOKIE = "latchkey_session"      # plain-http dev mode (the test stack sets admin_insecure_cookie)


class Console:
    """A signed-in console session over plain HTTP."""

    def __init__(self, server, email, password):
        self.server = server
        self.base = server.base_url
        self.s = requests.Session()
        r = self.login(email, password)
        assert r.status_code == 303 and r.headers["Location"] == "/admin/keys", (r.status_code, r.text[:300])

    def login(self, email, password, **kw):
        return self.s.post(self.base + "/admin/login", data={"email": email, "password": password},
                           headers={"Origin": self.base}, allow_redirects=False, **kw)

    def get(self, path, **kw):
        kw.setdefault("allow_redirects", False)
        return self.s.get(self.base + path, **kw)

    def csrf(self, path="/admin/keys"):
        r = self.get(path)
        assert r.status_code == 200, (path, r.status_code)
        return CSRF_RE.search(r.text).group(1)

    def post(self, path, data, csrf=True, origin=True, **kw):
        data = dict(data)
        if csrf is True:
            data["csrf_token"] = self.csrf()
        elif csrf:
            data["csrf_token"] = csrf
        headers = kw.pop("headers", {})
        if origin:
            headers.setdefault("Origin", self.base)
        kw.setdefault("allow_redirects", False)
        return self.s.post(self.base + path, data=data, headers=headers, **kw)

    def create_key(self, label, scopes=("keys:read",), account_id=None, meta="", **extra):
        r = self.get("/admin/keys/new")
        assert r.status_code == 200, r.text[:500]
        data = {"form_token": FORM_TOKEN_RE.search(r.text).group(1),
                "csrf_token": CSRF_RE.search(r.text).group(1),
                "label": label, "scopes": list(scopes), "env": "live", "meta": meta}
        if account_id:
            data["account_id"] = account_id
        data.update(extra)
        return self.s.post(self.base + "/admin/keys/new", data=data,
                           headers={"Origin": self.base}, allow_redirects=False), data


def make_user(stack, role, account=None, email=None, password="correct horse 1"):
    """Create a console user with the CLI; returns (email, password, usr_id)."""
    email = email or f"{uid(role)}@example.com"
    r = stack.cli("user", "create", email, "--account", account or stack.root_account,
                  "--role", role, "--password-stdin", input=password + "\n")
    return email, password, r.stdout.strip()


def db_one(stack, sql, *args):
    c = stack.db_connect()
    try:
        with c.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchone()
    finally:
        c.close()


def db_exec(stack, sql, *args):
    c = stack.db_connect()
    try:
        with c.cursor() as cur:
            return cur.execute(sql, args)
    finally:
        c.close()
