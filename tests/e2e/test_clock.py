"""One clock: the times latchkey writes in a response body (revoked_at, created_at) are never later
than the response's own Date header, on every server mode. The revoke is timed to land just before
a second ends, where a web server's own clock (cached, or read when the request arrived) and the
program's used to disagree (CGI: most answers had revoked_at one second after Date).

latchkey sends its own Date, from the clock its times come from; lighttpd (FastCGI and CGI) and
mod_proxy_fcgi keep it. Apache with mod_fcgid always dates an answer itself, with the time the
request arrived: there a time in the body may be one second after Date, never more."""
import datetime
import email.utils
import time

import requests

from helpers import auth


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def test_body_times_are_not_after_the_date_header(server):
    s = requests.Session()
    h = auth(server.admin_key)
    late = []
    for i in range(20):
        k = s.post(server.url("/v1/keys"), headers=h, json={"label": "clock"}, timeout=30).json()
        while time.time() % 1 < 0.990 - (i % 5) * 0.002:
            time.sleep(0.0005)
        r = s.post(server.url(f"/v1/keys/{k['id']}/revoke"), headers=h, data="", timeout=30)
        assert r.status_code == 200, r.text
        date = email.utils.parsedate_to_datetime(r.headers["Date"]).timestamp()
        body = r.json()
        slack = 1 if server.name == "apache" else 0     # mod_fcgid: Date is the arrival time
        if ts(body["revoked_at"]) > date + slack or ts(body["created_at"]) > date + slack:
            late.append((r.headers["Date"], body["revoked_at"]))
    assert not late, f"{len(late)} of 20 answers carry a time after their Date header: {late[:3]}"
    if server.name != "apache":
        assert r.headers["Date"] == email.utils.formatdate(ts(body["revoked_at"]), usegmt=True), \
            (r.headers["Date"], body["revoked_at"])     # latchkey's own Date, the same second


def test_console_says_just_now_for_a_change_just_made(server):
    """The key page right after a revoke in the console: "just now", never "in 0 s" (a time of
    this very second used to be called the future)."""
    from admin_util import Console, make_user
    from helpers import create_key
    email, pw, _ = make_user(server.stack, "owner")
    c = Console(server, email, pw)
    k = create_key(server, server.admin_key, label="clock-console")
    r = c.post(f"/admin/keys/{k['id']}/revoke", {})
    assert r.status_code == 303, (r.status_code, r.text[:300])
    page = c.get(f"/admin/keys/{k['id']}").text
    assert "just now" in page and "in 0 s" not in page and "in 1 s" not in page, page[:2000]
