"""One bound for a key's expiry, whichever field gives it: expires_at and expires_in are at most
36500 days (100 years) from now, on create and PATCH, in the API, the console and the CLI (400
naming the field and the bound). A leap second (second 60) is not a time: 400."""
import datetime
import time

from admin_util import KEY_LINK_RE, Console
from helpers import (CREATED_KEYS, assert_error, audit_by_rid, call, create_key, expect, key_count, key_row,
                     make_tenant, new_rid, parse_ts, rfc3339, uid)

DAY = 86400
MAX_DAYS = 36500


def refused(resp, field):
    err = assert_error(resp, 400, "VALIDATION_ERROR", field=field)
    assert "36500d" in err["message"] and field in err["message"], err
    return err


def test_create_at_and_beyond_the_bound(server, stack):
    t = make_tenant(server, scopes=["keys:write"])
    n = key_count(stack, t.account_id)
    beyond = ({"expires_in": f"{MAX_DAYS + 1}d"}, {"expires_in": MAX_DAYS * DAY + 1},
              {"expires_in": str(MAX_DAYS * DAY + 1)}, {"expires_in": f"{MAX_DAYS * 24 + 1}h"})
    for extra in beyond:
        rid = new_rid()
        refused(call(server, "POST", "/v1/keys", t.key, body={"label": "far", **extra}, rid=rid), "expires_in")
        assert audit_by_rid(stack, rid) == []
    refused(call(server, "POST", "/v1/keys", t.key, data={"label": "far", "expires_in": f"{MAX_DAYS + 1}d"}),
            "expires_in")
    for at in (rfc3339(time.time() + (MAX_DAYS + 1) * DAY), "9999-12-31T23:59:59Z"):
        rid = new_rid()
        refused(call(server, "POST", "/v1/keys", t.key, body={"label": "far", "expires_at": at}, rid=rid),
                "expires_at")
        assert audit_by_rid(stack, rid) == []
        refused(call(server, "POST", "/v1/keys", t.key, data={"label": "far", "expires_at": at}), "expires_at")
    assert key_count(stack, t.account_id) == n
    # at the bound: fine, with either field
    before = time.time()
    k = create_key(server, t.key, scopes=[], expires_in=f"{MAX_DAYS}d")
    assert before + MAX_DAYS * DAY - 2 <= parse_ts(k["expires_at"]) <= time.time() + MAX_DAYS * DAY + 1, k
    at = rfc3339(time.time() + MAX_DAYS * DAY - 60)
    assert create_key(server, t.key, scopes=[], expires_at=at)["expires_at"] == at


def test_patch_beyond_the_bound(server, stack):
    t = make_tenant(server, scopes=["keys:read", "keys:write"])
    k = create_key(server, t.key, scopes=[], expires_in="1h")
    before = key_row(stack, k["id"])
    for at in (rfc3339(time.time() + (MAX_DAYS + 1) * DAY), "9999-12-31T23:59:59Z"):
        for kw in ({"body": {"expires_at": at}}, {"data": {"expires_at": at}}):
            rid = new_rid()
            refused(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, rid=rid, **kw), "expires_at")
            assert audit_by_rid(stack, rid) == []
    # PATCH has no expires_in: an unknown field
    assert_error(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"expires_in": "1d"}),
                 400, "VALIDATION_ERROR", field="expires_in")
    assert key_row(stack, k["id"]) == before
    at = rfc3339(time.time() + MAX_DAYS * DAY - 60)
    assert expect(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"expires_at": at}), 200)[
        "expires_at"] == at


def test_leap_second_is_not_a_time(server, stack):
    t = make_tenant(server, scopes=["keys:read", "keys:write"])
    n = key_count(stack, t.account_id)
    for at in ("2030-01-01T23:59:60Z", "2030-01-02T00:59:60+01:00", "2030-01-01T23:59:60.5Z"):
        err = assert_error(call(server, "POST", "/v1/keys", t.key, body={"label": "leap", "expires_at": at}),
                           400, "VALIDATION_ERROR", field="expires_at")
        assert "RFC 3339" in err["message"], err
    assert key_count(stack, t.account_id) == n
    k = create_key(server, t.key, scopes=[], expires_at="2030-01-01T23:59:59Z")
    before = key_row(stack, k["id"])
    assert_error(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"expires_at": "2031-06-30T23:59:60Z"}),
                 400, "VALIDATION_ERROR", field="expires_at")
    assert key_row(stack, k["id"]) == before
    # the audit filters read times the same way
    assert_error(call(server, "GET", "/v1/audit", server.admin_key, params={"since": "2030-01-01T23:59:60Z"}),
                 400, "VALIDATION_ERROR", field="since")


def test_console_and_cli_use_the_same_bound(server, stack):
    c = Console(server, stack.owner_login, stack.owner_password)
    far = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=MAX_DAYS + 2)).date()
    label = uid("far")
    r, _ = c.create_key(label, expires_at=far.isoformat())
    assert r.status_code == 400 and "36500d" in r.text, (r.status_code, r.text[:500])
    assert not KEY_LINK_RE.search(r.text)
    near = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=365)).date()
    r, _ = c.create_key(uid("near"), expires_at=near.isoformat())
    assert r.status_code == 201, r.text[:500]
    kid = KEY_LINK_RE.search(r.text).group(1)
    r = c.post(f"/admin/keys/{kid}/edit", {"label": uid("near"), "expires_at": far.isoformat(),
                                           "scopes": ["keys:read"], "meta": "{}"})
    assert r.status_code == 400 and "36500d" in r.text, (r.status_code, r.text[:500])
    assert key_row(stack, kid)["expires_at"] == int(datetime.datetime(
        near.year, near.month, near.day, 23, 59, 59, tzinfo=datetime.timezone.utc).timestamp())

    acct = stack.cli("account", "create", uid("acct")).stdout.strip()
    r = stack.cli("key", "create", "--account", acct, "--label", uid("cli"), "--expires-in",
                  f"{MAX_DAYS + 1}d", check=False)
    assert r.returncode == 2 and "36500d" in r.stderr, r
    r = stack.cli("key", "create", "--account", acct, "--label", uid("cli"), "--expires-in", f"{MAX_DAYS}d")
    CREATED_KEYS.append(r.stdout.strip())
