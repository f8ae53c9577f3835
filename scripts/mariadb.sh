#!/bin/bash
# A private MariaDB for latchkey development and tests.
#
#   scripts/mariadb.sh start|stop|status VARDIR PORT
#
# Everything lives under VARDIR; no system config is read (--no-defaults) or touched:
#   VARDIR/db/                datadir
#   VARDIR/run/mysqld.sock    unix socket      VARDIR/run/mysqld.pid   pid file
#   VARDIR/log/mariadb.err    server log
#   VARDIR/db.password        password of the 'latchkey' DB user (0644: FastCGI under Apache runs as nobody)
#   VARDIR/latchkey.conf      latchkey config pointing at this server (written once, db_port kept in sync)
# The server listens on 127.0.0.1:PORT and the socket and runs as the invoking user (root: --user=root).
# The first start runs mariadb-install-db and creates database `latchkey` and the user
# 'latchkey'@'127.0.0.1' / 'latchkey'@'localhost' with a random password; later starts reuse it all.
#
# The DB timeouts written into a NEW latchkey.conf can be set with the environment variables
# LATCHKEY_DB_CONNECT_TIMEOUT (2), LATCHKEY_DB_READ_TIMEOUT (3), LATCHKEY_DB_WRITE_TIMEOUT (3).
# A bash script: `sh scripts/NAME.sh ...` (as the docs and the Makefile run scripts) re-runs it with bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

usage() { echo "usage: $0 start|stop|status VARDIR PORT" >&2; exit 2; }
[ $# -ge 2 ] || usage
CMD=$1
VARDIR=$2
PORT=${3:-}
case $CMD in start|stop|status) ;; *) usage ;; esac
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
db_host = 127.0.0.1
db_port = $PORT
# or, over the unix socket: db_host = localhost and
# db_socket = $SOCK
db_name = latchkey
db_user = latchkey
db_password_file = $PWFILE
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
}

bootstrap() {
    local pw
    if [ -s "$PWFILE" ]; then
        pw=$(head -n1 "$PWFILE")
    else
        pw=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)
        [ ${#pw} -ge 20 ] || { echo "mariadb: could not generate a password" >&2; exit 1; }
        (umask 022; printf '%s\n' "$pw" > "$PWFILE.tmp")
        chmod 0644 "$PWFILE.tmp"
        mv "$PWFILE.tmp" "$PWFILE"
    fi
    # password on stdin, never in argv
    "${CLIENT[@]}" <<SQL
DROP USER IF EXISTS ''@'localhost';
DROP USER IF EXISTS ''@'$(hostname)';
CREATE DATABASE IF NOT EXISTS latchkey CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'latchkey'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS 'latchkey'@'localhost' IDENTIFIED BY '$pw';
ALTER USER 'latchkey'@'127.0.0.1' IDENTIFIED BY '$pw';
ALTER USER 'latchkey'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON latchkey.* TO 'latchkey'@'127.0.0.1';
GRANT ALL PRIVILEGES ON latchkey.* TO 'latchkey'@'localhost';
FLUSH PRIVILEGES;
SQL
    touch "$MARKER"
}

do_start() {
    local pid i
    mkdir -p -m 0755 "$DATADIR" "$RUNDIR" "$LOGDIR"
    chmod 0755 "$VARDIR" "$RUNDIR" "$LOGDIR"
    pid=$(server_pid)
    if [ -n "$pid" ]; then
        echo "mariadb: already running (pid $pid)" >&2
        [ -f "$CONF" ] || write_conf
    else
        if [ ! -d "$DATADIR/mysql" ]; then
            echo "mariadb: initialising $DATADIR" >&2
            if ! mariadb-install-db --no-defaults --datadir="$DATADIR" --user=root \
                    --auth-root-authentication-method=socket --skip-test-db \
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
            --bind-address=127.0.0.1 --port="$PORT" --skip-name-resolve \
            --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
            --max-connections=500 --innodb-buffer-pool-size=64M \
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
    [ -f "$MARKER" ] && [ -s "$PWFILE" ] || bootstrap
    echo "mariadb: running on 127.0.0.1:$PORT and $SOCK (pid $(server_pid))" >&2
}

do_stop() {
    local pid
    pid=$(server_pid)
    if [ -z "$pid" ]; then
        echo "mariadb: not running" >&2
        return 0
    fi
    kill -CONT "$pid" 2>/dev/null || true   # in case a test paused it
    "${ADMIN[@]}" shutdown > /dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 60; then
        echo "mariadb: clean shutdown timed out, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || true
    fi
    echo "mariadb: stopped" >&2
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
esac
