"""Account delete racing a create answers 409 CONFLICT (never 503), and leaves the database consistent.

Each race is made deterministic: a PyMySQL transaction does one side and holds its locks, the API
request runs into them (seen as a LOCK WAIT in InnoDB), then the transaction commits."""
import threading

from helpers import (account_row, assert_error, audit_by_rid, call, db_query, expect, key_count,
                     make_account, make_tenant, new_rid, wait_for_lock_wait)


def in_background(fn):
    out = {}
    th = threading.Thread(target=lambda: out.setdefault("r", fn()))
    th.start()
    return th, out


def test_delete_while_a_key_is_inserted_is_409(server, stack):
    """The key insert holds the account row (foreign-key check); the API's DELETE counts no keys,
    waits for the row, then MariaDB refuses it (1451, row still referenced): 409, nothing deleted."""
    t = make_tenant(server, scopes=["accounts:read", "accounts:write", "keys:read"])
    child = make_account(server, t.key, parent_id=t.account_id, plan="free")
    acct_id = account_row(stack, child["id"])["id"]
    conn = stack.db_connect(autocommit=False)
    rid = new_rid()
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO api_keys (public_id, account_id, digest, start, env, label, scopes,"
                        " created_at, meta) VALUES (%s, %s, RANDOM_BYTES(32), 'lk_live_racerace', 'live',"
                        " 'race', '', UNIX_TIMESTAMP(), '{}')", ("key_race" + rid[-20:], acct_id))
        th, out = in_background(lambda: call(server, "DELETE", f"/v1/accounts/{child['id']}", t.key, rid=rid))
        wait_for_lock_wait(stack)
        conn.commit()
        th.join(60)
    finally:
        conn.close()
    err = assert_error(out["r"], 409, "CONFLICT")
    assert "SQL" not in err["message"]
    assert account_row(stack, child["id"]) is not None
    assert key_count(stack, child["id"]) == 1
    assert audit_by_rid(stack, rid) == []


def test_key_create_while_the_account_is_deleted_is_409(server, stack):
    """The account delete holds the row; the API's create waits for it and finds it gone: 409."""
    t = make_tenant(server, scopes=["accounts:read", "accounts:write", "keys:write"])
    child = make_account(server, t.key, parent_id=t.account_id, plan="free")
    conn = stack.db_connect(autocommit=False)
    rid = new_rid()
    try:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM accounts WHERE public_id = %s", (child["id"],))
        th, out = in_background(lambda: call(server, "POST", "/v1/keys", t.key, rid=rid,
                                             body={"label": "race", "account_id": child["id"]}))
        wait_for_lock_wait(stack)
        conn.commit()
        th.join(60)
    finally:
        conn.close()
    assert_error(out["r"], 409, "CONFLICT", field="account_id")
    assert audit_by_rid(stack, rid) == []
    assert db_query(stack, "SELECT COUNT(*) AS n FROM api_keys k LEFT JOIN accounts a ON a.id = k.account_id"
                           " WHERE a.id IS NULL")[0]["n"] == 0


def test_child_create_while_the_parent_is_deleted_is_409(server, stack):
    t = make_tenant(server, scopes=["accounts:read", "accounts:write"])
    parent = make_account(server, t.key, parent_id=t.account_id, plan="free")
    conn = stack.db_connect(autocommit=False)
    rid = new_rid()
    try:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM accounts WHERE public_id = %s", (parent["id"],))
        th, out = in_background(lambda: call(server, "POST", "/v1/accounts", t.key, rid=rid,
                                             body={"name": "race", "parent_id": parent["id"]}))
        wait_for_lock_wait(stack)
        conn.commit()
        th.join(60)
    finally:
        conn.close()
    assert_error(out["r"], 409, "CONFLICT", field="parent_id")
    assert audit_by_rid(stack, rid) == []


def test_concurrent_creates_and_deletes_never_503(server, stack):
    """Undirected: pairs of create-key / delete-account on fresh sub-accounts, all at once."""
    t = make_tenant(server, scopes=["accounts:read", "accounts:write", "keys:write"])
    children = [make_account(server, t.key, parent_id=t.account_id, plan="free") for _ in range(8)]
    results = []
    lock = threading.Lock()

    def run(method, path, body):
        kw = {} if body is None else {"body": body}
        r = call(server, method, path, t.key, **kw)
        with lock:
            results.append((method, r.status_code, r.text[:200]))

    threads = []
    for c in children:
        threads.append(threading.Thread(target=run, args=("POST", "/v1/keys", {"label": "r", "account_id": c["id"]})))
        threads.append(threading.Thread(target=run, args=("DELETE", f"/v1/accounts/{c['id']}", None)))
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    # a create that starts after the delete committed finds no account: 403, as for any account
    # outside the caller's subtree
    for method, status, text in results:
        assert status in ((201, 403, 409) if method == "POST" else (204, 409)), (method, status, text)
    # consistent: every child is either gone with no key, or present with its key
    for c in children:
        row = account_row(stack, c["id"])
        n = db_query(stack, "SELECT COUNT(*) AS n FROM api_keys k JOIN accounts a ON a.id = k.account_id"
                            " WHERE a.public_id = %s", (c["id"],))[0]["n"]
        assert (row is None and n == 0) or (row is not None and n == 1), (c["id"], row, n)
    expect(call(server, "GET", "/v1/accounts", t.key), 200)
