"""The audit chain resists someone with database write access.

As the DB root user: edit a row, delete a row, truncate the newest rows, re-hash the whole chain
with plain SHA-256 (the attack that worked before the HMAC), empty the log, rewrite it as unsigned
"epoch 0" rows and have `rotate-key` sign over it, add unsigned rows after the signed start:
`latchkey audit verify` exits non-zero and names the first bad row (or the missing start) each
time; a truncation with a consistent head is caught against a checkpoint; the anchor file
(<audit_key_file>.anchor, written by init) records where the signed chain starts. rotate-key
signs only over a chain that verifies. An install without an anchor is told so, and `audit
anchor` records it. The runtime DB user cannot UPDATE/DELETE/ALTER audit_log at all. Secret files
are 0600. Checkpoint lines reach the server logs. Key rotation keeps the chain verifiable.
Each tampering case runs on the live table (and key files) and restores them afterwards.
"""
import contextlib
import hashlib
import json
import os
import re
import stat
from pathlib import Path

import pymysql
import pytest

from helpers import call, create_key, expect, make_tenant, uid

import harness

OK_RE = re.compile(r"^audit chain ok: (\d+) rows, head id=(\d+) mac=([0-9A-F]{64})$", re.M)
BAD_RE = re.compile(r"^audit chain BROKEN at row (evt_[0-9A-Za-z]+) \(id (\d+)\): (.+)$", re.M)
CP_RE = re.compile(r"audit checkpoint id=(\d+) mac=([0-9A-F]{64})")
ANCHOR_RE = re.compile(r"^audit anchor id=(\d+) key_id=([0-9A-F]{16}) mac=([0-9A-F]{64})\n$")


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


def anchor_path(stack):
    return Path(stack.vardir) / "audit.key.anchor"


def key_files(stack):
    """The audit key files as they are now (None: absent), to show that a refusal wrote nothing."""
    v = Path(stack.vardir)
    return {p.name: p.read_bytes() if p.exists() else None
            for p in (v / "audit.key", v / "audit.key.new", v / "audit-old.keys", anchor_path(stack))}


def chain_state(stack):
    with contextlib.closing(root(stack)) as c, c.cursor() as cur:
        cur.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM audit_log")
        n = cur.fetchone()
        cur.execute("SELECT HEX(hash), seq, last_id, key_id FROM audit_head")
        return n, cur.fetchone()


@contextlib.contextmanager
def aside(*paths):
    """The files are moved away for the block and put back afterwards (whatever the block left at
    their place is removed)."""
    moved = []
    try:
        for p in map(Path, paths):
            os.rename(p, p.with_name(p.name + ".aside"))
            moved.append(p)
        yield
    finally:
        for p in moved:
            if p.exists():
                os.unlink(p)
            os.rename(p.with_name(p.name + ".aside"), p)


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
        assert_intact(stack)


def assert_intact(stack):
    """The chain verifies; while a test has moved the anchor file away, that reads NOT ANCHORED."""
    if anchor_path(stack).exists():
        assert_ok(stack)
    else:
        rc, out = verify(stack)
        assert "audit chain NOT ANCHORED" in out and "BROKEN" not in out, out


def set_head_to(cur, row):
    cur.execute("UPDATE audit_head SET hash = %s, seq = %s, last_id = %s, key_id = %s WHERE id = 1",
                (row["hash"], row["seq"], row["id"], row["key_id"]))


def rewrite_unsigned(cur, rws):
    """Re-hash rws (dicts, maybe edited) as unsigned epoch-0 rows, chained with plain SHA-256 (no
    key needed) from 32 zero bytes, and point audit_head at the last, as migration 002 leaves it."""
    prev = bytes(32)
    for r in rws:
        h = legacy_hash(prev, r)
        cur.execute("UPDATE audit_log SET prev_hash = %s, hash = %s, key_id = '', seq = 0, changes = %s,"
                    " account_id = %s WHERE id = %s", (prev, h, r["changes"], r["account_id"], r["id"]))
        prev = h
    cur.execute("UPDATE audit_head SET hash = %s, seq = %s, last_id = %s, key_id = '' WHERE id = 1",
                (prev, len(rws), rws[-1]["id"] if rws else 0))


