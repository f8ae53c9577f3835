"""Shared helpers for the latchkey end-to-end tests.

Everything here talks to the real servers and the real database; nothing is mocked.
All three servers share one database, so every helper creates uniquely named objects
and every DB query is scoped by a public id or a request id.
"""
import datetime
import http.client
import json as _json
import re
import time
import urllib.parse
import uuid

import pymysql
import pymysql.cursors
import pytest
import requests

KEY_RE = re.compile(r"\b[a-z]{2,10}_(live|test)_[0-9A-Za-z]{38}\b")
SANE_RID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
RFC3339_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
KEY_ID_RE = re.compile(r"^key_[0-9A-Za-z]+$")
ACCT_ID_RE = re.compile(r"^acct_[0-9A-Za-z]+$")

KEY_FIELDS = {"id", "account_id", "label", "start", "env", "scopes", "status", "created_at",
              "expires_at", "revoked_at", "last_used_at", "rotated_from", "ratelimit", "meta",
              "revoked_reason", "imported", "allowed_ips", "credits"}
ACCOUNT_FIELDS = {"id", "parent_id", "name", "plan", "created_at", "status", "suspended_at",
                  "suspend_reason", "grantable_scopes", "revoke_after_inactive_days"}

# Every plaintext key any test has seen (create, rotate, CLI). test_secrets checks that none
# of them shows up in the database dump or in any log.
CREATED_KEYS = []

_NOTHING = object()


# ---------------------------------------------------------------- small utilities

