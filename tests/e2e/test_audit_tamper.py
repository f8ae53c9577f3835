"""The audit chain resists someone with database write access.

As the DB root user: edit a row, delete a row, truncate the newest rows, re-hash the whole chain
with plain SHA-256 (the attack that worked before the HMAC): `latchkey audit verify` exits
non-zero and names the first bad row each time; a truncation with a consistent head is caught
against a checkpoint. The runtime DB user cannot UPDATE/DELETE/ALTER audit_log at all. Secret
files are 0600. Checkpoint lines reach the server logs. Key rotation keeps the chain verifiable.
Each tampering case runs on the live table and restores it afterwards.
"""
import contextlib
import hashlib
import json
import os
import re
import stat

import pymysql
import pytest

from helpers import call, create_key, expect, make_tenant, uid

import harness

OK_RE = re.compile(r"^audit chain ok: (\d+) rows, head id=(\d+) mac=([0-9A-F]{64})$", re.M)
BAD_RE = re.compile(r"^audit chain BROKEN at row (evt_[0-9A-Za-z]+) \(id (\d+)\): (.+)$", re.M)
CP_RE = re.compile(r"audit checkpoint id=(\d+) mac=([0-9A-F]{64})")


@pytest.fixture(scope="module")
def api(stack):
    return next(iter(stack.servers.values()))


@pytest.fixture(scope="module")
def busy_chain(stack, api):
    """Some audited changes, so the chain has rows of every kind to tamper with."""
    t = make_tenant(api)
    for _ in range(4):
        create_key(api, t.key)
    return t


def root(stack):
    return stack.db_connect(root=True, database="latchkey")


def rows(stack):
    with contextlib.closing(root(stack)) as c, c.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("SELECT * FROM audit_log ORDER BY id")
        return list(cur.fetchall())


def verify(stack, *args):
    r = stack.cli("audit", "verify", *args, check=False)
    return r.returncode, r.stdout + r.stderr


def assert_ok(stack, *args):
    rc, out = verify(stack, *args)
    assert rc == 0, out
    m = OK_RE.search(out)
    assert m, out
    return int(m.group(1)), int(m.group(2)), m.group(3)


def assert_bad(stack, row, why, *args):
    rc, out = verify(stack, *args)
    assert rc != 0, f"tampering not detected:\n{out}"
    m = BAD_RE.search(out)
    assert m, out
    assert (m.group(1), int(m.group(2))) == (row["public_id"], row["id"]), (out, row["id"])
    assert why in m.group(3), out
    return out


@contextlib.contextmanager
def tampering(stack):
    """A root connection to tamper with; audit_log and audit_head are put back afterwards."""
    c = root(stack)
    cur = c.cursor()
    for t in ("audit_log", "audit_head"):
        cur.execute(f"DROP TABLE IF EXISTS {t}_saved")
        cur.execute(f"CREATE TABLE {t}_saved LIKE {t}")
        cur.execute(f"INSERT INTO {t}_saved SELECT * FROM {t}")
    try:
        yield cur
    finally:
        for t in ("audit_log", "audit_head"):
            cur.execute(f"DELETE FROM {t}")
            cur.execute(f"INSERT INTO {t} SELECT * FROM {t}_saved")
            cur.execute(f"DROP TABLE {t}_saved")
        c.close()
        assert_ok(stack)


def set_head_to(cur, row):
    cur.execute("UPDATE audit_head SET hash = %s, seq = %s, last_id = %s, key_id = %s WHERE id = 1",
                (row["hash"], row["seq"], row["id"], row["key_id"]))


def legacy_hash(prev, r):
    """001's plain SHA-256 chain: SHA-256(prev || compact key-sorted JSON of the fields)."""
    content = {k: r[k] for k in ("public_id", "actor", "account_id", "account_path", "action",
                                 "target_id", "ip", "request_id", "changes")}
    content["at"] = int(r["at"])
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev + text.encode()).digest()


