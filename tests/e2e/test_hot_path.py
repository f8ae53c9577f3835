"""The verify hot path, read off MariaDB's own general log.

Once a FastCGI process is warm, a verify request costs exactly one statement execution (both
keys fetched by digest in one prepared SELECT): no connect, no prepare, no write while
last_used_at is fresh. A bad checksum costs no statement for the key being checked. CGI starts a
process per request, so it connects and prepares every time by design and is not measured here.
"""
import pytest

from harness import server_names_from_env
from helpers import call, create_key, expect, make_tenant, verify

N = 20
# the FastCGI server modes among those running
FASTCGI = [n for n in ("lighttpd", "apache", "apache-proxy") if n in server_names_from_env()]


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


@pytest.mark.parametrize("server", FASTCGI, indirect=True)
def test_verify_is_one_prepared_read(server, stack):
    t = make_tenant(server, scopes=("verify",))
    target = create_key(server, server.admin_key, account_id=t.account_id, scopes=("tasks:read",))
    # Warm up: every process this server runs for verify connects and prepares now, and both
    # keys get a fresh last_used_at.
    for _ in range(N):
        assert verify(server, t.key, target["key"])["code"] == "VALID"

    def measured():
        for _ in range(N):
            assert verify(server, t.key, target["key"], scopes=["tasks:read"])["code"] == "VALID"

    rows = _latchkey_commands(stack, measured)
    kinds = [k for k, _ in rows]
    assert "Connect" not in kinds, rows
    assert "Prepare" not in kinds, rows
    executes = [a for k, a in rows if k == "Execute"]
    assert len(executes) == N, rows
    assert all(a.lstrip().upper().startswith("SELECT") and "digest IN" in a for a in executes), executes
    assert not [k for k in kinds if k == "Query"], rows


@pytest.mark.parametrize("server", FASTCGI, indirect=True)
def test_bad_checksum_is_refused_before_any_query(server, stack):
    t = make_tenant(server, scopes=("verify",))
    for _ in range(N):  # warm up: the `me` processes are running and connected
        expect(call(server, "GET", "/v1/me", t.key), 200)
    last = t.key[-1]
    bad = t.key[:-1] + ("A" if last != "A" else "B")  # same shape, checksum no longer matches

    def bad_callers():
        for _ in range(N):
            r = call(server, "GET", "/v1/me", bad)
            assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_API_KEY", r.text

    rows = _latchkey_commands(stack, bad_callers)
    assert rows == (), rows
