"""make install (DESTDIR/PREFIX/SYSCONFDIR) and latchkey-render-config: the installed templates,
rendered from the installed sample values, pass the servers' own config checks."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = ["keys", "key", "verify", "me", "accounts"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    dest = tmp_path_factory.mktemp("destdir")
    r = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}", "PREFIX=/opt/latchkey", "SYSCONFDIR=/etc"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return dest


def test_install_layout(installed):
    root = installed
    assert os.access(root / "opt/latchkey/bin/latchkey", os.X_OK)
    assert os.access(root / "opt/latchkey/bin/latchkey-render-config", os.X_OK)
    for p in PROGRAMS:
        assert os.access(root / f"opt/latchkey/lib/latchkey/cgi-bin/{p}.fcgi", os.X_OK), p
    for t in ("apache/latchkey.conf.in", "lighttpd/latchkey.conf.in", "lighttpd/latchkey-cgi.conf.in"):
        assert (root / "opt/latchkey/share/latchkey" / t).is_file(), t
    sample = (root / "etc/latchkey/latchkey.conf.sample").read_text()
    assert sample.count("\n#") > 10, "the sample config is commented"
    web = (root / "etc/latchkey/web.conf.sample").read_text()
    assert "BINDIR = /opt/latchkey/lib/latchkey/cgi-bin" in web, web     # this install's paths
    assert "CONF = /etc/latchkey/latchkey.conf" in web, web
    # nothing outside DESTDIR's tree
    assert {p.name for p in root.iterdir()} == {"opt", "etc"}


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
    out = tmp_path / "httpd.conf"
    r = render(installed, "apache/latchkey.conf.in", *site(installed, tmp_path), out=out)
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
