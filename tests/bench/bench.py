#!/usr/bin/python3
"""make bench — latchkey's hot paths against references, on a private MariaDB and web server.

Starts its own MariaDB (scripts/mariadb.sh, buffer pool sized for the keys), seeds BENCH_KEYS keys,
then for each server in BENCH_SERVER (default lighttpd, Apache + mod_fcgid, apache-proxy) runs wrk (c=16, 2 threads,
a Lua script rotating keys) against every target in interleaved rounds (A B C … A B C …, 3 rounds)
and reports medians. apache-proxy is Apache + mod_proxy_fcgi in front of one latchkey-pool
(4 workers) per program, the PHP reference still under mod_fcgid.

  hello           FastCGI hello world (the stack's ceiling)
  ref             C: SHA-256 + one prepared read by digest
  ref_counter     ref + the exact counter upsert latchkey runs
  php_counter     PHP 8.2 + PDO (persistent, its default emulated prepares), the same read + upsert,
                  via php-cgi over FastCGI
latchkey, the C references and the PHP peer all reach MariaDB over its unix socket.
  verify_hot      POST /v1/verify over 1,000 keys
  verify_uniform  POST /v1/verify over all BENCH_KEYS keys
  verify_policies POST /v1/verify {"key", "ip"} over 1,000 keys with a 10-entry IP allowlist and
                  credits (each VALID answer spends one: a transaction of the count and the spend)
  me              GET /v1/me, rotating over the 1,000 hot keys
  list            GET /v1/keys, rotating over the 1,000 hot keys
  authz_hello     the FastCGI hello behind the latchkey authorizer (rule /authz/ verify, hot keys)
  authz_static    a small static file behind the authorizer
  verify_hot_cached, verify_uniform_cached, authz_hello_cached
                  the same with verify_cache = on (lighttpd only): the host-local LMDB cache, uses
                  counted there and flushed each second
On Apache the authorizer runs in a latchkey-pool of 4 workers (mod_authnz_fcgi, a TCP connection
per check); on lighttpd it is a "mode" => "authorizer" backend with max-procs 4.

apache-shipped is the other Apache + mod_fcgid case: not the bench's own config but the shipped
templates (apache/latchkey.conf.in with apache/latchkey-include.conf.in, their FcgidCmdOptions
sizing) started by scripts/webserver.sh exactly as `make run SERVER=apache` starts them. It serves
the latchkey targets only (verify_hot, verify_uniform, verify_policies, me, list; no references), warmed up like
apache. BENCH_SERVER=apache runs it too, right after apache.

CPU µs per request of the program, mariadbd and the web server come from /proc/<pid>/stat deltas;
RSS is the largest VmRSS of a verify process at the end (and of a cached one, with what it maps: a page
the kernel faults in brings up to 15 neighbours of a file already in memory, so mapped files count more
than a process reads). Results: build/bench/results.json.

Environment: BENCH_KEYS (100000), BENCH_SECONDS (5 per run), BENCH_SERVER (lighttpd,apache,apache-proxy),
BENCH_ROUNDS (3), BENCH_CONNECTIONS (16), BENCH_TARGETS (a comma list of targets; ref_counter and
php_counter are always measured), BENCH_BUFFER_POOL (InnoDB pool, default sized for
BENCH_KEYS by the formula in docs/operations.md), BENCH_BIN (programs to measure, default build/bin),
BENCH_PERF=1 (`perf record -g` the verify and me programs during their first-round runs; reports in
build/bench/perf-<server>-<target>.txt), BENCH_CACHED_CONF (lines added to the cached targets' latchkey.conf,
e.g. "cache_sync_interval = 60" to see what the sync costs).
"""
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "tests" / "bench"
OUT = REPO / "build" / "bench"
BIN = Path(os.environ.get("BENCH_BIN", REPO / "build" / "bin"))   # the latchkey programs to measure
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
HOT = 1000
PROCS = 4
TICK = os.sysconf("SC_CLK_TCK")

