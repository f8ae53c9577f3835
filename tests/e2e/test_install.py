"""make install (DESTDIR/PREFIX/SYSCONFDIR) and latchkey-render-config: the installed templates,
rendered from the installed sample values, pass the servers' own config checks."""
import os
import shutil
import tempfile
import subprocess
from pathlib import Path

import pytest

from procs import children, uid_of

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = ["keys", "key", "verify", "me", "accounts"]


@pytest.fixture
def pub_path():
    """A temporary directory every user can search (servers below run as nobody)."""
    d = Path(tempfile.mkdtemp(prefix="lk-install-", dir="/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def installed():
    dest = Path(tempfile.mkdtemp(prefix="lk-destdir-", dir="/tmp"))
    os.chmod(dest, 0o755)
    r = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}", "PREFIX=/opt/latchkey", "SYSCONFDIR=/etc"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    yield dest
    shutil.rmtree(dest, ignore_errors=True)


def test_install_layout(installed):
    root = installed
    assert os.access(root / "opt/latchkey/bin/latchkey", os.X_OK)
    assert os.access(root / "opt/latchkey/bin/latchkey-render-config", os.X_OK)
    assert os.access(root / "opt/latchkey/bin/latchkey-pool", os.X_OK)
    authorize = root / "opt/latchkey/bin/latchkey-authorize"
    assert os.access(authorize, os.X_OK)
    # the installed wrapper runs the installed pool on the installed authorizer
    text = authorize.read_text()
    assert "/opt/latchkey/bin/latchkey-pool" in text and "/opt/latchkey/lib/latchkey/cgi-bin/authorize.fcgi" in text, text
    for p in PROGRAMS + ["audit", "admin", "authorize", "notfound"]:
        assert os.access(root / f"opt/latchkey/lib/latchkey/cgi-bin/{p}.fcgi", os.X_OK), p
    version = (REPO / "VERSION").read_text().strip()
    r = subprocess.run([str(root / "opt/latchkey/bin/latchkey"), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == f"latchkey {version}\n", (r.stdout, r.stderr)
    for t in ("apache/latchkey.conf.in", "apache/latchkey-include.conf.in", "lighttpd/latchkey.conf.in",
              "lighttpd/latchkey-cgi.conf.in", "apache/latchkey-proxy.conf.in", "apache/latchkey-authz.conf.in",
              "lighttpd/latchkey-authz.conf.in"):
        assert (root / "opt/latchkey/share/latchkey" / t).is_file(), t
    sample = (root / "etc/latchkey/latchkey.conf.sample").read_text()
    assert sample.count("\n#") > 10, "the sample config is commented"
    web = (root / "etc/latchkey/web.conf.sample").read_text()
    assert "BINDIR = /opt/latchkey/lib/latchkey/cgi-bin" in web, web     # this install's paths
    assert "CONF = /etc/latchkey/latchkey.conf" in web, web
    # nothing outside DESTDIR's tree
    assert {p.name for p in root.iterdir()} == {"opt", "etc"}


def test_sample_config_names_every_setting(installed):
    """Every key the config parser knows (lib/base/conf.c's table) is in the installed sample, as a
    setting or a commented-out default, so an operator can find each one there."""
    import re
    known = set(re.findall(r'^\s*\{ "([a-z0-9_]+)", C_', (REPO / "lib/base/conf.c").read_text(), re.M))
    assert len(known) > 30, known
    sample = (installed / "etc/latchkey/latchkey.conf.sample").read_text()
    named = set(re.findall(r"^#? ?([a-z0-9_]+) =", sample, re.M))
    assert known - named == set(), f"settings missing from the sample: {sorted(known - named)}"
    assert named - known == set(), f"the sample names unknown settings: {sorted(named - known)}"


def test_readme_starts_a_pool_for_every_proxy_route():
    """README's apache-proxy step enables one latchkey-pool@ unit per socket the proxy template
    routes to: a missing one leaves its routes without a backend (the console, /v1/audit, ...)."""
    import re
    routed = set(re.findall(r'"unix:@RUNDIR@/([a-z]+)\.sock\|', (REPO / "apache/latchkey-proxy.conf.in").read_text()))
    assert {"keys", "verify", "admin", "notfound"} <= routed, routed
    readme = (REPO / "README.md").read_text()
    step = readme[readme.index("### Apache 2.4 + mod_proxy_fcgi + latchkey-pool"):]
    step = step[:step.index("\n### ", 10)]
    enabled = set(re.findall(r"latchkey-pool@([a-z]+)\b", step))
    assert enabled == routed, f"README enables {sorted(enabled)}, the template routes {sorted(routed)}"


def render(installed, template, *overrides, out):
    r = subprocess.run(["sh", str(installed / "opt/latchkey/bin/latchkey-render-config"), "-o", str(out),
                        str(installed / "opt/latchkey/share/latchkey" / template),
                        str(installed / "etc/latchkey/web.conf.sample"), *overrides],
                       capture_output=True, text=True, timeout=60)
    return r


def site(installed, tmp_path):
    """Overrides so the rendered file points into the temporary install."""
    d = {n: tmp_path / n for n in ("run", "log", "empty")}
    for p in d.values():
        p.mkdir(exist_ok=True)
    conf = tmp_path / "latchkey.conf"
    conf.write_text((installed / "etc/latchkey/latchkey.conf.sample").read_text())
    return [f"BINDIR={installed}/opt/latchkey/lib/latchkey/cgi-bin", f"CONF={conf}", f"RUNDIR={d['run']}",
            f"LOGDIR={d['log']}", f"DOCROOT={d['empty']}", f"SERVERROOT={tmp_path}",
            f"ERRORDIR={installed}/opt/latchkey/share/latchkey/lighttpd/errors"]


@pytest.mark.parametrize("template", ["lighttpd/latchkey.conf.in", "lighttpd/latchkey-cgi.conf.in"])
def test_rendered_lighttpd_config_passes_lighttpd_tt(installed, tmp_path, template):
    out = tmp_path / "lighttpd.conf"
    r = render(installed, template, *site(installed, tmp_path), out=out)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "@" not in "".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")), text
    chk = subprocess.run(["lighttpd", "-tt", "-f", str(out)], capture_output=True, text=True, timeout=60)
    assert chk.returncode == 0, chk.stdout + chk.stderr


def test_rendered_apache_config_passes_apache2_t(installed, tmp_path):
    if not shutil.which("apache2"):
        pytest.skip("apache2 not installed")
    snippet = tmp_path / "latchkey-include.conf"
    r = render(installed, "apache/latchkey-include.conf.in", *site(installed, tmp_path), out=snippet)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "httpd.conf"
    r = render(installed, "apache/latchkey.conf.in", *site(installed, tmp_path), f"INCLUDE={snippet}", out=out)
    assert r.returncode == 0, r.stderr
    chk = subprocess.run(["apache2", "-t", "-f", str(out)], capture_output=True, text=True, timeout=60)
    assert chk.returncode == 0, chk.stdout + chk.stderr


def test_render_refuses_a_missing_value_and_writes_nothing(installed, tmp_path):
    out = tmp_path / "x.conf"
    r = subprocess.run(["sh", str(REPO / "scripts/render-config"), "-o", str(out),
                        str(REPO / "lighttpd/latchkey.conf.in"), "PORT=1"], capture_output=True, text=True)
    assert r.returncode == 1 and "no value for @BINDIR@" in r.stderr, r.stderr
    assert not out.exists() and not Path(str(out) + ".tmp").exists()
    # values are literal: no sed/regex metacharacters are interpreted
    r = subprocess.run(["sh", str(REPO / "scripts/render-config"), str(REPO / "lighttpd/latchkey.conf.in"),
                        str(installed / "etc/latchkey/web.conf.sample"), r"BINDIR=/a&b\1|c"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r'"/a&b\1|c/key.fcgi"' in r.stdout, r.stderr


def _wait_port(port, proc, log):
    import socket
    import time
    for _ in range(300):
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}:\n{log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"port {port} never opened:\n{log.read_text() if log.exists() else ''}")


def test_lighttpd_template_runs_programs_unprivileged_and_makes_its_socket_dir(installed, pub_path):
    """The standalone lighttpd template as an operator renders it: the socket directory is created
    (0700, owned by USER), lighttpd and its FastCGI programs run as USER, /v1 answers JSON."""
    import harness
    import pwd
    import requests
    nobody = pwd.getpwnam("nobody")
    port = harness.free_port()
    overrides = site(installed, pub_path) + [f"PORT={port}", "USER=nobody", "GROUP=nogroup", "NAME=lk"]
    os.chmod(pub_path / "log", 0o777)
    for p in (pub_path, installed, *installed.rglob("*")):
        if p.is_dir():
            os.chmod(p, 0o755)
    os.chmod(pub_path / "latchkey.conf", 0o644)
    out = pub_path / "lighttpd.conf"
    r = render(installed, "lighttpd/latchkey.conf.in", *overrides, out=out)
    assert r.returncode == 0, r.stderr
    sockdir = pub_path / "run" / "lk-fcgi"
    assert not sockdir.exists()
    log = pub_path / "log" / "stderr.log"
    with open(log, "ab") as err:
        proc = subprocess.Popen(["lighttpd", "-D", "-f", str(out)], stdin=subprocess.DEVNULL, stdout=err,
                                stderr=err, start_new_session=True)
    try:
        _wait_port(port, proc, log)
        st = os.stat(sockdir)
        assert st.st_uid == nobody.pw_uid and (st.st_mode & 0o777) == 0o700, oct(st.st_mode)
        resp = requests.get(f"http://127.0.0.1:{port}/v1/no-such-thing", timeout=30)
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "NOT_FOUND", resp.text
        assert uid_of(proc.pid) == nobody.pw_uid
        kids = children(proc.pid)
        assert kids and all(uid_of(k) == nobody.pw_uid for k in kids), kids
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_apache_snippet_includes_into_an_existing_server(installed, pub_path):
    """The Apache snippet inside a <VirtualHost> of a server that has its own pages: /v1 is
    latchkey's (JSON, also for unknown paths), the rest stays the server's."""
    if not shutil.which("apache2"):
        pytest.skip("apache2 not installed")
    import harness
    import requests
    port = harness.free_port()
    for p in (pub_path, installed, *installed.rglob("*")):
        if p.is_dir():
            os.chmod(p, 0o755)
    os.chmod(pub_path / "latchkey.conf", 0o644) if (pub_path / "latchkey.conf").exists() else None
    snippet = pub_path / "latchkey-apache.conf"
    r = render(installed, "apache/latchkey-include.conf.in", *site(installed, pub_path), out=snippet)
    assert r.returncode == 0, r.stderr
    os.chmod(pub_path / "latchkey.conf", 0o644)
    www = pub_path / "www"
    www.mkdir()
    (www / "index.html").write_text("the existing site\n")
    run = pub_path / "arun"
    run.mkdir()
    mods = "/usr/lib/apache2/modules"
    conf = pub_path / "httpd.conf"
    conf.write_text(f"""
ServerRoot "{pub_path}"
Listen 127.0.0.1:{port}
PidFile "{run}/httpd.pid"
DefaultRuntimeDir "{run}"
Mutex file:{run} default
ErrorLog "{pub_path}/log/apache-error.log"
User nobody
Group nogroup
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule dir_module {mods}/mod_dir.so
LoadModule mime_module {mods}/mod_mime.so
TypesConfig /etc/mime.types
LoadModule alias_module {mods}/mod_alias.so
LoadModule rewrite_module {mods}/mod_rewrite.so
LoadModule headers_module {mods}/mod_headers.so
LoadModule fcgid_module {mods}/mod_fcgid.so
FcgidIPCDir "{run}/fcgid"
FcgidProcessTableFile "{run}/fcgid_shm"
<VirtualHost *:{port}>
    ServerName site.test
    DocumentRoot "{www}"
    <Directory "{www}">
        Require all granted
    </Directory>
    DirectoryIndex index.html
    Include "{snippet}"
</VirtualHost>
""")
    chk = subprocess.run(["apache2", "-t", "-f", str(conf)], capture_output=True, text=True, timeout=60)
    assert chk.returncode == 0, chk.stdout + chk.stderr
    log = pub_path / "log" / "apache-stderr.log"
    with open(log, "ab") as err:
        proc = subprocess.Popen(["apache2", "-f", str(conf), "-DFOREGROUND"], stdin=subprocess.DEVNULL,
                                stdout=err, stderr=err, start_new_session=True, env={"PATH": os.environ["PATH"]})
    try:
        _wait_port(port, proc, log)
        resp = requests.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert resp.status_code == 200 and "existing site" in resp.text
        resp = requests.get(f"http://127.0.0.1:{port}/v1/no-such-thing", timeout=60)
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "NOT_FOUND", resp.text
        resp = requests.get(f"http://127.0.0.1:{port}/v1/keys", headers={"Authorization": "Bearer lk_live_x"},
                            timeout=60)
        assert resp.status_code == 401 and resp.json()["error"]["code"] == "INVALID_API_KEY", resp.text
        resp = requests.get(f"http://127.0.0.1:{port}/missing.html", timeout=30)
        assert resp.status_code == 404 and not resp.headers.get("Content-Type", "").startswith("application/json")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
