#!/bin/bash
# A private MariaDB for latchkey development and tests.
#
#   scripts/mariadb.sh start|stop|status VARDIR PORT
#   scripts/mariadb.sh grant VARDIR    (after `latchkey init`/`migrate`: the runtime user's table rights)
#
# Everything lives under VARDIR; no system config is read (--no-defaults) or touched:
#   VARDIR/db/                datadir
#   VARDIR/run/mysqld.sock    unix socket      VARDIR/run/mysqld.pid   pid file
#   VARDIR/log/mariadb.err    server log
#   VARDIR/db.password        password of the runtime DB user 'latchkey' (mode 0600)
#   VARDIR/db_admin.password  password of the owner DB user 'latchkey_admin' (mode 0600)
#   VARDIR/latchkey.conf      latchkey config pointing at this server over its unix socket (written
#                             once, db_port kept in
#                             sync, settings added since appended). It names the audit secret
#                             VARDIR/audit.key, which `latchkey init` creates (mode 0600).
# The server listens on 127.0.0.1:PORT and the socket and runs as the invoking user (root: --user=root).
# The first start runs mariadb-install-db and creates database `latchkey` and two users, each
# @'127.0.0.1' and @'localhost' with a random password; later starts reuse it all:
#   latchkey_admin  ALL on latchkey.*: migrations and `latchkey init` (db_admin_user in the config)
#   latchkey        the FastCGI programs and the other CLI commands: no rights until `grant`, which
#                   gives SELECT, INSERT, UPDATE, DELETE on every table except audit_log (SELECT,
#                   INSERT), audit_head (SELECT, UPDATE) and schema_migrations (none).
# Run `grant` after every `latchkey init`/`migrate` (a migration may add tables); the statements are
# those listed in docs/operations.md.
#
# Settings written into a NEW latchkey.conf can be set with the environment variables
# LATCHKEY_DB_CONNECT_TIMEOUT (2), LATCHKEY_DB_READ_TIMEOUT (3), LATCHKEY_DB_WRITE_TIMEOUT (3),
# LATCHKEY_AUDIT_CHECKPOINT_EVERY (100).
# LATCHKEY_DB_BUFFER_POOL sizes the InnoDB buffer pool (default 64M; `make bench` uses more).
# A bash script: `sh scripts/NAME.sh ...` (as the docs and the Makefile run scripts) re-runs it with bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

usage() { echo "usage: $0 start|stop|status VARDIR PORT | grant VARDIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
CMD=$1
VARDIR=$2
PORT=${3:-}
case $CMD in start|stop|status|grant) ;; *) usage ;; esac
if [ "$CMD" = start ]; then
    [[ $PORT =~ ^[0-9]+$ ]] || usage
fi

mkdir -p "$VARDIR"
VARDIR=$(cd "$VARDIR" && pwd -P)
DATADIR=$VARDIR/db
RUNDIR=$VARDIR/run
LOGDIR=$VARDIR/log
SOCK=$RUNDIR/mysqld.sock
PIDFILE=$RUNDIR/mysqld.pid
ERRLOG=$LOGDIR/mariadb.err
PWFILE=$VARDIR/db.password
ADMIN_PWFILE=$VARDIR/db_admin.password
CONF=$VARDIR/latchkey.conf
MARKER=$DATADIR/.latchkey-bootstrapped