KEYS = int(os.environ.get("BENCH_KEYS", "100000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
SERVERS = [s.strip() for s in os.environ.get("BENCH_SERVER", "lighttpd,apache,apache-proxy").split(",")
           if s.strip()]
if "apache" in SERVERS and "apache-shipped" not in SERVERS:   # the shipped template beside the bench's
    SERVERS.insert(SERVERS.index("apache") + 1, "apache-shipped")
# the targets the shipped templates serve (they have no reference programs)
SHIPPED = ("verify_hot", "verify_uniform", "verify_policies", "me", "list")

# name -> (path, lua mode, key set, program whose CPU is the target's)
ALL_TARGETS = {
    "hello": ("/hello", "bearer", "hot", "hello.fcgi"),
    "ref": ("/ref", "verify", "hot", "ref.fcgi"),
    "ref_counter": ("/ref_counter", "verify", "hot", "ref_counter.fcgi"),
    "php_counter": ("/php_counter.php", "verify", "hot", "php-cgi"),
    "verify_hot": ("/v1/verify", "verify", "hot", "verify.fcgi"),
    "verify_uniform": ("/v1/verify", "verify", "all", "verify.fcgi"),
    "verify_policies": ("/v1/verify", "verify_ip", "policy", "verify.fcgi"),
    "me": ("/v1/me", "bearer", "hot", "me.fcgi"),
    "list": ("/v1/keys", "bearer", "hot", "keys.fcgi"),
    "authz_hello": ("/authz/hello", "bearer", "hot", "authorize.fcgi"),
    "authz_static": ("/authz/static.txt", "bearer", "hot", "authorize.fcgi"),
    # verify_cache = on (docs/operations.md "Verify cache"): the same programs with a config of their
    # own (latchkey-cached.conf: base_path /cached/v1, the cache under var/cache); lighttpd only
    "verify_hot_cached": ("/cached/v1/verify", "verify", "hot", "verify.fcgi"),
    "verify_uniform_cached": ("/cached/v1/verify", "verify", "all", "verify.fcgi"),
    "authz_hello_cached": ("/authzc/hello", "bearer", "hot", "authorize.fcgi"),
}
CACHED = ("verify_hot_cached", "verify_uniform_cached", "authz_hello_cached")
# BENCH_TARGETS picks some; the two references every ratio is taken against are always measured
_picked = [t.strip() for t in os.environ.get("BENCH_TARGETS", ",".join(ALL_TARGETS)).split(",") if t.strip()]
for _t in _picked:
    if _t not in ALL_TARGETS:
        sys.exit(f"bench: unknown target '{_t}' in BENCH_TARGETS (known: {', '.join(ALL_TARGETS)})")
TARGETS = {t: v for t, v in ALL_TARGETS.items() if t in _picked or t in ("ref_counter", "php_counter")}
# programs each Apache + mod_proxy_fcgi route runs in its own latchkey-pool
PROXIED = (("/hello", "hello"), ("/ref_counter", "ref_counter"), ("/ref", "ref"),
           ("/v1/verify", "verify"), ("/v1/me", "me"), ("/v1/keys", "keys"))


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    kw.setdefault("check", True)
    return subprocess.run([str(c) for c in cmd], **kw)


sys.path.insert(0, str(REPO / "tests" / "e2e"))
from harness import free_port  # noqa: E402  (below the ephemeral range: see its comment)


# ------------------------------------------------------------------ build and database

def build():
    run(["make", "-C", REPO, "all"], stdout=subprocess.DEVNULL)
    bb = OUT / "bin"
    bb.mkdir(parents=True, exist_ok=True)
    cflags = ["-O2", "-g", "-Wall", "-Werror"] + run(
        ["pkg-config", "--cflags", "libmariadb"], capture_output=True, text=True).stdout.split()
    libs = run(["pkg-config", "--libs", "libmariadb", "openssl"], capture_output=True, text=True).stdout.split()
    run(["gcc", *cflags, "-o", bb / "hello.fcgi", BENCH / "hello.c", "-lfcgi"])
    run(["gcc", *cflags, "-o", bb / "ref.fcgi", BENCH / "ref.c", *libs, "-lfcgi"])
    run(["gcc", *cflags, "-DCOUNTER", "-o", bb / "ref_counter.fcgi", BENCH / "ref.c", *libs, "-lfcgi"])
    for p in ("verify", "me", "keys", "authorize"):
        shutil.copy2(BIN / f"{p}.fcgi", bb / f"{p}.fcgi")
    shutil.copy2(BIN / "latchkey-pool", bb / "latchkey-pool")
    return bb


def conf_value(conf, name):
    m = re.search(rf"^\s*{name}\s*=\s*(\S+)", conf.read_text(), re.M)
    return m.group(1) if m else None


def buffer_pool_mib(keys):
    """docs/operations.md, MariaDB for production: 1.25 x 640 B per key (api_keys 460 B measured
    + today's key_usage row 175 B) + 64 MiB, so verify stays in memory at any BENCH_KEYS."""
    return 64 + -(-int(1.25 * 640 * keys) // (1 << 20))


def start_db(var):
    port = free_port()
    env = dict(os.environ, LATCHKEY_DB_BUFFER_POOL=os.environ.get("BENCH_BUFFER_POOL")
               or f"{buffer_pool_mib(KEYS)}M")
    run([REPO / "scripts" / "mariadb.sh", "start", var, port], env=env, stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL)
    return port


def cli(var, *args):
    return run([REPO / "build" / "bin" / "latchkey", "--config", var / "latchkey.conf", *args],
               capture_output=True, text=True).stdout


def db(var, port):
    import pymysql
    pw = (var / "db.password").read_text().strip()
    return pymysql.connect(host="127.0.0.1", port=port, user="latchkey", password=pw,
                           database="latchkey", autocommit=True, local_infile=True)


_B62_TABLE = bytes(ord(B62[i % 62]) for i in range(256))   # byte -> base62 (bench keys: a small bias is fine)


def b62(n):
    return os.urandom(n).translate(_B62_TABLE).decode()


def new_key():
    head = "lk_live_" + b62(32)
    v = zlib.crc32(head.encode())
    check = ""
    for _ in range(6):
        check = B62[v % 62] + check
        v //= 62
    return head + check


def seed(var, port):
    """BENCH_KEYS keys in one enterprise account, bulk-loaded with LOAD DATA. Returns the caller."""
    out = cli(var, "init").splitlines()
    root = next(l.split("=", 1)[1] for l in out if l.startswith("account_id="))
    admin_id = next(l.split("=", 1)[1] for l in out if l.startswith("key_id="))
    caller = next(l.strip() for l in out if re.fullmatch(r"[a-z]{2,10}_(live|test)_[0-9A-Za-z]{38}", l.strip()))
    # the runtime DB user gets its table rights only from `grant` (after init/migrate)
    run([REPO / "scripts" / "mariadb.sh", "grant", var], stdout=subprocess.DEVNULL)
    acct = cli(var, "account", "create", "bench", "--parent", root, "--plan", "enterprise").strip()
    conn = db(var, port)
    with conn.cursor() as c:
        # the caller of verify is never counted; lift its limit anyway (it also makes the checks)
        c.execute("UPDATE api_keys SET rl_limit = 1000000000, rl_window = 60 WHERE public_id = %s", (admin_id,))
        c.execute("SELECT id FROM accounts WHERE public_id = %s", (acct,))
        acct_id = c.fetchone()[0]
    t0 = time.time()
    now = int(time.time())
    rows = var / "keys.tsv"
    with open(var / "keys.txt", "w") as f, open(rows, "w") as t:
        for i in range(KEYS):
            k = new_key()
            f.write(k + "\n")
            t.write(f"key_{b62(24)}\t{acct_id}\t{hashlib.sha256(k.encode()).hexdigest()}\t{k[:16]}\t"
                    f"bench key {i}\t{now - KEYS + i}\n")
    with conn.cursor() as c:
        c.execute(f"LOAD DATA LOCAL INFILE '{rows}' INTO TABLE api_keys"
                  " (public_id, account_id, @digest, start, label, created_at)"
                  " SET digest = UNHEX(@digest), env = 'live', scopes = 'keys:read verify',"
                  " meta = '{\"tier\":\"bench\"}'")
        c.execute("ANALYZE TABLE api_keys")
        c.fetchall()
        c.execute("SELECT COUNT(*) FROM api_keys WHERE account_id = %s", (acct_id,))
        written = c.fetchone()[0]
    conn.close()
    rows.unlink()
    with open(var / "keys.txt") as f, open(var / "hot.txt", "w") as h:
        for _ in range(HOT):
            h.write(f.readline())
    log(f"seeded {written} keys in {time.time() - t0:.1f} s")
    if written != KEYS:
        sys.exit(f"bench: seeded {written} keys, wanted {KEYS}")
    if "verify_policies" in TARGETS:
        seed_policies(var, port)
    return caller


def seed_policies(var, port):
    """The policy keys: the last HOT keys get a 10-entry allowlist (the bench's 127.0.0.1 last)
    and more credits than any run spends."""
    policy = open(var / "keys.txt").read().split()[-HOT:]
    (var / "policy.txt").write_text("".join(k + "\n" for k in policy))
    ips = " ".join([f"10.{i}.0.0/16" for i in range(8)] + ["2001:db8::/32", "127.0.0.1"])
    conn = db(var, port)
    with conn.cursor() as c:
        for i in range(0, HOT, 200):
            chunk = [bytes.fromhex(hashlib.sha256(k.encode()).hexdigest()) for k in policy[i:i + 200]]
            c.execute("UPDATE api_keys SET allowed_ips = %s, credits_remaining = 1000000000000"
                      f" WHERE digest IN ({', '.join(['%s'] * len(chunk))})", (ips, *chunk))
    conn.close()


# ------------------------------------------------------------------ web servers

def ref_env(var, port):
    """The references connect as latchkey does (its config from scripts/mariadb.sh): the unix socket."""
    return {"REF_DB_HOST": "localhost", "REF_DB_PORT": str(port), "REF_DB_SOCKET": str(var / "run" / "mysqld.sock"),
            "REF_DB_USER": "latchkey", "REF_DB_PASSWORD": (var / "db.password").read_text().strip(),
            "REF_DB_NAME": "latchkey"}


def lighttpd_conf(var, bb, port, http_port):
    env = ref_env(var, port)
    env_l = ", ".join(f'"{k}" => "{v}"' for k, v in env.items())
    docroot = var / "docroot"
    docroot.mkdir(exist_ok=True)
    shutil.copy2(BENCH / "counter.php", docroot / "php_counter.php")
    socks = var / "sock"
    socks.mkdir(exist_ok=True)

    def backend(name, binpath, extra_env="", conf="latchkey.conf"):
        return f'''(( "socket" => "{socks}/{name}.sock", "bin-path" => "{binpath}", "max-procs" => {PROCS},
              "check-local" => "disable",
              "bin-environment" => ( "LATCHKEY_CONF" => "{var}/{conf}", {env_l}{extra_env} ) ))'''

    (var / "latchkey-cached.conf").write_text(
        (var / "latchkey.conf").read_text() + "# the cached targets\nverify_cache = on\n"
        f"cache_dir = {var}/cache\nbase_path = /cached/v1\nauthz_rule = /authzc/ verify\n" + os.environ.get("BENCH_CACHED_CONF", ""))
    cached_authorizer = backend("authorize_cached", bb / "authorize.fcgi", conf="latchkey-cached.conf").replace(
        '"check-local"', '"mode" => "authorizer", "check-local"')

    (docroot / "authz").mkdir(exist_ok=True)
    (docroot / "authz" / "static.txt").write_text("a small static file behind the latchkey authorizer\n")
    authorizer = backend("authorize", bb / "authorize.fcgi").replace('"check-local"', '"mode" => "authorizer", "check-local"')
    # the authorizer's prefix first: after its 200, lighttpd hands the request to the next match
    routes = {"/authz/": authorizer, "/authz/hello": backend("authz_hello", bb / "hello.fcgi"),
              "/hello": backend("hello", bb / "hello.fcgi"), "/ref_counter": backend("ref_counter", bb / "ref_counter.fcgi"),
              "/ref": backend("ref", bb / "ref.fcgi"), "/v1/verify": backend("verify", bb / "verify.fcgi"),
              "/v1/me": backend("me", bb / "me.fcgi"), "/v1/keys": backend("keys", bb / "keys.fcgi"),
              "/authzc/": cached_authorizer, "/authzc/hello": backend("authzc_hello", bb / "hello.fcgi"),
              "/cached/v1/verify": backend("verify_cached", bb / "verify.fcgi", conf="latchkey-cached.conf")}
    php = f'''(( "socket" => "{socks}/php.sock", "bin-path" => "/usr/bin/php-cgi", "max-procs" => {PROCS},
              "bin-environment" => ( "PHP_FCGI_CHILDREN" => "0", "PHP_FCGI_MAX_REQUESTS" => "0", {env_l} ) ))'''
    text = f'''server.modules = ( "mod_fastcgi" )
server.bind = "127.0.0.1"
server.port = {http_port}
server.document-root = "{docroot}"
server.pid-file = "{var}/lighttpd.pid"
server.errorlog = "{var}/lighttpd-error.log"
server.max-connections = 1024
fastcgi.server = (
''' + "".join(f'    "{p}" => {b},\n' for p, b in routes.items()) + f'''    ".php" => {php},
)
'''
    (var / "lighttpd.conf").write_text(text)
    return var / "lighttpd.conf"


def start_lighttpd(var, bb, port):
    http_port = free_port()
    conf = lighttpd_conf(var, bb, port, http_port)
    err = open(var / "lighttpd-stderr.log", "ab")
    proc = subprocess.Popen(["lighttpd", "-D", "-f", str(conf)], stdout=err, stderr=err,
                            start_new_session=True)
    wait_port(http_port, proc)
    return proc, http_port


def apache_conf(stage, var, port, http_port, authz_port, proxy):
    env = ref_env(var, port)
    envs = "\n".join(f'FcgidInitialEnv {k} "{v}"' for k, v in env.items())
    mod = "/usr/lib/apache2/modules"
    if proxy:   # each program in its latchkey-pool, one unix socket each (no enablereuse)
        aliases = "\n".join(f'ProxyPass "{p}" "unix:{stage}/run/{n}.sock|fcgi://{n}/"' for p, n in
                            (("/authz/hello", "hello"),) + PROXIED)
        aliases = (f"LoadModule proxy_module {mod}/mod_proxy.so\n"
                   f"LoadModule proxy_fcgi_module {mod}/mod_proxy_fcgi.so\nProxyFCGIBackendType GENERIC\n"
                   '<Location "/v1/">\n    CGIPassAuth On\n</Location>\n' + aliases)
    else:
        aliases = "\n".join(f'ScriptAlias "{p}" "{stage}/bin/{n}.fcgi"' for p, n in
                            (("/authz/hello", "hello"),) + PROXIED)
    authz = f'''LoadModule authn_core_module {mod}/mod_authn_core.so
LoadModule authz_user_module {mod}/mod_authz_user.so
LoadModule authnz_fcgi_module {mod}/mod_authnz_fcgi.so
AuthnzFcgiDefineProvider authn latchkey fcgi://127.0.0.1:{authz_port}/
<Location "/authz/">
    CGIPassAuth On
    AuthnzFcgiCheckAuthnProvider latchkey Authoritative On RequireBasicAuth Off UserExpr "%{{reqenv:LATCHKEY_KEY_ID}}"
    Require valid-user
</Location>'''
    return f'''ServerRoot "{stage}"
ServerName 127.0.0.1
Listen 127.0.0.1:{http_port}
PidFile "{stage}/run/apache.pid"
DefaultRuntimeDir "{stage}/run"
Mutex file:{stage}/run default
ErrorLog "{var}/apache-error.log"
LogLevel warn
LoadModule mpm_event_module {mod}/mod_mpm_event.so
LoadModule authz_core_module {mod}/mod_authz_core.so
LoadModule alias_module {mod}/mod_alias.so
LoadModule mime_module {mod}/mod_mime.so
TypesConfig /dev/null
LoadModule fcgid_module {mod}/mod_fcgid.so
User nobody
Group nogroup
StartServers 2
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 16
MaxSpareThreads 64
DocumentRoot "{stage}/docroot"
FcgidIPCDir "{stage}/run/fcgid"
FcgidProcessTableFile "{stage}/run/fcgid_shm"
FcgidInitialEnv LATCHKEY_CONF "{stage}/latchkey.conf"
FcgidInitialEnv PHP_FCGI_MAX_REQUESTS 0
{envs}
# More processes per program than wrk has connections: mod_fcgid parks a request that finds every
# process of its class busy for a second, and a process is marked free only a little after its answer
# left. SpawnScoreUpLimit lets a class grow to that size during the warm-up.
FcgidMaxProcessesPerClass {CONNS + 4}
FcgidMinProcessesPerClass 0
FcgidSpawnScoreUpLimit 100
FcgidMaxProcesses 200
FcgidMaxRequestsPerProcess 0
FcgidIOTimeout 40
{aliases}
{authz}
<Directory "{stage}/bin">
    SetHandler fcgid-script
    Options +ExecCGI
    CGIPassAuth On
    Require all granted
</Directory>
<Directory "{stage}/docroot">
    AddHandler fcgid-script .php
    FcgidWrapper /usr/bin/php-cgi .php
    Options +ExecCGI
    Require all granted
</Directory>
'''


def start_apache(var, bb, port, proxy=False):
    """Apache (mod_fcgid, or mod_proxy_fcgi with proxy) and, in its session, the latchkey-pools:
    the authorizer's (TCP, for mod_authnz_fcgi) and with proxy one per program."""
    http_port, authz_port = free_port(), free_port()
    stage = Path(tempfile.mkdtemp(prefix="lk-bench-apache."))
    os.chmod(stage, 0o755)
    for d in ("bin", "run", "docroot"):
        (stage / d).mkdir(mode=0o755)
    for p in bb.iterdir():
        shutil.copy2(p, stage / "bin" / p.name)
        os.chmod(stage / "bin" / p.name, 0o755)
    shutil.copy2(BENCH / "counter.php", stage / "docroot" / "php_counter.php")
    os.chmod(stage / "docroot" / "php_counter.php", 0o644)
    conf = (var / "latchkey.conf").read_text()
    shutil.copy2(var / "db.password", stage / "db.password")
    os.chmod(stage / "db.password", 0o644)
    conf = re.sub(r"^(\s*db_password_file\s*=\s*).*$", rf"\g<1>{stage}/db.password", conf, flags=re.M)
    (stage / "latchkey.conf").write_text(conf)
    os.chmod(stage / "latchkey.conf", 0o644)
    (stage / "docroot" / "authz").mkdir(mode=0o755)
    (stage / "docroot" / "authz" / "static.txt").write_text("a small static file behind the latchkey authorizer\n")
    os.chmod(stage / "docroot" / "authz" / "static.txt", 0o644)
    (stage / "httpd.conf").write_text(apache_conf(stage, var, port, http_port, authz_port, proxy))
    pool = f"{stage}/bin/latchkey-pool"
    pools = [f"{pool} --listen 127.0.0.1:{authz_port} --workers {PROCS} -- {stage}/bin/authorize.fcgi"]
    if proxy:
        pools += [f"{pool} --listen unix:{stage}/run/{n}.sock --workers {PROCS} --socket-mode 0666"
                  f" -- {stage}/bin/{n}.fcgi" for _, n in PROXIED]
    err = open(var / "apache-stderr.log", "ab")
    script = "".join(f"{p} & " for p in pools) + f"sleep 1; exec apache2 -f {stage}/httpd.conf -DFOREGROUND"
    proc = subprocess.Popen(["sh", "-c", script], stdout=err, stderr=err,
                            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C",
                                 "LATCHKEY_CONF": f"{stage}/latchkey.conf", **ref_env(var, port)},
                            start_new_session=True)
    wait_port(http_port, proc)
    proc.stage = stage
    return proc, http_port


class Shipped:
    """Apache with the shipped templates, run by scripts/webserver.sh (as `make run SERVER=apache`)."""

    def __init__(self, var):
        self.var = var
        self.http_port, authz_port = free_port(), free_port()
        log_ = open(var / "apache-shipped-start.log", "ab")
        run([REPO / "scripts" / "webserver.sh", "start", "apache", var, self.http_port, BIN, authz_port],
            stdout=log_, stderr=log_)
        self.pid = int((var / "run" / "apache.pid").read_text())   # its session: Apache, its programs

    def stop(self):
        run([REPO / "scripts" / "webserver.sh", "stop", "apache", self.var], check=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_port(port, proc):
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError("web server exited during startup")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} did not answer")


def stop(proc):
    if isinstance(proc, Shipped):
        proc.stop()
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    if getattr(proc, "stage", None):
        time.sleep(1)
        shutil.rmtree(proc.stage, ignore_errors=True)


# ------------------------------------------------------------------ measuring

SESSION = None   # session id of the running web server: it and everything it spawned


def pids_named(name):
    """Processes of our web server's session whose program is name ("*" for all of them)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) != SESSION:       # field 6 of stat: the session id
                continue
            exe = os.path.basename(os.readlink(d / "exe"))
        except (OSError, ValueError):
            continue
        if name == "*" or exe == name or (name == "php-cgi" and exe.startswith("php-cgi")):
            out.append(int(d.name))
    return out


def cpu_ticks(pids):
    total = 0
    for p in pids:
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])   # utime + stime
        except OSError:
            pass
    return total


def web_pids(server):
    return pids_named("lighttpd" if server == "lighttpd" else "apache2")


def cached_pids(pids):
    """Those of pids that run with the cached targets' configuration (verify_cache = on)."""
    out = []
    for p in pids:
        try:
            if b"latchkey-cached.conf" in open(f"/proc/{p}/environ", "rb").read():
                out.append(p)
        except OSError:
            pass
    return out


def rss_by_mapping(pid):
    """KiB resident by what is mapped (a library, a file, [heap], [anon]), largest first."""
    got, cur = {}, None
    try:
        for line in open(f"/proc/{pid}/smaps"):
            if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split()
                cur = os.path.basename(parts[5]) if len(parts) > 5 else "[anon]"
            elif line.startswith("Rss:"):
                got[cur] = got.get(cur, 0) + int(line.split()[1])
    except OSError:
        pass
    return dict(sorted(got.items(), key=lambda kv: -kv[1]))


def rss_kib(pids, field="VmRSS"):
    """The largest VmRSS (or RssAnon: heap and stacks, without mapped library text) among pids."""
    best = 0
    for p in pids:
        try:
            m = re.search(rf"{field}:\s+(\d+)", open(f"/proc/{p}/status").read())
            best = max(best, int(m.group(1)))
        except (OSError, AttributeError):
            pass
    return best


def parse_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v


PERF = os.environ.get("BENCH_PERF") == "1"


def perf_start(target, pids, db_pid):
    """perf record -g of the target's programs and of mariadbd, for the first round of a few targets."""
    if not PERF or not pids or target not in ("verify_hot", "me", "ref_counter", "verify_hot_cached",
                                              "authz_hello_cached"):
        return []
    out = []
    for what, ps in (("program", pids), ("mariadbd", db_pid)):
        data = OUT / f"perf-{SERVER}-{target}-{what}.data"
        out.append((subprocess.Popen(["perf", "record", "-g", "-o", str(data), "-p", ",".join(map(str, ps)),
                                      "--", "sleep", str(max(1, SECONDS - 1))],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), data))
    return out


def perf_finish(started):
    for proc, data in started:
        proc.wait()
        with open(data.with_suffix(".txt"), "w") as f:
            for args in (["--no-children", "--sort", "dso", "--percent-limit", "1"],
                         ["--no-children", "--sort", "dso,symbol", "--percent-limit", "0.5"],
                         ["--children", "--sort", "symbol", "--percent-limit", "4"]):
                subprocess.run(["perf", "report", "-i", str(data), "--stdio", "-g", "none", *args],
                               stdout=f, stderr=subprocess.DEVNULL)


def wrk(http_port, target, var, caller, first=False):
    path, mode, keyset, prog = TARGETS[target]
    keys = var / {"hot": "hot.txt", "policy": "policy.txt"}.get(keyset, "keys.txt")
    progs = pids_named(prog)
    db_pid = [int((var / "run" / "mysqld.pid").read_text())]
    before = (cpu_ticks(progs), cpu_ticks(db_pid), cpu_ticks(web_pids(SERVER)))
    perf = perf_start(target, progs, db_pid) if first else []
    r = run(["wrk", "-t2", f"-c{CONNS}", f"-d{SECONDS}s", "--latency", "-s", BENCH / "rotate.lua",
             f"http://127.0.0.1:{http_port}{path}", "--", keys, mode, caller, 0],
            capture_output=True, text=True)
    perf_finish(perf)
    progs = set(progs) | set(pids_named(prog))
    after = (cpu_ticks(progs), cpu_ticks(db_pid), cpu_ticks(web_pids(SERVER)))
    text = r.stdout
    reqs = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non2xx:
        log(f"{target}: {non2xx.group(1)} non-2xx answers")
    us = [(a - b) * 1e6 / TICK / max(reqs, 1) for a, b in zip(after, before)]
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
            "p50_ms": parse_ms(re.search(r"\s50%\s+(\S+)", text).group(1)),
            "p99_ms": parse_ms(re.search(r"\s99%\s+(\S+)", text).group(1)),
            "cpu_us": {"program": round(us[0]), "mariadbd": round(us[1]), "web_server": round(us[2])},
            "requests": reqs, "errors": int(non2xx.group(1)) if non2xx else 0}


def check_answers(http_port, var, caller, targets):
    """One request per target before measuring: every target must really answer 200."""
    import urllib.error
    import urllib.request
    for name, (path, mode, keyset, _) in targets.items():
        hot = (var / {"hot": "hot.txt", "policy": "policy.txt"}.get(keyset, "keys.txt")).read_text().split()[0]
        if mode in ("verify", "verify_ip"):
            body = {"key": hot, "ip": "127.0.0.1"} if mode == "verify_ip" else {"key": hot}
            req = urllib.request.Request(f"http://127.0.0.1:{http_port}{path}", method="POST",
                                         data=json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {caller}",
                                                  "Content-Type": "application/json"})
        else:
            req = urllib.request.Request(f"http://127.0.0.1:{http_port}{path}",
                                         headers={"Authorization": f"Bearer {hot}"})
        try:
            r = urllib.request.urlopen(req, timeout=30)
        except urllib.error.HTTPError as e:
            sys.exit(f"bench: {name} answered {e.code}: {e.read().decode(errors='replace')[:300]}")
        with r:
            body = r.read().decode()
            assert r.status == 200, (name, r.status, body)
            if mode in ("verify", "verify_ip") and name != "hello":
                assert '"valid":true' in body.replace(" ", ""), (name, body)