def append_unsigned(cur, after, **fields):
    """Insert one unsigned row chained (plain SHA-256) after row `after`, and move the head to it."""
    r = dict(after, public_id="evt_" + uid("forged").replace("-", ""), action="key.delete",
             changes="{}", **fields)
    r["hash"] = legacy_hash(after["hash"], r)
    cur.execute("INSERT INTO audit_log (public_id, at, actor, account_id, account_path, action, target_id,"
                " ip, request_id, changes, prev_hash, hash, seq, key_id)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, '')",
                (r["public_id"], r["at"], r["actor"], r["account_id"], r["account_path"], r["action"],
                 r["target_id"], r["ip"], r["request_id"], r["changes"], after["hash"], r["hash"]))
    r["id"] = cur.lastrowid
    cur.execute("UPDATE audit_head SET hash = %s, seq = seq + 1, last_id = %s, key_id = '' WHERE id = 1",
                (r["hash"], r["id"]))
    return r


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


def test_init_anchored_the_first_signed_row(stack, busy_chain):
    """init wrote <audit_key_file>.anchor (0600): the first row's id, key id and MAC; verify checks it."""
    first = rows(stack)[0]
    text = anchor_path(stack).read_text()
    m = ANCHOR_RE.match(text)
    assert m, text
    assert (int(m.group(1)), m.group(2), m.group(3)) == (
        first["id"], first["key_id"], first["hash"].hex().upper()), (text, first)
    assert stat.S_IMODE(os.stat(anchor_path(stack)).st_mode) == 0o600
    rc, out = verify(stack)
    assert rc == 0 and f"anchored start id={first['id']} key_id={first['key_id']} is in the chain" in out, out
    # the check is real: an anchor naming another MAC fails the untouched chain
    with aside(anchor_path(stack)):
        anchor_path(stack).write_text(text.replace(m.group(3), "00" * 32))
        assert_bad(stack, first, "its key id or MAC is not the anchor file's")
        # a damaged anchor is an error, not "no anchor"
        anchor_path(stack).write_text(text[:40])
        for cmd in (("audit", "verify"), ("audit", "rotate-key"), ("init",)):
            p = stack.cli(*cmd, check=False)
            assert p.returncode != 0 and "audit.key.anchor" in p.stderr and "anchor id=N" in p.stderr, (cmd, p.stderr)
            assert "audit chain ok" not in p.stdout


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
                # every row now passes as an old unsigned one, but the anchor names the first as signed
                assert_bad(stack, keep[0], "anchored start of the signed chain (key id")
            else:
                # the first row's MAC is not the anchored one (the others would not verify either)
                assert_bad(stack, keep[0], "its key id or MAC is not the anchor file's")


def test_emptied_log_is_caught_by_the_anchor(stack, busy_chain, api):
    """DELETE FROM audit_log and a zeroed head used to verify as "0 rows"."""
    first = rows(stack)[0]
    with tampering(stack) as cur:
        cur.execute("DELETE FROM audit_log")
        cur.execute("UPDATE audit_head SET hash = REPEAT(CHAR(0), 32), seq = 0, last_id = 0, key_id = ''")
        rc, out = verify(stack)
        assert rc != 0, out
        assert re.search(r"^audit chain BROKEN: the log is empty, but the anchor file records a signed "
                         rf"chain starting at row id={first['id']}: the log was reset", out, re.M), out
        # no change is signed over it, from the web or by a key rotation
        r = call(api, "POST", "/v1/keys", api.admin_key, body={"label": uid("after-reset")})
        assert r.status_code == 503, r.text
        logged = "".join(open(p, errors="replace").read() for p in api.error_logs if os.path.exists(p))
        assert "the audit chain's newest row is unsigned: changes are refused" in logged
        before = key_files(stack), chain_state(stack)
        p = stack.cli("audit", "rotate-key", check=False)
        assert p.returncode != 0 and "refused, nothing written" in p.stderr, p.stderr
        assert "the log is empty" in p.stderr, p.stderr
        assert (key_files(stack), chain_state(stack)) == before


