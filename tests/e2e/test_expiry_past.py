"""A past expires_at is 400 on create and PATCH; 1970-01-01T00:00:00Z is a time like any other, not
"never" (it used to be stored as no expiry)."""
import time

from helpers import (assert_error, audit_by_rid, call, create_key, expect, key_count, key_row, make_tenant,
                     new_rid, rfc3339)

PAST = ("1970-01-01T00:00:00Z", "1970-01-01T00:00:01Z", "2000-01-01T00:00:00Z")


def test_past_expires_at_refused_on_create(server, stack):
    t = make_tenant(server, scopes=["keys:write"])
    n = key_count(stack, t.account_id)
    for at in PAST + (rfc3339(time.time() - 5),):
        rid = new_rid()
        assert_error(call(server, "POST", "/v1/keys", t.key, body={"label": "past", "expires_at": at}, rid=rid),
                     400, "VALIDATION_ERROR", field="expires_at")
        assert audit_by_rid(stack, rid) == []
        assert_error(call(server, "POST", "/v1/keys", t.key, data={"label": "past", "expires_at": at}),
                     400, "VALIDATION_ERROR", field="expires_at")
    assert key_count(stack, t.account_id) == n
    # null and a future time still work
    assert create_key(server, t.key, scopes=[], expires_at=None)["expires_at"] is None
    at = rfc3339(time.time() + 3600)
    assert create_key(server, t.key, scopes=[], expires_at=at)["expires_at"] == at


def test_past_expires_at_refused_on_patch(server, stack):
    t = make_tenant(server, scopes=["keys:read", "keys:write"])
    k = create_key(server, t.key, scopes=[], expires_in="1h")
    before = key_row(stack, k["id"])
    for at in PAST:
        rid = new_rid()
        assert_error(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"expires_at": at}, rid=rid),
                     400, "VALIDATION_ERROR", field="expires_at")
        assert audit_by_rid(stack, rid) == []
    assert key_row(stack, k["id"]) == before
    assert expect(call(server, "PATCH", f"/v1/keys/{k['id']}", t.key, body={"expires_at": None}), 200)[
        "expires_at"] is None
