"""GET /v1/audit filters (docs/api.md, "GET /v1/audit — the audit log"): `actor`, `since` /
`until` (RFC 3339; `since` inclusive, `until` exclusive), filters combined with cursor paging, and
400 VALIDATION_ERROR with `details.field` for bad filter values.

Every test works in a fresh tenant account, so the tenant's subtree holds only the rows the test
made itself and the expected rows can be written down exactly."""
import datetime
import math
import re

import requests

from admin_util import KEY_LINK_RE, Console, db_exec, make_user
from helpers import (CREATED_KEYS, assert_error, call, create_key, expect, make_tenant,
                     parse_ts, rfc3339, sleep_past, uid)

ROW_FIELDS = {"id", "at", "actor", "account_id", "action", "target_id", "ip", "request_id", "changes",
              "actor_name", "target_name", "account_name"}


# ---------------------------------------------------------------- helpers

def audit_page(server, key, **params):
    """One page of GET /v1/audit (asserts 200 and the list shape)."""
    page = expect(call(server, "GET", "/v1/audit", key, params=params), 200)
    assert set(page) == {"data", "next_cursor"}, page
    for row in page["data"]:
        assert set(row) == ROW_FIELDS, row
        assert row["id"].startswith("evt_"), row
        parse_ts(row["at"])
    return page


def audit_all(server, key, **params):
    """Every row for these filters, unpaged (one page of 100; asserts that was all)."""
    page = audit_page(server, key, limit=100, **params)
    assert page["next_cursor"] is None, f"more than 100 rows for {params}: the test's tenant is too big"
    return page["data"]


def ids(rows):
    return [r["id"] for r in rows]


def summary(rows):
    return [(r["action"], r["target_id"], r["actor"]) for r in rows]


def ts(t):
    """Unix seconds -> RFC 3339 UTC."""
    return rfc3339(t)


def ts_offset(t, hours, minutes=0):
    """The same instant written with a numeric UTC offset (+hh:mm / -hh:mm)."""
    off = datetime.timedelta(hours=hours, minutes=minutes if hours >= 0 else -minutes)
    dt = datetime.datetime.fromtimestamp(int(t), datetime.timezone(off))
    return dt.isoformat()


def next_second(at):
    """Wait until the clock is past the second of the RFC 3339 time `at`, so the next row's `at` differs."""
    sleep_past(at, margin=1.05)


def walk(server, key, limit, **params):
    """Follow next_cursor to the end; returns the list of pages (each a list of rows)."""
    pages, cursor = [], None
    while True:
        p = dict(params, limit=limit)
        if cursor is not None:
            p["cursor"] = cursor
        page = audit_page(server, key, **p)
        pages.append(page["data"])
        assert len(pages) <= 100, f"paging does not terminate for {params}"
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert isinstance(cursor, str) and cursor, page


# ---------------------------------------------------------------- actor

