"""`latchkey user …` and the owner login printed by `latchkey init`."""
import re
import subprocess

from admin_util import Console, db_one, make_user
from helpers import uid


def test_init_printed_an_owner_login(stack):
    assert re.search(r"^login: owner@localhost$", stack.init_output, re.M)
    assert re.fullmatch(r"[0-9A-Za-z]{20}", stack.owner_password)
    row = db_one(stack, "SELECT role, password_hash FROM users WHERE email = %s", stack.owner_login)
    assert row[0] == "owner"
    assert row[1].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert stack.owner_password not in row[1]


def test_user_create_list_passwd_disable(stack, server):
    email = f"{uid('cli')}@example.com"
    r = stack.cli("user", "create", email, "--account", stack.root_account, "--role", "viewer",
                  "--password-stdin", input="first password\n")
    usr = r.stdout.strip()
    assert re.fullmatch(r"usr_[0-9A-Za-z]{24}", usr)
    listing = stack.cli("user", "list").stdout
    assert listing.splitlines()[0].split() == ["ID", "ROLE", "ACCOUNT", "STATUS", "EMAIL"], listing
    assert [usr, "viewer", stack.root_account, "active", email] in [l.split() for l in listing.splitlines()]
    c = Console(server, email, "first password")
    stack.cli("user", "passwd", email, "--password-stdin", input="second password\n")
    assert c.get("/admin/keys").status_code == 303            # sessions ended
    Console(server, email, "second password")
    stack.cli("user", "disable", usr)
    assert [usr, "viewer", stack.root_account, "disabled", email] in \
        [l.split() for l in stack.cli("user", "list").stdout.splitlines()]
    r = c.login(email, "second password")
    assert r.status_code == 401
    stack.cli("user", "enable", email)
    Console(server, email, "second password")
    actions = db_one(stack, "SELECT GROUP_CONCAT(action ORDER BY id) FROM audit_log WHERE target_id = %s"
                     " AND actor = 'cli'", usr)[0]
    assert actions == "user.create,user.password,user.disable,user.enable"


def test_user_cli_refusals(stack):
    email, _, _ = make_user(stack, "developer")
    r = stack.cli("user", "create", email, "--account", stack.root_account, "--role", "viewer",
                  "--password-stdin", input="another password\n", check=False)
    assert r.returncode == 1 and "already a user" in r.stderr
    for args, stdin in ((["--role", "root"], "long enough pw\n"), (["--role", "viewer"], "short\n")):
        r = stack.cli("user", "create", f"{uid('x')}@example.com", "--account", stack.root_account,
                      *args, "--password-stdin", input=stdin, check=False)
        assert r.returncode == 2, r.stderr
    r = stack.cli("user", "create", "not-an-email", "--account", stack.root_account, "--role", "viewer",
                  "--password-stdin", input="long enough pw\n", check=False)
    assert r.returncode == 2
    # no controlling terminal (a new session) and no --password-stdin: refused, never blocks
    r = subprocess.run([stack.cli_path, "--config", stack.conf_path, "user", "create",
                        f"{uid('x')}@example.com", "--account", stack.root_account, "--role", "viewer"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                       env=stack.env, start_new_session=True)
    assert r.returncode == 2 and "--password-stdin" in r.stderr
    assert stack.cli("user", "passwd", "nobody@example.com", "--password-stdin",
                     input="long enough pw\n", check=False).returncode == 1