def median_of(runs):
    out = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50_ms", "p99_ms")}
    out["cpu_us"] = {k: round(statistics.median(r["cpu_us"][k] for r in runs)) for k in runs[0]["cpu_us"]}
    out["errors"] = sum(r["errors"] for r in runs)
    return out


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1)) // 1024
    return f"{os.cpu_count()} x {cpu}, {mem} MiB RAM, {platform.system()} {platform.release()}"


def table(res):
    t = res["targets"]
    lines = [f"server {res['server']}, {res['keys']} keys, c={CONNS}, {ROUNDS} rounds x {SECONDS} s (medians)",
             f"{'target':15} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'/ref_c':>6} {'/php_c':>6}"
             f" {'prog us':>8} {'db us':>6} {'web us':>6}"]
    def ratio(v, ref):
        return f"{v['rps'] / t[ref]['rps']:6.2f}" if ref in t else f"{'-':>6}"
    for name, v in t.items():
        lines.append(f"{name:15} {v['rps']:8.0f} {v['p50_ms']:7.2f} {v['p99_ms']:7.2f}"
                     f" {ratio(v, 'ref_counter')} {ratio(v, 'php_counter')}"
                     f" {v['cpu_us']['program']:8} {v['cpu_us']['mariadbd']:6} {v['cpu_us']['web_server']:6}")
    lines.append(f"RSS of one verify process: {res['rss_kib']} KiB ({res['rss_anon_kib']} KiB anonymous) after"
                 f" {res['verify_requests']} verify requests over its processes; RSS by program:"
                 f" {res['rss_kib_by_program']}; processes: {res['procs_by_program']}")
    if "rss_kib_cached" in res:
        lines.append(f"RSS of one cached verify process (verify_cache = on): {res['rss_kib_cached']} KiB"
                     f" ({res['rss_anon_kib_cached']} KiB anonymous); the largest by mapping (KiB):"
                     f" {res['rss_cached_by_mapping']}")
    return "\n".join(lines)


