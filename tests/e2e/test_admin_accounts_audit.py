"""The console's accounts and audit pages and its form errors (issue 17): the account tree as nested
lists and the account's own page; a refused account delete that names what remains (API and
console); the audit log's "changes only" default and its old -> new changes, with actors and
targets by name; forms that report every invalid field at once. The browser part checks these
pages with axe-core and that none of them scrolls sideways at 1280 and 390 px."""
import html
import json
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import harness
from admin_util import CSRF_RE, FORM_TOKEN_RE, KEY_LINK_RE, Console, db_one, make_user
from helpers import (CREATED_KEYS, assert_error, call, create_key, expect, make_account, make_tenant,
                     uid)
from test_admin_browser import Visit, browser  # noqa: F401 (browser: the fixture)
from test_admin_forms import audit_rows, form_dict, parse_forms, tree_rows, tree_shape


def owner(server):
    return Console(server, server.stack.owner_login, server.stack.owner_password)


def subtree_owner(server, acct):
    email, pw, _ = make_user(server.stack, "owner", account=acct)
    return Console(server, email, pw), email


def name_of(stack, acct):
    return db_one(stack, "SELECT name FROM accounts WHERE public_id = %s", acct)[0]


def keys_in(server, acct, n):
    for _ in range(n):
        k = create_key(server, account_id=acct, scopes=["verify"])
        CREATED_KEYS.append(k["key"])


# ---------------------------------------------------------------- the tree and the account page

def test_tree_is_nested_lists_and_each_account_has_a_page(server):
    stack = server.stack
    top = make_account(server, plan="pro")["id"]
    child = make_account(server, parent_id=top)["id"]
    grandchild = make_account(server, parent_id=child, plan="enterprise")["id"]
    sibling = make_account(server, parent_id=top)["id"]
    keys_in(server, child, 2)
    make_user(stack, "viewer", account=child)
    c, _ = subtree_owner(server, top)

    page = c.get("/admin/accounts").text
    assert tree_shape(tree_rows(page)) == {
        top: (None, name_of(stack, top), "pro", 0),
        child: (top, name_of(stack, child), "free", 2),
        grandchild: (child, name_of(stack, grandchild), "enterprise", 0),
        sibling: (top, name_of(stack, sibling), "free", 0),
    }, tree_rows(page)
    # a real list structure: the child's list item holds the grandchild's list
    tree = re.search(r'<ul id="accounts" class="acct-tree" aria-label="Account tree">(.*)</ul>', page, re.S)
    assert tree, page[-3000:]
    li = tree.group(1)
    assert li.index(child) < li.index("<ul>", li.index(child)) < li.index(grandchild)
    # no form per row: the tree's only form is the one that creates a sub-account
    assert [a for a in parse_forms(page).forms if a != "/admin/logout"] == ["/admin/accounts/new"]

    r = c.get(f"/admin/accounts/{child}")
    assert r.status_code == 200
    text = r.text
    assert f"<h1>{html.escape(name_of(stack, child))}</h1>" in text
    assert f'<small><code id="account-id">{child}</code></small>' in text      # the id in small type
    assert re.search(r'sub-account of <a href="/admin/accounts/' + top + '">' + re.escape(name_of(stack, top)),
                     text)
    fields = dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", text, re.S))
    assert fields["Plan"] == "free"
    assert fields["Keys"] == f'<a href="/admin/keys?account_id={child}">2 keys</a>'
    assert fields["Sub-accounts"] == (f'1 sub-account<ul class="children"><li><a href="/admin/accounts/{grandchild}">'
                                      f"{html.escape(name_of(stack, grandchild))}</a></li>\n</ul>")
    assert fields["Console users"] == '<a href="/admin/users">1 user</a>'
    forms = parse_forms(text).forms
    assert form_dict(forms[f"/admin/accounts/{child}"]) == {"csrf_token": c.csrf(), "name": name_of(stack, child),
                                                             "plan": "free"}
    assert f"/admin/accounts/{child}/delete" not in forms                      # not while it holds things
    assert f"/admin/accounts/{sibling}/delete" in parse_forms(c.get(f"/admin/accounts/{sibling}").text).forms
    # "Create a sub-account here" opens the tree page's form with this parent chosen
    link = re.search(r'<a href="([^"]+)">Create a sub-account here</a>', text).group(1).replace("&amp;", "&")
    assert link == f"/admin/accounts?parent_id={child}#create"
    create = form_dict(parse_forms(c.get(link.split("#")[0]).text).forms["/admin/accounts/new"])
    assert create["parent_id"] == child

    # outside the user's subtree: no such page (404), as the API says
    outside = make_account(server)["id"]
    assert c.get(f"/admin/accounts/{outside}").status_code == 404
    assert c.get("/admin/accounts/acct_nope").status_code == 404


