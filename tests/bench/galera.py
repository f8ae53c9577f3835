#!/usr/bin/python3
"""make bench BENCH_DB=galera — the cost of a 3-node Galera cluster against one plain MariaDB.

In one run, on this machine: one plain MariaDB (scripts/mariadb.sh) and a 3-node Galera cluster on
loopback (scripts/galera.sh), each with `latchkey init` and HOT keys, and lighttpd in front of the
release programs (BENCH_BIN, default build/bin). Targets, ROUNDS interleaved rounds, medians:

  verify_hot   wrk: POST /v1/verify over the HOT keys (c=16, 2 threads, tests/bench/rotate.lua)
  me           wrk: GET /v1/me over the HOT keys
  write        WRITERS client threads: POST /v1/keys then POST /v1/keys/{id}/revoke (2 changes,
               2 audit rows each), keep-alive connections; changes per second

Setups: plain (one MariaDB), galera (db_host lists the three nodes: one writer, causal reads
db_sync_wait = 1), galera_nosync (the same with db_sync_wait = 0: the cost of causal reads), and for
the write target galera_spread (three lighttpds, each pinned to a different node: every node
writes). wsrep_local_cert_failures is counted over each galera write run. CPU µs per request of
mariadbd (all nodes) and of the latchkey programs come from /proc/<pid>/stat deltas.
On one machine the three nodes share the CPUs: the figures are the cost of replication, not the
gain of scale. Results: build/bench/galera.json and a table on stdout.

Environment: BENCH_SECONDS (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (16), BENCH_WRITERS (8),
BENCH_BIN, GALERA_PORT (a free block of 12 is chosen), BENCH_HOT (200).
"""
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "build" / "bench" / "galera"
BIN = Path(os.environ.get("BENCH_BIN", REPO / "build" / "bin")).resolve()
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WRITERS = int(os.environ.get("BENCH_WRITERS", "8"))
HOT = int(os.environ.get("BENCH_HOT", "200"))
TICK = os.sysconf("SC_CLK_TCK")
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import harness  # noqa: E402  (free ports, the same way the tests choose them)


def log(msg):
    print(f"bench-galera: {msg}", file=sys.stderr, flush=True)


def script(*args, env=None):
    subprocess.run([str(REPO / "scripts" / args[0]), *map(str, args[1:])], check=True,
                   env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)


def cpu_ticks(pids):
    t = 0
    for p in pids:
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            t += int(f[11]) + int(f[12])
        except (OSError, IndexError):
            pass
    return t


def descendants(pid):
    kids = {}
    for p in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int(p.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(p.name))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


class DB:
    """A plain MariaDB or the cluster, initialised, with the admin key unlimited and HOT keys."""

    def __init__(self, kind):
        self.kind, self.dir = kind, OUT / kind
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        os.chmod(self.dir, 0o755)
        if kind == "plain":
            self.port = harness.free_port()
            script("mariadb.sh", "start", self.dir, self.port)
        else:
            self.port = harness.free_port_block(12)
            script("galera.sh", "start", self.dir, env={"GALERA_PORT": str(self.port)})
        out = subprocess.run([BIN / "latchkey", "--config", self.dir / "latchkey.conf", "init"],
                             check=True, capture_output=True, text=True).stdout
        self.admin = [l for l in out.splitlines() if l.startswith("lk_")][0]
        admin_id = re.search(r"^key_id=(\S+)", out, re.M).group(1)
        script("mariadb.sh", "grant", self.dir)
        self.sql(f"UPDATE latchkey.api_keys SET rl_limit = 1000000000, rl_window = 60 WHERE public_id = '{admin_id}'")

    def sql(self, q):
        return subprocess.run(["mariadb", "--no-defaults", f"--socket={self.dir}/run/mysqld.sock", "--user=root",
                               "--batch", "--skip-column-names", "-e", q],
                              check=True, capture_output=True, text=True).stdout

    def pids(self):
        dirs = [self.dir] + ([self.dir / "n2", self.dir / "n3"] if self.kind == "galera" else [])
        return [int((d / "run" / "mysqld.pid").read_text()) for d in dirs]

    def cert_failures(self):
        n = 0
        for d in [self.dir, self.dir / "n2", self.dir / "n3"]:
            out = subprocess.run(["mariadb", "--no-defaults", f"--socket={d}/run/mysqld.sock", "--user=root", "-N",
                                  "-e", "SHOW STATUS LIKE 'wsrep_local_cert_failures'"],
                                 capture_output=True, text=True).stdout.split()
            n += int(out[1]) if len(out) == 2 else 0
        return n

    def stop(self):
        if self.kind == "plain":
            script("mariadb.sh", "stop", self.dir, self.port)
        else:
            script("galera.sh", "stop", self.dir)


