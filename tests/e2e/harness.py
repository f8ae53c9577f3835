"""The latchkey end-to-end stack: one private MariaDB and three web servers.

Used by conftest.py (fixtures `stack` and `server`); it can also be driven by hand:

    /usr/bin/python3 tests/e2e/harness.py        # start everything, print URLs, Ctrl-C stops

Everything is started through the repo's scripts (scripts/mariadb.sh, scripts/webserver.sh), so
the tests exercise the same configs an operator gets from `make run`.

Environment:
  LATCHKEY_BIN_DIR      programs + CLI to test (default build/asan/bin, relative to the repo root)
  LATCHKEY_E2E_SERVERS  comma-separated subset of lighttpd,apache,apache-proxy,cgi (default: all)
  LATCHKEY_E2E_KEEP=1   keep the temp VARDIR (logs, DB) after the run (it is also kept when a test
                        failed or a sanitizer reported something; the path is printed)
  ASAN_OPTIONS / UBSAN_OPTIONS / LSAN_OPTIONS   passed to the programs and the CLI (defaults below)
"""
import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import procs

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"

# fixture name -> scripts/webserver.sh KIND
SERVER_KINDS = {"lighttpd": "lighttpd", "apache": "apache", "apache-proxy": "apache-proxy",
                "cgi": "lighttpd-cgi"}
# servers that put the authorizer (cgi-bin/authorize) in front of the demo app at /demo/
AUTHORIZER_SERVERS = ("lighttpd", "apache", "apache-proxy")

# per-location rules of the authorizer, appended to the test config (tests/e2e/test_authorizer.py)
AUTHZ_RULES = """
# e2e: the authorizer's rules for the demo app (tests/e2e/harness.py)
authz_rule = /demo/ GET,POST demo:read
authz_rule = /demo/admin/ demo:admin
authz_rule = /demo/hello.txt any-key
authz_default = deny
"""
SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

DEFAULT_ASAN_OPTIONS = "detect_leaks=1:halt_on_error=1:abort_on_error=0"
DEFAULT_UBSAN_OPTIONS = "print_stacktrace=1"

# the admin key's rate-limit override (per 60 s), see Stack._init
ADMIN_RATELIMIT = 1000000000

# small enough for the fault tests (DB stopped / paused)
DB_TIMEOUTS = {"LATCHKEY_DB_CONNECT_TIMEOUT": "2",
               "LATCHKEY_DB_READ_TIMEOUT": "3",
               "LATCHKEY_DB_WRITE_TIMEOUT": "3"}
# an audit checkpoint in the program log every 5 changes (default 100), so tests see some
AUDIT_CHECKPOINT_EVERY = 5


class StrPath(str):
    """A path that is a str (concatenation, open(), os.path) and also supports `/` like Path."""

    def __truediv__(self, other):
        return Path(self) / other

    @property
    def path(self):
        return Path(self)


def server_names_from_env():
    raw = os.environ.get("LATCHKEY_E2E_SERVERS", "").strip()
    if not raw:
        return list(SERVER_KINDS)
    names = [n.strip() for n in raw.split(",") if n.strip()]
    bad = [n for n in names if n not in SERVER_KINDS]
    if bad:
        raise ValueError(f"LATCHKEY_E2E_SERVERS: unknown server(s) {bad}; known: {list(SERVER_KINDS)}")
    return names


_used_ports = set()


def _ephemeral_range():
    try:
        lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def _port_range():
    """The ports this process picks from: [10000, start of the ephemeral range), and under
    pytest-xdist (`make e2e` runs several workers, each with its own stack) this worker's share of
    it, so that two workers never pick the same port between checking it and binding it."""
    lo, _ = _ephemeral_range()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count <= 1:
        return 10000, lo
    share = (lo - 10000) // count
    first = 10000 + int(worker[2:]) % count * share
    return first, first + share


