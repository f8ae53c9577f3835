"""make test-deb: the Debian package installed and used on THIS machine as an administrator would.

apt-get install of build/deb/latchkey_VERSION_ARCH.deb (make deb), `latchkey setup` against a
private MariaDB (scripts/mariadb.sh, its root over the unix socket as on Debian), then Debian's
own Apache (a2enconf latchkey; then latchkey-proxy in front of the pools) and lighttpd
(lighty-enable-mod latchkey) on spare ports: a key verifies and /admin/ logs in. A reinstall over
the running install keeps the config and the keys; apt-get purge leaves nothing of latchkey but
the database and /var/lib/latchkey (README.md says so). Root only. The system's Apache and
lighttpd configuration (/etc/apache2, /var/lib/apache2, /etc/lighttpd) is saved first and put
back, with both servers stopped, whatever happens. Every command and its output go to
build/deb/test-deb.log.
"""
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from harness import free_port  # noqa: E402

VERSION = (REPO / "VERSION").read_text().strip()
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
DEB = REPO / "build" / "deb" / f"latchkey_{VERSION}_{ARCH}.deb"
LOG = REPO / "build" / "deb" / "test-deb.log"
SAVED = ("/etc/apache2", "/var/lib/apache2", "/etc/lighttpd")
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300"]
KEY_RE = re.compile(r"^[a-z]{2,10}_(live|test)_[0-9A-Za-z]{38}$", re.M)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="installs a package: root only")


def sh(*cmd, check=True, env=None, input=None):
    """Run cmd; log it and its output to LOG."""
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, input=input,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive", **(env or {})), timeout=900)
    with open(LOG, "a") as f:
        f.write(f"# {' '.join(map(str, cmd))}\n{r.stdout}{r.stderr}(exit {r.returncode})\n")
    if check:
        assert r.returncode == 0, f"{cmd}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def wait_port(port, up=True):
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=1)
            if up:
                return
        except requests.ConnectionError:
            if not up:
                return
        time.sleep(0.1)
    raise AssertionError(f"port {port} did not {'open' if up else 'close'}")


def installed():
    r = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", "latchkey"],
                       capture_output=True, text=True)
    return r.stdout.strip()


def stop_system_servers():
    if Path("/run/apache2/apache2.pid").exists():
        sh("apache2ctl", "stop", check=False)
    if Path("/run/lighttpd.pid").exists():
        sh("/etc/init.d/lighttpd", "stop", check=False)
    for pidfile in ("/run/apache2/apache2.pid", "/run/lighttpd.pid"):
        for _ in range(100):
            if not Path(pidfile).exists():
                break
            time.sleep(0.1)


