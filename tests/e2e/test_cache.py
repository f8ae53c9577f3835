"""The host-local verify cache (verify_cache = on; docs/operations.md "Verify cache"), on every
server mode that runs FastCGI, against a stack of its own (its own MariaDB and servers, the cache
under VARDIR/cache, cache_sync_interval = 1 s, cache_stale_max = 5 s).

A change made through the API on this host is seen by the next request; a change made elsewhere
(simulated in SQL) is seen once its cache_feed row is written, not before; the cache's files are
private; a deleted or corrupted cache is rebuilt, never trusted.
"""
import collections
import concurrent.futures
import os
import re
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

import harness
from helpers import (assert_verify, call, create_key, db_query, expect, make_account, make_tenant,
                     verify)

FASTCGI = [n for n in harness.server_names_from_env() if n in ("lighttpd", "apache", "apache-proxy")]
pytestmark = pytest.mark.skipif(not FASTCGI, reason="the cache serves FastCGI programs only")

INTERVAL = 1
STALE_MAX = 8


class CacheStack(harness.Stack):
    """Each server is a "host" of its own: its own cache_dir (VARDIR/cache-NAME, owned by the user
    its programs run as: nobody under Apache) on the one database. Apache stages a copy of
    latchkey.conf when it starts, so the file names each server's cache_dir while it starts;
    lighttpd (which reads the file itself) starts last and keeps it."""

    def _configure(self):
        super()._configure()
        with open(self.conf_path, "a") as f:
            f.write("# test_cache.py: the verify cache\nverify_cache = on\n"
                    f"cache_dir = {self.vardir}/cache\ncache_sync_interval = {INTERVAL}\n"
                    f"cache_stale_max = {STALE_MAX}\ncache_max_entries = 1000\n")

    def start(self):
        self.server_names.sort(key=lambda n: n == "lighttpd")
        return super().start()

    def cache_dir(self, name):
        """The server's cache_dir, which its programs create, in a home of their user's."""
        return self.vardir.path / f"home-{name}" / "cache"

    def use_cache_dir(self, name):
        d = self.cache_dir(name)
        d.parent.mkdir(mode=0o755, exist_ok=True)
        if name.startswith("apache") and os.geteuid() == 0:
            shutil.chown(d.parent, "nobody", "nogroup")
        text = Path(self.conf_path).read_text()
        Path(self.conf_path).write_text(re.sub(r"(?m)^cache_dir = .*$", f"cache_dir = {d}", text))


class CacheServer(harness.Server):
    def start(self):
        self.stack.use_cache_dir(self.name)
        super().start()


@pytest.fixture(scope="module")
def cstack(monkeypatch_module):
    monkeypatch_module.setattr(harness, "Server", CacheServer)
    st = CacheStack(server_names=FASTCGI)
    try:
        st.start()
        yield st
    finally:
        errors = st.stop()
        report = st.sanitizer_report()
        if not report and not errors and not os.environ.get("LATCHKEY_E2E_KEEP"):
            st.remove_vardir()
        assert not report, f"sanitizer reports (logs in {st.vardir}/log):\n{report}"
        assert not errors, errors


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(params=FASTCGI, ids=FASTCGI)
def cserver(request, cstack):
    return cstack.servers[request.param]


def sql(stack, statement, args=()):
    conn = stack.db_connect(root=True, database="latchkey")
    try:
        with conn.cursor() as c:
            c.execute(statement, args)
        conn.commit()
    finally:
        conn.close()


def feed(stack, target):
    """What another host's change writes (in its transaction): a cache_feed row naming target."""
    sql(stack, "INSERT INTO cache_feed (at, target_id) VALUES (UNIX_TIMESTAMP(), %s)", (target,))


