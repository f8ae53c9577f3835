"""docs/operations.md "Backups", done as written: the whole database dumped with mariadb-dump,
restored into a copy, and the copy holds every table the schema has with the same rows, and its
audit chain verifies against the key file and anchor. Runs once, against the stack's database."""
import subprocess
from pathlib import Path

import pymysql

from helpers import call, create_key, expect, make_tenant

RESTORED = "latchkey_restore"


def tables(conn, db):
    with conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                    "AND table_type = 'BASE TABLE' ORDER BY table_name", (db,))
        return [r[0] for r in cur.fetchall()]


def checksums(conn, db, names):
    with conn.cursor() as cur:
        cur.execute("CHECKSUM TABLE " + ", ".join(f"`{db}`.`{t}`" for t in names) + " EXTENDED")
        return {r[0].split(".", 1)[1]: r[1] for r in cur.fetchall()}


def test_dump_and_restore_keeps_every_table(stack):
    srv = next(iter(stack.servers.values()))
    t = make_tenant(srv, scopes=["admin"])
    k = create_key(srv, t.key, label="backed up", scopes=["verify"])
    expect(call(srv, "POST", f"/v1/keys/{k['id']}/revoke", t.key), 200)

    # the documented command (plus how to reach this private server: its socket, as root)
    dump = subprocess.run(["mariadb-dump", "--no-defaults", f"--socket={stack.db_socket}", "--user=root",
                           "--single-transaction", "--routines", "--triggers", "latchkey"],
                          capture_output=True, timeout=120)
    assert dump.returncode == 0, dump.stderr.decode(errors="replace")
    root = stack.db_connect(root=True)
    try:
        with root.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {RESTORED}")
            cur.execute(f"CREATE DATABASE {RESTORED}")
        load = subprocess.run(["mariadb", "--no-defaults", f"--socket={stack.db_socket}", "--user=root",
                               RESTORED], input=dump.stdout, capture_output=True, timeout=120)
        assert load.returncode == 0, load.stderr.decode(errors="replace")

        names = tables(root, "latchkey")
        # every table of the schema, whatever migrations added (users, sessions, key_usage, ...)
        assert {"schema_migrations", "accounts", "api_keys", "audit_log", "audit_head", "users",
                "key_usage", "sessions"} <= set(names), names
        assert tables(root, RESTORED) == names
        assert checksums(root, RESTORED, names) == checksums(root, "latchkey", names)

        # the restored copy is a working latchkey database: its audit chain verifies with the
        # key file and the anchor kept beside the backup
        with root.cursor() as cur:
            cur.execute("SELECT user, host FROM mysql.user WHERE user LIKE 'latchkey%'")
            for user, host in cur.fetchall():
                cur.execute(f"GRANT SELECT ON {RESTORED}.* TO %s@%s", (user, host))
        conf = Path(stack.vardir, "restored.conf")
        text = Path(stack.conf_path).read_text().replace("db_name = latchkey\n", f"db_name = {RESTORED}\n")
        assert f"db_name = {RESTORED}" in text
        conf.write_text(text)
        r = subprocess.run([str(stack.cli_path), "--config", str(conf), "audit", "verify"],
                           capture_output=True, text=True, timeout=120, env=stack.env)
        assert r.returncode == 0 and "audit chain ok" in r.stdout, (r.stdout, r.stderr)
        # the copy's rows are the live ones: the revoked key is revoked there too
        with root.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(f"SELECT revoked_at FROM {RESTORED}.api_keys WHERE public_id = %s", (k["id"],))
            assert cur.fetchone()["revoked_at"] is not None
    finally:
        with root.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {RESTORED}")
        root.close()
