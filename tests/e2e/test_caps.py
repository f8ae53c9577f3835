"""Caps: max_keys_per_account and max_children_per_account -> 409 CONFLICT with details.limit, exact
under concurrency; rotate is allowed at the cap.

The caps are small here, so the test runs its own web servers (same kinds, same database, same
programs) from a second VARDIR whose latchkey.conf is the stack's plus the two cap lines: the main
stack keeps the defaults (10000 / 1000), which the rest of the suite never reaches."""
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

import harness
from helpers import (assert_error, audit_by_rid, call, child_count, create_key, expect, key_count,
                     make_account, make_tenant, new_rid, uid)

CAP_KEYS = 8
CAP_CHILDREN = 5


class CappedServer:
    def __init__(self, stack, name, port):
        self.stack, self.name, self.kind, self.port = stack, name, harness.SERVER_KINDS[name], port
        self.base_url = f"http://127.0.0.1:{port}"
        self.admin_key, self.root_account = stack.admin_key, stack.root_account


@pytest.fixture(scope="module")
def capped_stack(stack):
    vardir = Path(tempfile.mkdtemp(prefix="lk-caps-", dir="/tmp"))
    os.chmod(vardir, 0o755)
    conf = Path(stack.conf_path).read_text()
    (vardir / "latchkey.conf").write_text(
        conf + f"\nmax_keys_per_account = {CAP_KEYS}\nmax_children_per_account = {CAP_CHILDREN}\n")
    os.chmod(vardir / "latchkey.conf", 0o600)
    servers = {}
    try:
        for name in stack.server_names:
            srv = CappedServer(stack, name, harness.free_port())
            stack._script("webserver.sh", "start", srv.kind, vardir, srv.port, stack.bin_dir)
            servers[name] = srv
        yield servers
    finally:
        for srv in servers.values():
            stack._script("webserver.sh", "stop", srv.kind, vardir)
        reports = []
        for p in (vardir / "log").glob("*.log") if (vardir / "log").is_dir() else []:
            text = p.read_text(errors="replace")
            if any(pat in text for pat in harness.SANITIZER_PATTERNS):
                reports.append(f"--- {p}\n{text[-4000:]}")
        if reports:
            pytest.fail("sanitizer reports from the capped servers (logs kept in %s):\n%s"
                        % (vardir, "\n".join(reports)), pytrace=False)
        shutil.rmtree(vardir, ignore_errors=True)


@pytest.fixture
def capped(capped_stack, server):
    """The capped twin of `server`. Set-up goes through `server`: the tenants are children of the
    root account, which has far more than CAP_CHILDREN children."""
    return capped_stack[server.name]


def fill_keys(server, stack, t, upto):
    while key_count(stack, t.account_id) < upto:
        create_key(server, t.key, scopes=["verify"])


def test_key_cap(server, capped, stack):
    t = make_tenant(server, scopes=["keys:read", "keys:write", "verify"])
    fill_keys(server, stack, t, CAP_KEYS)
    for path, body in (("/v1/keys", {"label": "one too many"}),
                       (f"/v1/accounts/{t.account_id}/keys", {"label": "one too many"}),
                       ("/v1/keys", {"label": "one too many", "env": "test"})):
        rid = new_rid()
        err = assert_error(call(capped, "POST", path, t.key, body=body, rid=rid), 409, "CONFLICT")
        assert err["details"]["limit"] == CAP_KEYS, err
        assert audit_by_rid(stack, rid) == []
    assert key_count(stack, t.account_id) == CAP_KEYS
    # the root admin is held to the cap too
    assert_error(call(capped, "POST", "/v1/keys", capped.admin_key,
                      body={"label": "x", "account_id": t.account_id}), 409, "CONFLICT")
    # rotate replaces a key: allowed at the cap (the old row stays until deleted)
    new = expect(call(capped, "POST", f"/v1/keys/{t.key_id}/rotate", t.key, body={"grace_period": "1h"}), 201)
    assert key_count(stack, t.account_id) == CAP_KEYS + 1
    # deleting makes room again: revoked keys count until deleted
    victims = [k["id"] for k in expect(call(capped, "GET", "/v1/keys", new["key"],
                                            params={"limit": 100}), 200)["data"]
               if k["id"] not in (t.key_id, new["id"])][:2]
    for kid in victims:
        expect(call(capped, "DELETE", f"/v1/keys/{kid}", new["key"]), 204)
    assert key_count(stack, t.account_id) == CAP_KEYS - 1
    create_key(capped, new["key"], scopes=["verify"])
    assert_error(call(capped, "POST", "/v1/keys", new["key"], body={"label": "x"}), 409, "CONFLICT")
    assert key_count(stack, t.account_id) == CAP_KEYS