def cache_cli(stack, server, *args):
    """`latchkey cache ARGS` for server's host (a config naming its cache_dir)."""
    conf = stack.vardir.path / f"cli-{server.name}.conf"
    conf.write_text(re.sub(r"(?m)^cache_dir = .*$", f"cache_dir = {stack.cache_dir(server.name)}",
                           Path(stack.conf_path).read_text()))
    r = subprocess.run([stack.cli_path, "--config", conf, "cache", *args], capture_output=True,
                       text=True, env=stack.env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def usage_of(stack, key_id):
    """The key's key_usage columns summed over its days."""
    rows = db_query(stack, "SELECT SUM(u.valid) AS valid, SUM(u.rate_limited) AS rate_limited,"
                           " SUM(u.revoked) AS revoked FROM key_usage u JOIN api_keys k ON k.id = u.key_id"
                           " WHERE k.public_id = %s", (key_id,))
    return {c: int(rows[0][c] or 0) for c in ("valid", "rate_limited", "revoked")}


def cached_valid(server, caller, key):
    """Verify twice: the first fills the cache, the second is answered from it."""
    for _ in range(2):
        assert verify(server, caller, key)["code"] == "VALID"


def until_code(server, caller, key, code, limit=15):
    """Seconds until verify answers code (polled); fails after limit seconds."""
    t0 = time.monotonic()
    while True:
        got = verify(server, caller, key)["code"]
        if got == code:
            return time.monotonic() - t0
        assert time.monotonic() - t0 < limit, f"still {got} after {limit} s (wanted {code})"
        time.sleep(0.05)


def test_sql_change_is_seen_only_through_the_feed(cserver, cstack):
    t = make_tenant(cserver, scopes=("admin",))
    k = create_key(cserver, t.key, scopes=("tasks:read",))
    cached_valid(cserver, t.key, k["key"])
    # revoked by hand, no feed row: the cache still holds the key after several intervals
    sql(cstack, "UPDATE api_keys SET revoked_at = UNIX_TIMESTAMP(), revoked_reason = 'manual'"
                " WHERE public_id = %s", (k["id"],))
    time.sleep(3 * INTERVAL)
    assert verify(cserver, t.key, k["key"])["code"] == "VALID"
    # the feed row: refused from the next sync on
    feed(cstack, k["id"])
    lag = until_code(cserver, t.key, k["key"], "REVOKED_API_KEY")
    print(f"{cserver.name}: a change made elsewhere was seen after {lag:.2f} s "
          f"(cache_sync_interval {INTERVAL} s)")


def test_changes_through_the_api_are_seen_at_once(cserver):
    t = make_tenant(cserver, scopes=("admin",))
    revoked = create_key(cserver, t.key)
    deleted = create_key(cserver, t.key)
    patched = create_key(cserver, t.key, scopes=("tasks:read",))
    for k in (revoked, deleted, patched):
        cached_valid(cserver, t.key, k["key"])
    expect(call(cserver, "POST", f"/v1/keys/{revoked['id']}/revoke", t.key), 200)
    assert_verify(cserver, t.key, revoked["key"], "REVOKED_API_KEY")
    expect(call(cserver, "DELETE", f"/v1/keys/{deleted['id']}", t.key), 204)
    assert_verify(cserver, t.key, deleted["key"], "INVALID_API_KEY")
    expect(call(cserver, "PATCH", f"/v1/keys/{patched['id']}", t.key, body={"scopes": ["tasks:write"]}), 200)
    v = verify(cserver, t.key, patched["key"], scopes=["tasks:read"])
    assert v["code"] == "INSUFFICIENT_SCOPE" and v["key"]["scopes"] == ["tasks:write"], v


def test_suspension_and_plan_are_seen_at_once(cserver):
    top = make_tenant(cserver, scopes=("admin",))
    parent = make_account(cserver, top.key, parent_id=top.account_id, plan="pro")
    child = make_account(cserver, top.key, parent_id=parent["id"], plan="pro")
    k = create_key(cserver, top.key, account_id=child["id"])
    cached_valid(cserver, top.key, k["key"])
    before = verify(cserver, top.key, k["key"])["ratelimit"]["limit"]
    expect(call(cserver, "PATCH", f"/v1/accounts/{child['id']}", top.key, body={"plan": "free"}), 200)
    after = verify(cserver, top.key, k["key"])["ratelimit"]["limit"]
    assert after < before, (before, after)
    expect(call(cserver, "POST", f"/v1/accounts/{parent['id']}/suspend", top.key,
                body={"reason": "unpaid"}), 200)
    assert_verify(cserver, top.key, k["key"], "ACCOUNT_SUSPENDED")
    expect(call(cserver, "POST", f"/v1/accounts/{parent['id']}/reactivate", top.key), 200)
    assert_verify(cserver, top.key, k["key"], "VALID")


def test_rotation_with_grace(cserver):
    t = make_tenant(cserver, scopes=("admin",))
    old = create_key(cserver, t.key)
    cached_valid(cserver, t.key, old["key"])
    new = expect(call(cserver, "POST", f"/v1/keys/{old['id']}/rotate", t.key, body={"grace_period": 2}), 201)
    # a key created on this host is valid here at once (no negative entry outlives the change)
    assert_verify(cserver, t.key, new["key"], "VALID", key_id=new["id"])
    assert_verify(cserver, t.key, old["key"], "VALID", key_id=old["id"])
    until_code(cserver, t.key, old["key"], "EXPIRED_API_KEY", limit=6)
    assert_verify(cserver, t.key, new["key"], "VALID", key_id=new["id"])


def test_authorizer_sees_a_revocation_at_once(cserver):
    t = make_tenant(cserver, scopes=("demo:read",))
    for _ in range(2):
        r = call(cserver, "GET", "/demo/hello.txt", t.key)
        assert r.status_code == 200, r.text
    expect(call(cserver, "POST", f"/v1/keys/{t.key_id}/revoke", cserver.admin_key), 200)
    r = call(cserver, "GET", "/demo/hello.txt", t.key)
    assert r.status_code == 401, r.text


def test_exact_limit_on_one_host(cserver, cstack):
    t = make_tenant(cserver, scopes=("admin",))
    k = create_key(cserver, t.key, ratelimit={"limit": 50, "window": 3600})

    def one(_):
        return verify(cserver, t.key, k["key"])["code"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as ex:
        codes = list(ex.map(one, range(200)))
    assert codes.count("VALID") == 50, {c: codes.count(c) for c in set(codes)}
    assert codes.count("RATE_LIMITED") == 150
    # the counts reach key_usage with the next sync: they add up to the answers
    cache_cli(cstack, cserver, "sync")
    assert usage_of(cstack, k["id"]) == {"valid": 50, "rate_limited": 150, "revoked": 0}


@pytest.mark.skipif(len(FASTCGI) < 2, reason="two servers are two hosts")
def test_two_hosts_never_exceed_one_limit(cstack):
    a, b = (cstack.servers[n] for n in FASTCGI[:2])
    t = make_tenant(a, scopes=("admin",))
    k = create_key(a, t.key, ratelimit={"limit": 40, "window": 3600})
    cached_valid(b, t.key, t.key)

    def one(i):
        return verify((a, b)[i % 2], t.key, k["key"])["code"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as ex:
        codes = list(ex.map(one, range(200)))
    valid = codes.count("VALID")
    assert 0 < valid <= 40 and valid + codes.count("RATE_LIMITED") == 200, codes
    print(f"two hosts ({a.name}, {b.name}) against a limit of 40: {valid} admitted "
          f"(under-admission {40 - valid}: the leases one host held unused)")
    for s in (a, b):
        cache_cli(cstack, s, "sync")
    assert usage_of(cstack, k["id"]) == {"valid": valid, "rate_limited": 200 - valid, "revoked": 0}


def test_cache_files_are_private(cstack, cserver):
    t = make_tenant(cserver, scopes=("admin",))
    cached_valid(cserver, t.key, t.key)
    d = cstack.cache_dir(cserver.name)
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    names = sorted(p.name for p in d.iterdir())
    assert {"data.mdb", "lock.mdb", "follow.lock", "counts"} <= set(names), names
    for p in d.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, (p, oct(p.stat().st_mode))
        assert p.stat().st_uid == d.stat().st_uid


def test_status_command(cstack, cserver):
    t = make_tenant(cserver, scopes=("admin",))
    cached_valid(cserver, t.key, t.key)
    out = dict(line.split("=", 1) for line in cache_cli(cstack, cserver, "status").splitlines())
    assert out["verify_cache"] == "on" and int(out["entries"]) >= 1, out
    assert out["last_sync"] != "never" and int(out["lag_ms"]) >= 0, out
    # the command (root) never makes a cache the programs' user could not open
    conf = cstack.vardir.path / "cli-nowhere.conf"
    nowhere = cstack.vardir.path / "no-cache-here"
    conf.write_text(re.sub(r"(?m)^cache_dir = .*$", f"cache_dir = {nowhere}", Path(cstack.conf_path).read_text()))
    for args in (("cache", "status"), ("key", "verify", "-")):
        subprocess.run([cstack.cli_path, "--config", conf, *args], input=t.key, capture_output=True,
                       text=True, env=cstack.env)
    assert not nowhere.exists()


@pytest.mark.parametrize("damage", ["deleted", "corrupted"])
def test_a_damaged_cache_is_rebuilt(cstack, cserver, damage):
    t = make_tenant(cserver, scopes=("admin",))
    k = create_key(cserver, t.key)
    cached_valid(cserver, t.key, k["key"])
    d = cstack.cache_dir(cserver.name)
    if damage == "deleted":
        shutil.rmtree(d)     # the programs make it again
    else:
        # a file that is not an LMDB environment (a new inode: the running programs notice)
        junk = d / "data.mdb.junk"
        junk.write_bytes(b"\xde\xad\xbe\xef" * 4096)
        os.chmod(junk, 0o600)
        shutil.chown(junk, d.stat().st_uid, d.stat().st_gid)
        os.rename(junk, d / "data.mdb")
    time.sleep(INTERVAL + 0.5)
    assert verify(cserver, t.key, k["key"])["code"] == "VALID"
    assert (d / "data.mdb").exists()
    # the rebuilt cache follows the feed like the first
    cached_valid(cserver, t.key, k["key"])
    sql(cstack, "UPDATE api_keys SET revoked_at = UNIX_TIMESTAMP() WHERE public_id = %s", (k["id"],))
    feed(cstack, k["id"])
    until_code(cserver, t.key, k["key"], "REVOKED_API_KEY")
    # and every process of the host does: none keeps answering from the environment it had
    # before (a process that went on with it would never see the feed again)
    time.sleep(INTERVAL)
    codes = collections.Counter(verify(cserver, t.key, k["key"])["code"] for _ in range(60))
    assert codes == {"REVOKED_API_KEY": 60}, codes


@pytest.mark.parametrize("how", ["paused", "killed"])
def test_database_down(cstack, cserver, how):
    """Cached keys keep verifying for cache_stale_max after the last sync, then 503; uncached keys
    503 at once; the uses answered meanwhile reach key_usage when the database is back."""
    t = make_tenant(cserver, scopes=("admin",))
    k = create_key(cserver, t.key, ratelimit={"limit": 1000000, "window": 3600})
    other = create_key(cserver, t.key)
    cached_valid(cserver, t.key, k["key"])
    # the counts so far into key_usage and the feed read (another host's account change drops
    # every entry), then the keys cached again
    cache_cli(cstack, cserver, "sync")
    before = usage_of(cstack, k["id"])
    cached_valid(cserver, t.key, k["key"])
    before["valid"] += 2
    answered = 0
    if how == "paused":
        cstack.db_pause()
    else:
        os.kill(cstack.db_pid(), signal.SIGKILL)
    try:
        t0 = time.monotonic()
        while True:
            r = call(cserver, "POST", "/v1/verify", t.key, body={"key": k["key"]})
            if r.status_code == 503:
                break
            assert r.status_code == 200 and r.json()["code"] == "VALID", r.text
            answered += 1
            assert time.monotonic() - t0 < STALE_MAX + 10, "still answering long after cache_stale_max"
        lasted = time.monotonic() - t0
        assert answered >= 2 and lasted >= STALE_MAX - 2, (answered, lasted)
        print(f"{cserver.name}, database {how}: {answered} answers from the cache for {lasted:.1f} s "
              f"(cache_stale_max {STALE_MAX} s), then 503")
        r = call(cserver, "POST", "/v1/verify", t.key, body={"key": other["key"]})
        assert r.status_code == 503, r.text
    finally:
        if how == "paused":
            cstack.db_resume()
        else:
            cstack.db_start()
    # back: verifying again, and every use answered is in key_usage after a sync
    until_code(cserver, t.key, k["key"], "VALID", limit=30)
    cache_cli(cstack, cserver, "sync")
    after = usage_of(cstack, k["id"])
    assert after["valid"] - before["valid"] >= answered + 1, (before, after, answered)


def test_me_from_the_cache(cstack, cserver):
    t = make_tenant(cserver, scopes=("keys:read",))
    for _ in range(2):
        assert expect(call(cserver, "GET", "/v1/me", t.key), 200)["key"]["id"] == t.key_id
    # a change made elsewhere (SQL) is not seen without its feed row, then within the interval
    sql(cstack, "UPDATE accounts SET name = 'renamed elsewhere' WHERE public_id = %s", (t.account_id,))
    time.sleep(2 * INTERVAL)
    assert expect(call(cserver, "GET", "/v1/me", t.key), 200)["account"]["name"] != "renamed elsewhere"
    feed(cstack, t.account_id)
    t0 = time.monotonic()
    while expect(call(cserver, "GET", "/v1/me", t.key), 200)["account"]["name"] != "renamed elsewhere":
        assert time.monotonic() - t0 < 15
        time.sleep(0.05)
    # a change made here: at once
    expect(call(cserver, "POST", f"/v1/keys/{t.key_id}/revoke", cserver.admin_key), 200)
    r = call(cserver, "GET", "/v1/me", t.key)
    assert r.status_code == 401, r.text
