"""One clock: the times latchkey writes in a response body (revoked_at, created_at) are never later
than the response's own Date header, on every server mode. The revoke is timed to land just before
a second ends, where a web server's own clock (cached, or read when the request arrived) and the
program's used to disagree (CGI: most answers had revoked_at one second after Date)."""
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
        if ts(body["revoked_at"]) > date or ts(body["created_at"]) > date:
            late.append((r.headers["Date"], body["revoked_at"]))
    assert not late, f"{len(late)} of 20 answers carry a time after their Date header: {late[:3]}"
