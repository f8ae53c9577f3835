"""Console forms with no other test: the accounts page (rename, plan, the indented tree with key
counts, a refused delete), the key edit form (expiry, scopes, rate limit, meta; a bad meta kept in
the re-rendered form), the audit page's filters and paging, and a user created with a chosen
password. Every change is checked in the database and on the rendered page."""
import datetime
import html
import html.parser
import json
import re

from admin_util import KEY_LINK_RE, Console, db_one, make_user
from helpers import CREATED_KEYS, db_query, key_row, stable, uid


def owner(server):
    return Console(server, server.stack.owner_login, server.stack.owner_password)


def new_account(stack, parent=None, plan=None):
    args = ["account", "create", uid("acct")]
    if parent:
        args += ["--parent", parent]
    if plan:
        args += ["--plan", plan]
    return stack.cli(*args).stdout.strip()


def cli_keys(stack, acct, n):
    for _ in range(n):
        CREATED_KEYS.append(stack.cli("key", "create", "--account", acct, "--label", uid("k")).stdout.strip())


class _Forms(html.parser.HTMLParser):
    """The fields a browser would submit from each <form method=post> of a page, by action;
    also notes each field's attributes (aria-invalid ...) and the error spans next to them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.attrs, self.errors = {}, {}, {}
        self._form = self._textarea = self._select = self._span = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = self.forms.setdefault(a.get("action"), [])
        elif tag == "span" and a.get("class") == "error":
            self._span = a.get("id", "")
            self.errors[self._span] = ""
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            self.attrs[name] = a
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            if a.get("type") not in ("submit", "button"):
                self._form.append((name, a.get("value", "")))
        elif tag == "textarea":
            self.attrs[name] = a
            self._textarea = [name, ""]
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self._form.append((self._select, a.get("value", "")))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data
        if self._span is not None:
            self.errors[self._span] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None:
            self._form.append(tuple(self._textarea))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "span":
            self._span = None


def parse_forms(text):
    p = _Forms()
    p.feed(text)
    return p


def form_dict(fields):
    """[(name, value)] -> {name: value or [values]} as requests posts it."""
    out = {}
    for k, v in fields:
        if k in out:
            out[k] = (out[k] if isinstance(out[k], list) else [out[k]]) + [v]
        else:
            out[k] = v
    return out


# ---------------------------------------------------------------- accounts page

class _Tree(html.parser.HTMLParser):
    """The accounts tree (ul#accounts, nested lists): [(depth, id, name, plan, key_count)]."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.depth, self._in, self._take = [], -1, False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "ul" and (self._in or a.get("id") == "accounts"):
            self._in = True
            self.depth += 1
        elif self._in and tag == "a" and a.get("class") == "acct-name":
            self.rows.append([self.depth, a["href"].rsplit("/", 1)[1], "", "", None, None])
            self._take = 2
        elif self._in and tag == "span" and a.get("class") == "plan":
            self._take = 3
        elif self._in and tag == "a" and a.get("class") == "keys":
            assert a["href"] == "/admin/keys?account_id=" + self.rows[-1][1], a
            self._take = 4
        elif self._in and tag == "code":
            self._take = 5

    def handle_data(self, data):
        if self._take is not None:
            row = self.rows[-1]
            row[self._take] = (row[self._take] or "") + data

    def handle_endtag(self, tag):
        self._take = None
        if tag == "ul" and self._in:
            self.depth -= 1
            self._in = self.depth >= 0


def tree_rows(text):
    """[(depth, id, name, plan, key_count)] of the accounts tree, in page order."""
    p = _Tree()
    p.feed(text)
    rows = []
    for depth, href_id, name, plan, keys, code_id in p.rows:
        assert href_id == code_id, (href_id, code_id)
        n, word = keys.split()
        assert word == ("key" if n == "1" else "keys"), keys
        rows.append((depth, href_id, name, plan, int(n)))
    return rows


def tree_shape(rows):
    """{id: (parent id or None, *rest)} of [(depth, id, *rest)] in tree order (each account right
    after its parent or an earlier sibling's subtree). Siblings may come in any order: the tree
    is ordered by path text, so a later sibling with a shorter id comes first."""
    shape, chain = {}, []
    for depth, acct, *rest in rows:
        assert depth <= len(chain), (depth, acct, rows)
        del chain[depth:]
        shape[acct] = (chain[-1] if chain else None, *rest)
        chain.append(acct)
    return shape


def subtree_owner(server, acct):
    """A console session of an owner of acct: its accounts page lists just acct's subtree (the
    root owner's page is cut at 1000 accounts, which a whole suite run can pass)."""
    email, pw, _ = make_user(server.stack, "owner", account=acct)
    return Console(server, email, pw)


def account_form(c, acct):
    """The name and plan form of the account's own page."""
    page = c.get(f"/admin/accounts/{acct}")
    assert page.status_code == 200, page.text[:500]
    return form_dict(parse_forms(page.text).forms[f"/admin/accounts/{acct}"])


def test_account_rename_and_plan_through_the_form(server):
    stack = server.stack
    c = owner(server)                                     # an owner of the root account
    parent = new_account(stack, plan="pro")
    acct = new_account(stack, parent=parent)
    viewer = subtree_owner(server, parent)
    form = account_form(viewer, acct)
    assert form["plan"] == "free" and form["name"] == db_one(stack, "SELECT name FROM accounts WHERE public_id = %s", acct)[0]

    new_name, old_name = uid("renamed"), form["name"]
    r = c.post(f"/admin/accounts/{acct}", dict(form, name=new_name))
    assert r.status_code == 303 and r.headers["Location"] == f"/admin/accounts/{acct}?done=saved", r.text[:500]
    assert db_one(stack, "SELECT name, plan FROM accounts WHERE public_id = %s", acct) == (new_name, "free")

    r = c.post(f"/admin/accounts/{acct}", dict(form, name=new_name, plan="enterprise"))
    assert r.status_code == 303
    assert db_one(stack, "SELECT name, plan FROM accounts WHERE public_id = %s", acct) == (new_name, "enterprise")

    # one account.update row per change; only the changed field, old -> new
    rows = db_query(stack, "SELECT actor, changes FROM audit_log WHERE target_id = %s AND action = "
                    "'account.update' ORDER BY id", (acct,))
    usr = db_one(stack, "SELECT public_id FROM users WHERE email = %s", stack.owner_login)[0]
    assert [json.loads(x["changes"]) for x in rows] == [{"name": {"old": old_name, "new": new_name}},
                                                       {"plan": {"old": "free", "new": "enterprise"}}], rows
    assert {x["actor"] for x in rows} == {usr}

    # an unchanged form changes nothing
    n = db_one(stack, "SELECT COUNT(*) FROM audit_log WHERE target_id = %s", acct)[0]
    r = c.post(f"/admin/accounts/{acct}", dict(form, name=new_name, plan="enterprise"))
    assert r.status_code == 200 and "Nothing was changed." in r.text
    assert db_one(stack, "SELECT COUNT(*) FROM audit_log WHERE target_id = %s", acct)[0] == n

    assert "The account was saved." in c.get(f"/admin/accounts/{acct}?done=saved").text
    page = viewer.get("/admin/accounts").text
    assert [x for x in tree_rows(page) if x[1] == acct] == [(1, acct, new_name, "enterprise", 0)]
    form = account_form(viewer, acct)
    assert form["name"] == new_name and form["plan"] == "enterprise"


def test_accounts_page_shows_the_subtree_as_a_tree(server):
    stack = server.stack
    parent = new_account(stack, plan="pro")
    child = new_account(stack, parent=parent)
    grandchild = new_account(stack, parent=child, plan="enterprise")
    sibling = new_account(stack, parent=parent)           # made after the grandchild
    cli_keys(stack, parent, 2)
    cli_keys(stack, child, 1)
    cli_keys(stack, grandchild, 3)
    # a revoked key still counts (it is still there)
    CREATED_KEYS.append(stack.cli("key", "create", "--account", grandchild, "--label", "gone").stdout.strip())
    kid = db_one(stack, "SELECT k.public_id FROM api_keys k JOIN accounts a ON a.id = k.account_id"
                 " WHERE a.public_id = %s AND k.label = 'gone'", grandchild)[0]
    stack.cli("key", "revoke", kid)
    names = {a: db_one(stack, "SELECT name FROM accounts WHERE public_id = %s", a)[0]
             for a in (parent, child, grandchild, sibling)}

    c = subtree_owner(server, parent)
    r = c.get("/admin/accounts")
    assert r.status_code == 200
    # depth first: the account, each child followed by its own children; depth is the list's
    # nesting
    assert tree_shape(tree_rows(r.text)) == {
        parent: (None, names[parent], "pro", 2),
        child: (parent, names[child], "free", 1),
        grandchild: (child, names[grandchild], "enterprise", 4),
        sibling: (parent, names[sibling], "free", 0),
    }, tree_rows(r.text)
    # and they are the database's
    for depth, acct, _, plan, keys in tree_rows(r.text):
        assert (plan, keys) == db_one(stack, "SELECT a.plan, COUNT(k.id) FROM accounts a LEFT JOIN api_keys k"
                                      " ON k.account_id = a.id WHERE a.public_id = %s GROUP BY a.id", acct)
    # the account selects (parent of a new account; key list filter and new key; new user) show
    # the same tree, one "· " per level, and the pages are valid UTF-8: the indent must not cut
    # the two-byte "·" in half
    for path, name in (("/admin/accounts", "parent_id"), ("/admin/keys", "account_id"),
                       ("/admin/keys/new", "account_id"), ("/admin/users", "account_id")):
        text = c.get(path).content.decode("utf-8")
        select = re.search(r'<select id="f-[a-z_]+" name="' + name + r'">(.*?)</select>', text, re.S).group(1)
        opts = re.findall(r'<option value="(acct_[0-9A-Za-z]+)"(?: selected="")?>((?:· )*)([^<]*)</option>', select)
        assert tree_shape([(len(dots) // 2, a, n) for a, dots, n in opts]) == {
            parent: (None, names[parent]), child: (parent, names[child]),
            grandchild: (child, names[grandchild]), sibling: (parent, names[sibling])}, (path, opts)


def test_account_with_keys_cannot_be_deleted(server):
    stack = server.stack
    parent = new_account(stack)
    acct = new_account(stack, parent=parent)
    cli_keys(stack, acct, 2)
    name = db_one(stack, "SELECT name FROM accounts WHERE public_id = %s", acct)[0]
    keys_of = lambda: db_query(stack, "SELECT k.public_id FROM api_keys k JOIN accounts a ON a.id = k.account_id"
                               " WHERE a.public_id = %s ORDER BY k.id", (acct,))
    before = keys_of()
    assert len(before) == 2
    audit_before = db_one(stack, "SELECT COUNT(*) FROM audit_log WHERE target_id = %s", acct)[0]
    said = f"Account '{name}' still has 2 keys; delete them first"
    for c in (owner(server), subtree_owner(server, parent)):
        r = c.post(f"/admin/accounts/{acct}/delete", {})
        assert r.status_code == 409, (r.status_code, r.text[:500])
        assert db_one(stack, "SELECT COUNT(*) FROM accounts WHERE public_id = %s", acct)[0] == 1
        assert keys_of() == before
        assert db_one(stack, "SELECT COUNT(*) FROM audit_log WHERE target_id = %s", acct)[0] == audit_before
        # the reason, naming what remains, in the account page's Delete section
        m = re.search(r'<h2 id="delete">Delete</h2>\s*<p class="error" role="alert">([^<]+)</p>', r.text)
        assert m and html.unescape(m.group(1)) == said, r.text[-3000:]
        # the page holds no delete button while there is something in the account
        assert f'action="/admin/accounts/{acct}/delete"' not in r.text
        # the refused delete leaves the account's rename form as it was (its name not emptied)
        assert form_dict(parse_forms(r.text).forms[f"/admin/accounts/{acct}"])["name"] == name
    assert [x[4] for x in tree_rows(c.get("/admin/accounts").text) if x[1] == acct] == [2]


def test_root_delete_refused_keeps_its_name(server):
    c = owner(server)
    root = server.stack.root_account
    r = c.post(f"/admin/accounts/{root}/delete", {})
    assert r.status_code in (403, 409), (r.status_code, r.text[:500])
    name = db_one(server.stack, "SELECT name FROM accounts WHERE public_id = %s", root)[0]
    assert form_dict(parse_forms(r.text).forms[f"/admin/accounts/{root}"])["name"] == name


def test_create_key_link_preselects_the_account_viewed(server):
    """"Create a key" from an account's key list opens the form in that account."""
    stack = server.stack
    acct = new_account(stack)
    c = owner(server)
    page = c.get(f"/admin/keys?account_id={acct}").text
    link = re.search(r'<a href="([^"]+)" id="create-key">', page)
    assert link and link.group(1) == f"/admin/keys/new?account_id={acct}", link
    form = c.get(link.group(1))
    assert form.status_code == 200
    assert form_dict(parse_forms(form.text).forms["/admin/keys/new"])["account_id"] == acct
    # without an account in view, the user's own account
    page = c.get("/admin/keys/new").text
    assert form_dict(parse_forms(page).forms["/admin/keys/new"])["account_id"] == stack.root_account


# ---------------------------------------------------------------- key edit form

def edit_form(c, kid):
    page = c.get(f"/admin/keys/{kid}")
    assert page.status_code == 200, page.text[:500]
    return form_dict(parse_forms(page.text).forms[f"/admin/keys/{kid}/edit"])


def key_updates(stack, kid):
    return [json.loads(x["changes"]) for x in
            db_query(stack, "SELECT changes FROM audit_log WHERE target_id = %s AND action = 'key.update'"
                     " ORDER BY id", (kid,))]


def test_key_edit_expiry_scopes_ratelimit_meta(server):
    stack = server.stack
    c = owner(server)
    acct = new_account(stack, plan="pro")
    r, _ = c.create_key(uid("edit"), scopes=("keys:read",), account_id=acct, meta='{"team":"red"}')
    assert r.status_code == 201, r.text[:500]
    kid = KEY_LINK_RE.search(r.text).group(1)
    CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))
    row0 = key_row(stack, kid)
    assert row0["expires_at"] is None and row0["rl_limit"] is None and row0["scopes"] == "keys:read"

    form = edit_form(c, kid)
    assert form["expires_at"] == "" and form["ratelimit.limit"] == "" and json.loads(form["meta"]) == {"team": "red"}
    assert form["scopes"] == ["keys:read", ""]      # the ticked box, then the empty app-scopes field

    day = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)).date()
    end_of_day = int(datetime.datetime(day.year, day.month, day.day, 23, 59, 59,
                                       tzinfo=datetime.timezone.utc).timestamp())
    # each audited change is {"field": {"old": ..., "new": ...}}
    steps = [
        ({"expires_at": day.isoformat()},
         {"expires_at": {"old": None, "new": f"{day.isoformat()}T23:59:59Z"}},
         lambda k: k["expires_at"] == end_of_day),
        ({"scopes": ["keys:read", "verify", "tasks:read billing:*"]},
         {"scopes": {"old": ["keys:read"], "new": ["keys:read", "verify", "tasks:read", "billing:*"]}},
         lambda k: sorted(k["scopes"].split()) == ["billing:*", "keys:read", "tasks:read", "verify"]),
        ({"ratelimit.limit": "50", "ratelimit.window": "60"},
         {"ratelimit": {"old": None, "new": {"limit": 50, "window": 60}}},
         lambda k: (k["rl_limit"], k["rl_window"]) == (50, 60)),
        ({"meta": '{"team": "blue", "n": 2, "tags": ["a", "b"]}'},
         {"meta": {"old": {"team": "red"}, "new": {"team": "blue", "n": 2, "tags": ["a", "b"]}}},
         lambda k: json.loads(k["meta"]) == {"team": "blue", "n": 2, "tags": ["a", "b"]}),
    ]
    for i, (change, audited, check) in enumerate(steps, 1):
        form = edit_form(c, kid)                 # what the page shows now, as a browser sends it
        before = key_row(stack, kid)
        r = c.post(f"/admin/keys/{kid}/edit", dict(form, **change))
        assert r.status_code == 303, (change, r.status_code, r.text[-2000:])
        assert r.headers["Location"] == f"/admin/keys/{kid}?done=saved"
        after = key_row(stack, kid)
        assert check(after), (change, after)
        changed = {k for k in after if after[k] != before[k]}
        assert changed <= {"expires_at", "scopes", "rl_limit", "rl_window", "meta"} and changed, changed
        updates = key_updates(stack, kid)
        assert len(updates) == i and updates[-1] == audited, updates

    k = key_row(stack, kid)
    page = c.get(f"/admin/keys/{kid}?done=saved").text
    assert "Your changes were saved." in page
    assert "50 per 60 s" in page and "tasks:read" in page and "billing:*" in page
    assert f"{day.isoformat()}T23:59:59Z" in page
    form = edit_form(c, kid)                      # the form shows the new values
    assert form["expires_at"] == day.isoformat()
    assert (form["ratelimit.limit"], form["ratelimit.window"]) == ("50", "60")
    assert json.loads(form["meta"]) == json.loads(k["meta"])
    assert form["scopes"] == ["keys:read", "verify", "tasks:read billing:*"], form["scopes"]

    # clearing the expiry and the rate limit are changes too
    r = c.post(f"/admin/keys/{kid}/edit", dict(form, **{"expires_at": "", "ratelimit.limit": "",
                                                         "ratelimit.window": ""}))
    assert r.status_code == 303
    k = key_row(stack, kid)
    assert k["expires_at"] is None and k["rl_limit"] is None and k["rl_window"] is None
    assert key_updates(stack, kid)[-1] == {
        "expires_at": {"old": f"{day.isoformat()}T23:59:59Z", "new": None},
        "ratelimit": {"old": {"limit": 50, "window": 60}, "new": None}}


