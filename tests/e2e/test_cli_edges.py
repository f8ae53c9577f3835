"""The CLI for a newcomer at a shell: help without a config file, named bad options, parity with
the API (key show/list, account list/show/create, --json, --account me), config errors that name
the file and line, and migrate run with the runtime user. Runs once (not per server)."""
import json
import os
import re
import subprocess

import pytest

from helpers import ACCT_ID_RE, CREATED_KEYS, KEY_RE, call, expect, uid

COMMANDS = ["migrate", "init", "account", "key"]


def run(stack, *args, env=None, config=True, check=False):
    """latchkey with or without --config; env has no LATCHKEY_CONF unless given."""
    e = {k: v for k, v in stack.env.items() if k != "LATCHKEY_CONF"}
    e.update(env or {})
    cmd = [str(stack.cli_path)] + (["--config", str(stack.conf_path)] if config else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=e)
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    if check:
        assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
    return r


@pytest.fixture(scope="module")
def api(stack):
    return next(iter(stack.servers.values()))


def commands_in_help(stack):
    out = run(stack, "--help", config=False).stdout
    names = sorted({m.group(1) for m in re.finditer(r"^  ([a-z]+)\b", out, re.M)})
    assert set(COMMANDS) <= set(names), names
    return names


@pytest.mark.parametrize("args", [("--help",), ("-h",), ("help",)], ids=" ".join)
def test_top_level_help_needs_no_config(stack, args):
    r = run(stack, *args, config=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: latchkey"), r.stdout
    for name in COMMANDS:
        assert f"  {name}" in r.stdout
    assert r.stderr == ""


def test_every_command_and_subcommand_has_help_without_config(stack):
    for name in commands_in_help(stack):
        for args in (("help", name), (name, "--help"), (name, "-h")):
            r = run(stack, *args, config=False)
            assert r.returncode == 0, (args, r.stderr)
            assert f"latchkey [--config FILE] {name}" in r.stdout, (args, r.stdout)
            assert f"  {name}" in r.stdout, (args, r.stdout)
        # subcommands, as listed in the overview
        overview = run(stack, "help", name, config=False).stdout
        for sub in sorted({m.group(1) for m in re.finditer(rf"^  {name} ([a-z]+)", overview, re.M)}):
            for flag in ("--help", "-h"):
                r = run(stack, name, sub, flag, config=False)
                assert r.returncode == 0, (name, sub, r.stderr)
                assert f"  {name} {sub}" in r.stdout, (name, sub, r.stdout)
            # also after other arguments, and with a config file that does not exist
            r = run(stack, "--config", "/nonexistent/latchkey.conf", name, sub, "x", "--help", config=False)
            assert r.returncode == 0 and f"  {name} {sub}" in r.stdout, (name, sub, r.stdout, r.stderr)
    r = run(stack, "help", "frobnicate", config=False)
    assert r.returncode == 2 and "frobnicate" in r.stderr


@pytest.mark.parametrize("args", [
    ("key", "list", "--account", "me", "--bogus"),
    ("key", "create", "--account", "me", "--label", "x", "--colour", "red"),
    ("account", "list", "--everything"),
    ("account", "show", "me", "--verbose"),
    ("account", "create", "x", "--plan"),
    ("key", "show", "--json", "--yaml", "key_x"),
], ids=" ".join)
def test_unknown_option_names_itself_and_points_to_help(stack, args):
    r = run(stack, *args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    bad = [a for a in args if a.startswith("--") and a not in ("--account", "--label", "--json")][-1]
    assert bad in r.stderr, r.stderr
    assert f"latchkey {args[0]} --help" in r.stderr, r.stderr
    assert not KEY_RE.search(r.stdout)


@pytest.mark.parametrize("args,stray", [
    (("key", "create", "--account", "me", "--label", "x", "--expires-in", "3", "weeks"), "weeks"),
    (("key", "list", "--account", "me", "extra"), "extra"),
    (("key", "show", "key_a", "key_b"), "key_b"),
    (("account", "list", "me"), "me"),
    (("account", "show", "me", "again"), "again"),
    (("account", "create", "two", "words"), "words"),
    (("user", "create", "a@example.com", "b@example.com", "--account", "me", "--role", "viewer"),
     "b@example.com"),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)
def test_stray_argument_is_named(stack, args, stray):
    """A value with a space left unquoted ("--expires-in 3 weeks") leaves a stray argument: the
    message names it instead of saying a required option is missing; nothing is created."""
    r = run(stack, *args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert f"unexpected argument '{stray}'" in r.stderr, r.stderr
    assert "needs --account" not in r.stderr and not KEY_RE.search(r.stdout), r.stderr


def test_rotate_of_a_revoked_key_says_why(stack, api):
    from helpers import create_key
    k = create_key(api, stack.admin_key, label=uid("cli-rot"))
    assert run(stack, "key", "revoke", k["id"]).returncode == 0
    r = run(stack, "key", "rotate", k["id"])
    assert r.returncode == 1 and not KEY_RE.search(r.stdout), (r.stdout, r.stderr)
    assert "revoked keys cannot be rotated; reactivate it first" in r.stderr, r.stderr


def test_version_needs_no_config(stack):
    """--version prints the one version the tree has (the VERSION file), without a config."""
    from pathlib import Path
    version = (Path(__file__).resolve().parents[2] / "VERSION").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    r = run(stack, "--version", config=False)
    assert r.returncode == 0 and r.stdout == f"latchkey {version}\n", (r.stdout, r.stderr)
    assert "--version" in run(stack, "--help", config=False).stdout


def test_unknown_command_and_global_option(stack):
    r = run(stack, "frobnicate")
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr
    r = run(stack, "--verbose", "key", "list", config=False)
    assert r.returncode == 2 and "--verbose" in r.stderr


def test_key_show_and_list_parity(stack, api):
    acct = run(stack, "account", "create", uid("parity"), "--plan", "enterprise", check=True).stdout.strip()
    label = uid("parity-key")
    r = run(stack, "key", "create", "--account", acct, "--label", label, "--scopes", "verify tasks:read",
            "--expires-in", "30d", check=True)
    plain = r.stdout.strip()
    CREATED_KEYS.append(plain)
    v = expect(call(api, "POST", "/v1/verify", plain, body={"key": plain}), 200)  # sets last_used_at
    kid = v["key"]["id"]
    api_obj = expect(call(api, "GET", f"/v1/keys/{kid}", api.admin_key), 200)
    assert api_obj["last_used_at"] is not None

    # key show: every field, text and JSON (the API's object)
    txt = run(stack, "key", "show", kid, check=True).stdout
    for field in ("id", "account_id", "label", "start", "status", "expires_at", "last_used_at", "scopes"):
        assert re.search(rf"^{field}\s", txt, re.M), (field, txt)
    assert label in txt and "verify tasks:read" in txt and api_obj["expires_at"] in txt
    assert api_obj["last_used_at"] in txt
    shown = json.loads(run(stack, "key", "show", kid, "--json", check=True).stdout)
    assert shown == api_obj
    assert not KEY_RE.search(txt)

    # key list: scopes, expiry and last use in the table; --json is the API's objects
    lst = run(stack, "key", "list", "--account", acct, check=True).stdout
    header = lst.splitlines()[0].split()
    for col in ("ID", "START", "STATUS", "SCOPES", "EXPIRES", "LAST", "LABEL"):
        assert col in header, header
    row = next(ln for ln in lst.splitlines() if ln.startswith(kid))
    assert "verify tasks:read" in row and api_obj["expires_at"] in row and api_obj["last_used_at"] in row
    objs = json.loads(run(stack, "key", "list", "--account", acct, "--json", check=True).stdout)
    assert [o["id"] for o in objs] == [kid] and objs[0] == api_obj
    assert run(stack, "key", "show", "key_doesnotexist").returncode == 1


def test_account_list_show_create_and_me(stack, api):
    root = stack.root_account
    me = json.loads(run(stack, "account", "show", "me", "--json", check=True).stdout)
    assert me["id"] == root and me["parent_id"] is None
    assert me == expect(call(api, "GET", f"/v1/accounts/{root}", api.admin_key), 200)
    txt = run(stack, "account", "show", "me", check=True).stdout
    assert root in txt and "enterprise" in txt

    parent = run(stack, "account", "create", uid("cli-parent"), "--parent", "me", check=True).stdout.strip()
    assert ACCT_ID_RE.match(parent)
    child_name = uid("cli-child")
    child = run(stack, "account", "create", child_name, "--parent", parent, "--plan", "pro",
                check=True).stdout.strip()
    below = json.loads(run(stack, "account", "list", "--parent", parent, "--json", check=True).stdout)
    assert [a["id"] for a in below] == [child] and below[0]["plan"] == "pro" and below[0]["name"] == child_name
    table = run(stack, "account", "list", check=True).stdout
    rows = [ln.split()[0] for ln in table.splitlines()[1:]]
    assert parent in rows and child in rows and root not in rows   # below the root, not the root
    shown = json.loads(run(stack, "account", "show", child, "--json", check=True).stdout)
    assert shown == expect(call(api, "GET", f"/v1/accounts/{child}", api.admin_key), 200)

    # --account me is the root account for keys too
    r = run(stack, "key", "create", "--account", "me", "--label", uid("root-key"), check=True)
    CREATED_KEYS.append(r.stdout.strip())
    assert root in r.stderr
    made = re.search(r"created (key_\w+) in", r.stderr).group(1)
    assert made in run(stack, "key", "list", "--account", "me", check=True).stdout


def test_config_error_names_file_and_line(stack, tmp_path):
    conf = tmp_path / "latchkey.conf"
    text = open(stack.conf_path).read()
    conf.write_text(text + "# fine\ndb_read_timeout = 3   # seconds\n")
    r = run(stack, "--config", str(conf), "key", "list", "--account", "me", config=False)
    n = len(text.splitlines()) + 2
    assert r.returncode == 1
    assert f"{conf}: line {n}: inline comments are not allowed" in r.stderr, r.stderr
    conf.write_text(text + "db_prot = 3306\n")
    r = run(stack, "--config", str(conf), "migrate", config=False)
    assert r.returncode == 1 and f"{conf}: line {n - 1}: unknown setting 'db_prot'" in r.stderr, r.stderr


def test_migrate_with_the_runtime_user_says_which_user_it_needs(stack, tmp_path):
    user, pw = "lk_rt_" + uid("u")[-6:].lower(), "pw-" + uid("p")
    user = re.sub(r"[^a-z0-9_]", "", user)
    root = stack.db_connect(root=True)
    try:
        with root.cursor() as c:
            for host in ("127.0.0.1", "localhost"):
                c.execute(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY %s", (pw,))
                c.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON latchkey.* TO '{user}'@'{host}'")
        text = open(stack.conf_path).read()
        text = re.sub(r"^db_user\s*=.*$", f"db_user = {user}", text, flags=re.M)
        text = re.sub(r"^db_password_file\s*=.*$", f"db_password = {pw}", text, flags=re.M)
        text = re.sub(r"^db_admin_(user|password_file)\s*=.*$", "", text, flags=re.M)   # no owner user
        conf = tmp_path / "runtime.conf"
        conf.write_text(text)
        r = run(stack, "--config", str(conf), "migrate", config=False)
        assert r.returncode == 1, (r.stdout, r.stderr)
        assert f"the database user '{user}' may not change the schema" in r.stderr, r.stderr
        assert "owner user" in r.stderr and "db_admin_user" in r.stderr, r.stderr
        # the runtime user can still do what the programs do
        r = run(stack, "--config", str(conf), "account", "show", "me", config=False)
        assert r.returncode == 0, r.stderr
    finally:
        with root.cursor() as c:
            for host in ("127.0.0.1", "localhost"):
                c.execute(f"DROP USER IF EXISTS '{user}'@'{host}'")
        root.close()
