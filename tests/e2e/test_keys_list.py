"""GET /v1/keys: filters and cursor pagination."""
from helpers import (assert_error, assert_key_object, call, create_key, expect, list_all, make_tenant,
                     parse_ts, sleep_past, uid)


def ids(items):
    return [i["id"] for i in items]


def test_list_filters(server):
    t = make_tenant(server)
    tag = uid("flt")
    expiring = create_key(server, t.key, label=f"{tag}-expiring", expires_in=2)
    live = create_key(server, t.key, label=f"{tag}-alpha-live")
    test_env = create_key(server, t.key, label=f"{tag}-beta-test", env="test")
    revoked = create_key(server, t.key, label=f"{tag}-gamma-revoked")
    expect(call(server, "POST", f"/v1/keys/{revoked['id']}/revoke", t.key), 200)
    soon = create_key(server, t.key, label=f"{tag}-delta-soon", expires_in="30m")
    later = create_key(server, t.key, label=f"{tag}-epsilon-later", expires_in="90d")
    everything = {t.key_id, expiring["id"], live["id"], test_env["id"], revoked["id"], soon["id"], later["id"]}

    items = list_all(server, t.key, "/v1/keys")
    for i in items:
        assert_key_object(i)
        assert i["account_id"] == t.account_id
    assert set(ids(items)) == everything
    assert len(items) == len(everything)
    # newest first
    times = [parse_ts(i["created_at"]) for i in items]
    assert times == sorted(times, reverse=True)

    sleep_past(expiring["expires_at"])

    def q(**params):
        got = list_all(server, t.key, "/v1/keys", params=params)
        assert len(got) == len(set(ids(got)))
        return set(ids(got))

    assert q(status="revoked") == {revoked["id"]}
    assert q(status="expired") == {expiring["id"]}
    assert q(status="active") == everything - {revoked["id"], expiring["id"]}
    assert q(env="test") == {test_env["id"]}
    assert q(env="live") == everything - {test_env["id"]}
    assert q(q="alpha-live") == {live["id"]}
    assert q(q=tag) == everything - {t.key_id}
    assert q(q="no-such-label-" + tag) == set()
    assert q(expiring_within="1h") == {soon["id"]}
    assert q(expiring_within="3600") == {soon["id"]}
    assert q(expiring_within="180d") == {soon["id"], later["id"]}
    assert q(status="active", env="live", q=tag) == {live["id"], soon["id"], later["id"]}
    # every returned object really has the filtered status
    for i in list_all(server, t.key, "/v1/keys", params={"status": "expired"}):
        assert i["status"] == "expired"


def test_list_bad_parameters(server):
    t = make_tenant(server, scopes=["keys:read"])
    for params, field in (({"status": "dead"}, "status"), ({"env": "prod"}, "env"),
                          ({"expiring_within": "soonish"}, "expiring_within"),
                          ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"),
                          ({"limit": "1000000000"}, "limit"), ({"limit": "-1"}, "limit"),
                          ({"limit": "ten"}, "limit"), ({"limit": "99999999999999999999999"}, "limit"),
                          ({"color": "red"}, "color")):
        assert_error(call(server, "GET", "/v1/keys", t.key, params=params), 400, "VALIDATION_ERROR",
                     field=field)
    for lim in ("1", "100"):
        expect(call(server, "GET", "/v1/keys", t.key, params={"limit": lim}), 200)
    # a forged cursor is refused or ignored, never a crash
    r = call(server, "GET", "/v1/keys", t.key, params={"cursor": "'; DROP TABLE api_keys; --"})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert_error(r, 400, "VALIDATION_ERROR", field="cursor")


def test_cursor_pagination(server):
    t = make_tenant(server)
    made = [create_key(server, t.key, label=uid(f"page{i}"))["id"] for i in range(11)]
    expected = set(made) | {t.key_id}
    default_page = expect(call(server, "GET", "/v1/keys", t.key), 200)
    assert len(default_page["data"]) == 12 and default_page["next_cursor"] is None  # default limit 20

    for limit in (1, 3, 5, 12, 100):
        items = list_all(server, t.key, "/v1/keys", limit=limit)
        got = ids(items)
        assert len(got) == len(set(got)), f"duplicates with limit={limit}"
        assert set(got) == expected, f"limit={limit}"
        times = [parse_ts(i["created_at"]) for i in items]
        assert times == sorted(times, reverse=True)

    # the first page with limit 5 is full and has a cursor; the last one has none
    p1 = expect(call(server, "GET", "/v1/keys", t.key, params={"limit": 5}), 200)
    assert len(p1["data"]) == 5 and isinstance(p1["next_cursor"], str)
    # the cursor keeps the filters' semantics: a new key created meanwhile does not duplicate items
    create_key(server, t.key, label=uid("late"))
    p2 = expect(call(server, "GET", "/v1/keys", t.key, params={"limit": 5, "cursor": p1["next_cursor"]}), 200)
    assert not set(ids(p1["data"])) & set(ids(p2["data"]))


def test_default_limit_is_20(server):
    t = make_tenant(server)
    for i in range(21):
        create_key(server, t.key, label=uid(f"many{i}"))
    page = expect(call(server, "GET", "/v1/keys", t.key), 200)
    assert len(page["data"]) == 20 and page["next_cursor"]
    rest = expect(call(server, "GET", "/v1/keys", t.key, params={"cursor": page["next_cursor"]}), 200)
    assert len(rest["data"]) == 2 and rest["next_cursor"] is None
    assert not set(ids(page["data"])) & set(ids(rest["data"]))


def test_list_sees_only_context_account(server):
    a = make_tenant(server)
    b = make_tenant(server)
    ka = create_key(server, a.key)
    kb = create_key(server, b.key)
    got_a = set(ids(list_all(server, a.key, "/v1/keys")))
    assert ka["id"] in got_a and kb["id"] not in got_a and b.key_id not in got_a
    # the root admin's own list is the root account's keys only, not the subtree
    got_root = set(ids(list_all(server, server.admin_key, "/v1/keys", params={"q": ka["label"]})))
    assert ka["id"] not in got_root
    # a context switch via header sees them
    for h in ("X-Account-Id", "X-Tenant-ID"):
        got = set(ids(list_all_h(server, server.admin_key, {h: a.account_id})))
        assert ka["id"] in got and a.key_id in got and kb["id"] not in got


def list_all_h(server, caller, headers):
    items, cursor = [], None
    while True:
        page = expect(call(server, "GET", "/v1/keys", caller, headers=headers,
                           params={"cursor": cursor} if cursor else None), 200)
        items += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return items
