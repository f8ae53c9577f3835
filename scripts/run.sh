#!/bin/sh
# `make run` (POSIX sh; the Makefile runs it with sh): latchkey on a private MariaDB behind a private web server, in the foreground.
#
# Environment: PORT (8080)  SERVER lighttpd|apache|apache-proxy|lighttpd-cgi (lighttpd)  VAR (./var)
#              DB_PORT (3307)  BINDIR (build/bin)
#              DB mariadb|galera (mariadb): galera serves latchkey on a 3-node Galera cluster on
#              loopback (scripts/galera.sh; VAR defaults to ./var-galera, nodes on DB_PORT 3311,
#              3312, 3313) with all three nodes in db_host; migrations and `latchkey init` run
#              once, through the first node (DDL replicates in total order), as on one server.
#              CACHE on|off (unset: as the config says; on: the host-local verify cache under
#              VAR/cache/SERVER, docs/operations.md "Verify cache")
# First run: creates VAR (database, passwords, latchkey.conf) and runs `latchkey init` (which creates
# the audit key VAR/audit.key, mode 0600), whose output
# (root account, admin key id, the admin key itself and the console's owner login and password) is
# printed to the terminal ONCE and stored nowhere. Later runs reuse VAR.
#
# Lifecycle: start-up and shutdown are one supervised unit.
# - A lock on VAR/run.lock (flock) is taken before anything is touched: a second instance on the
#   same VAR refuses and leaves the first alone.
# - Ctrl-C (INT), TERM and HUP (terminal closed) at any time, start-up included, stop the web
#   server (and its FastCGI programs) and MariaDB. Each start-up step runs in its own session
#   (setsid -w), so a Ctrl-C reaches only this script, which lets the step finish (a server is
#   never left half-started and unknown) and then shuts everything down. Once shutdown has
#   begun, further signals are ignored by it and by the stop scripts it runs, so a second
#   Ctrl-C cannot leave MariaDB behind.
# - After a HUP the terminal is gone: shutdown messages go to VAR/log/run.log.
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$REPO"
PORT=${PORT:-8080}
SERVER=${SERVER:-lighttpd}
DB=${DB:-mariadb}
case $DB in
    mariadb) VAR=${VAR:-./var}; DB_PORT=${DB_PORT:-3307} ;;
    galera) VAR=${VAR:-./var-galera}; DB_PORT=${DB_PORT:-3311} ;;
    *) echo "run: DB must be mariadb or galera" >&2; exit 2 ;;
esac
BINDIR=${BINDIR:-build/bin}
case $SERVER in lighttpd|apache|apache-proxy|lighttpd-cgi) ;; cgi) SERVER=lighttpd-cgi ;;
    *) echo "run: SERVER must be lighttpd, apache, apache-proxy or lighttpd-cgi" >&2; exit 2 ;; esac
[ -x "$BINDIR/latchkey" ] || { echo "run: $BINDIR/latchkey not built (make)" >&2; exit 1; }

mkdir -p "$VAR"
VAR=$(cd "$VAR" && pwd -P)
BINDIR=$(cd "$BINDIR" && pwd -P)

# One instance per VAR. fd 9 holds the lock for as long as this shell lives; the servers started
# below do not inherit it (9>&-), so a leftover server can never keep a stale lock.
exec 9>>"$VAR/run.lock"
if ! flock -n 9; then
    echo "run: another 'make run' is using $VAR (lock $VAR/run.lock held); stop it first" >&2
    exit 1
fi