if [ ${#SOCK} -ge 107 ]; then
    echo "mariadb: socket path too long for a unix socket (${#SOCK} chars): $SOCK" >&2
    exit 1
fi

ADMIN=(mariadb-admin --no-defaults --socket="$SOCK" --user=root --connect-timeout=2)
CLIENT=(mariadb --no-defaults --socket="$SOCK" --user=root --batch --skip-column-names)

# pid of the running server, or nothing: from the pid file, else (a server interrupted while
# starting has not written it yet) the mariadbd whose command line names this DATADIR
server_pid() {
    local pid p
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/comm" ] && grep -qE '^(mariadbd|mysqld)$' "/proc/$pid/comm"; then
        echo "$pid"
        return 0
    fi
    for p in /proc/[0-9]*; do
        grep -qE '^(mariadbd|mysqld)$' "$p/comm" 2>/dev/null || continue
        if tr '\0' '\n' < "$p/cmdline" 2>/dev/null | grep -qxF -- "--datadir=$DATADIR"; then
            echo "${p#/proc/}"
            return 0
        fi
    done
}

wait_gone() { # pid seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

write_conf() {
    local tmp
    if [ ! -f "$CONF" ]; then
        tmp=$CONF.tmp.$$
        cat > "$tmp" <<CONF
# latchkey config for the private MariaDB under $VARDIR (written by scripts/mariadb.sh)
# the unix socket (a local database: faster than TCP, and how a local install connects);
# for TCP instead: db_host = 127.0.0.1 and no db_socket (db_port is then used)
db_host = localhost
db_socket = $SOCK
db_port = $PORT
db_name = latchkey
db_user = latchkey
db_password_file = $PWFILE
# migrations and latchkey init run as the owner user
db_admin_user = latchkey_admin
db_admin_password_file = $ADMIN_PWFILE
# the audit chain's HMAC secret (created 0600 by latchkey init) and the retired ones
audit_key_file = $VARDIR/audit.key
audit_old_keys_file = $VARDIR/audit-old.keys
audit_checkpoint_every = ${LATCHKEY_AUDIT_CHECKPOINT_EVERY:-100}
db_connect_timeout = ${LATCHKEY_DB_CONNECT_TIMEOUT:-2}
db_read_timeout = ${LATCHKEY_DB_READ_TIMEOUT:-3}
db_write_timeout = ${LATCHKEY_DB_WRITE_TIMEOUT:-3}
key_prefix = lk
base_path = /v1
max_body = 65536
CONF
        chmod 0644 "$tmp"
        mv "$tmp" "$CONF"
    elif ! grep -qE "^[[:space:]]*db_port[[:space:]]*=[[:space:]]*$PORT[[:space:]]*(#.*)?\$" "$CONF"; then
        # same data, different port this time: keep the config pointing at it
        sed -i -E "s/^([[:space:]]*db_port[[:space:]]*=[[:space:]]*)[0-9]+/\\1$PORT/" "$CONF"
    fi
    # a config written by an older version: add the settings it lacks
    add_setting db_admin_user latchkey_admin
    add_setting db_admin_password_file "$ADMIN_PWFILE"
    add_setting audit_key_file "$VARDIR/audit.key"
    add_setting audit_old_keys_file "$VARDIR/audit-old.keys"
}

add_setting() { # key value
    grep -qE "^[[:space:]]*$1[[:space:]]*=" "$CONF" || printf '%s = %s\n' "$1" "$2" >> "$CONF"
}

# a random password in a new 0600 file, or keep the one there
password_file() {
    local pw
    if [ ! -s "$1" ]; then
        pw=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)
        [ ${#pw} -ge 20 ] || { echo "mariadb: could not generate a password" >&2; exit 1; }
        (umask 077; printf '%s\n' "$pw" > "$1.tmp")
        mv "$1.tmp" "$1"
    fi
    chmod 0600 "$1"
}

bootstrap() {
    local pw apw u
    password_file "$PWFILE"
    password_file "$ADMIN_PWFILE"
    pw=$(head -n1 "$PWFILE")
    apw=$(head -n1 "$ADMIN_PWFILE")
    # passwords on stdin, never in argv
    {
        echo "DROP USER IF EXISTS ''@'localhost';"
        echo "DROP USER IF EXISTS ''@'$(hostname)';"
        echo "CREATE DATABASE IF NOT EXISTS latchkey CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
        for u in "'latchkey_admin'@'127.0.0.1'" "'latchkey_admin'@'localhost'"; do
            echo "CREATE USER IF NOT EXISTS $u IDENTIFIED BY '$apw';"
            echo "ALTER USER $u IDENTIFIED BY '$apw';"
            echo "GRANT ALL PRIVILEGES ON latchkey.* TO $u;"
        done
        for u in "'latchkey'@'127.0.0.1'" "'latchkey'@'localhost'"; do
            echo "CREATE USER IF NOT EXISTS $u IDENTIFIED BY '$pw';"
            echo "ALTER USER $u IDENTIFIED BY '$pw';"
        done
    } | "${CLIENT[@]}"
    revoke_db_wide
    touch "$MARKER"
}

# Older VARDIRs gave the runtime user ALL on latchkey.*: take it back (table rights come from grant).
revoke_db_wide() {
    local n u
    n=$("${CLIENT[@]}" -e "SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES
        WHERE TABLE_SCHEMA = 'latchkey' AND GRANTEE LIKE '''latchkey''@%'")
    if [ "$n" != 0 ]; then
        for u in "'latchkey'@'127.0.0.1'" "'latchkey'@'localhost'"; do
            "${CLIENT[@]}" -e "REVOKE ALL PRIVILEGES ON latchkey.* FROM $u"
        done
    fi
}

# The runtime user's rights, table by table (the GRANT statements of docs/operations.md).
do_grant() {
    local t privs u sql=""
    [ -n "$(server_pid)" ] || { echo "mariadb: not running" >&2; exit 1; }
    revoke_db_wide
    for t in $("${CLIENT[@]}" -e "SELECT TABLE_NAME FROM information_schema.TABLES
            WHERE TABLE_SCHEMA = 'latchkey' AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"); do
        case $t in
            audit_log) privs="SELECT, INSERT" ;;
            audit_head) privs="SELECT, UPDATE" ;;
            schema_migrations) continue ;;
            *) privs="SELECT, INSERT, UPDATE, DELETE" ;;
        esac
        for u in "'latchkey'@'127.0.0.1'" "'latchkey'@'localhost'"; do
            sql+="GRANT $privs ON latchkey.\`$t\` TO $u;"$'\n'
        done
    done
    [ -z "$sql" ] || printf '%s' "$sql" | "${CLIENT[@]}"
    echo "mariadb: runtime user 'latchkey' has its table rights (audit_log: SELECT, INSERT only)" >&2
}

do_start() {
    local pid i
    mkdir -p -m 0755 "$DATADIR" "$RUNDIR" "$LOGDIR"
    chmod 0755 "$VARDIR" "$RUNDIR" "$LOGDIR"
    # the server's temporary files in VAR, not /tmp: two installs at once (the e2e workers) in a
    # shared /tmp collided on a temporary table's name ("Unknown table 'mysql.tmp_user_sys'")
    mkdir -p -m 0700 "$VARDIR/tmp"
    pid=$(server_pid)
    if [ -n "$pid" ]; then
        echo "mariadb: already running (pid $pid)" >&2
        [ -f "$CONF" ] || write_conf
    else
        if [ ! -d "$DATADIR/mysql" ]; then
            echo "mariadb: initialising $DATADIR" >&2
            if ! mariadb-install-db --no-defaults --datadir="$DATADIR" --user=root \
                    --auth-root-authentication-method=socket --skip-test-db --tmpdir="$VARDIR/tmp" \
                    > "$LOGDIR/mariadb-install.log" 2>&1; then
                echo "mariadb: mariadb-install-db failed, see $LOGDIR/mariadb-install.log" >&2
                tail -n 20 "$LOGDIR/mariadb-install.log" >&2 || true
                exit 1
            fi
        fi
        rm -f "$SOCK" "$PIDFILE"
        # setsid: a Ctrl-C in the caller's terminal must not hit the server; the caller stops it.
        setsid mariadbd --no-defaults --user=root \
            --datadir="$DATADIR" --socket="$SOCK" --pid-file="$PIDFILE" --log-error="$ERRLOG" \
            --tmpdir="$VARDIR/tmp" --bind-address=127.0.0.1 --port="$PORT" --skip-name-resolve \
            --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
            --max-connections=500 --innodb-buffer-pool-size="${LATCHKEY_DB_BUFFER_POOL:-64M}" \
            --innodb-flush-log-at-trx-commit=2 --skip-log-bin \
            < /dev/null >> "$LOGDIR/mariadb.stdout" 2>&1 &
        local child=$!
        for ((i = 0; i < 600; i++)); do
            if "${ADMIN[@]}" ping > /dev/null 2>&1; then break; fi
            if ! kill -0 "$child" 2>/dev/null; then
                echo "mariadb: server exited during startup, see $ERRLOG" >&2
                tail -n 20 "$ERRLOG" >&2 || true
                exit 1
            fi
            sleep 0.1
        done
        if ! "${ADMIN[@]}" ping > /dev/null 2>&1; then
            echo "mariadb: server did not answer within 60 s, see $ERRLOG" >&2
            tail -n 20 "$ERRLOG" >&2 || true
            exit 1
        fi
        write_conf
    fi
    [ -f "$MARKER" ] && [ -s "$PWFILE" ] && [ -s "$ADMIN_PWFILE" ] || bootstrap
    chmod 0600 "$PWFILE" "$ADMIN_PWFILE"
    echo "mariadb: running on 127.0.0.1:$PORT and $SOCK (pid $(server_pid))" >&2
}

do_stop() {
    local pid
    pid=$(server_pid)
    if [ -z "$pid" ]; then
        echo "mariadb: not running" >&2 || true
        return 0
    fi
    kill -CONT "$pid" 2>/dev/null || true   # in case a test paused it
    "${ADMIN[@]}" shutdown > /dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 60; then
        echo "mariadb: clean shutdown timed out, sending SIGKILL" >&2 || true
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || true
    fi
    echo "mariadb: stopped" >&2 || true   # stopping goes on when the output is a broken pipe
}

do_status() {
    local pid
    pid=$(server_pid)
    if [ -n "$pid" ]; then
        echo "mariadb: running (pid $pid), socket $SOCK"
    else
        echo "mariadb: stopped"
        exit 3
    fi
}

case $CMD in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    grant) do_grant ;;
esac
