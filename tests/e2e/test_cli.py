"""The `latchkey` CLI against the shared test database (runs once, not per server)."""
import pytest

from helpers import (ACCT_ID_RE, CREATED_KEYS, KEY_ID_RE, KEY_RE, account_row, assert_verify, call, expect,
                     key_row, uid)


@pytest.fixture(scope="module")
def api(stack):
    """Any running server, to check CLI results through the HTTP API."""
    return next(iter(stack.servers.values()))


def cli_key(stack, *args):
    """Run a command that prints a plaintext key; returns it (and checks it is alone on stdout)."""
    p = stack.cli(*args)
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, f"stdout should be the key alone: {p.stdout!r}"
    assert KEY_RE.fullmatch(lines[0].strip()), lines
    key = lines[0].strip()
    CREATED_KEYS.append(key)
    assert key not in p.stderr
    return key, p


def key_id_of(api, plain):
    v = expect(call(api, "POST", "/v1/verify", api.admin_key, body={"key": plain}), 200)
    return v["key"]["id"], v


def test_init_is_idempotent(stack):
    p = stack.cli("init", check=False)
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert not KEY_RE.search(p.stdout + p.stderr), "a second init must not print a key"
    assert p.stderr.strip(), "a second init should say it is already initialised"
    p = stack.cli("migrate", check=False)
    assert p.returncode == 0, p.stderr


def test_account_create(stack, api):
    name = uid("cli-acct")
    p = stack.cli("account", "create", name)
    acct = p.stdout.strip()
    assert ACCT_ID_RE.match(acct), p.stdout
    row = account_row(stack, acct)
    assert row["name"] == name and row["plan"] == "free"
    child = stack.cli("account", "create", uid("cli-child"), "--parent", acct, "--plan", "pro").stdout.strip()
    assert ACCT_ID_RE.match(child)
    a = expect(call(api, "GET", f"/v1/accounts/{child}", api.admin_key), 200)
    assert a["parent_id"] == acct and a["plan"] == "pro"


def test_key_commands(stack, api):
    acct = stack.cli("account", "create", uid("cli-keys"), "--plan", "enterprise").stdout.strip()
    label = uid("cli-key")
    plain, p = cli_key(stack, "key", "create", "--account", acct, "--label", label,
                       "--scopes", "verify tasks:create", "--env", "test")
    assert "created key_" in p.stderr and acct in p.stderr, p.stderr
    assert "_test_" in plain
    kid, v = key_id_of(api, plain)
    assert v["valid"] is True and v["code"] == "VALID"
    assert v["key"]["account_id"] == acct and v["key"]["env"] == "test"
    assert sorted(v["key"]["scopes"]) == ["tasks:create", "verify"]
    assert kid in p.stderr
    # the key works as a credential
    assert_verify(api, plain, plain, "VALID", key_id=kid)

    lst = stack.cli("key", "list", "--account", acct).stdout
    assert kid in lst and label in lst and "active" in lst and "test" in lst
    assert not KEY_RE.search(lst), "key list must not print plaintexts"
    assert key_row(stack, kid)["start"] in lst

    stack.cli("key", "revoke", kid)
    assert_verify(api, api.admin_key, plain, "REVOKED_API_KEY", key_id=kid)
    assert "revoked" in stack.cli("key", "list", "--account", acct).stdout
    stack.cli("key", "reactivate", kid)
    assert_verify(api, api.admin_key, plain, "VALID", key_id=kid)

    new, p = cli_key(stack, "key", "rotate", kid, "--grace", "1h")
    assert new != plain
    new_id, v = key_id_of(api, new)
    assert v["valid"] is True and new_id != kid
    assert expect(call(api, "GET", f"/v1/keys/{new_id}", api.admin_key), 200)["rotated_from"] == kid
    assert_verify(api, api.admin_key, plain, "VALID", key_id=kid)  # within grace

    new2, _ = cli_key(stack, "key", "rotate", new_id)  # no grace: old revoked now
    assert_verify(api, api.admin_key, new, "REVOKED_API_KEY", key_id=new_id)
    assert_verify(api, api.admin_key, new2, "VALID")

    stack.cli("key", "delete", kid)
    assert_verify(api, api.admin_key, plain, "INVALID_API_KEY")
    assert key_row(stack, kid) is None
    assert kid not in stack.cli("key", "list", "--account", acct).stdout

    # expiry option
    exp, _ = cli_key(stack, "key", "create", "--account", acct, "--label", uid("cli-exp"), "--expires-in", "90d")
    _, v = key_id_of(api, exp)
    assert v["key"]["expires_at"] is not None


@pytest.mark.parametrize("args", [
    ("key", "create", "--account", "ACCT", "--scopes", "verify"),            # no label
    ("key", "create", "--label", "x"),                                      # no account
    ("key", "create", "--account", "ACCT", "--label", "x", "--env", "prod"),
    ("key", "create", "--account", "ACCT", "--label", "x", "--expires-in", "soon"),
    ("key", "create", "--account", "ACCT", "--label", "x", "--scopes", "NOT VALID!"),
    ("key", "create", "--account", "acct_doesnotexist", "--label", "x"),
    ("key", "revoke", "key_doesnotexist"),
    ("key", "rotate", "key_doesnotexist"),
    ("key", "delete", "key_doesnotexist"),
    ("key", "rotate", "KEY", "--grace", "31d"),
    ("account", "create", "acct-bad-plan", "--plan", "gold"),
    ("account", "create", "orphan", "--parent", "acct_doesnotexist"),
    ("account", "create"),
    ("frobnicate",),
    (),
], ids=lambda a: " ".join(a) or "no-args")
def test_bad_input(stack, args):
    acct = stack.cli("account", "create", uid("cli-bad")).stdout.strip()
    key = None
    if "KEY" in args:
        key, _ = cli_key(stack, "key", "create", "--account", acct, "--label", uid("cli-bad-key"))
        kid = None
        for line in stack.cli("key", "list", "--account", acct).stdout.splitlines():
            if line.split() and line.split()[0].startswith("key_"):
                kid = line.split()[0]
        assert kid and KEY_ID_RE.match(kid)
        args = tuple(kid if a == "KEY" else a for a in args)
    args = tuple(acct if a == "ACCT" else a for a in args)
    before = account_row(stack, acct)
    p = stack.cli(*args, check=False)
    assert p.returncode != 0, f"{args} exited 0: {p.stdout!r}"
    assert p.returncode in (1, 2), p.returncode
    assert p.stderr.strip(), f"{args}: no message on stderr"
    assert len(p.stderr) < 2000 and "AddressSanitizer" not in p.stderr and "runtime error" not in p.stderr
    assert not KEY_RE.search(p.stdout), "a failed command printed a key"
    assert account_row(stack, acct) == before
    if args[:2] == ("key", "create"):
        assert stack.cli("key", "list", "--account", acct).stdout.count("key_") == 0
