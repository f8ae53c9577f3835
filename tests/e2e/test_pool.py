"""latchkey-pool: the prefork pool that runs a latchkey program outside the web server.

On the apache-proxy server every API program runs in a pool (one per program); these tests check
that only the server's user can reach the pools' sockets, kill a worker, reload with SIGHUP while
clients keep calling, and run a pool of their own to check that SIGTERM leaves nothing running
(even with a request in flight) and that public addresses are refused.
"""
import os
import pwd
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import harness
from helpers import call, expect, make_tenant
from procs import alive, children, signal_quietly

PROXY = "apache-proxy"
needs_proxy = pytest.mark.skipif(PROXY not in harness.server_names_from_env(),
                                 reason="apache-proxy is not among LATCHKEY_E2E_SERVERS")


def wait_for(cond, what, secs=30):
    deadline = time.time() + secs
    while not cond():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


PROGRAMS = ("keys", "key", "verify", "me", "accounts", "audit", "admin", "notfound")


def connect_as(uid, gid, path):
    """Try to connect to the unix socket path as uid/gid (no groups); returns the errno name or "ok"."""
    code = ("import socket, sys, errno\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "try:\n    s.connect(sys.argv[1])\nexcept OSError as e:\n    print(errno.errorcode[e.errno])\n"
            "else:\n    print('ok')\n")
    r = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                        sys.executable, "-c", code, path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r
    return r.stdout.strip()


@needs_proxy
def test_sockets_are_only_for_the_server_user(stack):
    """The pools' sockets: 0600, owned by the user Apache and the pools run as, in a 0700
    directory of that user; another local user cannot connect (and so cannot pick REMOTE_ADDR)."""
    srv = stack.servers[PROXY]
    root = os.geteuid() == 0
    user = pwd.getpwnam("nobody") if root else pwd.getpwuid(os.geteuid())   # scripts/webserver.sh
    run = srv.stage_dir() / "run"
    st = os.stat(run)
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == user.pw_uid, (oct(st.st_mode), st.st_uid)
    for p in PROGRAMS:
        sock = run / f"{p}.sock"
        st = os.stat(sock)
        assert stat.S_ISSOCK(st.st_mode), sock
        assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == user.pw_uid, (p, oct(st.st_mode), st.st_uid)
        with open(f"/proc/{srv.pool_pid(p)}/status") as f:
            uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
        assert set(uids) == {str(user.pw_uid)}, (p, uids)
    # Apache (that user) reaches every program
    t = make_tenant(srv, scopes=["keys:read"])
    assert expect(call(srv, "GET", "/v1/me", t.key), 200)["key"]["id"] == t.key_id
    if not root:
        pytest.skip("connecting as another user needs root (setpriv)")
    other = 64999   # no such user: neither nobody nor in nogroup
    for p in ("admin", "verify"):
        assert connect_as(other, other, str(run / f"{p}.sock")) == "EACCES", p


@needs_proxy
def test_killed_worker_is_replaced(stack):
    srv = stack.servers[PROXY]
    t = make_tenant(srv, scopes=["keys:read"])
    pool = srv.pool_pid("me")
    before = children(pool)
    assert len(before) >= 2, before
    os.kill(before[0], signal.SIGKILL)
    wait_for(lambda: len(children(pool)) == len(before) and before[0] not in children(pool),
             "a new worker")
    assert before[1] in children(pool)          # the others were left alone
    for _ in range(10):
        assert expect(call(srv, "GET", "/v1/me", t.key), 200)["key"]["id"] == t.key_id


@needs_proxy
def test_sighup_reloads_without_a_failed_request(stack):
    srv = stack.servers[PROXY]
    t = make_tenant(srv, scopes=["keys:read"])
    pool = srv.pool_pid("me")
    old = children(pool)
    results, stop = [], threading.Event()

    def client():
        while not stop.is_set():
            try:
                r = call(srv, "GET", "/v1/me", t.key, timeout=30)
                results.append(r.status_code)
            except Exception as e:  # a refused or reset connection is a failure too
                results.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(3)]
    for th in threads:
        th.start()
    try:
        wait_for(lambda: len(results) >= 20, "requests before the reload")
        os.kill(pool, signal.SIGHUP)
        wait_for(lambda: not any(alive(p) for p in old) and len(children(pool)) == len(old),
                 "the old workers to leave and new ones to serve")
        n = len(results)
        wait_for(lambda: len(results) >= n + 20, "requests after the reload")
    finally:
        stop.set()
        for th in threads:
            th.join()
    assert set(children(pool)).isdisjoint(old)
    failed = [r for r in results if r != 200]
    assert not failed, f"{len(failed)} of {len(results)} requests failed: {failed[:5]}"


