"""`make run` as one supervised unit, driven in a real terminal (tmux): Ctrl-C once, twice, during
start-up, the terminal closed (SIGHUP), and a second instance on the same VAR. After each, no
MariaDB, web server, FastCGI program or helper of that VAR may remain.

Runs scripts/run.sh (what `make run` runs) with a private VAR, ports and tmux server."""
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

import harness
import procs

REPO = Path(__file__).resolve().parents[2]
BINDIR = os.environ.get("LATCHKEY_BIN_DIR") or str(REPO / "build/asan/bin")
SOCKET = f"lk-run-test-{os.getpid()}"
WAIT = 180          # generous bounds for a loaded machine: these are not speed assertions

pytestmark = pytest.mark.skipif(not shutil.which("tmux"), reason="tmux is not installed (scripts/deps.sh)")


def tmux(*args, check=True):
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=check)


def until(cond, what, timeout=WAIT):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def procs_of(var):
    """pid -> command of every process whose command line or environment names VAR."""
    out = {}
    needle = str(var).encode()
    for pid in procs.pids():
        if pid == os.getpid():
            continue
        cmd, env = procs.read(pid, "cmdline", binary=True), procs.read(pid, "environ", binary=True)
        if cmd is None or env is None:
            continue
        if needle in cmd or needle in env:
            out[pid] = cmd.replace(b"\0", b" ").decode(errors="replace").strip()
    return out


def comm_of(pid):
    return (procs.read(pid, "comm") or "").strip()


def by_comm(var, *names):
    return [p for p in procs_of(var) if comm_of(p) in names]


class Run:
    """One `scripts/run.sh` in its own tmux session."""

    def __init__(self, var, name, server="lighttpd", pipe_to=None, pipe_stderr=True):
        self.var, self.name = Path(var), name
        self.server, self.pipe_to = server, pipe_to     # pipe_to: run.sh's output piped into `tee FILE`
        self.pipe_stderr = pipe_stderr                  # False: `make run | tee` (stderr on the terminal)
        self.port, self.db_port = harness.free_port(), harness.free_port()
        self.status_file = self.var.parent / f"{name}.status"

    def start(self, db_port=None):
        if db_port:
            self.db_port = db_port
        self.status_file.unlink(missing_ok=True)
        env = (f"VAR={self.var} PORT={self.port} DB_PORT={self.db_port} BINDIR={BINDIR} SERVER={self.server} "
               f"ASAN_OPTIONS=detect_leaks=0")
        if self.pipe_to:    # the Ctrl-C reaches tee as well: run.sh's output pipe breaks while it stops
            both = " 2>&1" if self.pipe_stderr else ""
            cmd = "bash -c " + shlex.quote(f"cd {REPO} && env {env} sh scripts/run.sh{both} | tee {self.pipe_to};"
                                           f" echo ${{PIPESTATUS[0]}} > {self.status_file}")
        else:
            cmd = f"cd {REPO} && env {env} sh scripts/run.sh; echo $? > {self.status_file}"
        tmux("new-session", "-d", "-s", self.name, "-x", "200", "-y", "50", cmd)
        return self

    def serving(self):
        try:
            r = requests.get(f"http://127.0.0.1:{self.port}/v1/me", timeout=5)
            return r.status_code == 401 and r.json()["error"]["code"] == "MISSING_API_KEY"
        except (requests.RequestException, ValueError):
            return False

    def wait_serving(self):
        until(self.serving, f"{self.name} to serve on {self.port}:\n{self.screen()}")

    def screen(self):
        return tmux("capture-pane", "-p", "-t", self.name, check=False).stdout

    def history(self):
        """Everything the session printed, scrolled-off lines included."""
        return tmux("capture-pane", "-p", "-S", "-", "-t", self.name, check=False).stdout

    def ctrl_c(self):
        tmux("send-keys", "-t", self.name, "C-c")

    def alive(self):
        return tmux("has-session", "-t", self.name, check=False).returncode == 0

    def wait_exit(self):
        until(lambda: not self.alive(), f"{self.name} to exit")
        return int(self.status_file.read_text().strip()) if self.status_file.exists() else None


def assert_all_gone(var):
    left = until(lambda: not procs_of(var) and "gone", f"every process of {var} to exit: {procs_of(var)}")
    assert left == "gone"
    # and the lock is free again
    with open(Path(var) / "run.lock", "a") as f:
        import fcntl
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)


@pytest.fixture(scope="module")
def var():
    d = Path(tempfile.mkdtemp(prefix="lk-run-", dir="/tmp"))
    os.chmod(d, 0o755)
    v = d / "var"
    # the first run initialises the database (slow); the cases below reuse it
    r = Run(v, "init").start()
    r.wait_serving()
    # the first run prints the admin key and the console login once (README: make run)
    out = r.history()
    assert "shown only this once" in out, out
    key = re.search(r"^(lk_live_[A-Za-z0-9]+)\s*$", out, re.M)
    assert key, out
    assert re.search(r"^login: owner@localhost\s*$", out, re.M), out
    assert re.search(r"^password: \S{12,}\s*$", out, re.M), out
    # and the audit key and the anchor of its signed chain, both 0600 (README: make run)
    for name in ("audit.key", "audit.key.anchor"):
        assert (v / name).stat().st_mode & 0o7777 == 0o600, name
    assert re.match(r"audit anchor id=1 key_id=[0-9A-F]{16} mac=[0-9A-F]{64}\n$", (v / "audit.key.anchor").read_text())
    # the README's demo: /demo/ behind the authorizer (the admin key holds every scope)
    base = f"http://127.0.0.1:{r.port}"
    assert requests.get(f"{base}/demo/", timeout=10).status_code == 401
    me = requests.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {key.group(1)}"}, timeout=10).json()
    demo = requests.get(f"{base}/demo/", headers={"X-API-Key": key.group(1)}, timeout=10)
    assert demo.status_code == 200, demo.text
    assert demo.json()["LATCHKEY_KEY_ID"] == me["key"]["id"], demo.text
    r.ctrl_c()
    assert r.wait_exit() == 130
    assert_all_gone(v)
    yield v
    tmux("kill-server", check=False)
    for pid in procs_of(v):
        procs.signal_quietly(pid, signal.SIGKILL)
    shutil.rmtree(d, ignore_errors=True)


