"""The console's key pages as a reader meets them (issue 17): the usage chart with its 30 days,
scale and daily numbers; a rotated key naming the key that replaced it, and left out of the
"expires within 7 days" banner; the one-time plaintext page with its copy button (a script file
served under the console's CSP; the page works without it) and what the key is; the key page in
sections with names beside ids; and empty lists that say what to do. Plain HTTP (no JavaScript
runs here: what these pages show without it is what is checked); test_admin_browser.py clicks the
copy button and checks the layout at 1280 and 390 px."""
import datetime
import email.utils
import html
import re

import requests

from admin_util import KEY_LINK_RE, Console, db_exec, db_one, make_user
from helpers import CREATED_KEYS, uid

DAY = 86400
PLAIN_RE = re.compile(r'<code id="new-key">([^<]+)</code>')
DAY_ROW_RE = re.compile(r'<tr><th scope="row">(\d{4}-\d\d-\d\d)</th>(.*?)</tr>')
NUM_RE = re.compile(r'<td class="num">(\d+)</td>')


def owner(server):
    return Console(server, server.stack.owner_login, server.stack.owner_password)


def new_account(stack, name=None):
    return stack.cli("account", "create", name or uid("keys-page")).stdout.strip()


def create(c, label, **kw):
    """A key made through the console's form: (its id, its plaintext, the page that showed it)."""
    r, _ = c.create_key(label, **kw)
    assert r.status_code == 201, r.text[-1500:]
    plain = PLAIN_RE.search(r.text).group(1)
    CREATED_KEYS.append(plain)
    return KEY_LINK_RE.search(r.text).group(1), plain, r


def text_of(fragment):
    """The text of an HTML fragment, tags dropped and entities decoded, spaces squeezed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def element(page, tag, ident):
    """The HTML of the element tag#ident (not nested in one of its own kind)."""
    m = re.search(rf'<{tag}\b[^>]*\bid="{ident}"[^>]*>(.*?)</{tag}>', page, re.S)
    assert m, f"no {tag}#{ident}"
    return m.group(1)


def server_today(resp):
    """The server's UTC day (from its Date header) as a date."""
    return email.utils.parsedate_to_datetime(resp.headers["Date"]).astimezone(datetime.timezone.utc).date()


# ---------------------------------------------------------------- the usage chart

def test_usage_chart_has_30_days_a_scale_and_the_numbers(server):
    stack = server.stack
    c = owner(server)
    kid, plain, _ = create(c, uid("chart"), scopes=("verify",))
    n = 7
    for _ in range(n):
        r = requests.post(server.url("/v1/verify"), json={"key": plain},
                          headers={"Authorization": f"Bearer {stack.admin_key}"})
        assert r.json()["valid"] is True
    # three days ago, as the verify path would have counted it
    internal, acct = db_one(stack, "SELECT id, account_id FROM api_keys WHERE public_id = %s", kid)
    r = c.get(f"/admin/keys/{kid}")
    today = server_today(r)
    day3 = today - datetime.timedelta(days=3)
    db_exec(stack, "INSERT INTO key_usage (key_id, day, account_id, win_start, win_len, n, valid,"
            " rate_limited) VALUES (%s, %s, %s, 0, 60, 0, 40, 3)",
            internal, (day3 - datetime.date(1970, 1, 1)).days, acct)
    r = c.get(f"/admin/keys/{kid}")
    assert r.status_code == 200
    page = r.text

    # the daily numbers as a table, newest first, the outcomes that occurred as columns
    table = element(page, "table", "usage-days")
    heads = [text_of(h) for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table)]
    assert heads == ["Date", "valid", "rate limited", "total"], heads
    rows = [(d, [int(x) for x in NUM_RE.findall(cells)]) for d, cells in DAY_ROW_RE.findall(table)]
    assert [d for d, _ in rows] == [(today - datetime.timedelta(days=i)).isoformat() for i in range(30)]
    numbers = dict(rows)
    assert numbers[today.isoformat()] == [n, 0, n]
    assert numbers[day3.isoformat()] == [40, 3, 43]
    assert sum(sum(v) for v in numbers.values()) == 2 * (n + 43)

    # the same in words, and as the charts' text alternative
    assert text_of(element(page, "p", "usage-totals")) == (
        f"{n + 43} uses in 30 days: {n + 40} valid, 3 rate limited. Today: {n}. "
        f"Busiest day: {day3.isoformat()} (43).")
    charts = re.findall(r'<svg class="chart (chart-wide|chart-narrow)"[^>]*role="img" aria-label="([^"]+)">'
                        r'(.*?)</svg>', page, re.S)
    assert [kind for kind, _, _ in charts] == ["chart-wide", "chart-narrow"]
    for kind, label, svg in charts:
        assert f"{n + 43} in all, at most 43 on one day" in label
        # every day present, titled with its numbers; a y scale from 0 past the busiest day
        days = re.findall(r'<g class="day"><title>([^<]*)</title>', svg)
        assert len(days) == 30, (kind, len(days))
        assert days[-1] == f"{today.isoformat()}: {n}, valid {n}"
        assert days[-4] == f"{day3.isoformat()}: 43, valid 40, rate limited 3"
        scale = [int(t) for t in re.findall(r'<text class="ya"[^>]*>(\d+)</text>', svg)]
        assert scale[0] == 0 and scale[-1] >= 43 and scale == sorted(scale) and len(scale) >= 3, scale
        # a few dates on the x axis, the last one today's
        dates = re.findall(r'<text class="x[lr]"[^>]*>([A-Z][a-z]{2} \d+)</text>', svg)
        assert len(dates) >= 4 and dates[-1] == f"{today:%b} {today.day}", dates
    # the wide drawing writes each day's total above its bar
    wide = charts[0][2]
    assert re.findall(r'<text class="val"[^>]*>(\d+)</text>', wide) == ["43", str(n)]