# ---------------------------------------------------------------- a refused delete names what remains

def test_refused_delete_names_what_remains(server):
    stack = server.stack
    t = make_tenant(server, scopes=["accounts:read", "accounts:write", "keys:write"])
    acct = make_account(server, t.key, name=uid("acme"))
    keys_in(server, acct["id"], 3)
    make_account(server, t.key, parent_id=acct["id"])
    want = f"Account '{acct['name']}' still has 3 keys and 1 sub-account; delete them first"

    err = assert_error(call(server, "DELETE", f"/v1/accounts/{acct['id']}", t.key), 409, "CONFLICT")
    assert err["message"] == want, err
    assert err["details"] == {"remaining": {"keys": 3, "sub_accounts": 1, "users": 0}}, err

    c = owner(server)
    r = c.post(f"/admin/accounts/{acct['id']}/delete", {})
    assert r.status_code == 409
    m = re.search(r'<p class="error" role="alert">([^<]+)</p>', r.text)
    assert m and html.unescape(m.group(1)) == want, r.text[-2000:]
    assert db_one(stack, "SELECT COUNT(*) FROM accounts WHERE public_id = %s", acct["id"])[0] == 1

    # console users: named, and said that they cannot be removed; one of each, singular
    other = make_account(server, t.key, name=uid("solo"))
    keys_in(server, other["id"], 1)
    make_user(stack, "viewer", account=other["id"])
    err = assert_error(call(server, "DELETE", f"/v1/accounts/{other['id']}", t.key), 409, "CONFLICT")
    assert err["message"] == (f"Account '{other['name']}' still has 1 key and 1 console user; an account with "
                              "console users cannot be deleted (users can be disabled, not removed)"), err
    assert err["details"] == {"remaining": {"keys": 1, "sub_accounts": 0, "users": 1}}

    # a long name is cut to fit, on a character boundary (the message stays valid UTF-8)
    long = make_account(server, t.key, name="é" * 100)
    make_account(server, t.key, parent_id=long["id"])
    err = assert_error(call(server, "DELETE", f"/v1/accounts/{long['id']}", t.key), 409, "CONFLICT")
    assert err["message"] == "Account '" + "é" * 30 + "' still has 1 sub-account; delete them first", err

    empty = make_account(server, t.key)
    expect(call(server, "DELETE", f"/v1/accounts/{empty['id']}", t.key), 204)


# ---------------------------------------------------------------- the audit log

def test_audit_changes_only_by_default(server):
    stack = server.stack
    acct = make_account(server)["id"]
    email, pw, usr = make_user(stack, "developer", account=acct)
    dev = Console(server, email, pw)                         # a user.login row
    r, _ = dev.create_key(uid("changes-only"))
    assert r.status_code == 201
    CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))

    c = owner(server)
    actions = lambda q: [x[1] for x in audit_rows(c.get(f"/admin/audit?actor={usr}{q}").text)]
    assert actions("") == ["key.create"]                     # the default: changes only
    assert actions("&show=change") == ["key.create"]
    assert actions("&show=all") == ["key.create", "user.login"]
    assert actions("&show=session") == ["user.login"]
    page = c.get(f"/admin/audit?actor={usr}").text
    assert re.search(r'<option value="change" selected="">Changes only</option>', page)
    assert actions("&action=user.login") == ["user.login"]   # an action filter names its rows itself
    # the login is by the user, named by email
    row = audit_rows(c.get(f"/admin/audit?actor={usr}&show=session").text)[0]
    assert row[3] == usr and f'<span class="name">{html.escape(email)}</span> <small><code>{usr}</code>' in c.get(
        f"/admin/audit?actor={usr}&show=session").text

    # the API's kind filter, validated like the others
    def kinds(**params):
        return [x["action"] for x in expect(call(server, "GET", "/v1/audit", server.admin_key,
                                                 params=dict(actor=usr, **params)), 200)["data"]]
    assert kinds() == ["key.create", "user.login"]
    assert kinds(kind="change") == ["key.create"]
    assert kinds(kind="session") == ["user.login"]
    err = assert_error(call(server, "GET", "/v1/audit", server.admin_key, params={"kind": "logins"}),
                       400, "VALIDATION_ERROR", field="kind")
    assert "change or session" in err["message"], err