stopping=0
hungup=0
tail_pid=""
deliver_pid=""
cleanup() {
    status=$?
    # Ignored here and, inherited, in the stop scripts below. PIPE too: a reader of our output
    # (`make run 2>&1 | tee run.log`) dies with the same Ctrl-C, and a write to its pipe must
    # fail, not kill a stop script half-way.
    trap '' HUP INT TERM PIPE
    trap - EXIT
    set +e
    [ $stopping = 0 ] || return
    stopping=1
    why=""
    if [ $hungup = 1 ]; then
        why="terminal closed (SIGHUP)"
    elif ! echo >&2 2>/dev/null || ! printf '\n' 2>/dev/null; then
        # the reader is already gone: keep the stop messages in the log (if it dies later, the
        # stop scripts' messages are lost, but the stopping goes on)
        why="output closed (whatever read it has gone)"
    fi
    if [ -n "$why" ]; then
        mkdir -p "$VAR/log"
        exec >>"$VAR/log/run.log" 2>&1 </dev/null
        echo "run: $why at $(date -u +%FT%TZ): stopping"
    fi
    [ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null
    # the webhook worker finishes the message it is posting, then exits
    if [ -n "$deliver_pid" ]; then
        kill -TERM "$deliver_pid" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$deliver_pid" 2>/dev/null || break; sleep 0.2; done
    fi
    # Stop both, whatever start-up reached: the stop scripts find servers that are still starting.
    "$REPO/scripts/webserver.sh" stop "$SERVER" "$VAR" 9>&-
    if [ "$DB" = galera ]; then
        "$REPO/scripts/galera.sh" stop "$VAR" 9>&-
    else
        "$REPO/scripts/mariadb.sh" stop "$VAR" "$DB_PORT" 9>&-
    fi
    # the terminal (or the pipe) may be gone by now: VAR/log/run.log always has the last word
    echo "run: stopped" >&2 2>/dev/null
    mkdir -p "$VAR/log" 2>/dev/null
    [ -n "$why" ] || echo "run: stopped at $(date -u +%FT%TZ) (${SERVER})" >> "$VAR/log/run.log" 2>/dev/null
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'hungup=1; exit 129' HUP

if [ "$DB" = galera ]; then
    # the cluster's directories belong to the mysql user, which must reach them (SST)
    chmod o+x "$VAR"
    GALERA_PORT=$DB_PORT setsid -w "$REPO/scripts/galera.sh" start "$VAR" 9>&-
else
    setsid -w "$REPO/scripts/mariadb.sh" start "$VAR" "$DB_PORT" 9>&-
fi

# make run serves plain http on 127.0.0.1: the console's session cookie cannot be Secure there.
grep -q '^admin_insecure_cookie' "$VAR/latchkey.conf" ||
    printf '# plain-http demo on 127.0.0.1 (make run): cookie without Secure/__Host-\nadmin_insecure_cookie = yes\n' >> "$VAR/latchkey.conf"

if [ ! -f "$VAR/.initialised" ]; then
    echo "run: first run: latchkey init (the admin key and the console login below are shown only this once; store them now)" >&2
    echo "----------------------------------------------------------------------" >&2
    setsid -w "$BINDIR/latchkey" --config "$VAR/latchkey.conf" init 9>&-
    echo "----------------------------------------------------------------------" >&2
    touch "$VAR/.initialised"
elif [ ! -f "$VAR/audit.key" ]; then
    # a VAR from before the signed audit log: init applies the migrations, creates the audit key
    # and signs the chain from now on (no new admin key: the root account exists)
    "$BINDIR/latchkey" --config "$VAR/latchkey.conf" init
else
    # apply migrations added since the last run (safe to re-run)
    setsid -w "$BINDIR/latchkey" --config "$VAR/latchkey.conf" migrate 9>&-
fi
# the runtime DB user's table rights (tables a migration added need them too)
setsid -w "$REPO/scripts/mariadb.sh" grant "$VAR" 9>&-

# Webhooks to receivers on this machine (http://127.0.0.1:…): development only, never in
# production (docs/operations.md, "Webhooks").
grep -q '^webhook_allow_private' "$VAR/latchkey.conf" ||
    printf '# make run: webhooks may go to http:// and private addresses (development only)\nwebhook_allow_private = yes\n' >> "$VAR/latchkey.conf"

# Leak reports from GitHub's secret scanning: its public keys, fetched by
# `latchkey leaks refresh-keys` (docs/operations.md, "Leaked keys").
grep -q '^github_secret_scanning_keys_file' "$VAR/latchkey.conf" ||
    printf '# make run: the keys POST /v1/leaks/github checks (latchkey leaks refresh-keys --out ...)\ngithub_secret_scanning_keys_file = %s\n' "$VAR/secret-scanning-keys.json" >> "$VAR/latchkey.conf"

# The demo app at /demo/ (behind the authorizer) needs a rule; added once, edit it freely.
if ! grep -q '^[[:space:]]*authz_' "$VAR/latchkey.conf"; then
    printf '\n# The authorizer: scopes a path needs (docs/operations.md). Added by scripts/run.sh for /demo/.\nauthz_rule = /demo/ demo:read\nauthz_default = deny\n' >> "$VAR/latchkey.conf"
fi

# CACHE=on|off: the verify cache, in a directory of the user the programs run as (Apache started
# as root runs them as nobody, see scripts/webserver.sh); the setting stays for later runs.
case ${CACHE:-} in
    on)
        cdir=$VAR/cache/$SERVER
        mkdir -p "$VAR/cache"
        if [ ! -d "$cdir" ]; then
            mkdir -m 0700 "$cdir"
            case $SERVER in apache*) [ "$(id -u)" != 0 ] || chown nobody:nogroup "$cdir" ;; esac
        fi
        sed -i -e '/^verify_cache[[:space:]]*=/d' -e '/^cache_dir[[:space:]]*=/d' "$VAR/latchkey.conf"
        printf '# make run CACHE=on: the verify cache (docs/operations.md)\nverify_cache = on\ncache_dir = %s\n' \
            "$cdir" >> "$VAR/latchkey.conf" ;;
    off) sed -i -e 's/^verify_cache[[:space:]]*=.*/verify_cache = off/' "$VAR/latchkey.conf" ;;
    '') ;;
    *) echo "run: CACHE must be on or off" >&2; exit 2 ;;