# ---------------------------------------------------------------- rotation

def test_rotated_key_names_its_successor_and_leaves_the_banner(server):
    stack = server.stack
    c = owner(server)
    acct = new_account(stack)
    old, _, _ = create(c, uid("rotating"), scopes=("keys:read",), account_id=acct)
    soon_day = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)).date()
    create(c, uid("soon"), account_id=acct, expires_at=soon_day.isoformat())
    banner = "1 active key of this account expires within 7 days"
    assert banner in c.get(f"/admin/keys?account_id={acct}").text

    # the rotate form's default is a 24 h grace period; "now" is one of its choices
    page = c.get(f"/admin/keys/{old}").text
    form = re.search(r'<form method="post" action="/admin/keys/%s/rotate".*?</form>' % old, page, re.S).group(0)
    choices = dict((v, bool(sel)) for v, sel in
                   re.findall(r'<option value="([^"]+)"( selected="")?>', form))
    assert choices["24h"] is True and "0" in choices and sum(choices.values()) == 1, choices
    r = c.post(f"/admin/keys/{old}/rotate", {"grace_period": "24h"})
    assert r.status_code == 201, r.text[-1500:]
    new_plain = PLAIN_RE.search(r.text).group(1)
    CREATED_KEYS.append(new_plain)
    new = re.search(r'<a href="/admin/keys/(key_[0-9A-Za-z]+)" class="button" id="stored">I have stored it</a>',
                    r.text).group(1)
    assert new != old
    expires = db_one(stack, "SELECT expires_at FROM api_keys WHERE public_id = %s", old)[0]
    now = db_one(stack, "SELECT UNIX_TIMESTAMP()")[0]
    assert 0 < expires - now <= DAY
    replaces = text_of(element(r.text, "dl", "new-key-fields"))
    assert "Replaces" in replaces and old in replaces
    assert re.search(r"which stops working in 2[34] h", replaces), replaces

    # the old key's page: "replaced by" the new key, linked, with its label beside its id
    page = c.get(f"/admin/keys/{old}").text
    assert f'<a href="/admin/keys/{new}">' in element(page, "p", "replaced")
    details = text_of(element(page, "dl", "key-fields"))
    assert "Replaced by " in details and new in details
    assert 'action="/admin/keys/%s/rotate"' % old not in page     # rotate the new key instead
    # the new key's page: rotated from the old one, linked
    page = c.get(f"/admin/keys/{new}").text
    assert f'<a href="/admin/keys/{old}">' in element(page, "dl", "key-fields")

    # the banner counts the key expiring in 3 days, not the replaced one in its grace period
    listing = c.get(f"/admin/keys?account_id={acct}").text
    assert banner in listing
    expiring = c.get(f"/admin/keys?account_id={acct}&expiring=7d").text
    assert f'<a href="/admin/keys/{new}" title=' in expiring               # the old row: "replaced"
    # rotating the new key "now": it is revoked at once and says so
    r = c.post(f"/admin/keys/{new}/rotate", {"grace_period": "0"})
    assert r.status_code == 201
    CREATED_KEYS.append(PLAIN_RE.search(r.text).group(1))
    assert "which no longer works" in text_of(element(r.text, "dl", "new-key-fields"))
    assert "This key no longer works." in text_of(element(c.get(f"/admin/keys/{new}").text, "p", "replaced"))
    assert banner in c.get(f"/admin/keys?account_id={acct}").text


