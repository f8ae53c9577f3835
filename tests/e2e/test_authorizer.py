"""The FastCGI authorizer (cgi-bin/authorize) in front of the demo PHP app at /demo/, on lighttpd
("mode" => "authorizer" + php-cgi), Apache with mod_fcgid and Apache with mod_proxy_fcgi (both:
mod_authnz_fcgi, the authorizer in a latchkey-pool outside Apache).

The demo app appends the request's X-Request-Id to server.demo_log every time it runs, so every
refusal below also proves the app did NOT run. Rules (harness.AUTHZ_RULES):
  /demo/ GET,POST demo:read   /demo/admin/ demo:admin   /demo/hello.txt any-key   default deny
"""
import concurrent.futures
import json
import os
import random
import signal
import socket
import struct
import subprocess
import tempfile
import time
import zlib

import pytest

import harness
from helpers import call, create_key, db_query, expect, make_tenant, new_rid, raw_request
from procs import children, read, signal_quietly, wait_gone

NAMES = [n for n in harness.AUTHORIZER_SERVERS if n in harness.server_names_from_env()]
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
APP = "/demo/index.php"


@pytest.fixture(params=NAMES, ids=NAMES)
def srv(request, stack):
    return stack.servers[request.param]


def ran(srv, rid):
    """True if the demo app ran for the request with this X-Request-Id."""
    try:
        return rid in open(srv.demo_log).read().split()
    except FileNotFoundError:
        return False


def app_call(srv, key=None, *, path=APP, method="GET", style="bearer", headers=None):
    """One request to the protected app; returns (response, rid)."""
    rid = new_rid()
    r = call(srv, method, path, key, style=style, rid=rid, headers=headers)
    return r, rid


def error_of(r):
    """The latchkey error in a refusal. Apache relabels it text/html; the body is our JSON."""
    if not srv_is_apache(r):
        assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    return r.json()["error"]


def srv_is_apache(r):
    return r.headers.get("Server", "").startswith("Apache")


def refused(srv, key, status, code, *, path=APP, method="GET", style="bearer", headers=None):
    r, rid = app_call(srv, key, path=path, method=method, style=style, headers=headers)
    assert r.status_code == status, (path, r.status_code, r.text[:300])
    err = error_of(r)
    assert err["code"] == code and err["status"] == status, err
    if status == 401:
        assert r.headers.get("WWW-Authenticate") == 'Bearer realm="latchkey"', r.headers
    assert not ran(srv, rid), f"the app ran for a refused request ({code})"
    return err


def allowed(srv, key, *, path=APP, method="GET", style="bearer"):
    r, rid = app_call(srv, key, path=path, method=method, style=style)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    assert ran(srv, rid), "the app did not record its run"
    return r.json(), rid


def unknown_key(env="live"):
    """A well-formed key (right checksum) that no database holds."""
    body = "".join(random.choice(BASE62) for _ in range(32))
    head = f"lk_{env}_{body}"
    v = zlib.crc32(head.encode())
    check = ""
    for _ in range(6):
        check = BASE62[v % 62] + check
        v //= 62
    return head + check