@pytest.fixture(scope="module")
def machine():
    """This machine, put back as it was after the module: servers stopped, configs restored,
    the package purged, what the test made removed."""
    assert DEB.is_file(), f"{DEB} missing: make deb"
    assert installed() in ("", "not-installed", "config-files"), "latchkey is installed already"
    for d in ("/etc/latchkey", "/var/lib/latchkey"):
        assert not Path(d).exists(), f"{d} exists already: not a clean machine for this test"
    LOG.write_text(f"make test-deb transcript ({time.strftime('%Y-%m-%d %H:%M:%S')})\n")
    for pid in ("/run/apache2/apache2.pid", "/run/lighttpd.pid"):
        assert not Path(pid).exists(), f"{pid}: the system's server is running; stop it first"
    tmp = Path(tempfile.mkdtemp(prefix="lk-deb-"))
    os.chmod(tmp, 0o755)
    backup = tmp / "saved.tar"
    with tarfile.open(backup, "w") as t:
        for d in SAVED:
            if Path(d).exists():
                t.add(d)
    var = tmp / "var"
    m = {"tmp": tmp, "var": var, "db_port": free_port(), "apache_port": free_port(),
         "lighttpd_port": free_port()}
    try:
        sh(REPO / "scripts" / "mariadb.sh", "start", var, m["db_port"])
        yield m
    finally:
        stop_system_servers()
        if installed() not in ("", "not-installed"):
            sh(*APT, "purge", "latchkey", check=False)
        for d in SAVED:
            shutil.rmtree(d, ignore_errors=True)
        with tarfile.open(backup) as t:
            t.extractall("/")
        shutil.rmtree("/var/lib/latchkey", ignore_errors=True)
        sh(REPO / "scripts" / "mariadb.sh", "stop", var, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def sql(m, statement):
    return sh("mariadb", "--no-defaults", f"--socket={m['var']}/run/mysqld.sock", "--user=root",
              "--batch", "--skip-column-names", "-e", statement).stdout


@pytest.fixture(scope="module")
def setup_done(machine):
    """Installed, and `latchkey setup` run: (admin key, console login, password)."""
    m = machine
    # an empty server: scripts/mariadb.sh made a database and users of the same names
    sql(m, "DROP DATABASE latchkey; DROP USER 'latchkey'@'localhost', 'latchkey'@'127.0.0.1', "
        "'latchkey_admin'@'localhost', 'latchkey_admin'@'127.0.0.1'")
    sh(*APT, "install", f"{DEB.parent}/./{DEB.name}")
    assert installed() == "installed"
    assert "latchkey" not in sql(m, "SHOW DATABASES").split(), "the install touched the database"
    # the admin points the config at the database server (here the private one's socket)
    conf = Path("/etc/latchkey/latchkey.conf")
    text = conf.read_text()
    assert "db_socket = /run/mysqld/mysqld.sock\n" in text
    conf.write_text(text.replace("db_socket = /run/mysqld/mysqld.sock",
                                 f"db_socket = {m['var']}/run/mysqld.sock"))
    r = sh("latchkey", "setup", "--yes", "--login", "admin@example.com")
    key = KEY_RE.search(r.stdout).group(0)
    password = re.search(r"^password: (\S+)$", r.stdout, re.M).group(1)
    assert "a2enconf latchkey" in r.stderr and "lighty-enable-mod latchkey" in r.stderr, r.stderr
    m.update(key=key, login="admin@example.com", password=password)
    return m


def test_layout_and_modes(setup_done):
    r = sh("latchkey", "--version")
    assert r.stdout == f"latchkey {VERSION}\n"
    for page in ("latchkey", "latchkey.conf", "latchkey-pool", "latchkey-authorize"):
        assert sh("man", "-w", page).stdout.strip().startswith("/usr/share/man/")
    for path, mode, group in (("/etc/latchkey", 0o750, "www-data"),
                              ("/etc/latchkey/latchkey.conf", 0o640, "www-data"),
                              ("/etc/latchkey/db.password", 0o640, "www-data"),
                              ("/etc/latchkey/db_admin.password", 0o600, "root"),
                              ("/var/lib/latchkey", 0o750, "www-data"),
                              ("/var/lib/latchkey/audit.key", 0o640, "www-data")):
        st = os.stat(path)
        assert (st.st_mode & 0o777, st.st_uid) == (mode, 0), path
        assert Path(path).group() == group, path
    conffiles = sh("dpkg-query", "-W", "-f=${Conffiles}", "latchkey").stdout
    for f in ("/etc/latchkey/latchkey.conf", "/etc/apache2/conf-available/latchkey.conf",
              "/etc/apache2/conf-available/latchkey-proxy.conf",
              "/etc/lighttpd/conf-available/50-latchkey.conf"):
        assert f in conffiles, conffiles
    assert sh("latchkey", "key", "list", "--account", "me").stdout.count("key_") == 1


def check_server(port, key, login, password):
    base = f"http://127.0.0.1:{port}"
    r = requests.post(base + "/v1/verify", json={"key": key},
                      headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert r.status_code == 200 and r.json()["valid"] is True, r.text
    r = requests.get(base + "/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert r.status_code == 200 and r.json()["key"]["scopes"] == ["admin"], r.text
    r = requests.get(base + "/v1/nothing", timeout=30)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND", r.text
    r = requests.get(base + "/admin/login", timeout=30)
    assert r.status_code == 200 and 'name="password"' in r.text, r.text[:300]
    r = requests.post(base + "/admin/login", data={"email": login, "password": password},
                      headers={"Origin": base}, allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/keys", (r.status_code, r.text[:300])
    assert "latchkey_session" in r.headers.get("Set-Cookie", ""), r.headers
    with open(LOG, "a") as f:
        f.write(f"# verify, me, 404 and the console's login on 127.0.0.1:{port}: ok\n")


def test_debian_apache(setup_done):
    m = setup_done
    port = m["apache_port"]
    sh("apache2ctl", "-t")      # the system's Apache config is fine before latchkey joins it
    ports = Path("/etc/apache2/ports.conf")
    ports.write_text(f"Listen 127.0.0.1:{port}\n")
    site = Path("/etc/apache2/sites-available/000-default.conf")
    site.write_text(site.read_text().replace("<VirtualHost *:80>", f"<VirtualHost *:{port}>"))
    with apache(port, ["fcgid", "headers"], "latchkey"):
        check_server(port, m["key"], m["login"], m["password"])
        # the /v1 location's 413 reaches the default virtual host from the server level
        r = requests.post(f"http://127.0.0.1:{port}/v1/keys", data=b"x" * 1_000_001,
                          headers={"Authorization": f"Bearer {m['key']}"}, timeout=30)
        assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE", r.text


@contextlib.contextmanager
def apache(port, modules, conf):
    """Debian's Apache with the modules and the conf-available file enabled, as an admin does."""
    sh("a2enmod", "-q", *modules)
    sh("a2enconf", "-q", conf)
    sh("apache2ctl", "-t")
    sh("apache2ctl", "start")
    wait_port(port)
    try:
        yield
    finally:
        sh("apache2ctl", "stop")
        wait_port(port, up=False)


PROGRAMS = ("keys", "key", "verify", "me", "accounts", "audit", "admin", "notfound")


def test_debian_apache_proxy(setup_done):
    """latchkey-proxy.conf, with each program's pool started as latchkey-pool@.service starts it
    (no systemd here): www-data, /run/latchkey/PROGRAM.sock mode 0660."""
    m = setup_done
    port = m["apache_port"]
    unit = Path("/lib/systemd/system/latchkey-pool@.service").read_text()
    assert "User=www-data" in unit and "--socket-mode 0660" in unit, unit
    run = Path("/run/latchkey")
    run.mkdir(mode=0o755)
    shutil.chown(run, "www-data", "www-data")
    pools = []
    try:
        for p in PROGRAMS:
            pools.append(subprocess.Popen(
                ["setpriv", "--reuid=www-data", "--regid=www-data", "--init-groups",
                 "/usr/lib/latchkey/latchkey-pool", "--listen", f"unix:/run/latchkey/{p}.sock",
                 "--workers", "1", "--socket-mode", "0660", "--", f"/usr/lib/latchkey/cgi-bin/{p}.fcgi"],
                env={"PATH": "/usr/bin:/bin", "LATCHKEY_CONF": "/etc/latchkey/latchkey.conf"},
                stderr=subprocess.DEVNULL, start_new_session=True))
        for _ in range(100):
            if all((run / f"{p}.sock").exists() for p in PROGRAMS):
                break
            time.sleep(0.1)
        sh("a2disconf", "-q", "latchkey")
        with apache(port, ["proxy_fcgi"], "latchkey-proxy"):
            check_server(port, m["key"], m["login"], m["password"])
    finally:
        for proc in pools:
            proc.terminate()
        for proc in pools:
            proc.wait(40)
        shutil.rmtree(run, ignore_errors=True)


def test_debian_lighttpd(setup_done):
    m = setup_done
    port = m["lighttpd_port"]
    conf = Path("/etc/lighttpd/lighttpd.conf")
    text = re.sub(r"^server\.port\s*=.*$", f'server.port = {port}\nserver.bind = "127.0.0.1"',
                  conf.read_text(), flags=re.M)
    conf.write_text(text)
    sh("lighty-enable-mod", "latchkey")
    assert Path("/etc/lighttpd/conf-enabled/10-fastcgi.conf").exists(), "its dependency"
    sh("/etc/init.d/lighttpd", "start")
    wait_port(port)
    check_server(port, m["key"], m["login"], m["password"])
    m["lighttpd_running"] = True


def digests(*dirs):
    out = {}
    for d in dirs:
        for p in sorted(Path(d).rglob("*")):
            if p.is_file():
                out[str(p)] = (p.read_bytes(), p.stat().st_mode, p.stat().st_gid)
    return out


def test_reinstall_keeps_config_and_keys(setup_done):
    """Over the running install (lighttpd serving it): the edited config, the passwords, the audit
    key and the keys stay."""
    m = setup_done
    assert m.get("lighttpd_running"), "test_debian_lighttpd left lighttpd running"
    before = digests("/etc/latchkey", "/var/lib/latchkey")
    sh(*APT, "install", "--reinstall", f"{DEB.parent}/./{DEB.name}")
    assert digests("/etc/latchkey", "/var/lib/latchkey") == before
    check_server(m["lighttpd_port"], m["key"], m["login"], m["password"])
    r = sh("latchkey", "setup", "--yes")      # what an upgrade asks for: changes nothing here
    assert not KEY_RE.search(r.stdout) and "already initialised" in r.stderr, r.stdout + r.stderr
    assert sh("latchkey", "audit", "verify").returncode == 0


def test_purge_leaves_only_the_database(setup_done):
    m = setup_done
    sh(*APT, "purge", "latchkey")
    assert installed() in ("", "not-installed")
    stop_system_servers()
    sh("apache2ctl", "-t")                            # nothing dangling in the server configs
    sh("lighttpd", "-tt", "-f", "/etc/lighttpd/lighttpd.conf")
    left = []
    for top in ("/etc", "/usr", "/lib", "/var/lib", "/var/cache/apt/archives", "/run"):
        r = subprocess.run(["find", top, "-xdev", "-name", "*latchkey*"], capture_output=True, text=True)
        left += [p for p in r.stdout.split() if p != "/var/lib/latchkey" and not p.startswith("/var/lib/latchkey/")]
    assert left == [], f"left after purge: {left}"
    assert sorted(os.listdir("/var/lib/latchkey")) == ["audit.key", "audit.key.anchor"]
    assert "latchkey" in sql(m, "SHOW DATABASES").split()
    assert int(sql(m, "SELECT COUNT(*) FROM latchkey.api_keys").strip()) == 1
    with open(LOG, "a") as f:
        f.write("# after purge: the database and /var/lib/latchkey (audit.key, audit.key.anchor) remain\n")