def test_audit_shows_old_and_new_values_by_name(server):
    stack = server.stack
    t = make_tenant(server, scopes=["admin"])
    k = create_key(server, t.key, label="before-label", scopes=["verify"])
    CREATED_KEYS.append(k["key"])
    expect(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"label": "after-label"}), 200)
    sub = make_account(server, t.key, name="old-name")
    expect(call(server, "PATCH", f"/v1/accounts/{sub['id']}", t.key, body={"name": "new-name"}), 200)
    rows = {x["action"]: x for x in expect(call(server, "GET", "/v1/audit", t.key, params={"limit": 100}),
                                           200)["data"]}
    assert rows["key.update"]["changes"] == {"label": {"old": "before-label", "new": "after-label"}}
    assert rows["account.update"]["changes"] == {"name": {"old": "old-name", "new": "new-name"}}
    # names beside the ids: the acting key's label, the target key's label and account's name
    tenant_key_label = t.key_obj["label"]
    assert rows["key.update"]["actor_name"] == tenant_key_label
    assert rows["key.update"]["target_name"] == "after-label"
    assert rows["account.update"]["target_name"] == "new-name"
    assert rows["key.update"]["account_name"] == t.account["name"]

    c, _ = subtree_owner(server, t.account_id)
    page = c.get(f"/admin/audit?target_id={k['id']}").text
    assert ('<li><span class="fname">label</span>: <span class="old">before-label</span> → '
            '<span class="new">after-label</span></li>') in page, page[-3000:]
    # the target by its label (a link to the key) with the id; the actor key by label and id
    assert (f'<span class="target"><a href="/admin/keys/{k["id"]}">after-label</a> '
            f'<small><code>{k["id"]}</code></small></span>') in page
    assert (f'<a href="/admin/keys/{t.key_id}">{html.escape(tenant_key_label)}</a> '
            f'<small><code>{t.key_id}</code></small>') in page
    page = c.get(f"/admin/audit?target_id={sub['id']}").text
    assert ('<li><span class="fname">name</span>: <span class="old">old-name</span> → '
            '<span class="new">new-name</span></li>') in page
    # rows written with the new value only (before old values were kept) still show it
    assert '<li><span class="fname">plan</span>: <span class="new">free</span></li>' in page   # account.create

    # names stay inside the caller's subtree: a parent's key acting here is shown by id only
    expect(call(server, "PATCH", f"/v1/accounts/{sub['id']}", server.admin_key, body={"plan": "pro"}), 200)
    row = expect(call(server, "GET", "/v1/audit", t.key, params={"target_id": sub["id"],
                                                                 "action": "account.update"}), 200)["data"][0]
    assert row["changes"] == {"plan": {"old": "free", "new": "pro"}}
    assert row["actor_name"] is None and row["actor"].startswith("key_"), row


# ---------------------------------------------------------------- every invalid field at once

