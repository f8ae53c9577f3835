"""latchkey on a 3-node MariaDB Galera cluster (scripts/galera.sh), lighttpd only.

The module starts its own cluster on free ports and four lighttpd web nodes: "all" (db_host lists
nodes 1, 2, 3: the programs use the first ready one and fail over) and "n1", "n2", "n3", each pinned
to one node (so writes really land on different nodes and certification conflicts happen).
Times below are liveness bounds, not speed claims (speed: make bench BENCH_DB=galera).
"""
import concurrent.futures
import os
import signal
import time

import pytest

import harness
from helpers import call, create_key, make_tenant, uid, verify

DAY = 86400


@pytest.fixture(scope="module")
def g(request):
    st = harness.GaleraStack()
    try:
        st.start()
        st.add_server("all", (1, 2, 3))
        for n in st.NODES:
            st.add_server(f"n{n}", (n,))
    except BaseException:
        st.stop()
        raise
    yield st
    errors = st.stop()
    report = st.sanitizer_report()
    if request.session.testsfailed or report or errors or os.environ.get("LATCHKEY_E2E_KEEP"):
        print(f"\ngalera: logs kept in {st.vardir}")
    else:
        st.remove_vardir()
    assert not report, f"sanitizer reports:\n{report}"
    assert not errors, errors


def parallel(fn, items, workers=32):
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(fn, items))


def wait_for(what, fn, bound=120, step=0.5):
    end = time.time() + bound
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    pytest.fail(f"{what}: not within {bound} s")


def all_synced(g):
    """Every node Synced in one primary view of the three (a node resumed after SIGSTOP first
    reports its stale view: the views' conf_id must agree)."""
    st = [g.node_status(n) for n in g.NODES]
    return all(s.get("wsrep_local_state_comment") == "Synced" and s.get("wsrep_ready") == "ON" and
               s.get("wsrep_cluster_size") == "3" and s.get("wsrep_cluster_status") == "Primary"
               for s in st) and len({s["wsrep_cluster_conf_id"] for s in st}) == 1


def wait_all_synced(g, bound=120):
    # twice in a row, a second apart: a view change in progress must not pass for the end of one
    wait_for("three nodes synced", lambda: all_synced(g) and not time.sleep(1) and all_synced(g), bound=bound)


def cert_failures(g):
    return sum(int(g.node_status(n).get("wsrep_local_cert_failures", 0)) for n in g.NODES)


def health(srv):
    return call(srv, "GET", "/v1/health", timeout=30)


def assert_503_json(r):
    assert r.status_code == 503, (r.status_code, r.text[:300])
    assert r.json()["error"]["code"] == "SERVICE_UNAVAILABLE", r.text[:300]


def test_health_flips_on_a_node_not_synced(g):
    for n in g.NODES:
        r = health(g.servers[f"n{n}"])
        assert r.status_code == 200 and r.json() == {"status": "ok", "db": "Synced"}, r.text
    conn = g.node_connect(2, root=True)
    try:
        with conn.cursor() as c:
            c.execute("SET GLOBAL wsrep_desync = ON")
        # (a Response is falsy when not ok: wait for a list holding it)
        r, = wait_for("n2 health 503", lambda: [r for r in [health(g.servers["n2"])] if r.status_code == 503],
                      bound=30)
        assert_503_json(r)
        assert r.json()["error"]["details"]["db"] == "Donor/Desynced", r.text
        # the others, and the web node that may use any node, stay healthy
        assert health(g.servers["n1"]).status_code == 200
        assert health(g.servers["all"]).status_code == 200
    finally:
        with conn.cursor() as c:
            c.execute("SET GLOBAL wsrep_desync = OFF")
        conn.close()
    wait_for("n2 health 200 again", lambda: health(g.servers["n2"]).status_code == 200, bound=30)


def test_every_table_has_a_primary_key(g):
    """Galera replicates row changes by primary key: every migration's tables need one."""
    conn = g.node_connect(1, root=True)
    try:
        with conn.cursor() as c:
            c.execute("SELECT t.table_name FROM information_schema.tables t WHERE t.table_schema = 'latchkey'"
                      " AND t.table_type = 'BASE TABLE' AND NOT EXISTS (SELECT 1 FROM"
                      " information_schema.table_constraints k WHERE k.table_schema = t.table_schema"
                      " AND k.table_name = t.table_name AND k.constraint_type = 'PRIMARY KEY')")
            missing = [r[0] for r in c.fetchall()]
            c.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'latchkey'")
            assert c.fetchone()[0] > 10
    finally:
        conn.close()
    assert missing == []


def test_revoke_on_one_node_is_refused_on_another_at_once(g):
    a, c = g.servers["n1"], g.servers["n3"]
    t = make_tenant(a, scopes=("admin",))
    for _ in range(10):
        k = create_key(a, t.key, scopes=("verify",))
        assert verify(c, t.key, k["key"])["code"] == "VALID"
        r = call(a, "POST", f"/v1/keys/{k['id']}/revoke", t.key, body={})
        assert r.status_code == 200, r.text[:300]
        # the very next request, through another node: causal reads (wsrep_sync_wait) see the revoke
        assert verify(c, t.key, k["key"])["code"] == "REVOKED_API_KEY"


def spread_verify(g, t, key, n=200):
    """n concurrent verifies of key spread over the three pinned web nodes -> the codes."""
    srvs = [g.servers[f"n{i}"] for i in g.NODES]
    return parallel(lambda i: verify(srvs[i % 3], t.key, key)["code"], range(n))