class Web:
    """lighttpd in front of the programs, with its own config: db_host = nodes, extra settings."""

    def __init__(self, db, name, nodes=None, extra=""):
        self.db, self.dir = db, OUT / f"web-{name}"
        shutil.rmtree(self.dir, ignore_errors=True)
        (self.dir / "log").mkdir(parents=True)
        (self.dir / "run").mkdir()
        text = (db.dir / "latchkey.conf").read_text()
        if nodes:
            hosts = ", ".join(f"127.0.0.1:{db.port + n - 1}" for n in nodes)
            text = re.sub(r"^db_host\s*=.*$", f"db_host = {hosts}", text, flags=re.M)
        (self.dir / "latchkey.conf").write_text(text + extra)
        self.port = harness.free_port()
        script("webserver.sh", "start", "lighttpd", self.dir, self.port, BIN, harness.free_port())
        self.pid = int((self.dir / "run" / "lighttpd.pid").read_text())

    def stop(self):
        script("webserver.sh", "stop", "lighttpd", self.dir)


def request(conn, method, path, key, body=None):
    h = {"Authorization": f"Bearer {key}"}
    if body is not None:
        h["Content-Type"] = "application/json"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = conn.getresponse()
    return r.status, r.read()


def make_keys(web, n):
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
    keys = []
    for i in range(n):
        st, body = request(conn, "POST", "/v1/keys", web.db.admin, {"label": f"bench{i}", "scopes": ["verify"]})
        assert st == 201, (st, body[:200])
        keys.append(json.loads(body)["key"])
    path = OUT / f"hot-{web.db.kind}.txt"
    path.write_text("\n".join(keys) + "\n")
    return path


def measure(db, webs, fn):
    """fn() -> requests done; with the CPU µs per request of mariadbd and of the programs."""
    progs = [p for w in webs for p in descendants(w.pid)]
    groups = [progs] + [[p] for p in db.pids()]
    before = [cpu_ticks(g) for g in groups]
    t0 = time.time()
    n = fn()
    took = time.time() - t0
    us = [(cpu_ticks(g) - b) * 1e6 / TICK / max(n, 1) for g, b in zip(groups, before)]
    # node 1 is the writer of one-writer setups; the others apply its write-sets
    out = {"rps": n / took, "db_us": sum(us[1:]), "prog_us": us[0], "node1_us": us[1]}
    if len(us) > 2:
        out["other_node_us"] = sum(us[2:]) / len(us[2:])
    return out


def wrk(web, path, mode, keys):
    out = subprocess.run(["wrk", "-t2", f"-c{CONNS}", f"-d{SECONDS}s", "-s", REPO / "tests" / "bench" / "rotate.lua",
                          f"http://127.0.0.1:{web.port}{path}", "--", keys, mode, web.db.admin, "0"],
                         check=True, capture_output=True, text=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        log(f"{path}: {bad.group(1)} non-2xx answers")
    return int(re.search(r"(\d+) requests in", out).group(1))


def writes(webs):
    """WRITERS threads, each on the web nodes in turn: create + revoke pairs for SECONDS; changes done."""
    done, errors = [0], [0]
    end = time.time() + SECONDS
    lock = threading.Lock()

    def writer(i):
        web = webs[i % len(webs)]
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=60)
        n = e = 0
        while time.time() < end:
            st, body = request(conn, "POST", "/v1/keys", web.db.admin, {"label": "w", "scopes": ["verify"]})
            if st != 201:
                e += 1
                continue
            st, _ = request(conn, "POST", f"/v1/keys/{json.loads(body)['id']}/revoke", web.db.admin, {})
            n += 1 + (st == 200)
            e += st != 200
        with lock:
            done[0] += n
            errors[0] += e

    ts = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors[0]:
        log(f"write: {errors[0]} failed requests")
    return done[0]