def test_log_rewritten_unsigned_then_rotated_is_caught(stack, busy_chain):
    """The whole log rewritten as unsigned epoch-0 rows (plain SHA-256, no key needed), rows dropped
    and an account renamed, then `rotate-key` asked to sign over it: it refuses, and verify names
    the anchored start as forged."""
    all_rows = rows(stack)
    created = next(r for r in all_rows if r["action"] == "account.create")
    changes = json.loads(created["changes"])
    forged = [dict(r) for r in all_rows if r["action"] != "key.create"]   # the keys never existed
    assert len(forged) < len(all_rows)
    for r in forged:
        if r["id"] == created["id"]:
            r["changes"] = json.dumps(dict(changes, name="renamed"), sort_keys=True, separators=(",", ":"))
    with tampering(stack) as cur:
        cur.execute("DELETE FROM audit_log WHERE action = 'key.create'")
        rewrite_unsigned(cur, forged)
        before = key_files(stack), chain_state(stack)
        p = stack.cli("audit", "rotate-key", check=False)
        assert p.returncode != 0, p.stdout + p.stderr
        assert "refused, nothing written: the audit chain does not verify" in p.stderr, p.stderr
        assert f"BROKEN at row {forged[0]['public_id']}" in p.stderr, p.stderr
        assert (key_files(stack), chain_state(stack)) == before, "rotate-key wrote something"
        assert_bad(stack, forged[0], "is this row, but it is unsigned: the log was rewritten")
    # the same log under new ids (all rows re-inserted): the anchored row is missing
    with tampering(stack) as cur:
        cur.execute("SELECT MAX(id) FROM audit_log")
        shift = cur.fetchone()[0]
        cur.execute("DELETE FROM audit_log WHERE action = 'key.create'")
        cur.execute("UPDATE audit_log SET id = id + %s ORDER BY id DESC", (shift,))
        moved = [dict(r, id=r["id"] + shift) for r in forged]
        rewrite_unsigned(cur, moved)
        assert_bad(stack, moved[0], f"the anchored start of the signed chain, row id={forged[0]['id']}, "
                                    "is missing before this row")


def test_unsigned_rows_after_the_anchored_start_are_named(stack, busy_chain):
    all_rows = rows(stack)
    with tampering(stack) as cur:
        forged = append_unsigned(cur, all_rows[-1])
        assert_bad(stack, forged, "unsigned (epoch 0) row after signed rows")
    # a row in the middle turned into an unsigned one, linked to the row before it
    with tampering(stack) as cur:
        i = len(all_rows) // 2
        victim = dict(all_rows[i], changes='{"label":"nothing happened"}')
        cur.execute("UPDATE audit_log SET hash = %s, key_id = '', changes = %s WHERE id = %s",
                    (legacy_hash(all_rows[i - 1]["hash"], victim), victim["changes"], victim["id"]))
        assert_bad(stack, victim, "unsigned (epoch 0) row after signed rows")