def test_exact_limit_across_nodes(g):
    t = make_tenant(g.servers["n1"], scopes=("admin",))
    before = cert_failures(g)
    for _ in range(2):  # a burst straddling UTC midnight (a new window) runs once more
        day = int(time.time()) // DAY
        k = create_key(g.servers["n1"], t.key, scopes=("verify",),
                       ratelimit={"limit": 50, "window": DAY})
        codes = spread_verify(g, t, k["key"])
        if int(time.time()) // DAY == day:
            break
    print(f"\ngalera: rate limit, 200 uses on 3 nodes: certification failures {cert_failures(g) - before}")
    assert codes.count("VALID") == 50 and codes.count("RATE_LIMITED") == 150, sorted(set(codes))


def test_exact_credits_across_nodes(g):
    t = make_tenant(g.servers["n1"], scopes=("admin",))
    k = create_key(g.servers["n1"], t.key, scopes=("verify",), credits={"remaining": 50})
    codes = spread_verify(g, t, k["key"])
    assert codes.count("VALID") == 50 and codes.count("USAGE_EXCEEDED") == 150, sorted(set(codes))


def test_isolated_node_refuses_and_the_majority_serves(g):
    t = make_tenant(g.servers["n1"], scopes=("admin",))
    k = create_key(g.servers["n1"], t.key, scopes=("verify",))
    pid = g.node_pid(3)
    os.kill(pid, signal.SIGSTOP)
    try:
        r = call(g.servers["n3"], "POST", "/v1/verify", t.key, body={"key": k["key"]}, timeout=60)
        assert_503_json(r)
        assert_503_json(health(g.servers["n3"]))

        # nodes 1 and 2 evict node 3 and go on: writes and reads through them succeed again
        def majority_serves():
            for n in (1, 2):
                r = call(g.servers[f"n{n}"], "POST", "/v1/keys", t.key, body={"label": uid(), "scopes": ["verify"]})
                if r.status_code != 201:
                    assert_503_json(r)
                    return False
                if verify(g.servers[f"n{n}"], t.key, r.json()["key"])["code"] != "VALID":
                    return False
            return True
        wait_for("the majority serving", majority_serves, bound=90)
        assert_503_json(health(g.servers["n3"]))
        assert health(g.servers["n1"]).status_code == 200
    finally:
        os.kill(pid, signal.SIGCONT)
    # node 3 comes back by itself (IST), and so does its web node
    wait_all_synced(g)
    wait_for("n3 health 200", lambda: health(g.servers["n3"]).status_code == 200, bound=60)


def test_kill_a_node_under_load(g):
    """kill -9 the node every program writes to, under load from several clients."""
    srv = g.servers["all"]
    t = make_tenant(srv, scopes=("admin",))
    created, revoked, results = [], [], []
    stop = []
    killed_at = []

    def client(_):
        while not stop:
            started = time.time()
            r = call(srv, "POST", "/v1/keys", t.key, body={"label": uid(), "scopes": ["verify"]}, timeout=60)
            results.append((started, time.time(), r.status_code, r))
            if r.status_code != 201:
                time.sleep(0.05)
                continue
            kid = r.json()["id"]
            created.append(kid)
            started = time.time()
            r = call(srv, "POST", f"/v1/keys/{kid}/revoke", t.key, body={}, timeout=60)
            results.append((started, time.time(), r.status_code, r))
            if r.status_code == 200:
                revoked.append(kid)

    wait_all_synced(g)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        futs = [ex.submit(client, i) for i in range(4)]
        try:
            time.sleep(3)
            g.node_kill(1)
            killed_at.append(time.time())
            # until writes started after the kill succeed again, then a few seconds more
            wait_for("writes succeed after the kill", lambda: any(
                s > killed_at[0] and code in (200, 201) for s, _, code, _ in list(results)), bound=60, step=0.2)
            time.sleep(3)
        finally:
            stop.append(True)
        for f in futs:
            f.result()
    k0 = killed_at[0]
    resumed = min(e for s, e, code, _ in results if s > k0 and code in (200, 201)) - k0
    errors = [r for _, _, code, r in results if code not in (200, 201)]
    for r in errors:
        assert_503_json(r)
    print(f"\ngalera: kill -9 node 1 under 4 clients: {len(results)} requests, {len(errors)} answered 503, "
          f"writes resumed {resumed:.1f} s after the kill; {len(created)} creates, {len(revoked)} revokes")
    assert resumed < 60
    assert created and revoked

    g.node_start(1)
    wait_all_synced(g)
    for n in g.NODES:
        conn = g.node_connect(n)
        try:
            with conn.cursor() as c:
                c.execute("SELECT k.public_id, k.revoked_at FROM api_keys k JOIN accounts a ON a.id = k.account_id "
                          "WHERE a.public_id = %s", (t.account_id,))
                keys = {pid: rev for pid, rev in c.fetchall()}
                c.execute("SELECT action, target_id FROM audit_log WHERE account_id = %s "
                          "AND action IN ('key.create', 'key.revoke')", (t.account_id,))
                audit = c.fetchall()
        finally:
            conn.close()
        # 0 lost: every 2xx change is there, on every node
        assert set(created) <= set(keys), f"node {n}: created keys missing"
        assert all(keys[k] is not None for k in revoked), f"node {n}: revokes missing"
        # 0 half-done: one audit row per change that is there (including a commit whose answer was lost)
        creates = sorted(tg for a, tg in audit if a == "key.create")
        revokes = sorted(tg for a, tg in audit if a == "key.revoke")
        assert creates == sorted(keys) and len(set(creates)) == len(creates), f"node {n}"
        assert revokes == sorted(k for k, rev in keys.items() if rev is not None), f"node {n}"
        r = g.cli_on((n,), "audit", "verify")
        assert r.returncode == 0, f"node {n}: audit verify: {r.stdout}{r.stderr}"
