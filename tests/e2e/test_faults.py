"""Database faults: restart, stop, pause (SIGSTOP). Runs once for all three servers (not per server)."""
import concurrent.futures
import re
import time

import pytest

from helpers import (KEY_RE, assert_error, audit_by_target, call, create_key, db_query, expect, make_tenant,
                     uid)


def conf_timeouts(stack):
    text = open(stack.conf_path).read()
    vals = {}
    for name, default in (("db_connect_timeout", 2), ("db_read_timeout", 3), ("db_write_timeout", 3)):
        m = re.search(rf"^\s*{name}\s*=\s*(\d+)", text, re.M)
        vals[name] = int(m.group(1)) if m else default
    return vals


def servers(stack):
    return list(stack.servers.values())


def parallel(fn, items):
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(items))) as ex:
        return list(ex.map(fn, items))


@pytest.fixture(scope="module")
def fixtures(stack):
    """Per server: a tenant and a key to verify, made while the DB is up."""
    out = {}
    for s in servers(stack):
        t = make_tenant(s)
        k = create_key(s, t.key, scopes=["verify"])
        out[s.name] = (t, k)
    return out


def healthy_round(stack, fixtures, rounds=6):
    """Every server answers correctly, several times (each FastCGI process must have reconnected)."""
    for s in servers(stack):
        t, k = fixtures[s.name]
        for i in range(rounds):
            r = call(s, "POST", "/v1/verify", t.key, body={"key": k["key"]})
            assert r.status_code == 200, f"{s.name} request {i} after recovery: {r.status_code} {r.text[:300]}"
            assert r.json()["valid"] is True
            expect(call(s, "GET", f"/v1/keys/{k['id']}", t.key), 200)


def check_unavailable(stack, fixtures, max_seconds):
    """During an outage: verify and create answer 503 on every server, never valid:true."""
    labels = {}

    def probe(s):
        t, k = fixtures[s.name]
        start = time.time()
        r = call(s, "POST", "/v1/verify", t.key, body={"key": k["key"]}, timeout=max_seconds + 30)
        took = time.time() - start
        label = uid("outage")
        labels[s.name] = (t, label)
        c = call(s, "POST", "/v1/keys", t.key, body={"label": label}, timeout=max_seconds + 30)
        return s.name, r, took, c

    for name, r, took, c in parallel(probe, servers(stack)):
        assert '"valid":true' not in r.text.replace(" ", ""), f"{name}: valid:true while the DB is down"
        assert_error(r, 503, "SERVICE_UNAVAILABLE")
        assert took <= max_seconds, f"{name}: 503 took {took:.1f}s (limit {max_seconds}s)"
        assert_error(c, 503, "SERVICE_UNAVAILABLE")
        assert not KEY_RE.search(c.text)
    return labels


def check_nothing_half_done(stack, labels):
    """A create answered 503 may or may not have committed, but key row and audit row match."""
    for name, (t, label) in labels.items():
        rows = db_query(stack, "SELECT public_id FROM api_keys WHERE label = %s", (label,))
        assert len(rows) <= 1
        for row in rows:
            acts = [a["action"] for a in audit_by_target(stack, row["public_id"])]
            assert acts == ["key.create"], (name, acts)


def test_db_restart_next_request_succeeds(stack, fixtures):
    healthy_round(stack, fixtures, rounds=2)
    stack.db_restart()
    healthy_round(stack, fixtures)


def test_db_stopped_gives_503(stack, fixtures):
    t = conf_timeouts(stack)
    limit = 3 * (t["db_connect_timeout"] + t["db_read_timeout"]) + 10
    stack.db_stop()
    try:
        labels = check_unavailable(stack, fixtures, limit)
    finally:
        stack.db_start()
    healthy_round(stack, fixtures)
    check_nothing_half_done(stack, labels)


def test_db_paused_gives_503(stack, fixtures):
    t = conf_timeouts(stack)
    limit = 3 * (t["db_connect_timeout"] + max(t["db_read_timeout"], t["db_write_timeout"])) + 10
    stack.db_pause()
    try:
        labels = check_unavailable(stack, fixtures, limit)
    finally:
        stack.db_resume()
    healthy_round(stack, fixtures)
    check_nothing_half_done(stack, labels)


def test_db_restart_mid_session_keeps_data(stack, fixtures):
    """Every change answered 2xx before a restart is still there after it."""
    made = {}
    for s in servers(stack):
        t, _ = fixtures[s.name]
        made[s.name] = create_key(s, t.key, label=uid("durable"))
    stack.db_restart()
    for s in servers(stack):
        t, _ = fixtures[s.name]
        k = made[s.name]
        v = expect(call(s, "POST", "/v1/verify", t.key, body={"key": k["key"]}), 200)
        assert v["valid"] is True, (s.name, v)
        assert [a["action"] for a in audit_by_target(stack, k["id"])] == ["key.create"]
