"""Newcomer edges of the API: list filters by displayed start, hints for a wrong guess,
JSON lists are arrays (strings split only in forms)."""
from helpers import assert_error, call, create_key, expect, list_all, make_tenant, uid


def test_json_string_for_a_list_is_400_naming_the_field(server):
    t = make_tenant(server)
    label = uid("strscopes")
    err = assert_error(call(server, "POST", "/v1/keys", t.key, body={"label": label, "scopes": "verify keys:read"}),
                       400, "VALIDATION_ERROR", field="scopes")
    assert "array" in err["message"], err
    assert list_all(server, t.key, "/v1/keys", params={"q": label}) == []
    k = create_key(server, t.key, label=label)
    assert_error(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"scopes": "verify"}),
                 400, "VALIDATION_ERROR", field="scopes")
    assert_error(call(server, "POST", "/v1/verify", t.key, body={"key": k["key"], "scopes": "verify"}),
                 400, "VALIDATION_ERROR", field="scopes")
    # the same text in a form body is a list separated by spaces or commas
    made = expect(call(server, "POST", "/v1/keys", t.key,
                       data={"label": uid("form"), "scopes": "verify,keys:read"}), 201)
    assert made["scopes"] == ["verify", "keys:read"], made
    # and a JSON array is the way in JSON
    made = expect(call(server, "POST", "/v1/keys", t.key, body={"label": uid("arr"), "scopes": ["verify"]}), 201)
    assert made["scopes"] == ["verify"], made


def test_list_by_displayed_start(server):
    t = make_tenant(server)
    a = create_key(server, t.key, label=uid("leak"))
    b = create_key(server, t.key, label=uid("other"))
    start = a["start"]
    assert start == a["key"][:len(start)]

    def found(value):
        return {i["id"] for i in list_all(server, t.key, "/v1/keys", params={"start": value})}

    assert found(start) == {a["id"]}
    assert found(start + "\u2026") == {a["id"]}          # as shown truncated in a UI
    assert found(start + "...") == {a["id"]}
    assert a["id"] in found(start[:-3])                  # a beginning of the start
    assert b["id"] not in found(start)
    # LIKE wildcards are not wildcards here; a full key in the URL is refused as always
    for bad in ("lk_live_%", "lk_live__", "lk_prod_abc", start + "X", "abc"):
        assert_error(call(server, "GET", "/v1/keys", t.key, params={"start": bad}), 400, "VALIDATION_ERROR",
                     field="start")
    assert_error(call(server, "GET", "/v1/keys", t.key, params={"start": a["key"]}), 400, "VALIDATION_ERROR")
    # another tenant does not find it
    other = make_tenant(server)
    assert list_all(server, other.key, "/v1/keys", params={"start": start}) == []


def test_list_account_id_query_gives_a_hint(server):
    t = make_tenant(server)
    err = assert_error(call(server, "GET", "/v1/keys", t.key, params={"account_id": t.account_id}),
                       400, "VALIDATION_ERROR", field="account_id")
    assert "X-Account-Id" in err["message"] and "/v1/accounts/" in err["message"], err
    assert "X-Account-Id" in err["details"]["hint"], err
    # the two ways the hint names both work
    k = create_key(server, t.key, label=uid("hint"))
    r = expect(call(server, "GET", "/v1/keys", server.admin_key, headers={"X-Account-Id": t.account_id}), 200)
    assert k["id"] in {i["id"] for i in r["data"]}
    r = expect(call(server, "GET", f"/v1/accounts/{t.account_id}/keys", server.admin_key), 200)
    assert k["id"] in {i["id"] for i in r["data"]}


def _log_lines_with(stack, server, rid):
    server.flush_logs()
    lines = []
    for p in server.error_logs:
        try:
            lines += [ln for ln in open(p, encoding="utf-8", errors="replace") if f"req={rid} " in ln]
        except FileNotFoundError:
            pass
    return lines


def test_db_failure_log_lines_carry_the_request_id(stack):
    """A 503's request_id finds its log lines: the database error and the answer."""
    servers = list(stack.servers.values())
    stack.db_stop()
    try:
        rids = {}
        for s in servers:
            rid = uid("dbdown").replace("_", "-")
            err = assert_error(call(s, "GET", "/v1/me", s.admin_key, rid=rid), 503, "SERVICE_UNAVAILABLE")
            assert err["request_id"] == rid
            rids[s.name] = rid
    finally:
        stack.db_start()
    for s in servers:
        lines = _log_lines_with(stack, s, rids[s.name])
        assert any("database" in ln for ln in lines), (s.name, lines)
        assert any("answered 503 SERVICE_UNAVAILABLE" in ln for ln in lines), (s.name, lines)


def test_config_failure_log_line_carries_the_request_id(stack):
    """Plain CGI reads the config for every request: a broken file is 503 and a log line under its id."""
    if "cgi" not in stack.servers:
        import pytest
        pytest.skip("needs the cgi server")
    s = stack.servers["cgi"]
    good = open(stack.conf_path).read()
    rid = uid("badconf").replace("_", "-")
    try:
        with open(stack.conf_path, "a") as f:
            f.write("db_port = 3306 # an inline comment\n")
        err = assert_error(call(s, "GET", "/v1/me", s.admin_key, rid=rid), 503, "SERVICE_UNAVAILABLE")
        assert err["request_id"] == rid
    finally:
        with open(stack.conf_path, "w") as f:
            f.write(good)
    lines = _log_lines_with(stack, s, rid)
    assert any("configuration:" in ln and "line" in ln for ln in lines), lines
    expect(call(s, "GET", "/v1/me", s.admin_key), 200)


def test_trusted_proxies_choose_the_audit_ip(stack):
    """trusted_proxies: X-Forwarded-For counts only from a trusted peer, rightmost untrusted hop.
    Plain CGI reads the config per request, so the setting is switched on for this test only."""
    if "cgi" not in stack.servers:
        import pytest
        pytest.skip("needs the cgi server")
    from helpers import audit_by_target
    s = stack.servers["cgi"]
    t = make_tenant(s)
    xff = {"X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.1.2.3"}

    def audited_ip():
        k = expect(call(s, "POST", "/v1/keys", t.key, body={"label": uid("xff"), "scopes": ["verify"]},
                        headers=xff), 201)
        return [a["ip"] for a in audit_by_target(stack, k["id"])]

    assert audited_ip() == ["127.0.0.1"]          # no trusted proxies: the header is ignored
    good = open(stack.conf_path).read()
    try:
        with open(stack.conf_path, "a") as f:
            f.write("trusted_proxies = 127.0.0.1, 10.0.0.0/8\n")
        assert audited_ip() == ["198.51.100.7"]   # the spoofable left part is not believed
        with open(stack.conf_path, "w") as f:
            f.write(good + "trusted_proxies = 192.0.2.0/24\n")
        assert audited_ip() == ["127.0.0.1"]      # the peer is not a trusted proxy
    finally:
        with open(stack.conf_path, "w") as f:
            f.write(good)
