"""`latchkey key update` and `latchkey key verify` against the shared test database: the same
rules, messages, audit rows and verdicts as PATCH /v1/keys/{id} and POST /v1/verify. The CLI acts
as the operator (root, every account). Runs once (not per server)."""
import json
import time

import pytest

from helpers import (KEY_RE, assert_verify, audit_by_target, call, create_key, db_query, expect, get_key,
                     key_row, make_account, make_tenant, rfc3339, stable, uid)

EXIT = {"VALID": 0, "INVALID_API_KEY": 3, "REVOKED_API_KEY": 4, "EXPIRED_API_KEY": 5,
        "INSUFFICIENT_SCOPE": 6, "RATE_LIMITED": 7, "ACCOUNT_SUSPENDED": 8, "IP_NOT_ALLOWED": 9,
        "USAGE_EXCEEDED": 10}


@pytest.fixture(scope="module")
def api(stack):
    """Any running server, to check CLI results through the HTTP API."""
    return next(iter(stack.servers.values()))


@pytest.fixture(scope="module")
def tenant(api):
    return make_tenant(api)


def cli(stack, *args, input=None):
    r = stack.cli(*args, check=False, input=input)
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    return r


def update_rows(stack, kid):
    return [r for r in audit_by_target(stack, kid) if r["action"] == "key.update"]


def update(stack, kid, *args):
    """key update that must succeed and write exactly one key.update row (by actor cli); returns
    that row's changes."""
    before = len(update_rows(stack, kid))
    r = cli(stack, "key", "update", kid, *args)
    assert r.returncode == 0, (args, r.returncode, r.stderr)
    assert f"{kid}: updated " in r.stderr, r.stderr
    rows = update_rows(stack, kid)
    assert len(rows) == before + 1, rows
    assert rows[-1]["actor"] == "cli", rows[-1]
    return json.loads(rows[-1]["changes"])


def new_values(ch):
    """The new value of each changed field (an update row records each as {"old", "new"})."""
    assert all(isinstance(v, dict) and set(v) == {"old", "new"} for v in ch.values()), ch
    return {k: v["new"] for k, v in ch.items()}


def test_update_each_field_writes_its_audit_row(stack, api, tenant):
    k = create_key(api, tenant.key, scopes=["verify"])
    kid = k["id"]

    label = uid("cli-upd")
    assert update(stack, kid, "--label", label) == {"label": {"old": k["label"], "new": label}}
    assert get_key(api, tenant.key, kid)["label"] == label

    assert new_values(update(stack, kid, "--scopes", "tasks:read verify")) == {"scopes": ["tasks:read", "verify"]}
    assert sorted(get_key(api, tenant.key, kid)["scopes"]) == ["tasks:read", "verify"]
    assert_verify(api, tenant.key, k["key"], "VALID", scopes=["tasks:read"], key_id=kid)

    t0 = int(time.time())
    ch = new_values(update(stack, kid, "--expires-in", "2h"))
    got = get_key(api, tenant.key, kid)["expires_at"]
    assert ch == {"expires_at": got}
    assert rfc3339(t0 + 7200) <= got <= rfc3339(int(time.time()) + 7200), got

    at = rfc3339(int(time.time()) + 86400)
    assert new_values(update(stack, kid, "--expires-at", at)) == {"expires_at": at}
    assert get_key(api, tenant.key, kid)["expires_at"] == at

    assert new_values(update(stack, kid, "--no-expiry")) == {"expires_at": None}
    assert get_key(api, tenant.key, kid)["expires_at"] is None and key_row(stack, kid)["expires_at"] is None

    assert new_values(update(stack, kid, "--meta", '{"team": "payments", "tier": [1, 2]}')) == \
        {"meta": {"team": "payments", "tier": [1, 2]}}
    assert get_key(api, tenant.key, kid)["meta"] == {"team": "payments", "tier": [1, 2]}

    assert new_values(update(stack, kid, "--ratelimit", "100/1m")) == {"ratelimit": {"limit": 100, "window": 60}}
    assert get_key(api, tenant.key, kid)["ratelimit"] == {"limit": 100, "window": 60}
    assert new_values(update(stack, kid, "--ratelimit", "5000/3600")) == {"ratelimit": {"limit": 5000, "window": 3600}}

    assert new_values(update(stack, kid, "--no-ratelimit")) == {"ratelimit": None}
    assert get_key(api, tenant.key, kid)["ratelimit"] is None

    # several at once: one row with each; what was not given is kept
    ch = new_values(update(stack, kid, "--label", label + "-2", "--meta", "{}", "--scopes", ""))
    assert ch == {"label": label + "-2", "meta": {}, "scopes": []}
    g = get_key(api, tenant.key, kid)
    assert (g["label"], g["meta"], g["scopes"], g["expires_at"]) == (label + "-2", {}, [], None)
    assert g["account_id"] == tenant.account_id and g["start"] == k["start"]