def test_actor_filter_returns_only_that_actors_rows(server):
    stack = server.stack
    t = make_tenant(server)
    # who made what in the tenant's subtree, oldest first (action, target, actor)
    made = [("account.create", t.account_id, server.admin_key_id),
            ("key.create", t.key_id, server.admin_key_id)]

    other = create_key(server, t.key, scopes=["keys:read", "keys:write"])
    made.append(("key.create", other["id"], t.key_id))
    k1, k2 = create_key(server, t.key), create_key(server, t.key)
    made += [("key.create", k1["id"], t.key_id), ("key.create", k2["id"], t.key_id)]
    expect(call(server, "PATCH", f"/v1/keys/{k1['id']}", t.key, body={"label": uid("renamed")}), 200)
    made.append(("key.update", k1["id"], t.key_id))
    o1 = create_key(server, other["key"], scopes=["keys:read"])
    o2 = create_key(server, other["key"], scopes=["keys:read"])
    made += [("key.create", o1["id"], other["id"]), ("key.create", o2["id"], other["id"])]
    expect(call(server, "POST", f"/v1/keys/{o2['id']}/revoke", other["key"]), 200)
    made.append(("key.revoke", o2["id"], other["id"]))

    # a console user of the tenant: created by the CLI, one failed login (anonymous), one login
    # and one key created in the console (the user)
    email, password, usr = make_user(stack, "developer", account=t.account_id)
    made.append(("user.create", usr, "cli"))
    try:
        r = requests.post(server.base_url + "/admin/login", allow_redirects=False,
                          data={"email": email, "password": "wrong " + password},
                          headers={"Origin": server.base_url})
        assert r.status_code in (200, 401, 403), (r.status_code, r.text[:300])
        made.append(("user.login_failed", usr, "anonymous"))
        c = Console(server, email, password)
        made.append(("user.login", usr, usr))
    finally:
        db_exec(stack, "DELETE FROM login_failures WHERE subject LIKE 'ip:%%'")
    r, _ = c.create_key(uid("console"), scopes=("keys:read",), account_id=t.account_id)
    m = KEY_LINK_RE.search(r.text)
    assert m, (r.status_code, r.text[:500])
    ck = m.group(1)
    new_key = re.search(r'id="new-key">([^<]+)<', r.text)
    if new_key:
        CREATED_KEYS.append(new_key.group(1))
    made.append(("key.create", ck, usr))

    full = audit_all(server, t.key)
    assert summary(full) == made[::-1], "the tenant's subtree holds other rows than the test made"
    assert len(set(ids(full))) == len(full)

    actors = [server.admin_key_id, t.key_id, other["id"], usr, "cli", "anonymous"]
    for actor in actors:
        got = audit_all(server, t.key, actor=actor)
        want = [r for r in full if r["actor"] == actor]
        assert want, actor
        assert ids(got) == ids(want), (actor, summary(got), summary(want))
        assert summary(got) == [m for m in made[::-1] if m[2] == actor]
    counts = {a: len(audit_all(server, t.key, actor=a)) for a in actors}
    assert counts == {server.admin_key_id: 2, t.key_id: 4, other["id"]: 3, usr: 2, "cli": 1, "anonymous": 1}
    assert sum(counts.values()) == len(full)

    # an actor with no rows in this subtree: another tenant's key (its rows are elsewhere)
    stranger = make_tenant(server)
    create_key(server, stranger.key)
    assert audit_all(server, stranger.key, actor=stranger.key_id), "the stranger's own rows exist"
    assert audit_all(server, t.key, actor=stranger.key_id) == []
    # an actor filter is an exact match, not a prefix
    assert audit_all(server, t.key, actor=t.key_id[:-1]) == []
    assert audit_all(server, t.key, actor="usr_") == []

    # combined with action and target_id
    got = audit_all(server, t.key, actor=t.key_id, action="key.create")
    assert [r["target_id"] for r in got] == [k2["id"], k1["id"], other["id"]]
    got = audit_all(server, t.key, actor=t.key_id, target_id=k1["id"])
    assert [r["action"] for r in got] == ["key.update", "key.create"]
    assert audit_all(server, t.key, actor=other["id"], target_id=k1["id"]) == []


# ---------------------------------------------------------------- since / until

def test_since_inclusive_until_exclusive(server):
    t = make_tenant(server)
    k = create_key(server, t.key)
    kid = k["id"]
    a1 = audit_all(server, t.key, target_id=kid)[0]["at"]
    next_second(a1)
    expect(call(server, "PATCH", f"/v1/keys/{kid}", t.key, body={"label": uid("later")}), 200)
    a2 = audit_all(server, t.key, target_id=kid)[0]["at"]
    next_second(a2)
    expect(call(server, "POST", f"/v1/keys/{kid}/revoke", t.key), 200)

    rows = audit_all(server, t.key, target_id=kid)
    assert [r["action"] for r in rows] == ["key.revoke", "key.update", "key.create"]
    r3, r2, r1 = rows
    assert (r1["at"], r2["at"]) == (a1, a2)
    t1, t2, t3 = parse_ts(r1["at"]), parse_ts(r2["at"]), parse_ts(r3["at"])
    assert t1 < t2 < t3, (r1["at"], r2["at"], r3["at"])

    def window(**p):
        return ids(audit_all(server, t.key, target_id=kid, **p))

    # since is inclusive: a row exactly at `since` is in
    assert window(since=ts(t1)) == ids([r3, r2, r1])
    assert window(since=ts(t2)) == ids([r3, r2])
    assert window(since=ts(t3)) == ids([r3])
    assert window(since=ts(t1 + 1)) == ids([r3, r2])
    assert window(since=ts(t3 + 1)) == []
    # until is exclusive: a row exactly at `until` is out
    assert window(until=ts(t1)) == []
    assert window(until=ts(t2)) == ids([r1])
    assert window(until=ts(t3)) == ids([r2, r1])
    assert window(until=ts(t3 + 1)) == ids([r3, r2, r1])
    # both: [since, until)
    assert window(since=ts(t2), until=ts(t3)) == ids([r2])
    assert window(since=ts(t1), until=ts(t3)) == ids([r2, r1])
    assert window(since=ts(t2), until=ts(t3 + 1)) == ids([r3, r2])
    assert window(since=ts(t1), until=ts(t1 + 1)) == ids([r1])
    assert window(since=ts(t2), until=ts(t2)) == []          # an empty half-open window
    # the same instants written with offsets and fractions mean the same thing
    assert window(since=ts_offset(t2, 5, 30)) == ids([r3, r2])
    assert window(since=ts_offset(t2, -7)) == ids([r3, r2])
    assert window(until=ts_offset(t3, -3, 30)) == ids([r2, r1])
    assert window(since=ts(t2).replace("Z", ".000Z"), until=ts(t3).replace("Z", "+00:00")) == ids([r2])
    assert window(since=ts(t2).lower()) == ids([r3, r2])     # RFC 3339 allows t / z
    # the epoch: since it is everything, until it is nothing
    assert window(since="1970-01-01T00:00:00Z") == ids([r3, r2, r1])
    assert window(until="1970-01-01T00:00:00Z") == []
    assert window(since="1970-01-01T00:00:00Z", until="1970-01-01T00:00:01Z") == []
    assert window(until="9999-12-31T23:59:59Z") == ids([r3, r2, r1])

    # without target_id, over the whole subtree: exactly the rows whose `at` is in [since, until)
    full = audit_all(server, t.key)
    assert set(ids(rows)) <= set(ids(full)) and len(full) == 5, summary(full)
    edges = sorted({parse_ts(r["at"]) for r in full} | {t1 - 1, t3 + 1})
    for lo in [None] + edges:
        for hi in [None] + edges:
            p = {}
            if lo is not None:
                p["since"] = ts(lo)
            if hi is not None:
                p["until"] = ts(hi)
            if lo is not None and hi is not None and lo > hi:
                continue
            want = [r["id"] for r in full
                    if (lo is None or parse_ts(r["at"]) >= lo) and (hi is None or parse_ts(r["at"]) < hi)]
            assert ids(audit_all(server, t.key, **p)) == want, p