def _concurrently(n, fn):
    results = [None] * n
    start = threading.Barrier(n)

    def run(i):
        start.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    return results


def test_key_cap_exact_under_concurrency(server, capped, stack):
    t = make_tenant(server, scopes=["keys:read", "keys:write", "verify"])
    have = key_count(stack, t.account_id)
    n = 3 * CAP_KEYS
    res = _concurrently(n, lambda i: call(capped, "POST", "/v1/keys", t.key,
                                          body={"label": f"race-{i}", "scopes": ["verify"]}))
    codes = sorted(r.status_code for r in res)
    assert codes.count(201) == CAP_KEYS - have, codes
    assert codes.count(409) == n - (CAP_KEYS - have), codes
    assert key_count(stack, t.account_id) == CAP_KEYS


def test_children_cap(server, capped, stack):
    t = make_tenant(server, scopes=["accounts:read", "accounts:write"])
    for _ in range(CAP_CHILDREN):
        make_account(capped, t.key, parent_id=t.account_id, plan="free")
    rid = new_rid()
    err = assert_error(call(capped, "POST", "/v1/accounts", t.key, body={"name": uid("extra")}, rid=rid),
                       409, "CONFLICT")
    assert err["details"]["limit"] == CAP_CHILDREN and err["details"]["field"] == "parent_id", err
    assert audit_by_rid(stack, rid) == []
    assert child_count(stack, t.account_id) == CAP_CHILDREN
    # the cap is per parent: a child may have its own children
    child = expect(call(capped, "GET", "/v1/accounts", t.key), 200)["data"][0]
    make_account(capped, t.key, parent_id=child["id"], plan="free")


def test_children_cap_exact_under_concurrency(server, capped, stack):
    t = make_tenant(server, scopes=["accounts:read", "accounts:write"])
    n = 3 * CAP_CHILDREN
    res = _concurrently(n, lambda i: call(capped, "POST", "/v1/accounts", t.key,
                                          body={"name": f"race-{i}", "parent_id": t.account_id}))
    codes = sorted(r.status_code for r in res)
    assert codes.count(201) == CAP_CHILDREN and codes.count(409) == n - CAP_CHILDREN, codes
    assert child_count(stack, t.account_id) == CAP_CHILDREN


def test_cli_respects_the_caps(server, capped, stack, tmp_path):
    if capped.name != stack.server_names[0]:
        pytest.skip("the CLI does not depend on the server")
    conf = tmp_path / "capped.conf"
    conf.write_text(Path(stack.conf_path).read_text() + f"\nmax_keys_per_account = {CAP_KEYS}\n")
    t = make_tenant(server, scopes=["keys:read", "keys:write", "verify"])
    fill_keys(server, stack, t, CAP_KEYS)
    r = subprocess.run([stack.cli_path, "--config", str(conf), "key", "create", "--account", t.account_id,
                        "--label", "cli"], capture_output=True, text=True, timeout=60, env=stack.env)
    assert r.returncode != 0 and key_count(stack, t.account_id) == CAP_KEYS, (r.stdout, r.stderr)