def test_update_policies_allowlist_and_credits(stack, api, tenant):
    k = create_key(api, tenant.key)
    kid = k["id"]
    ch = update(stack, kid, "--allowed-ips", "10.0.0.0/8, 2001:db8::1")
    assert set(ch) == {"allowed_ips"} and ch["allowed_ips"]["new"] == ["10.0.0.0/8", "2001:db8::1"], ch
    assert get_key(api, tenant.key, kid)["allowed_ips"] == ["10.0.0.0/8", "2001:db8::1"]
    assert verify(stack, k["key"], "--ip", "192.0.2.1")[0] == EXIT["IP_NOT_ALLOWED"]
    ch = update(stack, kid, "--no-allowed-ips")
    assert ch["allowed_ips"]["new"] is None and get_key(api, tenant.key, kid)["allowed_ips"] is None, ch

    ch = update(stack, kid, "--credits", "5")
    assert ch["credits"]["new"]["remaining"] == 5 and ch["credits"]["old"] is None, ch
    update(stack, kid, "--credits-add", "10")
    assert get_key(api, tenant.key, kid)["credits"]["remaining"] == 15
    refill = '{"remaining": 3, "refill": {"amount": 100, "interval": "monthly", "day_of_month": 1}}'
    update(stack, kid, "--credits", refill)
    c = get_key(api, tenant.key, kid)["credits"]
    assert c["remaining"] == 3 and c["refill"]["amount"] == 100 and c["refill"]["interval"] == "monthly", c
    assert verify(stack, k["key"], "--cost", "3")[0] == 0 and verify(stack, k["key"])[0] == EXIT["USAGE_EXCEEDED"]
    update(stack, kid, "--no-credits")
    assert get_key(api, tenant.key, kid)["credits"] is None
    assert verify(stack, k["key"], "--cost", "1000")[0] == 0


def test_scope_ceiling_binds_the_operator(stack, api):
    """A parent's grantable_scopes hold for keys the CLI creates or changes, as for the API."""
    t = make_tenant(api)
    k = create_key(api, t.key, scopes=["tasks:read"])
    db_query(stack, "UPDATE accounts SET grantable_scopes = 'tasks:*' WHERE public_id = %s", (t.account_id,))
    try:
        before = stable(key_row(stack, k["id"]))
        r = cli(stack, "key", "update", k["id"], "--scopes", "tasks:read billing:refund")
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert ("--scopes: the scope 'billing:refund' is outside the scope ceiling (grantable_scopes) of account "
                + t.account_id) in r.stderr, r.stderr
        assert stable(key_row(stack, k["id"])) == before and update_rows(stack, k["id"]) == []
        assert new_values(update(stack, k["id"], "--scopes", "tasks:write")) == {"scopes": ["tasks:write"]}
        r = cli(stack, "key", "create", "--account", t.account_id, "--label", "x", "--scopes", "billing:refund")
        assert r.returncode == 1 and "outside the scope ceiling" in r.stderr and not KEY_RE.search(r.stdout)
    finally:
        db_query(stack, "UPDATE accounts SET grantable_scopes = NULL WHERE public_id = %s", (t.account_id,))