# ---------------------------------------------------------------- filters + paging

def test_filters_combined_with_paging(server):
    t = make_tenant(server)
    other = create_key(server, t.key, scopes=["keys:read", "keys:write"])
    early_t = [create_key(server, t.key)["id"] for _ in range(3)]
    early_o = [create_key(server, other["key"], scopes=["keys:read"])["id"] for _ in range(2)]
    last_early = audit_all(server, t.key, target_id=early_o[-1])[0]["at"]
    next_second(last_early)
    late_t, late_o = [], []
    for i in range(4):
        late_t.append(create_key(server, t.key)["id"])
        if i % 2:
            late_o.append(create_key(server, other["key"], scopes=["keys:read"])["id"])
    for kid in late_t[:2] + early_t[:1]:
        expect(call(server, "PATCH", f"/v1/keys/{kid}", t.key, body={"label": uid("p")}), 200)
    boundary = audit_all(server, t.key, target_id=late_t[0])[-1]["at"]   # late_t[0]'s key.create
    assert parse_ts(boundary) > parse_ts(last_early)

    full = audit_all(server, t.key)
    assert len(full) == 2 + 1 + 3 + 2 + 4 + 2 + 3, summary(full)

    def rows_for(**p):
        return [r for r in full
                if (p.get("actor") is None or r["actor"] == p["actor"])
                and (p.get("action") is None or r["action"] == p["action"])
                and (p.get("target_id") is None or r["target_id"] == p["target_id"])
                and (p.get("since") is None or parse_ts(r["at"]) >= parse_ts(p["since"]))
                and (p.get("until") is None or parse_ts(r["at"]) < parse_ts(p["until"]))]

    cases = [
        # (filters, limit, the target ids expected, newest first)
        (dict(actor=t.key_id, action="key.create"), 2,
         late_t[::-1] + early_t[::-1] + [other["id"]]),
        (dict(actor=other["id"]), 2, late_o[::-1] + early_o[::-1]),
        (dict(actor=t.key_id, since=boundary), 2,
         [early_t[0], late_t[1], late_t[0]] + late_t[::-1]),
        (dict(action="key.create", until=boundary), 3,
         early_o[::-1] + early_t[::-1] + [other["id"], t.key_id]),
        (dict(action="key.update", actor=t.key_id, since=boundary), 1, [early_t[0], late_t[1], late_t[0]]),
        (dict(actor=other["id"], action="key.create", since=boundary, until="2999-01-01T00:00:00Z"), 1,
         late_o[::-1]),
        (dict(action="key.create", since=boundary), 4, None),
        (dict(since=boundary), 5, None),
        (dict(until=boundary), 2, None),
        (dict(actor=t.key_id, target_id=early_t[0]), 1, [early_t[0], early_t[0]]),
    ]
    for filters, limit, want_targets in cases:
        unpaged = audit_all(server, t.key, **filters)
        assert ids(unpaged) == ids(rows_for(**filters)), filters
        if want_targets is not None:
            assert [r["target_id"] for r in unpaged] == want_targets, (filters, summary(unpaged))
        assert len(unpaged) > limit, (filters, "the case must need more than one page")

        pages = walk(server, t.key, limit, **filters)
        walked = [r for p in pages for r in p]
        assert len(pages) == math.ceil(len(unpaged) / limit), (filters, [len(p) for p in pages])
        assert all(len(p) == limit for p in pages[:-1]), (filters, [len(p) for p in pages])
        assert 1 <= len(pages[-1]) <= limit, (filters, [len(p) for p in pages])
        assert len(set(ids(walked))) == len(walked), (filters, "a row appears on two pages")
        assert ids(walked) == ids(unpaged), filters                 # same rows, same order
        assert walked == unpaged, filters                           # and the same content
        times = [parse_ts(r["at"]) for r in walked]
        assert times == sorted(times, reverse=True), (filters, "not newest first")
        full_pos = {rid: i for i, rid in enumerate(ids(full))}
        assert [full_pos[i] for i in ids(walked)] == sorted(full_pos[i] for i in ids(walked)), filters

    # a cursor walked with limit 1 over everything since the boundary gives exactly the late rows
    late = rows_for(since=boundary)
    assert len(late) == 4 + 2 + 3
    assert ids([r for p in walk(server, t.key, 1, since=boundary) for r in p]) == ids(late)