def test_key_edit_bad_meta_keeps_the_input(server):
    stack = server.stack
    c = owner(server)
    r, _ = c.create_key(uid("badmeta"), meta='{"keep":1}')
    assert r.status_code == 201
    kid = KEY_LINK_RE.search(r.text).group(1)
    CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))
    before = stable(key_row(stack, kid))
    n_audit = db_one(stack, "SELECT COUNT(*) FROM audit_log WHERE target_id = %s", kid)[0]

    form = edit_form(c, kid)
    typed = {"label": "new <label> & more", "meta": '{"team": blue, "x": "<b>"}',
             "ratelimit.limit": "70", "ratelimit.window": "60"}
    r = c.post(f"/admin/keys/{kid}/edit", dict(form, **typed))
    assert r.status_code == 400, (r.status_code, r.text[-2000:])
    p = parse_forms(r.text)
    again = form_dict(p.forms[f"/admin/keys/{kid}/edit"])
    for name, value in typed.items():
        assert again[name] == value, (name, again[name])
    assert "<b>" not in r.text and "<label> &" not in r.text
    # the page's other forms keep their own values: rotate's grace period is still the default
    assert form_dict(p.forms[f"/admin/keys/{kid}/rotate"])["grace_period"] == "24h"
    # the message is next to the meta field (and only there)
    assert p.attrs["meta"].get("aria-invalid") == "true"
    assert "f-meta-error" in p.attrs["meta"].get("aria-describedby", "")
    assert "JSON object" in p.errors.get("f-meta-error", ""), p.errors
    assert set(p.errors) == {"f-meta-error"}, p.errors
    assert p.attrs["label"].get("aria-invalid") is None
    # nothing written
    assert stable(key_row(stack, kid)) == before
    assert db_one(stack, "SELECT COUNT(*) FROM audit_log WHERE target_id = %s", kid)[0] == n_audit