def free_port():
    """A currently free loopback TCP port, never the same twice in one process.

    Chosen BELOW the kernel's ephemeral range: a port from that range can be taken as the source
    port of any outgoing connection while MariaDB is stopped by a fault test (seen: "Bind on TCP/IP
    port ... Address already in use" on restart)."""
    lo, hi = _port_range()
    if hi > lo + 1000:
        rng = random.Random()
        for _ in range(200):
            port = rng.randrange(lo, hi)
            if port in _used_ports:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _used_ports.add(port)
            return port
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _used_ports:
            _used_ports.add(port)
            return port
    raise RuntimeError("no free port")


class CLIError(subprocess.CalledProcessError):
    def __str__(self):
        return (f"{' '.join(map(str, self.cmd))} exited {self.returncode}\n"
                f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}")


class Server:
    """One running web server in front of the latchkey programs."""

    def __init__(self, stack, name, port):
        self.stack = stack
        self.name = name                      # "lighttpd" | "apache" | "apache-proxy" | "cgi"
        self.kind = SERVER_KINDS[name]        # scripts/webserver.sh KIND
        self.port = port
        self.authz_port = free_port()         # Apache: the authorizer pool (mod_authnz_fcgi)
        self.base_url = f"http://127.0.0.1:{port}"
        logdir = stack.vardir / "log"
        self.error_logs = [StrPath(logdir / f"{self.kind}-error.log"),
                           StrPath(logdir / f"{self.kind}-stderr.log")]
        self.access_logs = [StrPath(logdir / f"{self.kind}-access.log")]
        # every run of the demo app appends the request's X-Request-Id here
        self.demo_log = StrPath(logdir / f"{self.kind}-demo.log")
        self.running = False

    # set by Stack after `latchkey init`
    @property
    def admin_key(self):
        return self.stack.admin_key

    @property
    def root_account(self):
        return self.stack.root_account

    @property
    def admin_key_id(self):
        return self.stack.admin_key_id

    def url(self, path):
        return self.base_url + path

    def pid(self):
        try:
            return int(Path(self.stack.vardir, "run", f"{self.kind}.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stage_dir(self):
        """Apache kinds: the staged copy of programs and config (pool pid files in run/)."""
        try:
            return Path(Path(self.stack.vardir, "run", f"{self.kind}.stage").read_text().strip())
        except OSError:
            return None

    def pool_pid(self, program):
        """Apache kinds: pid of the latchkey-pool running PROGRAM (e.g. "authorize"), or None."""
        stage = self.stage_dir()
        try:
            return int((stage / "run" / f"pool-{program}.pid").read_text().strip())
        except (OSError, ValueError, TypeError):
            return None

    def flush_logs(self):
        """lighttpd may buffer its access log; SIGHUP makes it reopen (and flush) its logs."""
        pid = self.pid() if self.kind.startswith("lighttpd") else None
        if pid and procs.signal_quietly(pid, signal.SIGHUP):
            time.sleep(0.2)

    def start(self):
        self.stack._script("webserver.sh", "start", self.kind, self.stack.vardir, self.port,
                           self.stack.bin_dir, self.authz_port)
        self.running = True

    def stop(self):
        self.stack._script("webserver.sh", "stop", self.kind, self.stack.vardir)
        self.running = False

    def __repr__(self):
        return f"<Server {self.name} {self.base_url}>"


class Stack:
    """A private MariaDB + `latchkey init` + the web servers, all under one temp VARDIR."""

    def __init__(self, bin_dir=None, server_names=None, vardir=None):
        bin_dir = bin_dir or os.environ.get("LATCHKEY_BIN_DIR") or "build/asan/bin"
        bin_dir = Path(bin_dir)
        if not bin_dir.is_absolute():
            bin_dir = REPO / bin_dir
        self.bin_dir = StrPath(bin_dir.resolve())
        self.cli_path = StrPath(self.bin_dir / "latchkey")
        self.server_names = list(server_names or server_names_from_env())
        if vardir is None:
            # short path under /tmp: unix socket paths are limited to 107 bytes
            vardir = tempfile.mkdtemp(prefix="lk-e2e-", dir="/tmp")
        os.chmod(vardir, 0o755)
        self.vardir = StrPath(Path(vardir).resolve())
        self.conf_path = StrPath(self.vardir / "latchkey.conf")
        self.db_socket = StrPath(self.vardir / "run" / "mysqld.sock")
        self.db_port = None
        self.admin_key = self.admin_key_id = self.root_account = None
        self.owner_login = self.owner_password = None
        self.init_output = None
        self.servers = {}
        self.cli_sanitizer_reports = []
        self._db_running = False
        self._paused = False
        self._started = False
        self.env = dict(os.environ)
        self.env.setdefault("ASAN_OPTIONS", DEFAULT_ASAN_OPTIONS)
        self.env.setdefault("UBSAN_OPTIONS", DEFAULT_UBSAN_OPTIONS)
        self.env.update(DB_TIMEOUTS)
        self.env["LATCHKEY_DEMO_LOG"] = "1"
        self.env["LATCHKEY_AUDIT_CHECKPOINT_EVERY"] = str(AUDIT_CHECKPOINT_EVERY)
        # mod_qos's refusals are logged here (the shipped config does not): a connection a test
        # saw closed without an answer is then explained in the failure's server log section
        self.env["APACHE_LOGLEVEL"] = "warn qos:error"
        self.env.pop("LATCHKEY_CONF", None)

    # ------------------------------------------------------------------ plumbing
    def _script(self, name, *args, timeout=120):
        cmd = [str(SCRIPTS / name)] + [str(a) for a in args]
        r = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return r

    def _check_binaries(self):
        missing = [p for p in ["latchkey", "latchkey-pool"] +
                   [f"{n}.fcgi" for n in ("keys", "key", "verify", "me", "accounts", "authorize", "audit", "webhooks", "leaks", "admin",
                                      "notfound")]
                   if not os.access(self.bin_dir / p, os.X_OK)]
        if missing:
            raise RuntimeError(f"missing programs in {self.bin_dir}: {missing} "
                               f"(run `make asan`, or set LATCHKEY_BIN_DIR)")

    # ------------------------------------------------------------------ lifecycle
    def start(self):
        self._check_binaries()
        self._started = True
        atexit.register(self.stop)
        self.db_port = free_port()
        self.db_start()
        self._configure()
        with open(self.conf_path, "a") as f:
            f.write(AUTHZ_RULES)
        self._init()
        for name in self.server_names:
            srv = Server(self, name, free_port())
            self.servers[name] = srv
            srv.start()
        return self

    # Settings the tests need on top of what scripts/mariadb.sh writes: the servers speak plain
    # http on 127.0.0.1, so the admin console runs in its plain-http dev mode (as under make run).
    # The login IP limit is lowered so test_admin_http can reach it quickly.
    # Webhooks: the receivers of test_webhooks listen on loopback over http (allowed only with
    # webhook_allow_private, as under make run); retries, leases and polls in seconds, not hours.
    EXTRA_CONF = ("admin_insecure_cookie = yes\n", "login_max_failures_ip = 30\n",
                  "webhook_allow_private = yes\n", "webhook_retry_schedule = 1,1,1\n",
                  "webhook_lease = 3\n", "webhook_poll_ms = 100\n",
                  "webhook_connect_timeout = 2\n", "webhook_timeout = 2\n",
                  # the programs' own hourly sweep notices keys within a day only, so the expiry
                  # tests' sweeps (7 days, test_webhooks_notices.py) are the only ones for theirs
                  "expiry_notice_days = 1\n")

    def _configure(self):
        text = Path(self.conf_path).read_text()
        # Leak reports (test_leaks.py writes the keys file and the mail capture script there;
        # both are read when a report comes, so they need not exist yet).
        leaks = Path(self.vardir, "leaks")
        extra = self.EXTRA_CONF + (f"github_secret_scanning_keys_file = {leaks}/keys.json\n",
                                   f"mail_command = {leaks}/mail.sh {leaks}/mail\n")
        with open(self.conf_path, "a") as f:
            for line in extra:
                if line.split("=")[0].strip() not in text:
                    f.write(line)

    def _init(self):
        r = self.cli("init")
        self.init_output = r.stdout
        for line in r.stdout.splitlines():
            line = line.strip()
            if line.startswith("account_id="):
                self.root_account = line.split("=", 1)[1]
            elif line.startswith("key_id="):
                self.admin_key_id = line.split("=", 1)[1]
            elif line.startswith("login: "):
                self.owner_login = line.split(": ", 1)[1]
            elif line.startswith("password: "):
                self.owner_password = line.split(": ", 1)[1]
            elif line and "=" not in line:
                self.admin_key = line
        if not (self.root_account and self.admin_key):
            raise RuntimeError(f"cannot parse `latchkey init` output:\n{r.stdout}\n{r.stderr}")
        # init ran as the owner user; now the runtime user gets its table rights
        self._script("mariadb.sh", "grant", self.vardir)
        # Rate limits are enforced: the suite makes thousands of calls with the admin key (root
        # account, enterprise plan: 6000/min), so give that one key an override far above any run.
        # Tests of limits use their own keys.
        conn = self.db_connect()
        try:
            with conn.cursor() as c:
                c.execute("UPDATE api_keys SET rl_limit = %s, rl_window = 60 WHERE public_id = %s",
                          (ADMIN_RATELIMIT, self.admin_key_id))
        finally:
            conn.close()

    def stop(self):
        """Stop all servers and the DB (idempotent). Returns a list of error strings."""
        errors = []
        for srv in self.servers.values():
            if srv.running:
                try:
                    srv.stop()
                except Exception as e:  # keep going: the DB must be stopped too
                    errors.append(str(e))
        if self._db_running or self._paused:
            try:
                self.db_stop()
            except Exception as e:
                errors.append(str(e))
        return errors

    def remove_vardir(self):
        shutil.rmtree(self.vardir, ignore_errors=True)

    # ------------------------------------------------------------------ database
    def db_password(self):
        return (self.vardir / "db.password").read_text().strip()

    def db_connect(self, root=False, **kw):
        """New PyMySQL connection (autocommit) to the private DB: as `latchkey` over TCP, or as
        root over the unix socket with root=True."""
        import pymysql
        args = dict(autocommit=True, connect_timeout=5, charset="utf8mb4")
        if root:
            args.update(unix_socket=str(self.db_socket), user="root")
        else:
            args.update(host="127.0.0.1", port=self.db_port, user="latchkey",
                        password=self.db_password(), database="latchkey")
        args.update(kw)
        return pymysql.connect(**args)

    def db_pid(self):
        try:
            return int((self.vardir / "run" / "mysqld.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def db_start(self):
        self._script("mariadb.sh", "start", self.vardir, self.db_port)
        self._db_running = True

    def db_stop(self):
        self.db_resume()
        self._script("mariadb.sh", "stop", self.vardir, self.db_port)
        self._db_running = False

    def db_restart(self):
        self.db_stop()
        self.db_start()

    def db_pause(self):
        """SIGSTOP mariadbd: connections hang instead of failing."""
        pid = self.db_pid()
        if not pid:
            raise RuntimeError("mariadbd is not running")
        os.kill(pid, signal.SIGSTOP)
        self._paused = True

    def db_resume(self):
        if self._paused:
            pid = self.db_pid()
            if pid:
                procs.signal_quietly(pid, signal.SIGCONT)
            self._paused = False

    def mariadb_dump(self, databases=None):
        """Full `mariadb-dump` (all databases by default) of the private DB, as text."""
        cmd = ["mariadb-dump", "--no-defaults", f"--socket={self.db_socket}", "--user=root",
               "--single-transaction", "--routines", "--triggers", "--events", "--skip-dump-date"]
        cmd += ["--databases", *databases] if databases else ["--all-databases"]
        r = subprocess.run(cmd, capture_output=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"mariadb-dump failed: {r.stderr.decode(errors='replace')}")
        return r.stdout.decode("utf-8", errors="replace")

    # ------------------------------------------------------------------ CLI
    def cli(self, *args, check=True, input=None, timeout=60, env=None):
        """Run `latchkey --config CONF *args` -> CompletedProcess (text). check=True raises
        CLIError (a CalledProcessError showing stdout/stderr) on a non-zero exit."""
        cmd = [str(self.cli_path), "--config", str(self.conf_path)] + [str(a) for a in args]
        e = dict(self.env)
        if env:
            e.update(env)
        r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, env=e)
        if any(p in (r.stderr or "") for p in SANITIZER_PATTERNS):
            self.cli_sanitizer_reports.append(f"$ latchkey {' '.join(map(str, args))}\n{r.stderr}")
        if check and r.returncode != 0:
            raise CLIError(r.returncode, cmd, r.stdout, r.stderr)
        return r

    # ------------------------------------------------------------------ logs
    def error_log_paths(self):
        return [p for s in self.servers.values() for p in s.error_logs]

    def all_log_paths(self):
        """Every log file of MariaDB and all servers (everything under VARDIR/log)."""
        for s in self.servers.values():
            if s.running:
                s.flush_logs()
        logdir = self.vardir / "log"
        return sorted(StrPath(p) for p in logdir.iterdir() if p.is_file()) if logdir.is_dir() else []

    def sanitizer_report(self, context=30):
        """Text of every ASan/UBSan/LSan report in the server error logs (and CLI runs); '' if none."""
        out = []
        for path in self.error_log_paths():
            try:
                lines = Path(path).read_text(errors="replace").splitlines()
            except FileNotFoundError:
                continue
            hits = [i for i, l in enumerate(lines) if any(p in l for p in SANITIZER_PATTERNS)]
            shown_to = -1
            for i in hits:
                if i <= shown_to:
                    continue
                shown_to = min(len(lines) - 1, i + context)
                out.append(f"--- {path}:{i + 1}\n" + "\n".join(lines[max(0, i - 2):shown_to + 1]))
        out += [f"--- CLI\n{r}" for r in self.cli_sanitizer_reports]
        return "\n".join(out)

    def describe(self):
        lines = [f"VARDIR {self.vardir}", f"MariaDB 127.0.0.1:{self.db_port} socket {self.db_socket}",
                 f"config {self.conf_path}", f"root account {self.root_account}"]
        lines += [f"{s.name:9} {s.base_url}" for s in self.servers.values()]
        return "\n".join(lines)


def main():
    st = Stack()
    try:
        st.start()
        print(st.describe())
        print(f"admin key {st.admin_key}")
        print("Ctrl-C stops everything")
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        errs = st.stop()
        rep = st.sanitizer_report()
        print(rep or "no sanitizer reports", file=sys.stderr)
        print("\n".join(errs), file=sys.stderr)
        print(f"logs kept in {st.vardir}/log", file=sys.stderr)


if __name__ == "__main__":
    main()


# ---------------------------------------------------------------------- Galera (test_galera.py)
def free_port_block(n):
    """The first of n consecutive free loopback ports (below the ephemeral range, as free_port)."""
    lo, hi = _port_range()
    rng = random.Random()
    for _ in range(500):
        base = rng.randrange(lo, hi - n)
        ports = range(base, base + n)
        if any(p in _used_ports for p in ports):
            continue
        try:
            for p in ports:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        _used_ports.update(ports)
        return base
    raise RuntimeError("no block of free ports")


class _WebDir:
    """What a Server needs of its stack, with a VARDIR of its own (one latchkey.conf per web node)."""

    def __init__(self, stack, vardir):
        self._stack = stack
        self.vardir = vardir

    def __getattr__(self, name):
        return getattr(self._stack, name)


class GaleraStack(Stack):
    """A 3-node Galera cluster (scripts/galera.sh) + `latchkey init`; web nodes are added by
    add_server, each with its own config whose db_host lists the nodes it may use."""

    NODES = (1, 2, 3)

    def __init__(self, **kw):
        super().__init__(server_names=[], **kw)

    def start(self):
        self._check_binaries()
        self._started = True
        atexit.register(self.stop)
        self.db_start()
        self._configure()
        self._init()
        return self

    def db_start(self):
        if self.db_port is None:
            self.db_port = free_port_block(12)
            self.env["GALERA_PORT"] = str(self.db_port)
        self._script("galera.sh", "start", self.vardir, timeout=300)
        self._db_running = True

    def db_stop(self):
        self._script("galera.sh", "stop", self.vardir, timeout=300)
        self._db_running = False

    def node_dir(self, n):
        return self.vardir if n == 1 else StrPath(self.vardir / f"n{n}")

    def node_port(self, n):
        return self.db_port + n - 1

    def node_pid(self, n):
        try:
            return int((self.node_dir(n) / "run" / "mysqld.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def node_connect(self, n, root=False, **kw):
        """PyMySQL connection to node n: as `latchkey` over TCP, or as root over its socket."""
        if root:
            kw.setdefault("unix_socket", str(self.node_dir(n) / "run" / "mysqld.sock"))
        else:
            kw.setdefault("port", self.node_port(n))
        return self.db_connect(root=root, **kw)

    def node_status(self, n):
        """node n's wsrep status variables (lower-case names), {} when it does not answer."""
        try:
            conn = self.node_connect(n, root=True, connect_timeout=2, read_timeout=3)
        except Exception:
            return {}
        try:
            with conn.cursor() as c:
                c.execute("SHOW STATUS LIKE 'wsrep_%'")
                return {k.lower(): v for k, v in c.fetchall()}
        except Exception:
            return {}
        finally:
            conn.close()

    def node_kill(self, n):
        self._script("galera.sh", "kill", n, self.vardir)

    def node_start(self, n):
        self._script("galera.sh", "start", n, self.vardir, timeout=300)

    def node_conf(self, nodes, path, extra=""):
        """A copy of the config at path with db_host listing the given nodes (in that order)."""
        hosts = ", ".join(f"127.0.0.1:{self.node_port(n)}" for n in nodes)
        lines = [f"db_host = {hosts}" if l.split("=")[0].strip() == "db_host" else l
                 for l in Path(self.conf_path).read_text().splitlines()]
        Path(path).write_text("\n".join(lines) + "\n" + extra)
        return StrPath(path)

    def add_server(self, label, nodes):
        """A lighttpd in front of the programs, whose db_host lists nodes; stack.servers[label]."""
        d = StrPath(self.vardir / f"web-{label}")
        os.makedirs(d / "log", exist_ok=True)
        os.makedirs(d / "run", exist_ok=True)
        os.chmod(d, 0o755)
        self.node_conf(nodes, d / "latchkey.conf")
        srv = Server(_WebDir(self, d), "lighttpd", free_port())
        srv.name = label
        self.servers[label] = srv
        srv.start()
        return srv

    def cli_on(self, nodes, *args, **kw):
        """The CLI with db_host listing nodes."""
        conf = self.node_conf(nodes, self.vardir / f"cli-{'-'.join(map(str, nodes))}.conf")
        cmd = [str(self.cli_path), "--config", str(conf)] + [str(a) for a in args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=kw.get("timeout", 120),
                              env=self.env)