def test_unanchored_install_is_told_and_audit_anchor_fixes_it(stack, busy_chain, api):
    """A key file from before the anchor existed: verify says the chain is not anchored and how to
    anchor it; rotate-key waits for it; `audit anchor` verifies, then records the first signed row.
    The programs sign changes without the anchor."""
    first = rows(stack)[0]
    original = anchor_path(stack).read_text()
    with aside(anchor_path(stack)):
        expect(call(api, "POST", "/v1/keys", api.admin_key, body={"label": uid("unanchored")}), 201)
        rc, out = verify(stack)
        assert rc != 0, out
        assert "audit chain NOT ANCHORED" in out and "audit.key.anchor does not exist" in out, out
        assert f"run `latchkey audit anchor` to record its start, row {first['public_id']} (id {first['id']})" in out, out
        assert not OK_RE.search(out), out
        before = key_files(stack), chain_state(stack)
        p = stack.cli("audit", "rotate-key", check=False)
        assert p.returncode != 0 and "refused, nothing written: the audit chain is not anchored" in p.stderr, p.stderr
        assert (key_files(stack), chain_state(stack)) == before
        # init does not anchor a signed chain unchecked: it says what to run
        p = stack.cli("init")
        assert "the audit chain is signed but not anchored" in p.stderr and "latchkey audit anchor" in p.stderr, p.stderr
        assert (key_files(stack), chain_state(stack)) == before
        # a chain that does not verify is not anchored
        victim = rows(stack)[2]
        with tampering(stack) as cur:
            cur.execute("UPDATE audit_log SET actor = 'someone' WHERE id = %s", (victim["id"],))
            p = stack.cli("audit", "anchor", check=False)
            assert p.returncode != 0 and "refused, nothing written" in p.stderr, p.stderr
            assert f"BROKEN at row {victim['public_id']}" in p.stdout, p.stdout
            assert not anchor_path(stack).exists()
        p = stack.cli("audit", "anchor")
        assert f"first signed row {first['public_id']} (id {first['id']}" in p.stderr, p.stderr
        assert anchor_path(stack).read_text() == original
        assert stat.S_IMODE(os.stat(anchor_path(stack)).st_mode) == 0o600
        assert_ok(stack)
        # once there, it is never replaced
        p = stack.cli("audit", "anchor", check=False)
        assert p.returncode != 0 and "already anchors the audit chain" in p.stderr, p.stderr
        assert anchor_path(stack).read_text() == original


def test_unanchored_unsigned_or_empty_log(stack, busy_chain):
    """Without an anchor nothing vouches for an unsigned or empty log: verify says what to do, and
    init signs over unsigned rows only if no row was ever signed."""
    all_rows = rows(stack)
    with aside(anchor_path(stack)):
        with tampering(stack) as cur:
            rewrite_unsigned(cur, all_rows)
            out = assert_bad(stack, all_rows[-1], "the newest row is unsigned and no signed row vouches")
            assert "`latchkey init` signs it and writes the anchor" in out, out
            p = stack.cli("audit", "anchor", check=False)
            assert p.returncode != 0 and "refused, nothing written" in p.stderr, p.stderr
        with tampering(stack) as cur:
            cur.execute("DELETE FROM audit_log")
            cur.execute("UPDATE audit_head SET hash = REPEAT(CHAR(0), 32), seq = 0, last_id = 0, key_id = ''")
            rc, out = verify(stack)
            assert rc != 0 and "audit chain NOT ANCHORED: the log has no signed row" in out, out
            p = stack.cli("audit", "anchor", check=False)
            assert p.returncode != 0 and "the log has no signed row" in p.stderr, p.stderr
            assert not anchor_path(stack).exists()
        # unsigned rows after signed ones: a rewrite, which init does not sign over
        with tampering(stack) as cur:
            append_unsigned(cur, all_rows[-1])
            before = key_files(stack), chain_state(stack)
            p = stack.cli("init", check=False)
            assert p.returncode != 0 and "refused to sign the audit chain" in p.stderr, p.stderr
            assert (key_files(stack), chain_state(stack)) == before