# ---------------------------------------------------------------- audit page

AUDIT_TR_RE = re.compile(r'<tr>(<td data-label="When" class="at">.*?)</tr>', re.S)
OLDER_RE = re.compile(r'<a href="([^"]+)">Older rows</a>')


def audit_rows(text):
    """[(at, action, target, actor, request_id)] of an audit page's table, in page order: the
    exact time, the action, the target's and the actor's ids (named or not), the request id."""
    rows = []
    for tr in AUDIT_TR_RE.findall(text):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        assert len(cells) == 5, tr
        at = re.search(r'<small class="hint">([^<]+)</small>', cells[0]).group(1)
        action = re.search(r'<strong class="action">([^<]*)</strong>', cells[1]).group(1)
        target = re.search(r'<span class="target">(.*?)</span>', cells[1], re.S).group(1)
        code = re.search(r"<code>([^<]*)</code>", target)
        by = cells[3].split('<small class="from">')[0]
        actor = re.search(r"<code>([^<]*)</code>", by)
        rid = re.search(r'<code class="rid">([^<]*)</code>', cells[3])   # none for the CLI's rows
        rid = rid.group(1) if rid else ""
        rows.append((at, html.unescape(action), code.group(1) if code else html.unescape(target),
                     actor.group(1) if actor else html.unescape(by), rid))
    return rows


