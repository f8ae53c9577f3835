"""GET /v1/health on every server mode, against the single MariaDB (the cluster's cases: test_galera.py)."""
from helpers import assert_error, call, db_query


def test_health_without_a_key(server, stack):
    before = db_query(stack, "SELECT COUNT(*) AS n FROM audit_log")[0]["n"]
    r = call(server, "GET", "/v1/health")
    assert r.status_code == 200, r.text[:300]
    assert r.json() == {"status": "ok", "db": "ok"}
    # not rate limited (no key is counted) and never audited
    assert "RateLimit" not in r.headers and "RateLimit-Limit" not in r.headers, dict(r.headers)
    assert db_query(stack, "SELECT COUNT(*) AS n FROM audit_log")[0]["n"] == before
    # a key, even a wrong one, changes nothing: health reads no credential
    assert call(server, "GET", "/v1/health", "lk_live_not-a-key").json() == {"status": "ok", "db": "ok"}


def test_health_refuses_other_methods_and_paths(server):
    r = call(server, "POST", "/v1/health", body={})
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    assert_error(call(server, "GET", "/v1/health", params={"x": "1"}), 400, "VALIDATION_ERROR")
    assert_error(call(server, "GET", "/v1/health/more"), 404, "NOT_FOUND")