# ---------------------------------------------------------------- bad values

def test_bad_filter_values_are_400_naming_the_field(server):
    t = make_tenant(server)
    now = int(parse_ts(audit_all(server, t.key)[0]["at"]))

    def bad(field, **params):
        r = call(server, "GET", "/v1/audit", t.key, params=params)
        return assert_error(r, 400, "VALIDATION_ERROR", field=field)

    for field in ("since", "until"):
        for value in ("yesterday", "", "2026-11-22", "2026-11-22T11:30:00",
                      "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
                      "2026-11-22T24:00:00Z", "2026-11-22T11:60:00Z", "2026-11-22T11:30:00+24:00",
                      "2026-11-22T11:30:00.Z", "2026-11-22T11:30:00Zjunk", "1700000000",
                      "+2026-11-22T11:30:00Z"):
            bad(field, **{field: value})
        # a valid time given twice is refused too
        bad(field, **{field: [ts(now), ts(now)]})
        # the other filter being valid does not hide the bad one
        other = "until" if field == "since" else "since"
        bad(field, **{field: "soon", other: ts(now)})

    # an inverted window is a bad filter (docs/api.md): 400 naming `until`
    first = int(parse_ts(audit_all(server, t.key)[-1]["at"]))
    bad("until", since=ts(now + 60), until=ts(now))
    bad("until", since=ts(now + 1), until=ts(first))        # rows lie in [until, since)
    bad("until", since="2026-11-22T12:00:00Z", until="2026-11-22T11:59:59Z")
    # an action no row has is an empty list; text that is not visible ASCII is a bad value
    for action in ("key.explode", "KEY.CREATE", "Key.Create", "key.%", "key.*", "key"):
        r = call(server, "GET", "/v1/audit", t.key, params={"action": action})
        assert r.status_code == 200 and r.json() == {"data": [], "next_cursor": None}, (action, r.text[:400])
    for action in ("key.create ", "k\u00e9y.create", "key.cr\u00e9ate", "\u043a\u0435\u0443.create"):
        bad("action", action=action)
    # actor and target_id match exactly as well (no case folding, no trailing-space padding), and
    # text outside ASCII is no 5xx. Both values below have rows in the tenant's subtree.
    admin_id = server.admin_key_id
    assert len(audit_all(server, t.key, actor=admin_id)) == 2
    assert len(audit_all(server, t.key, target_id=t.key_id)) == 1
    def empty(**params):
        r = call(server, "GET", "/v1/audit", t.key, params=params)
        assert r.status_code == 200 and r.json() == {"data": [], "next_cursor": None}, (params, r.text[:400])

    for value in (admin_id.upper(), admin_id.lower()):
        empty(actor=value)
    for value in (admin_id + " ", admin_id[:-1] + "\u00e9", admin_id + "\u00a0"):
        bad("actor", actor=value)
    for value in (t.key_id.upper(), t.key_id.lower()):
        empty(target_id=value)
    for value in (t.key_id + " ", t.key_id[:-1] + "\u00e9", t.account_id + " "):
        bad("target_id", target_id=value)
    assert len(audit_all(server, t.key, action="key.create")) == 1   # (the filters above would match it)
    # other filters: too long
    bad("actor", actor="key_" + "x" * 200)
    bad("target_id", target_id="key_" + "y" * 60)
    bad("action", action="x" * 41)
    # unknown parameter
    bad("account_id", account_id=t.account_id)
    # none of these wrote anything or hid the rows
    assert len(audit_all(server, t.key)) == 2