def test_audit_page_actor_since_and_paging(server):
    stack = server.stack
    acct = new_account(stack)
    email, pw, usr = make_user(stack, "developer", account=acct)
    dev = Console(server, email, pw)
    r, _ = dev.create_key(uid("audited"), scopes=("keys:read",))
    assert r.status_code == 201
    kid = KEY_LINK_RE.search(r.text).group(1)
    CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))
    csrf = dev.csrf()
    form = edit_form(dev, kid)
    for i in range(23):                          # user.login + key.create + 23 key.update = 25 rows
        r = dev.post(f"/admin/keys/{kid}/edit", dict(form, label=f"audited-{i:02d}"), csrf=csrf)
        assert r.status_code == 303, r.text[-1000:]
    want = [x["request_id"] for x in db_query(stack, "SELECT request_id FROM audit_log WHERE actor = %s"
                                                    " ORDER BY id DESC", (usr,))]
    assert len(want) == 25 and len(set(want)) == 25

    c = owner(server)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    # show=all: the sign-in (user.login) is listed too (the page's default lists changes only)
    for query in (f"show=all&actor={usr}", f"show=all&actor={usr}&since={today.isoformat()}"):
        r = c.get(f"/admin/audit?{query}")
        assert r.status_code == 200
        first = audit_rows(r.text)
        assert len(first) == 20 and "Newest rows" not in r.text
        assert f'value="{usr}"' in r.text                      # the filter is shown filled in
        nxt = OLDER_RE.search(r.text).group(1).replace("&amp;", "&")
        assert f"actor={usr}" in nxt and (("since=" + today.isoformat()) in nxt) == ("since" in query)
        assert "show=all" in nxt
        r2 = c.get(nxt)
        assert r2.status_code == 200
        second = audit_rows(r2.text)
        assert len(second) == 5 and not OLDER_RE.search(r2.text) and "Newest rows" in r2.text
        rows = first + second
        assert [x[4] for x in rows] == want, query           # every row once, newest first
        assert {x[3] for x in rows} == {usr}
        assert [x[0] for x in rows] == sorted((x[0] for x in rows), reverse=True)
        assert rows[-1][1] == "user.login" and rows[-2][1] == "key.create" and rows[0][1] == "key.update"
        assert all(x[0] >= today.isoformat() for x in rows)

    # since: rows from a later day on -> none; a bad date -> 400 with the reason
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    r = c.get(f"/admin/audit?actor={usr}&since={tomorrow}")
    assert r.status_code == 200 and audit_rows(r.text) == [] and "No audit rows match." in r.text
    r = c.get(f"/admin/audit?since={tomorrow}")
    assert audit_rows(r.text) == []
    r = c.get("/admin/audit?since=yesterday")
    assert r.status_code == 400 and audit_rows(r.text) == [] and 'class="error"' in r.text
    # actor and action together
    r = c.get(f"/admin/audit?actor={usr}&action=user.login")
    assert [x[4] for x in audit_rows(r.text)] == want[-1:]


