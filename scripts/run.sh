#!/bin/sh
# `make run` (POSIX sh; the Makefile runs it with sh): latchkey on a private MariaDB behind a private web server, in the foreground.
#
# Environment: PORT (8080)  SERVER lighttpd|apache|apache-proxy|lighttpd-cgi (lighttpd)  VAR (./var)
#              DB_PORT (3307)  BINDIR (build/bin)
# First run: creates VAR (database, passwords, latchkey.conf) and runs `latchkey init` (which creates
# the audit key VAR/audit.key, mode 0600), whose output
# (root account, admin key id and the admin key itself) is printed to the terminal ONCE and stored
# nowhere. Later runs reuse VAR. Ctrl-C stops the web server and MariaDB cleanly.
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$REPO"
PORT=${PORT:-8080}
SERVER=${SERVER:-lighttpd}
VAR=${VAR:-./var}
DB_PORT=${DB_PORT:-3307}
BINDIR=${BINDIR:-build/bin}
case $SERVER in lighttpd|apache|apache-proxy|lighttpd-cgi) ;; cgi) SERVER=lighttpd-cgi ;;
    *) echo "run: SERVER must be lighttpd, apache, apache-proxy or lighttpd-cgi" >&2; exit 2 ;; esac
[ -x "$BINDIR/latchkey" ] || { echo "run: $BINDIR/latchkey not built (make)" >&2; exit 1; }

mkdir -p "$VAR"
VAR=$(cd "$VAR" && pwd -P)
BINDIR=$(cd "$BINDIR" && pwd -P)

web_started=0
tail_pid=""
cleanup() {
    trap - INT TERM EXIT
    echo >&2
    [ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null || true
    [ $web_started = 0 ] || "$REPO/scripts/webserver.sh" stop "$SERVER" "$VAR" || true
    "$REPO/scripts/mariadb.sh" stop "$VAR" "$DB_PORT" || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$REPO/scripts/mariadb.sh" start "$VAR" "$DB_PORT"

if [ ! -f "$VAR/.initialised" ]; then
    echo "run: first run: latchkey init (the admin key below is shown only this once; store it now)" >&2
    echo "----------------------------------------------------------------------" >&2
    "$BINDIR/latchkey" --config "$VAR/latchkey.conf" init
    echo "----------------------------------------------------------------------" >&2
    touch "$VAR/.initialised"
elif [ ! -f "$VAR/audit.key" ]; then
    # a VAR from before the signed audit log: init applies the migrations, creates the audit key
    # and signs the chain from now on (no new admin key: the root account exists)
    "$BINDIR/latchkey" --config "$VAR/latchkey.conf" init
else
    # apply migrations added since the last run (safe to re-run)
    "$BINDIR/latchkey" --config "$VAR/latchkey.conf" migrate
fi
# the runtime DB user's table rights (tables a migration added need them too)
"$REPO/scripts/mariadb.sh" grant "$VAR"

# The demo app at /demo/ (behind the authorizer) needs a rule; added once, edit it freely.
if ! grep -q '^[[:space:]]*authz_' "$VAR/latchkey.conf"; then
    printf '\n# The authorizer: scopes a path needs (docs/operations.md). Added by scripts/run.sh for /demo/.\nauthz_rule = /demo/ demo:read\nauthz_default = deny\n' >> "$VAR/latchkey.conf"
fi

"$REPO/scripts/webserver.sh" start "$SERVER" "$VAR" "$PORT" "$BINDIR"
web_started=1

cat >&2 <<MSG

latchkey is running ($SERVER, MariaDB on 127.0.0.1:$DB_PORT, data in $VAR)
  base URL:  http://127.0.0.1:$PORT/v1
  try:       curl -H "Authorization: Bearer \$KEY" http://127.0.0.1:$PORT/v1/me
  demo app:  http://127.0.0.1:$PORT/demo/ behind the authorizer (not with lighttpd-cgi); needs a key
             with the scope demo:read (README.md, "The authorizer")
  logs:      $VAR/log/$SERVER-error.log  $VAR/log/$SERVER-access.log
Ctrl-C stops it. Error log follows:
MSG
tail -n 0 -F "$VAR/log/$SERVER-error.log" &
tail_pid=$!
wait "$tail_pid" || true