def test_refusals_never_run_the_app(srv, stack):
    t = make_tenant(srv, scopes=["admin"])
    good = create_key(srv, t.key, scopes=["demo:read"])
    plain = good["key"]
    bad_checksum = plain[:-1] + ("A" if plain[-1] != "A" else "B")

    refused(srv, None, 401, "MISSING_API_KEY")
    refused(srv, None, 401, "MISSING_API_KEY", headers={"X-API-Key": ""})
    for cand in ("nonsense", "lk_live_", bad_checksum, plain[:-2], unknown_key()):
        for style in ("bearer", "x-api-key"):
            refused(srv, cand, 401, "INVALID_API_KEY", style=style)
    refused(srv, None, 401, "INVALID_API_KEY", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    revoked = create_key(srv, t.key, scopes=["demo:read"])
    expect(call(srv, "POST", f"/v1/keys/{revoked['id']}/revoke", t.key), 200)
    err = refused(srv, revoked["key"], 401, "REVOKED_API_KEY")
    assert "revoked_at" in err["details"], err

    deleted = create_key(srv, t.key, scopes=["demo:read"])
    expect(call(srv, "DELETE", f"/v1/keys/{deleted['id']}", t.key), 204)
    refused(srv, deleted["key"], 401, "INVALID_API_KEY")

    expiring = create_key(srv, t.key, scopes=["demo:read"], expires_in=1)
    time.sleep(2.2)
    err = refused(srv, expiring["key"], 401, "EXPIRED_API_KEY")
    assert err["details"]["expired_at"] == expiring["expires_at"], err

    wrong = create_key(srv, t.key, scopes=["verify", "demo:other"])
    err = refused(srv, wrong["key"], 403, "FORBIDDEN")
    assert err["details"]["required_scope"] == "demo:read", err

    # the same good key passes: the record above is real
    allowed(srv, plain)


def test_good_key_app_sees_every_variable(srv):
    t = make_tenant(srv, scopes=["admin"])
    label = "Zoë's café ☕ \u2028 line-separator, \"quoted\" % 100"
    k = create_key(srv, t.key, label=label, scopes=["demo:read", "tasks:*"], env="test",
                   ratelimit={"limit": 1000, "window": 86400})
    for n, style in enumerate(("bearer", "x-api-key"), start=1):
        seen, rid = allowed(srv, k["key"], style=style)
        assert seen["LATCHKEY_RATELIMIT_LIMIT"] == "1000", seen
        assert seen["LATCHKEY_RATELIMIT_REMAINING"] == str(1000 - n), seen
        assert 1 <= int(seen["LATCHKEY_RATELIMIT_RESET"]) <= 86400, seen
        assert seen["LATCHKEY_KEY_ID"] == k["id"], seen
        assert seen["LATCHKEY_ACCOUNT_ID"] == t.account_id, seen
        assert seen["LATCHKEY_SCOPES"].split() == k["scopes"], seen
        assert seen["LATCHKEY_ENV"] == "test", seen
        assert seen["LATCHKEY_KEY_LABEL"] == label, seen
        assert seen["LATCHKEY_REQUEST_ID"] == rid, seen
        assert seen["uri"] == APP and seen["method"] == "GET", seen
    # POST is allowed by the same rule; the directory index too
    allowed(srv, k["key"], method="POST")
    seen, _ = allowed(srv, k["key"], path="/demo/")
    assert seen["LATCHKEY_KEY_ID"] == k["id"]


def test_longest_prefix_and_methods(srv):
    t = make_tenant(srv, scopes=["admin"])
    reader = create_key(srv, t.key, scopes=["demo:read"])["key"]
    admin_only = create_key(srv, t.key, scopes=["demo:admin"])["key"]
    # /demo/admin/ needs demo:admin (longest prefix), not demo:read
    err = refused(srv, reader, 403, "FORBIDDEN", path="/demo/admin/index.php")
    assert err["details"]["required_scope"] == "demo:admin"
    allowed(srv, admin_only, path="/demo/admin/index.php")
    allowed(srv, admin_only, path="/demo/admin/")
    refused(srv, admin_only, 403, "FORBIDDEN", path=APP)
    # a method no rule names falls to the default rule (deny): not even the admin key gets in
    refused(srv, admin_only, 403, "FORBIDDEN", path=APP, method="DELETE")
    refused(srv, reader, 403, "FORBIDDEN", path=APP, method="PUT")
    # the builtin admin scope covers every scope a rule asks for
    allowed(srv, srv.admin_key, path="/demo/admin/index.php")


def test_rate_limited_exactly_l_of_n(srv, stack):
    """N concurrent requests with a key limited to L: exactly L reach the app, the rest are 429."""
    L, N, DAY = 5, 24, 86400
    t = make_tenant(srv, scopes=["admin"])
    for _ in range(2):          # a second try only if the burst straddled UTC midnight
        day = int(time.time()) // DAY
        k = create_key(srv, t.key, scopes=["demo:read"], ratelimit={"limit": L, "window": DAY})
        with concurrent.futures.ThreadPoolExecutor(max_workers=N) as ex:
            results = list(ex.map(lambda _: app_call(srv, k["key"]), range(N)))
        if int(time.time()) // DAY == day:
            break
    ok = [(r, rid) for r, rid in results if r.status_code == 200]
    limited = [(r, rid) for r, rid in results if r.status_code == 429]
    assert len(ok) == L and len(limited) == N - L, sorted(r.status_code for r, _ in results)
    assert all(ran(srv, rid) for _, rid in ok)
    assert not any(ran(srv, rid) for _, rid in limited)
    for r, _ in limited:
        err = error_of(r)
        assert err["code"] == "RATE_LIMITED", err
        assert int(r.headers["Retry-After"]) >= 1, dict(r.headers)
        assert err["details"]["retry_after"] == int(r.headers["Retry-After"]), err
        assert r.headers["RateLimit-Limit"] == str(L) and r.headers["RateLimit-Remaining"] == "0"
        assert r.headers["RateLimit-Policy"] == f'"default";q={L};w={DAY}', dict(r.headers)
    # every check counted once: L valid + (N - L) rate limited in the key's usage
    rows = db_query(stack, "SELECT SUM(valid) AS v, SUM(rate_limited) AS r FROM key_usage u"
                           " JOIN api_keys k ON k.id = u.key_id WHERE k.public_id = %s", (k["id"],))
    assert (rows[0]["v"], rows[0]["r"]) == (L, N - L), rows


def test_static_file_any_key(srv):
    t = make_tenant(srv, scopes=["admin"])
    k = create_key(srv, t.key, scopes=["verify"])["key"]
    r = call(srv, "GET", "/demo/hello.txt", k)
    assert r.status_code == 200 and "static file" in r.text, r.text
    for key in (None, "nonsense"):
        r = call(srv, "GET", "/demo/hello.txt", key)
        assert r.status_code == 401 and "static file" not in r.text, r.text


def test_paths_are_normalised_before_matching(srv):
    """Dot segments, doubled slashes and %-escapes cannot dodge the /demo/admin/ rule."""
    t = make_tenant(srv, scopes=["admin"])
    reader = create_key(srv, t.key, scopes=["demo:read"])["key"]
    for path in ("/demo/x/../admin/index.php", "/demo/./admin/index.php", "/demo//admin/index.php",
                 "/demo/%61dmin/index.php", "/demo/x/%2e%2e/admin/index.php"):
        rid = new_rid()
        status, resp, data = raw_request(srv, "GET", path, headers=[("X-Request-Id", rid),
                                                                   ("Authorization", f"Bearer {reader}")])
        assert status in (400, 403, 404), (path, status, data[:200])
        assert not ran(srv, rid), path


def test_key_in_the_query_string_is_refused(srv):
    """As on the API: a key in the URL is 400 and the app does not run, even with a good key in
    the header; by shape only (parameter names are the app's), in any name or value."""
    t = make_tenant(srv, scopes=["admin"])
    good = create_key(srv, t.key, scopes=["demo:read"])
    other = create_key(srv, t.key, scopes=["demo:read"], env="test")["key"]
    shaped = "lk_live_" + "Q" * 38                  # key-shaped, never issued
    encoded = "lk%5Flive%5F" + good["key"][8:]     # the key, %-escaped
    for path in (f"/demo/?x={good['key']}", f"{APP}?x={other}", f"{APP}?{good['key']}",
                 f"{APP}?a=1&b=%20{shaped}", f"{APP}?x={encoded}", f"{APP}?{shaped}=1",
                 f"/demo/hello.txt?x={other}", f"/demo/admin/?k={shaped}"):
        err = refused(srv, good["key"], 400, "VALIDATION_ERROR", path=path)
        assert "API keys must not be sent in the URL" in err["message"], err
        assert good["key"] not in json.dumps(err) and shaped not in json.dumps(err), err
    refused(srv, good["key"], 400, "VALIDATION_ERROR", path=f"{APP}?x=%FF")   # cannot be checked
    # none of those used the header's key
    assert expect(call(srv, "GET", f"/v1/keys/{good['id']}", t.key), 200)["last_used_at"] is None
    # other queries go through, the app's parameter names included
    for query in ("x=hello", "api_key=not-a-key", "token=abc&page=2", "q=lk_live_short"):
        seen, _ = allowed(srv, good["key"], path=f"{APP}?{query}")
        assert seen.get("LATCHKEY_KEY_ID") == good["id"], seen


def raw_socket(srv, head):
    """Send a raw request head (bytes) and return the status code (0 if the server just closed)."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(head)
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    return int(data.split()[1]) if data.startswith(b"HTTP/") else 0


def test_crlf_and_huge_headers(srv):
    t = make_tenant(srv, scopes=["admin"])
    k = create_key(srv, t.key, scopes=["demo:read"])["key"]
    for value in (f"{k}\r\n\tX-Injected: 1".encode(), f"{k}\rX".encode(), f"{k}\nX".encode(),
                  f"Bearer {k}\x00".encode(), b"A" * 200000, ("lk_live_" + "A" * 20000).encode()):
        for name in (b"X-API-Key", b"Authorization"):
            rid = new_rid()
            head = (b"GET " + APP.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    b"X-Request-Id: " + rid.encode() + b"\r\n" + name + b": " + value + b"\r\n\r\n")
            status = raw_socket(srv, head)
            assert status != 200 and (status == 0 or 400 <= status < 500), (name, value[:40], status)
            assert not ran(srv, rid), (name, value[:40])


def test_revocation_takes_effect_on_the_next_request(srv):
    t = make_tenant(srv, scopes=["admin"])
    k = create_key(srv, t.key, scopes=["demo:read"])
    allowed(srv, k["key"])
    expect(call(srv, "POST", f"/v1/keys/{k['id']}/revoke", t.key), 200)
    refused(srv, k["key"], 401, "REVOKED_API_KEY")
    expect(call(srv, "POST", f"/v1/keys/{k['id']}/reactivate", t.key), 200)
    allowed(srv, k["key"])


def authorizer_pids(srv):
    """pids of the authorize.fcgi processes serving srv."""
    if srv.kind.startswith("apache"):
        parent = srv.pool_pid("authorize")
    else:
        parent = srv.pid()
    return children(parent, comm_prefix="authorize") if parent else []


def test_authorizer_killed(srv):
    """A dead authorizer never lets a request through, and it comes back."""
    t = make_tenant(srv, scopes=["admin"])
    k = create_key(srv, t.key, scopes=["demo:read"])["key"]
    allowed(srv, k)
    old = authorizer_pids(srv)
    assert old, "no authorize process found"
    for pid in old:
        signal_quietly(pid, signal.SIGKILL)
    # until it is back: every answer is a refusal or an error, and the app runs only for good keys
    deadline = time.time() + 60
    while True:
        r, rid = app_call(srv, None)
        assert r.status_code in (401, 500, 502, 503), (r.status_code, r.text[:200])
        assert not ran(srv, rid)
        r, rid = app_call(srv, k)
        if r.status_code == 200:
            assert ran(srv, rid)
            break
        assert r.status_code >= 500, (r.status_code, r.text[:200])
        assert not ran(srv, rid)
        assert time.time() < deadline, "the authorizer did not come back"
        time.sleep(0.2)
    assert set(authorizer_pids(srv)).isdisjoint(old)


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("apache")])
def test_authorizer_down_is_500_on_apache(stack, name):
    """With the whole authorizer pool stopped, mod_authnz_fcgi answers 500 and the app never runs;
    the pool started again (same command) serves again."""
    srv = stack.servers[name]
    k = create_key(srv, srv.admin_key, scopes=["demo:read"])["key"]
    pid = srv.pool_pid("authorize")
    cmd = read(pid, "cmdline", binary=True).split(b"\0")[:-1]
    env = dict(e.split(b"=", 1) for e in read(pid, "environ", binary=True).split(b"\0") if b"=" in e)
    signal_quietly(pid, signal.SIGTERM)
    assert wait_gone(pid, 30), "the authorizer pool did not stop"
    try:
        for key in (k, None):
            r, rid = app_call(srv, key)
            assert r.status_code == 500, (r.status_code, r.text[:200])
            assert not ran(srv, rid)
    finally:
        log = open(srv.error_logs[0], "ab")
        subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True, cwd="/")
    deadline = time.time() + 30
    while True:
        r, rid = app_call(srv, k)
        if r.status_code == 200:
            break
        assert r.status_code == 500 and time.time() < deadline, (r.status_code, r.text[:200])
        time.sleep(0.2)
    assert ran(srv, rid)


def test_responder_role_is_a_clear_500(stack):
    """authorize run as a plain CGI/responder names the misconfiguration."""
    env = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/x", "LATCHKEY_CONF": str(stack.conf_path),
           "PATH": "/usr/bin:/bin"}
    env.update({k: v for k, v in stack.env.items() if k.endswith("SAN_OPTIONS")})
    r = subprocess.run([str(stack.bin_dir / "authorize.fcgi")], env=env, capture_output=True,
                       text=True, stdin=subprocess.DEVNULL, timeout=30)
    assert r.stdout.startswith("Status: 500"), r.stdout
    assert "AUTHORIZER role" in r.stdout and "misconfiguration" in r.stdout, r.stdout
    assert "runtime error" not in r.stderr and "AddressSanitizer" not in r.stderr, r.stderr


# ---- the authorizer spoken to directly (FCGI_ROLE=AUTHORIZER), under its own latchkey-pool

def fcgi_authorize(sock_path, params):
    """One FastCGI request in the AUTHORIZER role; returns (status, headers dict, body)."""
    def record(rtype, content=b""):
        return struct.pack(">BBHHBB", 1, rtype, 1, len(content), 0, 0) + content

    def pair(name, value):
        out = b""
        for n in (len(name), len(value)):
            out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
        return out + name + value

    body = b"".join(pair(k.encode(), v.encode()) for k, v in params.items())
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(sock_path)
        s.sendall(record(1, struct.pack(">HB5x", 2, 0)) + record(4, body) + record(4) + record(5))
        data, out = b"", b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        while len(data) >= 8:
            _, rtype, _, clen, plen, _ = struct.unpack(">BBHHBB", data[:8])
            if rtype == 6:
                out += data[8:8 + clen]
            data = data[8 + clen + plen:]
    head, _, rest = out.decode().partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = dict(l.split(": ", 1) for l in lines[1:])
    return int(lines[0].split()[1]), headers, rest


@pytest.fixture
def authz_pool(stack, request):
    """latchkey-authorize on a unix socket; request.param: LATCHKEY_AUTHZ_SCOPES or None."""
    d = tempfile.mkdtemp(prefix="lk-authz-", dir="/tmp")
    sock = f"{d}/authorize.sock"
    env = {k: v for k, v in stack.env.items() if k.endswith("SAN_OPTIONS")}
    env.update(PATH="/usr/bin:/bin", LATCHKEY_CONF=str(stack.conf_path))
    if request.param is not None:
        env["LATCHKEY_AUTHZ_SCOPES"] = request.param
    log = open(f"{d}/pool.log", "ab")
    # latchkey-authorize: the installed command (latchkey-pool running authorize.fcgi)
    proc = subprocess.Popen([str(stack.bin_dir / "latchkey-authorize"), "--listen", f"unix:{sock}",
                             "--workers", "1"],
                            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            start_new_session=True)
    try:
        deadline = time.time() + 30
        while not os.path.exists(sock):
            assert time.time() < deadline and proc.poll() is None, open(f"{d}/pool.log").read()
            time.sleep(0.05)
        yield sock
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        log.close()
        text = open(f"{d}/pool.log").read()
        assert not any(p in text for p in harness.SANITIZER_PATTERNS), text


def ask(sock, key, path="/anywhere/else", method="GET"):
    params = {"REQUEST_METHOD": method, "REQUEST_URI": path, "SCRIPT_NAME": path,
              "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1"}
    if key is not None:
        params["HTTP_X_API_KEY"] = key
    return fcgi_authorize(sock, params)


@pytest.mark.parametrize("authz_pool", [None], indirect=True)
def test_direct_rules_and_default(stack, authz_pool):
    srv = next(iter(stack.servers.values()))
    t = make_tenant(srv, scopes=["admin"])
    reader = create_key(srv, t.key, scopes=["demo:read"], label="line one")
    # an unconfigured prefix follows authz_default (deny): 403 without reading the key
    status, headers, body = ask(authz_pool, None)
    assert status == 403 and json.loads(body)["error"]["code"] == "FORBIDDEN", body
    # a configured one: 200, every variable, no raw CR/LF anywhere
    status, headers, body = ask(authz_pool, reader["key"], "/demo/x")
    assert status == 200 and body == "", (status, body)
    assert headers["Variable-LATCHKEY_KEY_ID"] == reader["id"]
    assert headers["Variable-LATCHKEY_ACCOUNT_ID"] == t.account_id
    assert headers["Variable-LATCHKEY_SCOPES"] == "demo:read"
    assert headers["Variable-LATCHKEY_ENV"] == "live"
    assert headers["Variable-LATCHKEY_KEY_LABEL"] == "line one"
    assert headers["Variable-LATCHKEY_RATELIMIT_LIMIT"] == "6000"      # enterprise plan, per 60 s
    assert int(headers["Variable-LATCHKEY_RATELIMIT_REMAINING"]) < 6000
    # undecodable paths are refused, never matched
    for bad in ("/demo/%00", "/demo/%zz", "/.."):
        status, _, body = ask(authz_pool, reader["key"], bad)
        assert status == 400, (bad, status, body)


@pytest.mark.parametrize("authz_pool", ["demo:admin"], indirect=True)
def test_direct_environment_override(stack, authz_pool):
    srv = next(iter(stack.servers.values()))
    t = make_tenant(srv, scopes=["admin"])
    reader = create_key(srv, t.key, scopes=["demo:read"])["key"]
    admin = create_key(srv, t.key, scopes=["demo:admin"])["key"]
    # LATCHKEY_AUTHZ_SCOPES replaces the rules: /demo/ now needs demo:admin, and so does any path
    for path in ("/demo/index.php", "/anywhere/else"):
        status, _, body = ask(authz_pool, reader, path)
        assert status == 403 and json.loads(body)["error"]["details"]["required_scope"] == "demo:admin"
        status, headers, _ = ask(authz_pool, admin, path, method="DELETE")
        assert status == 200 and headers["Variable-LATCHKEY_SCOPES"] == "demo:admin"


@pytest.mark.parametrize("authz_pool", ["Not A Scope!"], indirect=True)
def test_direct_invalid_override_is_500(stack, authz_pool):
    srv = next(iter(stack.servers.values()))
    k = create_key(srv, srv.admin_key, scopes=["demo:read"])["key"]
    status, _, body = ask(authz_pool, k, "/demo/x")
    assert status == 500 and "LATCHKEY_AUTHZ_SCOPES" in body, body


@pytest.mark.parametrize("authz_pool", [None], indirect=True)
def test_direct_responder_role_is_500(authz_pool):
    """Configured as a responder (cgi-fcgi speaks RESPONDER), it names the misconfiguration."""
    env = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/demo/", "REQUEST_URI": "/demo/",
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run(["cgi-fcgi", "-bind", "-connect", authz_pool], env=env, capture_output=True,
                         text=True, timeout=60).stdout
    assert out.startswith("Status: 500") and "RESPONDER role" in out, out