SERVER = None


def main():
    global SERVER, SESSION
    for tool in ("wrk", "php-cgi"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing (make bench installs wrk, php-cgi and php-mysql)")
    OUT.mkdir(parents=True, exist_ok=True)
    var = OUT / "var"
    if var.exists():
        run([REPO / "scripts" / "mariadb.sh", "stop", var], check=False, stderr=subprocess.DEVNULL)
        shutil.rmtree(var)
    var.mkdir(parents=True)
    os.chmod(var, 0o755)
    bb = build()
    port = start_db(var)
    with open(var / "latchkey.conf", "a") as f:     # the authorizer targets need a verify-scoped key
        f.write("authz_rule = /authz/ verify\nauthz_default = deny\n")
    results = {"machine": machine(), "keys": KEYS, "servers": {}}
    try:
        caller = seed(var, port)
        for SERVER in SERVERS:
            targets = {t: v for t, v in TARGETS.items() if (SERVER != "apache-shipped" or t in SHIPPED)
                       and (SERVER == "lighttpd" or t not in CACHED)}
            if SERVER == "lighttpd":
                proc, http_port = start_lighttpd(var, bb, port)
            elif SERVER == "apache-shipped":
                proc = Shipped(var)
                http_port = proc.http_port
            else:
                proc, http_port = start_apache(var, bb, port, proxy=SERVER == "apache-proxy")
            SESSION = proc.pid     # started with start_new_session: the session id is its pid
            try:
                check_answers(http_port, var, caller, targets)
                runs = {t: [] for t in targets}
                # warm-up: every process spawned and connected. mod_fcgid spawns a process only
                # for a request that is still without one after being parked for a second, so a
                # fast program's class stops growing below wrk's connection count (a process frees
                # up during the second) and keeps parking requests: its warm-up runs more
                # connections than the measurement, for longer, so each class reaches its size
                warm, wconns = (4, CONNS + 4) if SERVER.startswith("apache") and SERVER != "apache-proxy" \
                    else (1, CONNS)
                for t in targets:
                    run(["wrk", "-t2", f"-c{wconns}", f"-d{warm}s", "-s", BENCH / "rotate.lua",
                         f"http://127.0.0.1:{http_port}{TARGETS[t][0]}", "--",
                         var / "hot.txt", TARGETS[t][1], caller, 0], capture_output=True)
                for rnd in range(ROUNDS):
                    for t in targets:
                        runs[t].append(wrk(http_port, t, var, caller, first=rnd == 0))
                        log(f"{SERVER} round {rnd + 1} {t}: {runs[t][-1]['rps']:.0f} req/s")
                res = {"machine": results["machine"], "server": SERVER, "keys": KEYS,
                       "targets": {t: median_of(r) for t, r in runs.items()}}
                tt = res["targets"]
                ratios = (("verify_hot", "ref_counter"), ("verify_hot", "php_counter"),
                          ("verify_uniform", "verify_hot"), ("me", "ref_counter"),
                          ("authz_hello", "ref_counter"), ("authz_hello", "hello"),
                          ("verify_hot_cached", "hello"), ("verify_hot_cached", "verify_hot"),
                          ("verify_uniform_cached", "hello"), ("authz_hello_cached", "hello"))
                res["ratios"] = {f"{a}/{b}": round(tt[a]["rps"] / tt[b]["rps"], 3)
                                 for a, b in ratios if a in tt and b in tt}
                if "verify_hot" in tt and "ref_counter" in tt:
                    res["ratios"]["verify_hot_p99/ref_counter_p99"] = round(
                        tt["verify_hot"]["p99_ms"] / tt["ref_counter"]["p99_ms"], 3)
                for a in ("verify_hot_cached", "authz_hello_cached"):
                    if a in tt and "hello" in tt:
                        res["ratios"][f"{a}_p99/hello_p99"] = round(tt[a]["p99_ms"] / tt["hello"]["p99_ms"], 3)
                res["rss_kib"] = rss_kib(pids_named("verify.fcgi"))
                res["rss_anon_kib"] = rss_kib(pids_named("verify.fcgi"), "RssAnon")
                cached = cached_pids(pids_named("verify.fcgi"))
                if cached:
                    res["rss_kib_cached"] = rss_kib(cached)
                    res["rss_anon_kib_cached"] = rss_kib(cached, "RssAnon")
                    big = max(cached, key=lambda p: rss_kib([p]))
                    res["rss_cached_by_mapping"] = {k: v for k, v in rss_by_mapping(big).items() if v >= 64}
                res["rss_kib_by_program"] = {p: rss_kib(pids_named(p)) for p in
                                             ("hello.fcgi", "ref_counter.fcgi", "verify.fcgi", "me.fcgi")}
                res["procs_by_program"] = {p: len(pids_named(p)) for p in ("verify.fcgi", "me.fcgi")}
                res["verify_requests"] = sum(r["requests"] for t in ("verify_hot", "verify_uniform")
                                             for r in runs.get(t, []))
                results["servers"][SERVER] = res
                print(table(res), flush=True)
                print(flush=True)
            finally:
                stop(proc)
    finally:
        run([REPO / "scripts" / "mariadb.sh", "stop", var], check=False, stderr=subprocess.DEVNULL)
    first = results["servers"][SERVERS[0]]
    out = {"machine": results["machine"], "server": first["server"], "keys": KEYS,
           "targets": first["targets"], "ratios": first["ratios"], "rss_kib": first["rss_kib"],
           "rss_anon_kib": first["rss_anon_kib"],
           "servers": results["servers"]}
    (OUT / "results.json").write_text(json.dumps(out, indent=2) + "\n")
    log(f"results in {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