esac

setsid -w "$REPO/scripts/webserver.sh" start "$SERVER" "$VAR" "$PORT" "$BINDIR" 9>&-

# The webhook delivery worker (every server mode): posts the outbox's messages.
"$BINDIR/latchkey-deliver" --config "$VAR/latchkey.conf" >> "$VAR/log/deliver.log" 2>&1 9>&- &
deliver_pid=$!

cat >&2 <<MSG

latchkey is running ($SERVER, $(if [ "$DB" = galera ]; then echo "a 3-node Galera cluster: $(grep '^db_host' "$VAR/latchkey.conf" | cut -d= -f2- | sed 's/^ //')"; else echo "MariaDB on 127.0.0.1:$DB_PORT"; fi), data in $VAR)
  base URL:  http://127.0.0.1:$PORT/v1
  console:   http://127.0.0.1:$PORT/admin/  (log in with the login/password printed on the first run)
  try:       curl -H "Authorization: Bearer \$KEY" http://127.0.0.1:$PORT/v1/me
  demo app:  http://127.0.0.1:$PORT/demo/ behind the authorizer (not with lighttpd-cgi); needs a key
             with the scope demo:read (README.md, "The authorizer")
  webhooks:  delivered by latchkey-deliver (log: $VAR/log/deliver.log)
  leaks:     POST /v1/leaks; /v1/leaks/github checks $VAR/secret-scanning-keys.json
             (fill it: $BINDIR/latchkey --config $VAR/latchkey.conf leaks refresh-keys)
  logs:      $VAR/log/$SERVER-error.log  $VAR/log/$SERVER-access.log
Ctrl-C stops it. Error log follows:
MSG
tail -n 0 -F "$VAR/log/$SERVER-error.log" 9>&- &
tail_pid=$!
wait "$tail_pid" || true