# ---------------------------------------------------------------- the plaintext page

def test_plaintext_page_copy_button_script_and_what_the_key_is(server):
    c = owner(server)
    label = uid("shown-once")
    day = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=40)).date()
    kid, plain, r = create(c, label, scopes=("keys:read", "tasks:read"), expires_at=day.isoformat())
    page = r.text
    # the key is in the HTML (nothing needs the script to show it), the button waits for it
    assert f'<code id="new-key">{plain}</code>' in page
    assert ('<button type="button" data-copy="new-key" aria-describedby="copy-status" hidden="">'
            'Copy</button>') in page
    assert '<p id="copy-status" role="status"></p>' in page
    assert '<script src="/admin/admin.js" defer=""></script>' in page.split("</head>")[0]
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " style=" not in page   # nothing inline
    fields = text_of(element(page, "dl", "new-key-fields"))
    for want in (f"Label {label}", f"Id {kid}", "Scopes keys:read tasks:read", "Environment live",
                 day.isoformat(), "Account root"):
        assert want in fields, (want, fields)
    assert f'<a href="/admin/keys/{kid}" class="button" id="stored">I have stored it</a>' in page
    csp = r.headers["Content-Security-Policy"]

    # the script: a file of the console, under the same policy (scripts from the site only)
    js = requests.get(server.url("/admin/admin.js"))
    assert js.status_code == 200
    assert js.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert js.headers["X-Content-Type-Options"] == "nosniff"
    assert js.headers["Content-Security-Policy"] == csp
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert "button[data-copy]" in js.text and "navigator.clipboard" in js.text
    assert requests.post(server.url("/admin/admin.js"), data="x").status_code == 405
    assert requests.get(server.url("/admin/admin.jsx"), allow_redirects=False).status_code in (303, 404)


# ---------------------------------------------------------------- sections, names

def test_key_page_sections_and_names_beside_ids(server):
    stack = server.stack
    c = owner(server)
    name = uid("Names & Co")
    acct = new_account(stack, name)
    label = uid("named")
    kid, _, _ = create(c, label, account_id=acct)
    page = c.get(f"/admin/keys/{kid}").text
    nav = re.search(r'<nav class="sections" aria-label="Sections of this key">(.*?)</nav>', page,
                    re.S).group(1)
    assert re.findall(r'href="#(\w+)"', nav) == ["details", "actions", "usage", "audit"]
    for section in ("details", "actions", "usage", "audit"):
        assert f'<section id="{section}" aria-labelledby="{section}-h">' in page
    # the account by its name, its id in small type and on hover
    details = element(page, "dl", "key-fields")
    assert (f'<a href="/admin/keys?account_id={acct}" title="{acct}">{html.escape(name)}</a> '
            f'<small class="hint"><code>{acct}</code></small>') in details
    assert f"live key of {html.escape(name)}" in page
    # revoke, rotate and delete in one row
    row = re.search(r'<div class="actions">(.*?)</div>\s*<p class="hint"', page, re.S).group(1)
    assert f'action="/admin/keys/{kid}/revoke"' in row and f'action="/admin/keys/{kid}/rotate"' in row
    assert f'<a href="/admin/keys/{kid}/delete" id="delete-link" class="button danger">Delete…</a>' in row


# ---------------------------------------------------------------- empty lists

def test_empty_account_and_filters_that_hide_every_key(server):
    stack = server.stack
    c = owner(server)
    acct = new_account(stack)
    for query in ("", "&status=revoked&q=nothing"):
        page = c.get(f"/admin/keys?account_id={acct}{query}").text
        empty = element(page, "div", "empty")
        assert "No keys in this account yet — " in text_of(empty)
        assert f'<a href="/admin/keys/new?account_id={acct}" id="empty-create">Create a key</a>' in empty
        assert 'id="keys"' not in page and "No keys match" not in page
    create(c, uid("present"), account_id=acct)
    page = c.get(f"/admin/keys?account_id={acct}&status=revoked").text
    empty = element(page, "div", "empty")
    assert text_of(empty).startswith("No keys match. Clear the filters to see every key of ")
    assert f'<a href="/admin/keys?account_id={acct}" id="clear-filters">Clear the filters</a>' in empty
    assert "yet" not in empty
    # someone who cannot create keys is told who can
    other = new_account(stack)
    email, pw, _ = make_user(stack, "viewer", account=other)
    page = Console(server, email, pw).get("/admin/keys").text
    empty = element(page, "div", "empty")
    assert "No keys in this account yet." in text_of(empty) and "/admin/keys/new" not in empty
