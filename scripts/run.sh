#!/bin/sh
# `make run` (POSIX sh; the Makefile runs it with sh): latchkey on a private MariaDB behind a private web server, in the foreground.
#
# Environment: PORT (8080)  SERVER lighttpd|apache|lighttpd-cgi (lighttpd)  VAR (./var)
#              DB_PORT (3307)  BINDIR (build/bin)
# First run: creates VAR (database, passwords, latchkey.conf) and runs `latchkey init` (which creates
# the audit key VAR/audit.key, mode 0600), whose output
# (root account, admin key id, the admin key itself and the console's owner login and password) is
# printed to the terminal ONCE and stored nowhere. Later runs reuse VAR. Ctrl-C stops the web server and MariaDB cleanly.
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$REPO"
PORT=${PORT:-8080}
SERVER=${SERVER:-lighttpd}
VAR=${VAR:-./var}
DB_PORT=${DB_PORT:-3307}
BINDIR=${BINDIR:-build/bin}
case $SERVER in lighttpd|apache|lighttpd-cgi) ;; cgi) SERVER=lighttpd-cgi ;;
    *) echo "run: SERVER must be lighttpd, apache or lighttpd-cgi" >&2; exit 2 ;; esac
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

# make run serves plain http on 127.0.0.1: the console's session cookie cannot be Secure there.
grep -q '^admin_insecure_cookie' "$VAR/latchkey.conf" ||
    printf '# plain-http demo on 127.0.0.1 (make run): cookie without Secure/__Host-\nadmin_insecure_cookie = yes\n' >> "$VAR/latchkey.conf"

if [ ! -f "$VAR/.initialised" ]; then
    echo "run: first run: latchkey init (the admin key and the console login below are shown only this once; store them now)" >&2
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

"$REPO/scripts/webserver.sh" start "$SERVER" "$VAR" "$PORT" "$BINDIR"
web_started=1

cat >&2 <<MSG

latchkey is running ($SERVER, MariaDB on 127.0.0.1:$DB_PORT, data in $VAR)
  base URL:  http://127.0.0.1:$PORT/v1
  console:   http://127.0.0.1:$PORT/admin/  (log in with the login/password printed on the first run)
  try:       curl -H "Authorization: Bearer \$KEY" http://127.0.0.1:$PORT/v1/me
  logs:      $VAR/log/$SERVER-error.log  $VAR/log/$SERVER-access.log
Ctrl-C stops it. Error log follows:
MSG
tail -n 0 -F "$VAR/log/$SERVER-error.log" &
tail_pid=$!
wait "$tail_pid" || true
