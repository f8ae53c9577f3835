"""The hot paths, read off MariaDB's own general log.

Once a FastCGI process is warm, a counted use costs exactly one read and one write:
- POST /v1/verify: one prepared SELECT fetching both keys (with the account plan) by digest, and
  one prepared upsert of the verified key's counter row (which also carries last_used_at and the
  daily usage); the caller of verify is not counted;
- GET /v1/me: one prepared SELECT of the key with its account, and the caller's upsert.
No connect, no prepare, no other statement. A bad checksum costs no statement at all.
The only other statements a warm program may run are its retention sweep (lib/usage.c), at most
once an hour per process at a random time; they are recognised by their text and set aside.
CGI starts a process per request, so it connects and prepares every time by design and is not
measured here.
"""
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import server_names_from_env
from helpers import call, create_key, db_query, expect, make_tenant, verify

N = 20
# the FastCGI server modes among those running
FASTCGI = [n for n in ("lighttpd", "apache", "apache-proxy") if n in server_names_from_env()]
SWEEP = ("UPDATE api_keys k JOIN (SELECT key_id, MAX(last_valid_at)", "DELETE FROM key_usage WHERE day <",
         "UPDATE job_runs SET next_at")


def _warm_up(server, use):
    """Run use() until every process that may serve the measured uses has served one. Sequential
    uses can all land on one latchkey-pool worker (the one that just finished wins the race for
    the next connection), so under apache-proxy a burst of concurrent uses follows, more of them
    at once than the pool has workers. mod_fcgid and lighttpd are left to sequential uses: a burst
    would make mod_fcgid spawn processes that may stay cold."""
    for _ in range(N):
        use()
    if server.name == "apache-proxy":
        with ThreadPoolExecutor(max_workers=8) as ex:
            for f in [ex.submit(use) for _ in range(4 * N)]:
                f.result()


def _latchkey_commands(stack, fn):
    """Run fn with the general log on; return (command_type, argument) of the `latchkey` user."""
    root = stack.db_connect(root=True)
    try:
        with root.cursor() as c:
            c.execute("SET GLOBAL log_output = 'TABLE'")
            c.execute("TRUNCATE mysql.general_log")
            c.execute("SET GLOBAL general_log = 1")
        try:
            fn()
        finally:
            with root.cursor() as c:
                c.execute("SET GLOBAL general_log = 0")
        with root.cursor() as c:
            c.execute("SELECT command_type, CONVERT(argument USING utf8mb4) FROM mysql.general_log"
                      " WHERE user_host LIKE 'latchkey[latchkey]%' ORDER BY event_time")
            rows = c.fetchall()
            c.execute("TRUNCATE mysql.general_log")
        return rows
    finally:
        root.close()


def _per_use(rows):
    """The statements of the uses: a warm program's hourly retention sweep (and the transaction
    around it) set aside."""
    out = []
    for kind, arg in rows:
        text = arg.strip()
        if any(text.startswith(s) for s in SWEEP):
            continue
        if kind == "Query" and text.upper() in ("START TRANSACTION", "COMMIT", "ROLLBACK"):
            continue
        out.append((kind, arg))
    return out


def _is_read(arg, marker):
    return arg.lstrip().upper().startswith("SELECT") and marker in arg


def _is_count(arg):
    return arg.lstrip().upper().startswith("INSERT INTO KEY_USAGE") and "LAST_INSERT_ID(" in arg


def _check_one_read_one_write(rows, marker):
    kinds = [k for k, _ in rows]
    assert "Connect" not in kinds, rows
    assert "Prepare" not in kinds, rows
    assert not [k for k in kinds if k == "Query"], rows
    executes = [a for k, a in rows if k == "Execute"]
    assert len(executes) == 2 * N, rows
    # in order: read, write, read, write, …
    assert all(_is_read(a, marker) for a in executes[0::2]), executes
    assert all(_is_count(a) for a in executes[1::2]), executes
    assert "UPDATE api_keys" not in " ".join(executes), executes


@pytest.mark.parametrize("server", FASTCGI, indirect=True)
def test_verify_is_one_read_and_one_write(server, stack):
    t = make_tenant(server, scopes=("verify",))
    target = create_key(server, server.admin_key, account_id=t.account_id, scopes=("tasks:read",),
                        ratelimit={"limit": 1000000, "window": 86400})
    def use():
        assert verify(server, t.key, target["key"])["code"] == "VALID"

    # Warm up: every process this server runs for verify connects and prepares now.
    _warm_up(server, use)

    def measured():
        for _ in range(N):
            assert verify(server, t.key, target["key"], scopes=["tasks:read"])["code"] == "VALID"

    rows = _per_use(_latchkey_commands(stack, measured))
    _check_one_read_one_write(rows, "digest IN")
    # the writes counted the verified key, never the caller
    n = {r["public_id"]: r["n"] for r in db_query(
        stack, "SELECT k.public_id, SUM(u.n) AS n FROM key_usage u JOIN api_keys k ON k.id = u.key_id"
               " WHERE k.public_id IN (%s, %s) GROUP BY k.public_id", (target["id"], t.key_id))}
    warm = 5 * N if server.name == "apache-proxy" else N
    assert n == {target["id"]: warm + N}, n


@pytest.mark.parametrize("server", FASTCGI, indirect=True)
def test_me_is_one_read_and_one_write(server, stack):
    t = make_tenant(server, scopes=("keys:read",))
    _warm_up(server, lambda: expect(call(server, "GET", "/v1/me", t.key), 200))

    def measured():
        for _ in range(N):
            expect(call(server, "GET", "/v1/me", t.key), 200)

    _check_one_read_one_write(_per_use(_latchkey_commands(stack, measured)), "WHERE k.digest = ")


@pytest.mark.parametrize("server", FASTCGI, indirect=True)
def test_bad_checksum_is_refused_before_any_query(server, stack):
    t = make_tenant(server, scopes=("verify",))
    # warm up: the `me` processes are running and connected
    _warm_up(server, lambda: expect(call(server, "GET", "/v1/me", t.key), 200))
    last = t.key[-1]
    bad = t.key[:-1] + ("A" if last != "A" else "B")  # same shape, checksum no longer matches

    def bad_callers():
        for _ in range(N):
            r = call(server, "GET", "/v1/me", bad)
            assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_API_KEY", r.text

    rows = _latchkey_commands(stack, bad_callers)
    assert rows == (), rows