@pytest.fixture
def own_pool(stack):
    """Start latchkey-pool with me.fcgi on a fresh unix socket; yields a dict; always cleaned up."""
    d = tempfile.mkdtemp(prefix="lk-pool-", dir="/tmp")
    sock, pidfile, log = f"{d}/me.sock", f"{d}/pool.pid", f"{d}/pool.log"
    env = {k: v for k, v in stack.env.items() if k.endswith("SAN_OPTIONS")}
    env.update(PATH="/usr/bin:/bin", LATCHKEY_CONF=str(stack.conf_path))
    with open(log, "ab") as lf:
        proc = subprocess.Popen([str(stack.bin_dir / "latchkey-pool"), "--listen", f"unix:{sock}",
                                 "--workers", "3", "--pid-file", pidfile, "--",
                                 str(stack.bin_dir / "me.fcgi")],
                                env=env, stdin=subprocess.DEVNULL, stdout=lf, stderr=lf,
                                start_new_session=True)
    info = {"proc": proc, "sock": sock, "pidfile": pidfile, "log": log}
    try:
        wait_for(lambda: os.path.exists(sock) and len(children(proc.pid)) == 3, "the pool")
        yield info
    finally:
        if proc.poll() is None:
            for p in children(proc.pid):
                signal_quietly(p, signal.SIGKILL)
            proc.kill()
            proc.wait()
        text = open(log).read()
        for pat in harness.SANITIZER_PATTERNS:
            assert pat not in text, text


def fcgi_me(stack, sock, key):
    """GET /v1/me straight over FastCGI (cgi-fcgi), no web server."""
    env = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/v1/me", "HTTP_X_API_KEY": key,
           "REMOTE_ADDR": "127.0.0.1", "PATH": "/usr/bin:/bin"}
    return subprocess.run(["cgi-fcgi", "-bind", "-connect", sock], env=env, capture_output=True,
                          text=True, timeout=60).stdout


def test_sigterm_leaves_nothing_running(stack, own_pool):
    srv = next(iter(stack.servers.values()))
    t = make_tenant(srv, scopes=["keys:read"])
    out = fcgi_me(stack, own_pool["sock"], t.key)
    assert out.startswith("Status: 200") and t.key_id in out, out
    proc = own_pool["proc"]
    assert int(open(own_pool["pidfile"]).read()) == proc.pid
    workers = children(proc.pid)
    assert len(workers) == 3
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    assert not any(alive(p) for p in workers), workers
    assert not os.path.exists(own_pool["sock"]) and not os.path.exists(own_pool["pidfile"])


def test_sigterm_lets_a_request_in_flight_finish(stack, own_pool):
    """A worker asked to stop while serving finishes that request first."""
    srv = next(iter(stack.servers.values()))
    t = make_tenant(srv, scopes=["keys:read"])
    assert t.key_id in fcgi_me(stack, own_pool["sock"], t.key)   # every worker may now be warm
    out = {}
    stack.db_pause()          # the next request blocks in its database read
    try:
        th = threading.Thread(target=lambda: out.update(r=fcgi_me(stack, own_pool["sock"], t.key)))
        th.start()
        time.sleep(0.5)
        own_pool["proc"].send_signal(signal.SIGTERM)
        time.sleep(0.5)
    finally:
        stack.db_resume()
    th.join(timeout=60)
    assert out["r"].startswith("Status: 200") and t.key_id in out["r"], out
    assert own_pool["proc"].wait(timeout=60) == 0


@pytest.mark.parametrize("listen", ["0.0.0.0:9", "192.0.2.1:9000", ":9000"])
def test_refuses_a_public_address(stack, listen):
    r = subprocess.run([str(stack.bin_dir / "latchkey-pool"), "--listen", listen, "--",
                        str(stack.bin_dir / "me.fcgi")], capture_output=True, text=True, timeout=30,
                       env={k: v for k, v in stack.env.items() if k.endswith("SAN_OPTIONS")})
    assert r.returncode == 2, r
    assert "loopback" in r.stderr or "HOST:PORT" in r.stderr, r.stderr