# ---------------------------------------------------------------- users page

def test_user_created_with_a_chosen_password_can_log_in(server):
    stack = server.stack
    c = owner(server)
    acct = new_account(stack)
    email = f"{uid('chosen')}@example.com"
    password = "my own pass " + uid("pw")[-6:]
    r = c.post("/admin/users/new", {"email": email, "role": "developer", "account_id": acct,
                                    "password": password})
    assert r.status_code == 201, (r.status_code, r.text[-2000:])
    assert "The user was added." in r.text
    assert 'id="new-password"' not in r.text and password not in r.text   # nothing generated, nothing echoed
    row = db_one(stack, "SELECT u.public_id, u.role, a.public_id, u.password_hash, u.disabled_at FROM users u"
                 " JOIN accounts a ON a.id = u.account_id WHERE u.email = %s", email)
    usr, role, in_acct, digest, disabled = row
    assert (role, in_acct, disabled) == ("developer", acct, None)
    assert password not in digest
    # the account by its name (a link to its page, the id on hover and in small type)
    aname = db_one(stack, "SELECT name FROM accounts WHERE public_id = %s", acct)[0]
    assert re.search(r'<td data-label="Email">' + re.escape(email) + r'</td><td data-label="Role">developer</td>'
                     r'<td data-label="Account"><span class="acct-ref">'
                     r'<a href="/admin/accounts/' + acct + '" title="' + acct + '">' + re.escape(aname)
                     + "</a> <small><code>" + acct + "</code></small>", r.text)
    assert db_one(stack, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.create' AND target_id = %s",
                  usr)[0] == 1

    u = Console(server, email, password)
    page = u.get("/admin/keys").text
    assert f"{email} (developer)" in page
    assert db_one(stack, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.login' AND actor = %s", usr)[0] == 1
    # a password that is too short is refused next to the field, and no user is made
    other = f"{uid('short')}@example.com"
    r = c.post("/admin/users/new", {"email": other, "role": "viewer", "account_id": acct, "password": "short"})
    assert r.status_code == 400 and 'id="f-password-error"' in r.text
    assert db_one(stack, "SELECT COUNT(*) FROM users WHERE email = %s", other)[0] == 0