def test_update_moves_an_expired_key_back_to_active(stack, api, tenant):
    k = create_key(api, tenant.key)
    db_query(stack, "UPDATE api_keys SET expires_at = UNIX_TIMESTAMP() - 10 WHERE public_id = %s", (k["id"],))
    assert_verify(api, tenant.key, k["key"], "EXPIRED_API_KEY")
    r = cli(stack, "key", "update", k["id"], "--expires-in", "1d")
    assert r.returncode == 0 and f"{k['id']}: updated expires_at; active" in r.stderr, r.stderr
    assert_verify(api, tenant.key, k["key"], "VALID")


# (CLI arguments, the same value as a PATCH body field or None, the CLI message's text)
BAD = [
    (("--label", ""), {"label": ""}, "--label must be text of 1 to 100 characters, without control characters"),
    (("--label", "x" * 101), {"label": "x" * 101}, "--label must be text of 1 to 100 characters"),
    (("--label", "tab\there"), {"label": "tab\there"}, "--label must be text of 1 to 100 characters"),
    (("--scopes", "NOT VALID!"), {"scopes": ["NOT"]}, "--scopes contains an invalid scope 'NOT'"),
    (("--expires-in", "soon"), None, "--expires-in must be a duration up to 36500d (100 years)"),
    (("--expires-in", "0"), None, "--expires-in must be a duration up to 36500d"),
    (("--expires-at", "tomorrow"), {"expires_at": "tomorrow"},
     "--expires-at must be an RFC 3339 time such as 2026-11-22T11:30:00Z"),
    (("--expires-at", "2001-01-01T00:00:00Z"), {"expires_at": "2001-01-01T00:00:00Z"},
     "--expires-at must be in the future (revoke a key to stop it now)"),
    (("--expires-at", "9000-01-01T00:00:00Z"), {"expires_at": "9000-01-01T00:00:00Z"},
     "--expires-at must be at most 36500d (100 years) from now"),
    (("--meta", "[1]"), {"meta": [1]}, "--meta must be a JSON object"),
    (("--meta", "{bad"), None, "--meta must be a JSON object: not valid JSON at line 1, column 4"),
    (("--meta", json.dumps({"x": "y" * 5000})), {"meta": {"x": "y" * 5000}},
     "--meta must be a JSON object of at most 4096 bytes as compact JSON"),
    (("--ratelimit", "100"), {"ratelimit": {"limit": 100}},
     '--ratelimit must be {"limit": 1..1000000000, "window": 1..86400 seconds} (give LIMIT/WINDOW'),
    (("--ratelimit", "0/60"), {"ratelimit": {"limit": 0, "window": 60}}, '--ratelimit must be {"limit": 1..'),
    (("--ratelimit", "10/2d"), {"ratelimit": {"limit": 10, "window": 172800}}, '--ratelimit must be {"limit": 1..'),
    (("--ratelimit", "ten/60"), {"ratelimit": {"limit": "ten", "window": 60}}, '--ratelimit must be {"limit": 1..'),
    (("--allowed-ips", "10.0.0.1 10.0.0.300"), {"allowed_ips": ["10.0.0.1", "10.0.0.300"]},
     "--allowed-ips entry 2 (10.0.0.300) is not an IPv4 or IPv6 address or CIDR range"),
    (("--allowed-ips", " ".join(f"10.0.0.{i}" for i in range(101))),
     {"allowed_ips": [f"10.0.0.{i}" for i in range(101)]}, "--allowed-ips holds at most 100 addresses or ranges"),
    (("--credits", '{"remaining": -5}'), {"credits": {"remaining": -5}},
     '--credits must be {"remaining": 0..1000000000000'),
    (("--credits", "-5"), None, "--credits must be a JSON object: not valid JSON at line 1, column 2 "
                                "('[' or '{' expected near '-5') (or give a number of credits)"),
    (("--credits", '{"remaining": 5, "refill": {"amount": 5, "interval": "weekly"}}'),
     {"credits": {"remaining": 5, "refill": {"amount": 5, "interval": "weekly"}}},
     '--credits must be {"remaining": 0..1000000000000, "refill": null or'),
    (("--credits-add", "0"), {"credits_add": 0}, "--credits-add must be a whole number from 1 to"),
    (("--credits-add", "5"), {"credits_add": 5}, "--credits-add: The key has unlimited uses: set credits first"),
    (("--credits", "5", "--credits-add", "5"), {"credits": {"remaining": 5}, "credits_add": 5},
     "--credits-add: Give credits or credits_add, not both"),
    (("--expires-in", "1d", "--no-expiry"), None, "--expires-in and --no-expiry both change expires_at; give one"),
    (("--expires-at", "2030-01-01T00:00:00Z", "--expires-in", "1d"), None,
     "--expires-in and --expires-at both change expires_at; give one"),
    (("--ratelimit", "1/60", "--no-ratelimit"), None, "--ratelimit and --no-ratelimit both change ratelimit"),
    (("--credits", "1", "--no-credits"), None, "--credits and --no-credits both change credits"),
    (("--label", "a", "--label", "b"), None, "--label is given more than once"),
    ((), None, "key update: nothing to change; give one or more of --label --scopes --expires-in "
               "--expires-at --no-expiry --meta --ratelimit --no-ratelimit --allowed-ips --no-allowed-ips "
               "--credits --no-credits --credits-add"),
]


