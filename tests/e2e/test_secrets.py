"""No plaintext key in a database dump or in any log, after creating, using and rotating keys."""
import time

from helpers import CREATED_KEYS, KEY_RE, assert_verify, call, create_key, expect, make_tenant, read_logs


def scan_logs(stack, secrets):
    found = []
    for path, data in read_logs(stack).items():
        for s in secrets:
            if s in data:
                found.append((path, s[:12] + "..."))
    return found


def test_no_plaintext_in_dump_or_logs(server, stack):
    t = make_tenant(server)
    mine = [t.key]
    k = create_key(server, t.key, scopes=["verify", "keys:read"], meta={"note": "secret-scan"})
    mine.append(k["key"])
    # use the keys in every way that could end up in a log
    assert_verify(server, t.key, k["key"], "VALID")
    expect(call(server, "GET", "/v1/keys", k["key"]), 200)
    expect(call(server, "GET", "/v1/me", k["key"], style="x-api-key"), 200)
    call(server, "GET", "/v1/keys", k["key"][:-1] + "0")  # bad checksum -> 401, must not log the attempt's key
    rot = expect(call(server, "POST", f"/v1/keys/{k['id']}/rotate", t.key, body={"grace_period": "1h"}), 201)
    mine.append(rot["key"])
    expect(call(server, "POST", f"/v1/keys/{k['id']}/revoke", t.key), 200)
    call(server, "GET", "/v1/keys", k["key"])  # revoked key as caller
    call(server, "POST", "/v1/verify", t.key, data=f'{{"key": "{rot["key"]}", "bad": }}',
         headers={"Content-Type": "application/json"})  # malformed body containing a key
    time.sleep(1.5)  # log flush

    secrets = set(mine) | set(CREATED_KEYS)
    dump = stack.mariadb_dump()
    assert "api_keys" in dump and len(dump) > 1000, "dump looks empty"
    assert k["id"] in dump, "the dump does not contain the key row"
    leaked = [s[:12] for s in secrets if s in dump]
    assert not leaked, f"plaintext keys in the database dump: {leaked}"
    # nothing key-shaped at all is stored (only digests and 8-char starts)
    m = KEY_RE.search(dump)
    assert not m, f"key-shaped string in the dump: {m.group(0)[:14]}..."
    found = scan_logs(stack, secrets)
    assert not found, f"plaintext keys in logs: {found}"