def test_ctrl_c_once_stops_everything(var):
    r = Run(var, "once").start()
    r.wait_serving()
    assert by_comm(var, "mariadbd") and by_comm(var, "lighttpd")
    assert any(comm_of(p).endswith(".fcgi") or "fcgi" in c for p, c in procs_of(var).items())
    r.ctrl_c()
    assert r.wait_exit() == 130
    assert_all_gone(var)


def test_ctrl_c_twice_still_stops_mariadb(var):
    r = Run(var, "twice").start()
    r.wait_serving()
    r.ctrl_c()
    # second Ctrl-C while shutdown is under way: the web server is gone, MariaDB is being stopped
    until(lambda: not by_comm(var, "lighttpd"), "lighttpd to stop")
    r.ctrl_c()
    r.ctrl_c()
    r.wait_exit()
    assert_all_gone(var)


def test_ctrl_c_during_start_up_cleans_up(var):
    r = Run(var, "startup").start()
    until(lambda: by_comm(var, "mariadbd"), "mariadbd to start")
    r.ctrl_c()                      # MariaDB is up or starting; the web server is not up yet
    assert r.wait_exit() == 130
    assert_all_gone(var)
    assert not r.serving()


@pytest.mark.parametrize("server,pipe_stderr", [("lighttpd", False), ("lighttpd", True), ("apache", True)])
def test_ctrl_c_with_the_output_piped_to_tee_stops_everything(var, tmp_path, server, pipe_stderr):
    """`make run | tee log` (or `2>&1 | tee log`) and Ctrl-C: tee dies first, and stopping must not
    die of the broken pipe. Under Apache, whose stop also ends the authorizer's latchkey-pool after
    Apache itself. Whether or not the pipe still took it, "run: stopped" is in VAR/log/run.log."""
    run_log = var / "log" / "run.log"
    before = run_log.stat().st_size if run_log.exists() else 0
    r = Run(var, f"piped-{server}-{int(pipe_stderr)}", server=server, pipe_to=tmp_path / "run-output.log",
            pipe_stderr=pipe_stderr).start()
    r.wait_serving()
    stage = None
    if server == "apache":
        stage = (var / "run" / "apache.stage").read_text().strip()   # Apache's files and the pools' programs
        pools = [p for p in procs_of(stage) if comm_of(p) == "latchkey-pool"]
        assert pools, procs_of(stage)
    r.ctrl_c()
    assert r.wait_exit() == 130
    assert_all_gone(var)
    if stage:
        until(lambda: not procs_of(stage), f"every process of the Apache stage {stage} to exit: {procs_of(stage)}")
    with open(run_log, "rb") as f:
        f.seek(before)
        added = f.read().decode(errors="replace")
    assert "run: stopped" in added, added[-2000:]


def test_terminal_closed_sighup_cleans_up(var):
    r = Run(var, "hup").start()
    r.wait_serving()
    tmux("kill-session", "-t", r.name)          # the terminal goes away: SIGHUP
    assert_all_gone(var)
    log = (var / "log" / "run.log").read_text()
    assert "SIGHUP" in log and "run: stopped" in log, log[-2000:]


def test_second_instance_refuses_and_leaves_the_first_alone(var):
    a = Run(var, "first").start()
    a.wait_serving()
    db = by_comm(var, "mariadbd")
    web = by_comm(var, "lighttpd")
    b = Run(var, "second").start(db_port=a.db_port)
    assert b.wait_exit() == 1
    assert by_comm(var, "mariadbd") == db and by_comm(var, "lighttpd") == web
    assert a.serving()
    assert not b.serving()
    a.ctrl_c()
    assert a.wait_exit() == 130
    assert_all_gone(var)


def test_second_instance_message(var, tmp_path):
    """The refusal names the lock, and nothing was touched (run outside tmux to read its stderr)."""
    a = Run(var, "holder").start()
    a.wait_serving()
    before = sorted(p.name for p in (var / "log").iterdir())
    env = dict(os.environ, VAR=str(var), PORT=str(harness.free_port()), DB_PORT=str(a.db_port), BINDIR=BINDIR)
    p = subprocess.run(["sh", "scripts/run.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "another 'make run' is using" in p.stderr and "run.lock" in p.stderr, p.stderr
    assert sorted(p.name for p in (var / "log").iterdir()) == before
    assert a.serving()
    a.ctrl_c()
    a.wait_exit()
    assert_all_gone(var)