def main():
    if not shutil.which("wrk"):
        sys.exit("bench-galera: wrk is missing")
    OUT.mkdir(parents=True, exist_ok=True)
    dbs, webs, res = [], [], {}
    try:
        log("starting one MariaDB and a 3-node Galera cluster")
        plain = DB("plain")
        dbs.append(plain)
        galera = DB("galera")
        dbs.append(galera)
        setups = {"plain": (plain, [Web(plain, "plain")]),
                  "galera": (galera, [Web(galera, "galera", (1, 2, 3))]),
                  "galera_nosync": (galera, [Web(galera, "nosync", (1, 2, 3), "db_sync_wait = 0\n")]),
                  "galera_spread": (galera, [Web(galera, f"n{n}", (n,)) for n in (1, 2, 3)])}
        webs = [w for _, ws in setups.values() for w in ws]
        hot = {db.kind: make_keys(ws[0], HOT) for db, ws in (setups["plain"], setups["galera"])}
        runs = {}
        for rnd in range(ROUNDS):
            for name, (db, ws) in setups.items():
                targets = [("write", None)]
                if name != "galera_spread":
                    targets = [("verify_hot", ("/v1/verify", "verify")), ("me", ("/v1/me", "bearer"))] + targets
                for target, arg in targets:
                    cert = db.cert_failures() if db.kind == "galera" else 0
                    if arg:
                        m = measure(db, ws, lambda: wrk(ws[0], arg[0], arg[1], hot[db.kind]))
                    else:
                        m = measure(db, ws, lambda: writes(ws))
                    if db.kind == "galera":
                        m["cert_failures"] = db.cert_failures() - cert
                    runs.setdefault((name, target), []).append(m)
                    log(f"round {rnd + 1} {name} {target}: {m['rps']:.0f}/s")
        for (name, target), ms in runs.items():
            res.setdefault(name, {})[target] = {k: statistics.median(m[k] for m in ms) for k in ms[0]}
    finally:
        for w in webs:
            w.stop()
        for db in dbs:
            db.stop()
    (REPO / "build" / "bench" / "galera.json").write_text(json.dumps(res, indent=1))
    print(f"\n{'target':12} {'setup':14} {'req/s':>8} {'vs plain':>9} {'mariadbd µs':>12} {'node 1':>7} "
          f"{'node 2/3':>8} {'programs µs':>12} {'cert fail':>9}")
    for target in ("verify_hot", "me", "write"):
        for name in ("plain", "galera", "galera_nosync", "galera_spread"):
            m = res.get(name, {}).get(target)
            if not m:
                continue
            ratio = m["rps"] / res["plain"][target]["rps"]
            other = f"{m['other_node_us']:8.0f}" if "other_node_us" in m else f"{'':8}"
            print(f"{target:12} {name:14} {m['rps']:8.0f} {ratio:9.2f} {m['db_us']:12.0f} {m['node1_us']:7.0f} "
                  f"{other} {m['prog_us']:12.0f} {m.get('cert_failures', ''):>9}")
    print("(write: changes per second, a create or a revoke each; mariadbd µs: all nodes, node 1: the writer "
          "of the one-writer setups, node 2/3: the mean of the others; cert fail: wsrep_local_cert_failures "
          "over the run)")


if __name__ == "__main__":
    main()