def test_upgrade_from_unsigned_rows_is_anchored_by_init(stack, busy_chain):
    """A log from before migration 002 (unsigned rows, no key): init creates the key, signs the
    first epoch after the old rows and anchors it there. The old rows stay valid before the anchor;
    the chain cut back to them is caught."""
    v = Path(stack.vardir)
    old = rows(stack)
    with tampering(stack) as cur, aside(v / "audit.key", anchor_path(stack)):
        rewrite_unsigned(cur, old)
        p = stack.cli("init")
        assert "created the audit key file" in p.stderr and "anchored in" in p.stderr, p.stderr
        epoch = rows(stack)[-1]
        assert epoch["action"] == "audit.epoch" and epoch["id"] > old[-1]["id"], epoch
        m = ANCHOR_RE.match(anchor_path(stack).read_text())
        assert m and int(m.group(1)) == epoch["id"], anchor_path(stack).read_text()
        n, head_id, _ = assert_ok(stack)
        assert (n, head_id) == (len(old) + 1, epoch["id"])
        # a second init changes nothing
        stack.cli("init")
        assert rows(stack)[-1]["id"] == epoch["id"]
        # the old rows are vouched for by the anchored row: re-hashed consistently, an edit shows
        edited = [dict(r) for r in old]
        edited[1]["changes"] = '{"label":"nothing happened"}'
        rewrite_unsigned(cur, edited)
        cur.execute("UPDATE audit_head SET hash = %s, seq = %s, last_id = %s, key_id = %s WHERE id = 1",
                    (epoch["hash"], epoch["seq"], epoch["id"], epoch["key_id"]))
        assert_bad(stack, epoch, "broken link")
        rewrite_unsigned(cur, old)
        cur.execute("UPDATE audit_head SET hash = %s, seq = %s, last_id = %s, key_id = %s WHERE id = 1",
                    (epoch["hash"], epoch["seq"], epoch["id"], epoch["key_id"]))
        assert_ok(stack)
        # the signed part cut off, the head moved back to the old rows
        cur.execute("DELETE FROM audit_log WHERE id >= %s", (epoch["id"],))
        cur.execute("UPDATE audit_head SET hash = %s, seq = %s, last_id = %s, key_id = '' WHERE id = 1",
                    (legacy_hash_chain(old), len(old), old[-1]["id"]))
        assert_bad(stack, old[-1], f"the chain ends before its anchored start, row id={epoch['id']}")


def legacy_hash_chain(rws):
    prev = bytes(32)
    for r in rws:
        prev = legacy_hash(prev, r)
    return prev


def test_init_refuses_a_new_key_for_an_anchored_chain(stack, busy_chain):
    v = Path(stack.vardir)
    with aside(v / "audit.key"):
        before = chain_state(stack)
        p = stack.cli("init", check=False)
        assert p.returncode != 0 and "is missing, but" in p.stderr and "anchors a chain" in p.stderr, p.stderr
        assert not (v / "audit.key").exists(), "init made a key that cannot continue the chain"
        assert chain_state(stack) == before


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
    secrets = [v / "db.password", v / "db_admin.password", v / "audit.key", v / "audit.key.anchor"]
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
        for name in ("db.password", "audit.key", "audit.key.anchor"):
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
    anchor = anchor_path(stack).read_text()
    p = stack.cli("audit", "rotate-key")
    assert "rotated" in p.stderr, p.stderr
    assert (v / "audit.key").read_text() != old_key
    assert old_key.strip() in (v / "audit-old.keys").read_text()
    assert stat.S_IMODE(os.stat(v / "audit.key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(v / "audit-old.keys").st_mode) == 0o600
    epoch = rows(stack)[-1]
    assert epoch["action"] == "audit.epoch" and json.loads(epoch["changes"])["previous_key_id"]
    # the anchor stays at the start of the signed chain
    assert anchor_path(stack).read_text() == anchor
    assert f"anchored start id={rows(stack)[0]['id']} " in verify(stack)[1]
    for name, srv in stack.servers.items():
        if name.startswith("apache"):
            # Apache's programs (mod_fcgid, or the pools of apache-proxy) read a staged copy of
            # the key: a stale key is refused, never signed with; a restart stages the new key
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