def uid(prefix="t"):
    """A unique, label/name-safe token."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_rid():
    """A unique, sane request id (matches [A-Za-z0-9._-]{1,64})."""
    return "rid-" + uuid.uuid4().hex


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(int(ts), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(s):
    assert isinstance(s, str) and RFC3339_RE.match(s), f"not an RFC 3339 UTC time: {s!r}"
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def sleep_past(ts_string, margin=1.2):
    """Sleep until the RFC 3339 time has passed by `margin` seconds."""
    delay = parse_ts(ts_string) + margin - time.time()
    if delay > 0:
        time.sleep(delay)


def auth(key, style="bearer"):
    if key is None:
        return {}
    if style == "bearer":
        return {"Authorization": f"Bearer {key}"}
    if style == "x-api-key":
        return {"X-API-Key": key}
    raise ValueError(style)


def _remember_keys(resp):
    try:
        body = resp.json()
    except ValueError:
        return
    if isinstance(body, dict) and isinstance(body.get("key"), str) and KEY_RE.search(body["key"]):
        CREATED_KEYS.append(body["key"])


def call(server, method, path, key=None, *, body=_NOTHING, data=None, headers=None, params=None,
         style="bearer", rid=None, timeout=60):
    """One HTTP request to a server. `body` is JSON-encoded (None -> JSON null);
    `data` is sent as-is (str/bytes/dict for urlencoded forms)."""
    h = {}
    h.update(auth(key, style))
    if rid is not None:
        h["X-Request-Id"] = rid
    kwargs = {}
    if body is not _NOTHING:
        kwargs["data"] = _json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    elif data is not None:
        kwargs["data"] = data
    if headers:
        h.update(headers)
    resp = requests.request(method, server.base_url + path, headers=h, params=params,
                            timeout=timeout, allow_redirects=False, **kwargs)
    _remember_keys(resp)
    return resp


def raw_request(server, method, path, headers=(), body=None, timeout=60):
    """http.client request for header values requests refuses (leading whitespace etc.).
    headers is a list of (name, value) pairs, sent verbatim. Returns (status, headers, bytes)."""
    u = urllib.parse.urlsplit(server.base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        return r.status, r, data
    finally:
        conn.close()


def jbody(resp):
    try:
        return resp.json()
    except ValueError:
        pytest.fail(f"{resp.request.method} {resp.url} -> {resp.status_code}, not JSON: {resp.text[:400]!r}")


def expect(resp, status):
    """Assert the status and return the parsed JSON body (None for 204)."""
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.url} -> {resp.status_code} (wanted {status}): {resp.text[:600]}")
    if status == 204:
        assert resp.content == b"", f"204 with a body: {resp.content[:200]!r}"
        return None
    return jbody(resp)


# ---------------------------------------------------------------- response checks

_SQL_RE = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|WHERE|SQLSTATE|mysql_\w+|"
                     r"Duplicate entry|SQL syntax|You have an error in your SQL|errno)\b")
_PATH_RE = re.compile(r"(/work/|/tmp/|/usr/|/home/|/var/|/etc/|/root/|/build/|\w+\.[ch]:\d+|\.fcgi\b|\.so\b)")
_HEX_RE = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])")


def assert_no_leaks(text, allowed=()):
    """No SQL text, file paths, hex digests or key plaintexts in a response body."""
    for a in allowed:
        if a:
            text = text.replace(a, "")
    for rx, what in ((_SQL_RE, "SQL text"), (_PATH_RE, "a file path"), (_HEX_RE, "a hex digest"),
                     (KEY_RE, "a key plaintext")):
        m = rx.search(text)
        assert not m, f"response body contains {what}: {m.group(0)!r} in {text[:500]!r}"


def assert_common_headers(resp):
    cc = resp.headers.get("Cache-Control", "")
    assert "no-store" in cc, f"{resp.request.method} {resp.url} -> {resp.status_code}: Cache-Control {cc!r}"
    rid = resp.headers.get("X-Request-Id")
    assert rid and SANE_RID_RE.match(rid), f"bad X-Request-Id {rid!r}"
    assert resp.headers.get("X-Content-Type-Options", "").lower() == "nosniff", resp.headers


def assert_error(resp, status, code, field=None):
    """Assert the documented error shape; return the error object."""
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.url} -> {resp.status_code} (wanted {status} {code}): {resp.text[:600]}")
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith("application/json"), f"error Content-Type {ctype!r}"
    body = jbody(resp)
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert err.get("code") == code, f"wanted code {code}, got {err}"
    assert err.get("status") == status, err
    assert isinstance(err.get("message"), str) and err["message"].strip(), err
    assert isinstance(err.get("request_id"), str) and err["request_id"], err
    assert err["request_id"] == resp.headers.get("X-Request-Id"), (err, resp.headers.get("X-Request-Id"))
    if "details" in err:
        assert isinstance(err["details"], dict), err
    if field is not None:
        assert (err.get("details") or {}).get("field") == field, f"wanted details.field={field!r}: {err}"
    assert "no-store" in resp.headers.get("Cache-Control", ""), resp.headers
    assert_no_leaks(resp.text, allowed=(err["request_id"],))
    return err


def assert_key_object(obj, *, with_plaintext=False):
    allowed = KEY_FIELDS | ({"key"} if with_plaintext else set())
    assert set(obj) == allowed, f"key object fields {sorted(obj)} != {sorted(allowed)}"
    assert KEY_ID_RE.match(obj["id"]), obj
    assert ACCT_ID_RE.match(obj["account_id"]), obj
    assert obj["status"] in ("active", "revoked", "expired"), obj
    assert obj["env"] in ("live", "test"), obj
    assert isinstance(obj["scopes"], list), obj
    assert isinstance(obj["meta"], dict), obj
    parse_ts(obj["created_at"])
    for f in ("expires_at", "revoked_at", "last_used_at"):
        if obj[f] is not None:
            parse_ts(obj[f])
    if with_plaintext:
        assert KEY_RE.fullmatch(obj["key"]), obj["key"]
        assert obj["key"].startswith(obj["start"]), obj
        assert len(obj["start"]) == obj["key"].index(f"_{obj['env']}_") + len(obj["env"]) + 2 + 8, obj
    else:
        assert not KEY_RE.search(_json.dumps(obj)), f"plaintext in a key object: {obj}"


# ---------------------------------------------------------------- API shortcuts

def make_account(server, caller=None, name=None, parent_id=None, plan=None, **extra):
    caller = caller or server.admin_key
    b = {"name": name or uid("acct")}
    if parent_id is not None:
        b["parent_id"] = parent_id
    if plan is not None:
        b["plan"] = plan
    b.update(extra)
    acct = expect(call(server, "POST", "/v1/accounts", caller, body=b), 201)
    assert ACCT_ID_RE.match(acct["id"]), acct
    return acct


def create_key(server, caller=None, account_id=None, label=None, scopes=("verify",), status=201, **fields):
    """POST /v1/keys; returns the body (key object + "key" plaintext)."""
    caller = caller or server.admin_key
    b = {"label": label or uid("key"), "scopes": list(scopes)}
    if account_id is not None:
        b["account_id"] = account_id
    b.update(fields)
    k = expect(call(server, "POST", "/v1/keys", caller, body=b), status)
    if status == 201:
        assert_key_object(k, with_plaintext=True)
    return k


class Tenant:
    """A fresh account (child of the root account unless parent given) plus one key in it."""

    def __init__(self, account, key_obj):
        self.account = account
        self.account_id = account["id"]
        self.key_obj = key_obj
        self.key = key_obj["key"]
        self.key_id = key_obj["id"]

    def __repr__(self):
        return f"Tenant({self.account_id}, {self.key_obj['scopes']})"


ALL_NON_ADMIN = ("keys:read", "keys:write", "accounts:read", "accounts:write", "verify", "audit:read")


def make_tenant(server, scopes=("admin",), parent_id=None, plan="enterprise", name=None):
    """Account + key with `scopes`, both made with the root admin key.
    Plan defaults to enterprise so later rate limiting cannot interfere with functional tests."""
    acct = make_account(server, name=name or uid("tenant"), parent_id=parent_id, plan=plan)
    k = create_key(server, server.admin_key, account_id=acct["id"], label=uid("tenant-key"), scopes=scopes)
    assert k["account_id"] == acct["id"], k
    return Tenant(acct, k)


def get_key(server, caller, key_id):
    return expect(call(server, "GET", f"/v1/keys/{key_id}", caller), 200)


def verify(server, caller, key, scopes=None, rid=None):
    """POST /v1/verify; asserts 200 and returns the body."""
    b = {"key": key}
    if scopes is not None:
        b["scopes"] = list(scopes)
    r = call(server, "POST", "/v1/verify", caller, body=b, rid=rid)
    v = expect(r, 200)
    assert isinstance(v.get("valid"), bool), v
    assert v["valid"] == (v.get("code") == "VALID"), v
    if "key" in v:
        assert not KEY_RE.search(_json.dumps(v["key"])), v
    return v


def assert_verify(server, caller, key, code, scopes=None, key_id=None):
    v = verify(server, caller, key, scopes)
    assert v["code"] == code, f"verify wanted {code}, got {v}"
    assert v["valid"] is (code == "VALID"), v
    if code == "INVALID_API_KEY":
        assert "key" not in v, f"INVALID_API_KEY must not carry a key object: {v}"
    elif key_id is not None:
        assert v.get("key", {}).get("id") == key_id, v
    return v


def list_all(server, caller, path, params=None, limit=None, max_pages=200):
    """Walk every page of a list endpoint; returns the items in order."""
    items, cursor, pages = [], None, 0
    while True:
        p = dict(params or {})
        if limit is not None:
            p["limit"] = limit
        if cursor is not None:
            p["cursor"] = cursor
        page = expect(call(server, "GET", path, caller, params=p), 200)
        assert set(page) == {"data", "next_cursor"}, page
        assert isinstance(page["data"], list), page
        if limit is not None:
            assert len(page["data"]) <= limit, page
        items.extend(page["data"])
        cursor = page["next_cursor"]
        pages += 1
        assert pages <= max_pages, "pagination does not terminate"
        if cursor is None:
            return items
        assert isinstance(cursor, str) and cursor, page


# ---------------------------------------------------------------- database

def db_query(stack, sql, args=()):
    conn = stack.db_connect()
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())
    finally:
        conn.close()


def key_row(stack, key_id):
    rows = db_query(stack, "SELECT * FROM api_keys WHERE public_id = %s", (key_id,))
    return rows[0] if rows else None


def account_row(stack, acct_id):
    rows = db_query(stack, "SELECT * FROM accounts WHERE public_id = %s", (acct_id,))
    return rows[0] if rows else None


def key_count(stack, acct_id):
    return db_query(stack, "SELECT COUNT(*) AS n FROM api_keys k JOIN accounts a ON a.id = k.account_id "
                           "WHERE a.public_id = %s", (acct_id,))[0]["n"]


def child_count(stack, acct_id):
    return db_query(stack, "SELECT COUNT(*) AS n FROM accounts c JOIN accounts p ON p.id = c.parent_id "
                           "WHERE p.public_id = %s", (acct_id,))[0]["n"]


def audit_by_target(stack, target_id):
    return db_query(stack, "SELECT * FROM audit_log WHERE target_id = %s ORDER BY id", (target_id,))


def audit_by_rid(stack, rid):
    return db_query(stack, "SELECT * FROM audit_log WHERE request_id = %s ORDER BY id", (rid,))


def stable(row, drop=("last_used_at",)):
    """A DB row without columns that legitimately change on reads."""
    return None if row is None else {k: v for k, v in row.items() if k not in drop}


def read_logs(stack):
    """{path: text} of every log file; asserts the logs are really there (so a scan is not vacuous)."""
    out = {}
    for path in stack.all_log_paths():
        try:
            out[str(path)] = open(path, "rb").read().decode("utf-8", "replace")
        except (FileNotFoundError, IsADirectoryError):
            continue
    assert out, "no log files found"
    assert any("/v1/" in text for text in out.values()), f"no access log with requests among {sorted(out)}"
    return out


def wait_for_lock_wait(stack, bound=30):
    """Block until some transaction in the DB waits for a row lock (bounded by `bound` seconds: a
    hang guard, not a timing assertion). For tests that hold a lock with PyMySQL and need to know
    that an API request has run into it. InnoDB refreshes INNODB_TRX only after 100 ms without
    reads, so every read here follows a 250 ms pause (a read sooner could show a stale wait)."""
    root = stack.db_connect(root=True)
    try:
        end = time.time() + bound
        while time.time() < end:
            time.sleep(0.25)
            with root.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'")
                if cur.fetchone()[0] > 0:
                    return
        raise AssertionError("no transaction ever waited for a row lock")
    finally:
        root.close()