def test_clean_chain_verifies(stack, busy_chain):
    n, head_id, mac = assert_ok(stack)
    all_rows = rows(stack)
    assert n == len(all_rows) and head_id == all_rows[-1]["id"]
    assert mac == all_rows[-1]["hash"].hex().upper()
    assert all(r["key_id"] for r in all_rows), "every row is signed"
    assert all_rows[0]["action"] == "audit.epoch", all_rows[0]


def test_updated_row_is_named(stack, busy_chain):
    all_rows = rows(stack)
    victim = all_rows[len(all_rows) // 2]
    with tampering(stack) as cur:
        cur.execute("UPDATE audit_log SET changes = %s WHERE id = %s",
                    ('{"label":"nothing happened"}', victim["id"]))
        assert_bad(stack, victim, "MAC mismatch")
    with tampering(stack) as cur:  # only the time
        cur.execute("UPDATE audit_log SET at = at + 1 WHERE id = %s", (victim["id"],))
        assert_bad(stack, victim, "MAC mismatch")


def test_deleted_row_is_named(stack, busy_chain):
    all_rows = rows(stack)
    i = len(all_rows) // 2
    with tampering(stack) as cur:
        cur.execute("DELETE FROM audit_log WHERE id = %s", (all_rows[i]["id"],))
        assert_bad(stack, all_rows[i + 1], "missing rows")


def test_truncation_with_a_consistent_head_is_caught_by_the_checkpoint(stack, busy_chain, tmp_path):
    cp_file = tmp_path / "checkpoint.log"
    p = stack.cli("audit", "checkpoint")
    cp_file.write_text(p.stdout)
    cp_id = int(CP_RE.search(p.stdout).group(1))
    assert CP_RE.search(p.stderr), "the checkpoint also goes to the log (stderr)"
    all_rows = rows(stack)
    assert all_rows[-1]["id"] == cp_id
    assert_ok(stack, "--since-checkpoint", cp_file)
    keep = all_rows[:-3]
    with tampering(stack) as cur:
        cur.execute("DELETE FROM audit_log WHERE id > %s", (keep[-1]["id"],))
        set_head_to(cur, keep[-1])
        # without the checkpoint the shorter chain is consistent...
        assert_ok(stack)
        # ...against it, the missing rows show
        assert_bad(stack, keep[-1], f"checkpoint's row id={cp_id} is missing", "--since-checkpoint", cp_file)
    with tampering(stack) as cur:  # the head left alone: caught without a checkpoint too
        cur.execute("DELETE FROM audit_log WHERE id > %s", (keep[-1]["id"],))
        assert_bad(stack, keep[-1], "audit_head")


def test_rehash_with_plain_sha256_is_caught(stack, busy_chain):
    """The old attack: drop the newest rows, re-hash everything, fix the head."""
    all_rows = rows(stack)
    keep = all_rows[:-2]
    for clear_key_ids in (False, True):
        with tampering(stack) as cur:
            cur.execute("DELETE FROM audit_log WHERE id > %s", (keep[-1]["id"],))
            prev = bytes(32)
            for r in keep:
                h = legacy_hash(prev, r)
                cur.execute("UPDATE audit_log SET prev_hash = %s, hash = %s, key_id = %s WHERE id = %s",
                            (prev, h, "" if clear_key_ids else r["key_id"], r["id"]))
                r = dict(r, hash=h, key_id="" if clear_key_ids else r["key_id"])
                prev = h
            set_head_to(cur, r)
            if clear_key_ids:
                # every row now passes as an old unsigned one, but the chain must end signed
                assert_bad(stack, keep[-1], "newest row is unsigned")
            else:
                assert_bad(stack, keep[0], "MAC mismatch")


def test_runtime_user_cannot_change_or_delete_audit_rows(stack, busy_chain):
    with tampering(stack):  # belt and braces: should a statement get through, the table is restored
        c = stack.db_connect()  # the runtime user the programs use
        try:
            with c.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM audit_log")
                assert cur.fetchone()[0] > 0
                for sql in ("UPDATE audit_log SET actor = 'x' WHERE id = (SELECT 1)",
                            "UPDATE audit_log SET actor = 'x'",
                            "DELETE FROM audit_log",
                            "DELETE FROM audit_log WHERE id = 1",
                            "TRUNCATE TABLE audit_log",
                            "ALTER TABLE audit_log ADD COLUMN x INT",
                            "DROP TABLE audit_log",
                            "DELETE FROM audit_head",
                            "INSERT INTO audit_head (id, hash) VALUES (2, REPEAT(CHAR(0), 32))"):
                    with pytest.raises(pymysql.err.OperationalError) as ei:
                        cur.execute(sql)
                    assert ei.value.args[0] == 1142, (sql, ei.value.args)
        finally:
            c.close()


def test_secret_files_are_0600(stack):
    v = stack.vardir
    secrets = [v / "db.password", v / "db_admin.password", v / "audit.key"]
    for p in secrets:
        mode = stat.S_IMODE(os.stat(p).st_mode)
        assert mode == 0o600, f"{p}: {oct(mode)}"
    if (v / "audit-old.keys").exists():
        assert stat.S_IMODE(os.stat(v / "audit-old.keys").st_mode) == 0o600
    conf = open(stack.conf_path).read()
    assert "audit_key_file" in conf and "db_admin_user" in conf
    stage = v / "run" / "apache.stage"
    if stage.exists():  # Apache's copies: readable by the server user only
        d = stage.read_text().strip()
        for name in ("db.password", "audit.key"):
            st = os.stat(os.path.join(d, name))
            assert stat.S_IMODE(st.st_mode) == 0o600, (name, oct(st.st_mode))


def test_checkpoint_lines_reach_the_server_log(server, stack):
    """Every audit_checkpoint_every (5 in the tests) changes the program writing one logs the head."""
    def checkpoints():
        found = []
        for p in server.error_logs:
            try:
                found += CP_RE.findall(open(p, errors="replace").read())
            except FileNotFoundError:
                pass
        return found
    before = len(checkpoints())
    t = make_tenant(server)
    for _ in range(2 * harness.AUDIT_CHECKPOINT_EVERY + 1):
        create_key(server, t.key)
    after = checkpoints()
    assert len(after) > before, "no checkpoint line in the server's error log"
    cp_id, mac = after[-1]
    with contextlib.closing(root(stack)) as c, c.cursor() as cur:
        cur.execute("SELECT HEX(hash) FROM audit_log WHERE id = %s", (int(cp_id),))
        assert cur.fetchone() == (mac,)
    # the server log itself is a checkpoint file
    assert_ok(stack, "--since-checkpoint", server.error_logs[0])


def test_rotate_key_starts_a_new_epoch(stack, busy_chain, api):
    v = stack.vardir
    old_key = (v / "audit.key").read_text()
    p = stack.cli("audit", "rotate-key")
    assert "rotated" in p.stderr, p.stderr
    assert (v / "audit.key").read_text() != old_key
    assert old_key.strip() in (v / "audit-old.keys").read_text()
    assert stat.S_IMODE(os.stat(v / "audit.key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(v / "audit-old.keys").st_mode) == 0o600
    epoch = rows(stack)[-1]
    assert epoch["action"] == "audit.epoch" and json.loads(epoch["changes"])["previous_key_id"]
    for name, srv in stack.servers.items():
        if name == "apache":
            # Apache's programs read a staged copy of the key: a stale key is refused, never
            # signed with; a restart stages the new key
            r = call(srv, "POST", "/v1/keys", srv.admin_key, body={"label": uid("stale")})
            assert r.status_code == 503, r.text
            srv.stop()
            srv.start()
        # lighttpd's programs read the key file again when the chain names a new key
        expect(call(srv, "POST", "/v1/keys", srv.admin_key, body={"label": uid("rotated")}), 201)
    assert_ok(stack)
    # the old epoch needs the retired key
    os.rename(v / "audit-old.keys", v / "audit-old.keys.away")
    try:
        first = rows(stack)[0]
        assert_bad(stack, first, "neither in audit_key_file nor in audit_old_keys_file")
    finally:
        os.rename(v / "audit-old.keys.away", v / "audit-old.keys")
    assert_ok(stack)