@pytest.mark.parametrize("args,body,message", BAD, ids=[" ".join(a)[:40] or "nothing" for a, _, _ in BAD])
def test_update_bad_value_names_the_option_and_the_rule(stack, api, tenant, args, body, message):
    k = create_key(api, tenant.key, label=uid("cli-bad"))
    before = stable(key_row(stack, k["id"]))
    r = cli(stack, "key", "update", k["id"], *args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert message in r.stderr, r.stderr
    assert stable(key_row(stack, k["id"])) == before and update_rows(stack, k["id"]) == []
    if body is not None:
        # the API refuses the same value with the same rule (after "Field 'x' " or the field name)
        err = expect(call(api, "PATCH", f"/v1/keys/{k['id']}", tenant.key, body=body), 400)["error"]
        rule = message.split(" ", 1)[1].split(" (give ")[0].split(" (or give ")[0]
        assert rule in err["message"], (rule, err)


def test_update_reports_every_bad_value_at_once(stack, api, tenant):
    k = create_key(api, tenant.key)
    r = cli(stack, "key", "update", k["id"], "--label", "", "--meta", "[]", "--ratelimit", "x")
    assert r.returncode == 2
    for opt in ("--label must", "--meta must", "--ratelimit must"):
        assert opt in r.stderr, r.stderr
    assert update_rows(stack, k["id"]) == []


def test_update_stray_argument_is_named(stack, api, tenant):
    k = create_key(api, tenant.key)
    r = cli(stack, "key", "update", k["id"], "--label", "two", "words")
    assert r.returncode == 2 and "unexpected argument 'words'" in r.stderr, r.stderr
    r = cli(stack, "key", "update", "--label", "x")
    assert r.returncode == 2 and "key update: give one KEY_ID" in r.stderr, r.stderr
    r = cli(stack, "key", "update", k["id"], "--colour", "red")
    assert r.returncode == 2 and "--colour" in r.stderr and "latchkey key --help" in r.stderr, r.stderr
    assert get_key(api, tenant.key, k["id"])["label"] == k["label"] and update_rows(stack, k["id"]) == []


def test_update_acts_as_root_in_any_account_and_unknown_is_not_found(stack, api):
    """The CLI is the operator: it changes a key of any tenant (no subtree or dominance rule, as
    for revoke and rotate); an id that names no key is 'not found', exit 1."""
    a, b = make_tenant(api), make_tenant(api)
    k = create_key(api, b.key, scopes=["admin"])
    assert new_values(update(stack, k["id"], "--label", "by-the-operator")) == {"label": "by-the-operator"}
    assert expect(call(api, "GET", f"/v1/keys/{k['id']}", a.key), 404)  # still b's key, unseen by a
    assert get_key(api, b.key, k["id"])["label"] == "by-the-operator"
    r = cli(stack, "key", "update", "key_doesnotexist00000000", "--label", "x")
    assert r.returncode == 1 and "key_doesnotexist00000000: not found" in r.stderr, r.stderr


def verify(stack, key, *args, input=None):
    """key verify -> (exit status, stdout, stderr)."""
    r = cli(stack, "key", "verify", key, *args, input=input)
    assert not KEY_RE.search(r.stdout + r.stderr), "verify must not print a plaintext"
    return r.returncode, r.stdout, r.stderr


def fields(stdout):
    return dict(line.split(None, 1) for line in stdout.splitlines())


def test_verify_verdicts_and_exit_statuses(stack, api, tenant):
    k = create_key(api, tenant.key, scopes=["tasks:read", "verify"], meta={"team": "a"})
    rc, out, _ = verify(stack, k["key"])
    f = fields(out)
    assert rc == EXIT["VALID"] and f["valid"] == "true" and f["code"] == "VALID", out
    assert f["id"] == k["id"] and f["account_id"] == tenant.account_id and f["env"] == "live"
    assert f["scopes"] == "tasks:read verify" and f["expires_at"] == "-" and json.loads(f["meta"]) == {"team": "a"}
    assert set(json.loads(f["ratelimit"])) == {"limit", "remaining", "reset"}

    # --json: the API's answer (ratelimit aside, which moved on by one use)
    rc, out, _ = verify(stack, k["key"], "--scope", "tasks:read", "--json")
    mine = json.loads(out)
    theirs = expect(call(api, "POST", "/v1/verify", tenant.key, body={"key": k["key"], "scopes": ["tasks:read"]}),
                    200)
    assert rc == 0 and mine.pop("ratelimit")["remaining"] == theirs.pop("ratelimit")["remaining"] + 1
    assert mine == theirs

    rc, out, _ = verify(stack, k["key"], "--scope", "tasks:read", "--scope", "billing:refund")
    assert rc == EXIT["INSUFFICIENT_SCOPE"] == 6 and fields(out)["code"] == "INSUFFICIENT_SCOPE", out
    assert fields(out)["valid"] == "false" and fields(out)["id"] == k["id"]

    for bad in ("lk_live_" + "A" * 38, "not-a-key", k["key"][:-1] + ("A" if k["key"][-1] != "A" else "B")):
        rc, out, _ = verify(stack, bad)
        assert rc == EXIT["INVALID_API_KEY"] == 3 and fields(out) == {"valid": "false", "code": "INVALID_API_KEY"}

    e = create_key(api, tenant.key)
    db_query(stack, "UPDATE api_keys SET expires_at = UNIX_TIMESTAMP() - 10 WHERE public_id = %s", (e["id"],))
    rc, out, _ = verify(stack, e["key"])
    assert rc == EXIT["EXPIRED_API_KEY"] == 5 and fields(out)["code"] == "EXPIRED_API_KEY", out

    expect(call(api, "POST", f"/v1/keys/{k['id']}/revoke", tenant.key), 200)
    rc, out, _ = verify(stack, k["key"], "--json")
    assert rc == EXIT["REVOKED_API_KEY"] == 4 and json.loads(out)["code"] == "REVOKED_API_KEY", out

    expect(call(api, "DELETE", f"/v1/keys/{k['id']}", tenant.key), 204)
    rc, out, _ = verify(stack, k["key"], "--json")
    assert rc == 3 and json.loads(out) == {"valid": False, "code": "INVALID_API_KEY"}, out


def test_verify_counts_a_use_like_the_api(stack, api, tenant):
    """A verify is a use of the verified key: its rate limit, its usage and last_used_at."""
    k = create_key(api, tenant.key, ratelimit={"limit": 2, "window": 86400})
    assert get_key(api, tenant.key, k["id"])["last_used_at"] is None
    rc, out, _ = verify(stack, k["key"], "--json")
    assert rc == 0 and json.loads(out)["ratelimit"]["remaining"] == 1, out
    assert get_key(api, tenant.key, k["id"])["last_used_at"] is not None
    rc, out, _ = verify(stack, k["key"], "--json")
    assert rc == 0 and json.loads(out)["ratelimit"]["remaining"] == 0, out
    rc, out, _ = verify(stack, k["key"])
    assert rc == EXIT["RATE_LIMITED"] == 7 and fields(out)["code"] == "RATE_LIMITED", out
    assert_verify(api, tenant.key, k["key"], "RATE_LIMITED")  # the API sees the same window
    u = expect(call(api, "GET", f"/v1/keys/{k['id']}/usage", tenant.key, params={"days": 1}), 200)
    if u["totals"]["valid"] + u["totals"]["rate_limited"] == 4:  # not across midnight
        assert (u["totals"]["valid"], u["totals"]["rate_limited"]) == (2, 2), u


def test_verify_policies_ip_cost_and_suspension(stack, api):
    """The policies of a use hold for the CLI's verify as for the API's: the allowlist with --ip,
    credits spent by --cost, a suspended account."""
    t = make_tenant(api)
    k = create_key(api, t.key)
    db_query(stack, "UPDATE api_keys SET allowed_ips = '10.0.0.0/8 2001:db8::/32' WHERE public_id = %s",
             (k["id"],))
    assert verify(stack, k["key"])[0] == EXIT["IP_NOT_ALLOWED"] == 9
    assert verify(stack, k["key"], "--ip", "192.0.2.1")[0] == 9
    rc, out, _ = verify(stack, k["key"], "--ip", "10.1.2.3")
    assert rc == 0 and fields(out)["code"] == "VALID", out
    assert verify(stack, k["key"], "--ip", "2001:db8::7")[0] == 0
    assert_verify(api, t.key, k["key"], "IP_NOT_ALLOWED")  # the API agrees without ip

    c = create_key(api, t.key)
    db_query(stack, "UPDATE api_keys SET credits_remaining = 3 WHERE public_id = %s", (c["id"],))
    rc, out, _ = verify(stack, c["key"], "--cost", "2", "--json")
    assert rc == 0 and json.loads(out)["credits"] == {"remaining": 1}, out
    rc, out, _ = verify(stack, c["key"], "--cost", "2")
    assert rc == EXIT["USAGE_EXCEEDED"] == 10 and fields(out)["credits"] == '{"remaining":1}', out
    assert verify(stack, c["key"])[0] == 0  # cost 1 by default
    assert verify(stack, c["key"])[0] == 10

    r = stack.cli("account", "suspend", t.account_id, "--reason", "cli test")
    assert r.stdout.split() == [t.account_id, "suspended"], r.stdout
    try:
        rc, out, _ = verify(stack, c["key"], "--json")
        assert rc == EXIT["ACCOUNT_SUSPENDED"] == 8 and json.loads(out)["code"] == "ACCOUNT_SUSPENDED", out
        show = stack.cli("account", "show", t.account_id).stdout
        assert "suspended — cli test" in show, show
    finally:
        r = stack.cli("account", "reactivate", t.account_id)
    assert r.stdout.split() == [t.account_id, "active"], r.stdout
    assert verify(stack, c["key"], "--cost", "0")[0] == 0


def test_cli_account_ceiling(stack, api):
    """latchkey account ceiling: refused listing the keys outside, --revoke revokes them, --none clears."""
    t = make_tenant(api)
    sub = make_account(api, t.key, parent_id=t.account_id)
    inside = create_key(api, t.key, account_id=sub["id"], scopes=("tasks:read",))
    outside = create_key(api, t.key, account_id=sub["id"], scopes=("billing:read",))
    r = stack.cli("account", "ceiling", sub["id"], "--scopes", "tasks:*", check=False)
    assert r.returncode == 1 and outside["id"] in r.stderr and inside["id"] not in r.stderr, r.stderr
    r = stack.cli("account", "ceiling", sub["id"], "--scopes", "tasks:*", "--revoke")
    assert "revoked 1 key" in r.stdout, r.stdout
    assert get_key(api, t.key, outside["id"])["revoked_reason"] == "ceiling"
    assert "ceiling:    tasks:*" in stack.cli("account", "show", sub["id"]).stdout
    stack.cli("account", "ceiling", sub["id"], "--none")
    assert get_key(api, t.key, inside["id"])["status"] == "active"
    r = stack.cli("account", "ceiling", sub["id"], check=False)
    assert r.returncode == 2 and "--scopes" in r.stderr, r.stderr


@pytest.mark.parametrize("option,value,body", [
    ("--ip", "10.0.0.0/8", {"ip": "10.0.0.0/8"}),
    ("--ip", "10.0.0.1,10.0.0.2", {"ip": "10.0.0.1,10.0.0.2"}),
    ("--ip", "not an address", {"ip": "not an address"}),
    ("--cost", "1001", {"cost": 1001}),
    ("--cost", "-1", {"cost": -1}),
    ("--scope", "NOT VALID", {"scopes": ["NOT VALID"]}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_verify_bad_option_has_the_apis_message(stack, api, tenant, option, value, body):
    k = create_key(api, tenant.key)
    r = cli(stack, "key", "verify", k["key"], option, value)
    assert r.returncode == 2 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
    err = expect(call(api, "POST", "/v1/verify", tenant.key, body={"key": k["key"], **body}), 400)["error"]
    rule = err["message"].split(" ", 1)[1] if err["message"].startswith(("ip ", "cost ")) else \
        err["message"].split("' ", 1)[1]
    assert f"latchkey: {option} {rule}" in r.stderr, (err, r.stderr)
    assert get_key(api, tenant.key, k["id"])["last_used_at"] is None  # nothing was counted


def test_verify_reads_the_key_from_stdin(stack, api, tenant):
    k = create_key(api, tenant.key)
    rc, out, _ = verify(stack, "-", input=k["key"] + "\n")
    assert rc == 0 and fields(out)["id"] == k["id"], out
    rc, out, _ = verify(stack, "-", "--json", input=k["key"])  # no newline at the end
    assert rc == 0 and json.loads(out)["key"]["id"] == k["id"], out
    rc, _, err = verify(stack, "-", input="")
    assert rc == 2 and "no key on stdin" in err, err
    rc, _, err = verify(stack, "-", input="x" * 3000 + "\n")
    assert rc == 2 and "no key on stdin (one line of at most 512 characters)" in err, err


@pytest.mark.parametrize("args,message", [
    (("x" * 513,), "KEY must be text of 1 to 512 characters, without control characters"),
    (("",), "KEY must be text of 1 to 512 characters"),
    (("lk_live_x", "extra"), "unexpected argument 'extra'"),
    ((), "key verify: give the KEY, or - to read it from stdin"),
    (("lk_live_x", "--scopes-all"), "--scopes-all"),
], ids=["long", "empty", "stray", "no-key", "unknown-option"])
def test_verify_bad_usage(stack, args, message):
    r = cli(stack, "key", "verify", *args)
    assert r.returncode == 2 and message in r.stderr, (r.returncode, r.stderr)
    assert r.stdout == ""


def test_help_lists_update_verify_and_the_exit_statuses(stack):
    r = stack.cli("key", "verify", "--help")
    assert r.returncode == 0
    for code, status in EXIT.items():
        assert f"{status} {code}" in r.stdout, (code, r.stdout)
    assert "KEY -" in r.stdout and "stdin" in r.stdout and "counts" in r.stdout
    r = stack.cli("key", "update", "--help")
    for opt in ("--label", "--scopes", "--expires-in", "--expires-at", "--no-expiry", "--meta", "--ratelimit",
                "--no-ratelimit"):
        assert opt in r.stdout, (opt, r.stdout)