def test_forms_report_every_invalid_field(server):
    stack = server.stack
    c = owner(server)
    typed = {"label": "x" * 101, "expires_at": "not-a-date", "meta": '{"team": blue}'}
    r = c.get("/admin/keys/new")
    data = {"form_token": FORM_TOKEN_RE.search(r.text).group(1), "csrf_token": CSRF_RE.search(r.text).group(1),
            "scopes": ["keys:read"], "env": "live", **typed}
    n = db_one(stack, "SELECT COUNT(*) FROM api_keys")[0]
    r = c.s.post(c.base + "/admin/keys/new", data=data, headers={"Origin": c.base}, allow_redirects=False)
    assert r.status_code == 400, r.text[-2000:]
    p = parse_forms(r.text)
    # each field: its message next to it, aria-invalid, described by the message
    assert set(p.errors) == {"f-label-error", "f-expires_at-error", "f-meta-error"}, p.errors
    for name in typed:
        assert p.attrs[name].get("aria-invalid") == "true", name
        assert f"f-{name}-error" in p.attrs[name]["aria-describedby"].split(), name
        assert f"'{name}'" in p.errors[f"f-{name}-error"], p.errors
    assert "100 characters" in p.errors["f-label-error"]
    assert "RFC 3339" in p.errors["f-expires_at-error"]
    assert "not valid JSON at line 1" in p.errors["f-meta-error"]
    # the values as typed
    again = form_dict(p.forms["/admin/keys/new"])
    assert {k: again[k] for k in typed} == typed
    # a summary at the top: three links to the fields, each with its message
    summary = re.search(r'<div class="error-summary" role="alert" aria-labelledby="error-summary">'
                        r'<h2 id="error-summary">3 fields need a change</h2>\s*<ul>(.*?)</ul>', r.text, re.S)
    assert summary, r.text[:3000]
    links = re.findall(r'<li><a href="#(f-[a-z_]+)">([^<]+)</a></li>', summary.group(1))
    assert [x[0] for x in links] == ["f-label", "f-expires_at", "f-meta"], links
    assert [html.unescape(x[1]) for x in links] == [p.errors[f"{x[0]}-error"] for x in links]
    assert db_one(stack, "SELECT COUNT(*) FROM api_keys")[0] == n

    # the fieldsets (scopes, rate limit, credits) report their own message beside them too
    r = c.get("/admin/keys/new")
    data = {"form_token": FORM_TOKEN_RE.search(r.text).group(1), "csrf_token": CSRF_RE.search(r.text).group(1),
            "label": "ok", "scopes": ["keys:read", "Bad Scope"], "env": "live",
            "ratelimit.limit": "0", "ratelimit.window": "60", "credits.remaining": "-3"}
    r = c.s.post(c.base + "/admin/keys/new", data=data, headers={"Origin": c.base}, allow_redirects=False)
    assert r.status_code == 400, r.text[-2000:]
    for fid, word in (("f-scopes", "scope"), ("f-ratelimit", "limit"), ("f-credits", "remaining")):
        m = re.search(rf'<fieldset[^>]*id="{fid}"[^>]*>.*?<p class="error"[^>]*>([^<]+)</p>', r.text, re.S)
        assert m and word in m.group(1), (fid, r.text[-3000:])
    assert db_one(stack, "SELECT COUNT(*) FROM api_keys")[0] == n

    # the API answers the same three in details.errors (the first is the message)
    r = call(server, "POST", "/v1/keys", server.admin_key,
             body={"label": "x" * 101, "expires_at": "not-a-date", "meta": "nope", "colour": "red"})
    err = assert_error(r, 400, "VALIDATION_ERROR", field="label")
    assert [e["field"] for e in err["details"]["errors"]] == ["label", "expires_at", "meta", "colour"], err
    assert err["message"] == err["details"]["errors"][0]["message"]

    # users: email, role and password at once
    r = c.post("/admin/users/new", {"email": "nobody", "role": "wizard", "account_id": stack.root_account,
                                    "password": "short"})
    assert r.status_code == 400, r.text[-2000:]
    p = parse_forms(r.text)
    assert set(p.errors) == {"f-email-error", "f-role-error", "f-password-error"}, p.errors
    assert form_dict(p.forms["/admin/users/new"])["email"] == "nobody"
    assert "3 fields need a change" in r.text

    # accounts: a new sub-account with a bad name and plan; a rename with a bad name
    r = c.post("/admin/accounts/new", {"name": "n" * 101, "parent_id": stack.root_account, "plan": "gold"})
    assert r.status_code == 400
    p = parse_forms(r.text)
    assert set(p.errors) == {"f-name-error", "f-plan-error"}, p.errors
    assert form_dict(p.forms["/admin/accounts/new"])["name"] == "n" * 101
    acct = make_account(server)["id"]
    r = c.post(f"/admin/accounts/{acct}", {"name": "", "plan": "gold"})
    assert r.status_code == 400
    p = parse_forms(r.text)
    assert set(p.errors) == {"f-name-error", "f-plan-error"}, p.errors
    assert form_dict(p.forms[f"/admin/accounts/{acct}"])["name"] == ""


