"""`latchkey setup` on the stack's MariaDB (as root over its unix socket, as on Debian): a
database and users of their own, the password files, init, the grants, a second run that changes
nothing, and the refusals. make test-deb runs it again from the installed package."""
import grp
import os
import re
import subprocess
import uuid

import pymysql
import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="setup connects as MariaDB's root over "
                                "the unix socket and gives files to group www-data: root only")
KEY_RE = re.compile(r"^[a-z]{2,10}_(live|test)_[0-9A-Za-z]{38}$", re.M)


@pytest.fixture
def target(stack, tmp_path):
    """A config naming a database and two users that do not exist yet; dropped afterwards."""
    os.chmod(tmp_path, 0o755)
    t = uuid.uuid4().hex[:8]
    names = {"db": f"lks_{t}", "owner": f"lks_o_{t}", "rt": f"lks_r_{t}"}
    conf = tmp_path / "latchkey.conf"
    conf.write_text(f"""db_host = localhost
db_socket = {stack.db_socket}
db_name = {names['db']}
db_user = {names['rt']}
db_password_file = {tmp_path}/db.password
db_admin_user = {names['owner']}
db_admin_password_file = {tmp_path}/db_admin.password
audit_key_file = {tmp_path}/audit.key
""")
    yield conf, names
    c = stack.db_connect(root=True)
    with c.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{names['db']}`")
        for u in (names["owner"], names["rt"]):
            for h in ("localhost", "127.0.0.1"):
                cur.execute(f"DROP USER IF EXISTS '{u}'@'{h}'")
    c.close()


def run_setup(stack, conf, *args, input=None):
    r = subprocess.run([str(stack.cli_path), "--config", str(conf), "setup", *args], input=input,
                       capture_output=True, text=True, timeout=300, env=stack.env)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    return r


def test_setup_creates_everything_once(stack, target):
    conf, n = target
    d = conf.parent
    r = run_setup(stack, conf, "--yes", "--login", "ops@example.com")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("account_id=acct_") and KEY_RE.fullmatch(lines[2]), r.stdout
    assert lines[3:] == ["login: ops@example.com", lines[4]] and lines[4].startswith("password: ")
    assert "Next steps:" in r.stderr
    www = grp.getgrnam("www-data").gr_gid
    for name, mode, gid in (("db_admin.password", 0o600, 0), ("db.password", 0o640, www),
                            ("audit.key", 0o640, www), ("audit.key.anchor", 0o640, www)):
        st = os.stat(d / name)
        assert (st.st_mode & 0o777, st.st_gid) == (mode, gid), name
    # the runtime user: its tables, but the audit log only to read and append
    pw = (d / "db.password").read_text().strip()
    c = pymysql.connect(unix_socket=str(stack.db_socket), user=n["rt"], password=pw, database=n["db"])
    with c.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM api_keys")
        assert cur.fetchone()[0] == 1
        with pytest.raises(pymysql.err.OperationalError) as e:
            cur.execute("DELETE FROM audit_log")
        assert e.value.args[0] == 1142, e.value
    c.close()
    r2 = subprocess.run([str(stack.cli_path), "--config", str(conf), "key", "list", "--account", "me"],
                        capture_output=True, text=True, env=stack.env)
    assert r2.returncode == 0 and r2.stdout.count("key_") == 1, r2.stderr
    # again: nothing new, the same passwords
    before = {f: (d / f).read_text() for f in ("db.password", "db_admin.password", "audit.key")}
    r = run_setup(stack, conf, "--yes")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and "already initialised" in r.stderr, r.stdout + r.stderr
    assert {f: (d / f).read_text() for f in before} == before


def test_setup_asks_first_and_refuses_without_an_answer(stack, target):
    conf, n = target
    r = run_setup(stack, conf, input="")            # stdin is not a terminal and no --yes
    assert r.returncode == 2 and "--yes" in r.stderr, r.stderr
    assert not (conf.parent / "db.password").exists()
    c = stack.db_connect(root=True)
    with c.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE %s", (n["db"],))
        assert cur.fetchone() is None
    c.close()


def test_setup_needs_the_client_host_for_a_remote_server(stack, target):
    conf, _ = target
    conf.write_text(conf.read_text().replace("db_host = localhost", "db_host = db.example.com"))
    r = run_setup(stack, conf, "--yes")
    assert r.returncode == 2 and "--client-host" in r.stderr, r.stderr
    r = run_setup(stack, conf, "--yes", "--client-host", "x'y")
    assert r.returncode == 2 and "--client-host" in r.stderr, r.stderr