def test_key_edit_form_reports_its_fields(server):
    c = owner(server)
    r, _ = c.create_key(uid("edit-errors"))
    assert r.status_code == 201
    kid = KEY_LINK_RE.search(r.text).group(1)
    CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))
    form = form_dict(parse_forms(c.get(f"/admin/keys/{kid}").text).forms[f"/admin/keys/{kid}/edit"])
    r = c.post(f"/admin/keys/{kid}/edit", dict(form, label="", meta="[1]"))
    assert r.status_code == 400
    p = parse_forms(r.text)
    assert {"f-label-error", "f-meta-error"} <= set(p.errors), p.errors
    assert "2 fields need a change" in r.text
    again = form_dict(p.forms[f"/admin/keys/{kid}/edit"])
    assert (again["label"], again["meta"]) == ("", "[1]")


# ---------------------------------------------------------------- in a browser: axe and no sideways scroll

SERVERS = [n for n in ("lighttpd", "apache") if n in harness.server_names_from_env()]


@pytest.mark.parametrize("name", SERVERS)
def test_pages_in_a_browser_at_two_widths(stack, browser, name):
    server = stack.servers[name]
    top = make_account(server, name=uid("Browser Holdings with a long name"))["id"]
    unbroken = make_account(server, parent_id=top, name="W" * 100)["id"]     # no place to wrap
    mid = make_account(server, parent_id=top, name=uid("Regional"))["id"]
    deep = mid
    for i in range(6):
        deep = make_account(server, parent_id=deep, name=uid(f"Level {i + 2} team"))["id"]
    keys_in(server, mid, 2)
    email, pw, _ = make_user(stack, "owner", account=top, email=f"{uid('browser-accounts')}@example.com")
    c = Console(server, email, pw)
    r, _ = c.create_key(uid("a label that is rather long for a key"), account_id=mid,
                        meta='{"team": "billing", "cost_centre": "4711"}')
    kid = KEY_LINK_RE.search(r.text).group(1)
    CREATED_KEYS.append(re.search(r'id="new-key">([^<]+)<', r.text).group(1))
    form = form_dict(parse_forms(c.get(f"/admin/keys/{kid}").text).forms[f"/admin/keys/{kid}/edit"])
    assert c.post(f"/admin/keys/{kid}/edit", dict(form, label=uid("renamed label"),
                                                   meta='{"team": "platform"}')).status_code == 303

    drv = browser
    drv.delete_all_cookies()
    drv.get(server.url("/admin/login"))
    drv.find_element(By.CSS_SELECTOR, "#f-email").send_keys(email)
    drv.find_element(By.CSS_SELECTOR, "#f-password").send_keys(pw + "\n")
    WebDriverWait(drv, 30).until(lambda d: "/admin/login" not in d.current_url)
    # each page at 390 and 1280 px: nothing wider than its box, axe-core clean, a screenshot
    v = Visit(drv, server)
    for shot, path in (("accounts", "/admin/accounts"), ("account", f"/admin/accounts/{mid}"),
                       ("account-deep", f"/admin/accounts/{deep}"), ("audit", "/admin/audit"),
                       ("account-unbroken", f"/admin/accounts/{unbroken}"),
                       ("audit-all", "/admin/audit?show=all"), ("users", "/admin/users")):
        v.go(path, "accounts-audit-" + shot)
        assert "/admin/login" not in drv.current_url
    # a form shown again with its error
    drv.get(server.url("/admin/accounts"))
    drv.find_element(By.CSS_SELECTOR, "form[action$='/accounts/new'] #f-name").send_keys("n" * 101)
    drv.find_element(By.CSS_SELECTOR, "form[action$='/accounts/new'] button[type=submit]").click()
    WebDriverWait(drv, 30).until(lambda d: "One field needs a change" in d.page_source)
    v.check("accounts-audit-errors")
