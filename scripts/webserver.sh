#!/bin/bash
# Run latchkey behind a private web server (tests and `make run`).
#
#   scripts/webserver.sh start KIND VARDIR PORT BINDIR [AUTHZ_PORT]
#   scripts/webserver.sh stop  KIND VARDIR
#   scripts/webserver.sh status KIND VARDIR
#
# KIND: lighttpd      lighttpd + mod_fastcgi   (template lighttpd/latchkey.conf.in)
#       lighttpd-cgi  lighttpd + mod_cgi       (template lighttpd/latchkey-cgi.conf.in)
#       apache        Apache 2.4 + mod_fcgid   (template apache/latchkey.conf.in)
#       apache-proxy  Apache 2.4 + mod_proxy_fcgi in front of latchkey-pool processes started here
#                     (template apache/latchkey-proxy.conf.in; one pool per program, unix sockets)
# lighttpd, apache and apache-proxy also serve the demo app (demo/) at /demo/ behind the latchkey
# authorizer (templates lighttpd/latchkey-authz.conf.in, apache/latchkey-authz.conf.in, appended to
# the main config). Apache's authorizer runs outside Apache (mod_authnz_fcgi needs TCP): a
# latchkey-pool of authorize.fcgi on 127.0.0.1:AUTHZ_PORT (default PORT+1).
# POOL_WORKERS (2): workers per pool. LATCHKEY_DEMO_LOG=1: the demo app appends each request's
# X-Request-Id to VARDIR/log/KIND-demo.log (the tests prove with it that refusals never ran the app).
# VARDIR holds latchkey.conf (see scripts/mariadb.sh); BINDIR holds keys.fcgi key.fcgi verify.fcgi
# me.fcgi accounts.fcgi. The server listens on 127.0.0.1:PORT. `start` returns once the port
# answers; the server keeps running in its own session (a Ctrl-C in the caller's terminal does not
# reach it); `stop` shuts it down and waits for it and the latchkey processes it spawned to exit.
#
# Files: VARDIR/run/KIND.conf (rendered config, lighttpd), VARDIR/run/KIND.pid,
#        VARDIR/log/KIND-error.log (server + program stderr, sanitizer reports), VARDIR/log/KIND-access.log,
#        VARDIR/log/KIND-stderr.log (config check output; Apache: its own startup stdout/stderr).
# The latchkey-pool processes (Apache kinds) append their and their programs' stderr to
# KIND-error.log too, next to Apache's own lines: one log holds every latchkey message.
# lighttpd runs as the invoking user (the templates' USER/GROUP rendered empty; an installation
# sets an unprivileged one) in the foreground (-D) with stdout/stderr appended to KIND-error.log, because the
# programs inherit its stderr; Apache hands its ErrorLog to the programs itself.
# Apache runs as nobody/nogroup (it refuses to serve as root) and the repo may be in a 0700 home, so
# `start apache` STAGES the programs, the rendered config (httpd.conf), a copy of latchkey.conf
# (without the CLI-only settings db_admin_* and audit_old_keys_file) and of the secret files it names
# (DB password, audit key and its anchor: mode 0600, owned by nobody) into a fresh 0755 directory
# /tmp/latchkey-apache.XXXXXX (path recorded in VARDIR/run/apache.stage; removed by `stop`). Logs
# still go to VARDIR/log (opened as root). After `latchkey audit rotate-key`, restart Apache so the
# programs get the new audit key.
# The latchkey-pool processes (apache: the authorizer; apache-proxy: every program) run as the same
# user as Apache (started as root: nobody/nogroup, through setpriv; else the invoking user). Their
# unix sockets (apache-proxy) are mode 0600 in the stage's run/ directory, mode 0700 and owned by
# that user: no other local user can speak FastCGI to a program (and choose its REMOTE_ADDR).
#
# ASAN_OPTIONS, UBSAN_OPTIONS and LSAN_OPTIONS, when set, are passed to the programs.
# APACHE_LOGLEVEL (apache only), when set, is appended as a LogLevel line (the tests log mod_qos's
# refusals, which the shipped config keeps quiet).
# ADMIN_HTPASSWD (apache only), when set, names an htpasswd file: /admin then needs HTTP Basic auth
# against it (the template's "#ADMIN_AUTH" lines), for latchkey's admin_trust_remote_user mode.
# A bash script: `sh scripts/NAME.sh ...` (as the docs and the Makefile run scripts) re-runs it with bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

usage() {
    echo "usage: $0 start KIND VARDIR PORT BINDIR | stop KIND VARDIR | status KIND VARDIR" >&2
    echo "       KIND: lighttpd | lighttpd-cgi | apache | apache-proxy" >&2
    exit 2
}
[ $# -ge 3 ] || usage
CMD=$1 KIND=$2 VARDIR=$3
case $KIND in lighttpd|lighttpd-cgi|apache|apache-proxy) ;; cgi) KIND=lighttpd-cgi ;; *) usage ;; esac
case $CMD in
    start) [ $# -ge 5 ] || usage; PORT=$4 BINDIR=$5; AUTHZ_PORT=${6:-$((PORT + 1))}
           [[ $PORT =~ ^[0-9]+$ && $AUTHZ_PORT =~ ^[0-9]+$ ]] || usage ;;
    stop|status) ;;
    *) usage ;;
esac

REPO=$(cd "$(dirname "$0")/.." && pwd -P)
[ -d "$VARDIR" ] || { echo "webserver: no such directory: $VARDIR" >&2; exit 1; }
VARDIR=$(cd "$VARDIR" && pwd -P)
RUNDIR=$VARDIR/run
LOGDIR=$VARDIR/log
PIDFILE=$RUNDIR/$KIND.pid
STAGEFILE=$RUNDIR/$KIND.stage
PROGRAMS="keys key verify me accounts audit webhooks leaks health admin notfound"
POOL_WORKERS=${POOL_WORKERS:-2}
DEMOLOG=""
[ -z "${LATCHKEY_DEMO_LOG:-}" ] || DEMOLOG=$LOGDIR/$KIND-demo.log

# || true: stopping must go on when the output is a broken pipe (`make run | tee` and Ctrl-C)
log() { echo "webserver($KIND): $*" >&2 || true; }
die() { log "$*"; exit 1; }

# pid from the pid file if that process is still a lighttpd/apache2; else (a server interrupted
# while starting may not have written it yet) the oldest server started with this instance's config
server_pid() {
    local pid p conf
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/comm" ] && grep -qE '^(lighttpd|apache2|httpd)$' "/proc/$pid/comm"; then
        echo "$pid"
        return 0
    fi
    if [[ $KIND = apache* ]]; then   # the staged httpd.conf (apache, apache-proxy)
        conf=$(cat "$STAGEFILE" 2>/dev/null || true)
        [ -n "$conf" ] || return 0
        conf=$conf/httpd.conf
    else
        conf=$RUNDIR/$KIND.conf
    fi
    for p in $(ls -d /proc/[0-9]* 2>/dev/null | sed 's|/proc/||' | sort -n); do
        grep -qE '^(lighttpd|apache2|httpd)$' "/proc/$p/comm" 2>/dev/null || continue
        if tr '\0' '\n' < "/proc/$p/cmdline" 2>/dev/null | grep -qxF -- "$conf"; then
            echo "$p"
            return 0
        fi
    done
}

# all descendants of a pid (fcgi programs, Apache children, mod_fcgid's process manager ...)
descendants() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END {
            for (p in parent) {
                q = p
                for (i = 0; i < 64 && q != "" && q != 0 && q != 1; i++) {
                    q = parent[q]
                    if (q == root) { print p; break }
                }
            }
        }'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_gone() { # seconds pid...
    local secs=$1 i p alive
    shift
    for ((i = 0; i < secs * 10; i++)); do
        alive=0
        for p in "$@"; do
            if kill -0 "$p" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null; then
                alive=1
                break
            fi
        done
        [ $alive = 0 ] && return 0
        sleep 0.1
    done
    return 1
}

# sanitizer options -> extra config lines (lighttpd: var.latchkey_env += ...; apache: FcgidInitialEnv)
extra_env() {
    local v val out=""
    for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
        val=${!v-}
        [ -n "$val" ] || continue
        case $val in *[\"\\\|\&$'\n']*) die "$v contains a character this script will not quote: $val" ;; esac
        if [[ $KIND = apache* ]]; then
            out+="FcgidInitialEnv $v \"$val\"\\n"
        else
            out+="var.latchkey_env += ( \"$v\" => \"$val\" )\\n"
        fi
    done
    printf '%s' "$out"
}

# the same options for the programs Apache starts under FcgidCmdOptions (which drops FcgidInitialEnv)
cmd_env() {
    local v
    for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
        [ -z "${!v-}" ] || printf ' InitialEnv "%s=%s"' "$v" "${!v}"
    done
}

render() { # template output NAME=VALUE... (scripts/render-config, plus the sanitizer hook)
    local tpl=$1 out=$2
    shift 2
    sh "$REPO/scripts/render-config" "$tpl" "$@" |
        sed -e "s|^#@EXTRA_ENV@\$|$(extra_env)# (end of sanitizer environment)|" \
            -e "s|^\([[:space:]]*InitialEnv \"LATCHKEY_CONF=[^\"]*\"\)\$|\1$(cmd_env)|" > "$out.tmp" ||
        die "cannot render $tpl"
    mv "$out.tmp" "$out"
}

conf_value() { # key file -> value (first match, comment and blanks stripped)
    sed -n -E "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*([^#]*[^#[:space:]])[[:space:]]*(#.*)?\$/\\1/p" "$2" | head -n1
}

start_lighttpd() {
    local tpl conf sockdir docroot pid child i
    if [ "$KIND" = lighttpd ]; then
        # the API, then the authorizer in front of the demo app
        tpl=$RUNDIR/$KIND.conf.in
        cat "$REPO/lighttpd/latchkey.conf.in" "$REPO/lighttpd/latchkey-authz.conf.in" > "$tpl"
    else
        tpl=$REPO/lighttpd/latchkey-cgi.conf.in
    fi
    conf=$RUNDIR/$KIND.conf
    demo_log_file
    sockdir=$RUNDIR/$KIND-fcgi
    docroot=$RUNDIR/$KIND-docroot
    [ $(( ${#sockdir} + 20 )) -lt 108 ] || die "VARDIR path too long for FastCGI unix sockets: $sockdir"
    rm -rf "$sockdir"   # the template's include_shell makes it again (0700)
    mkdir -p -m 0755 "$docroot"
    render "$tpl" "$conf" PORT="$PORT" BINDIR="$BINDIR" CONF="$VARDIR/latchkey.conf" \
        RUNDIR="$RUNDIR" LOGDIR="$LOGDIR" DOCROOT="$docroot" NAME="$KIND" ERRORDIR="$REPO/lighttpd/errors" \
        DEMODIR="$REPO/demo" DEMOLOG="$DEMOLOG" USER= GROUP=
    lighttpd -tt -f "$conf" > "$LOGDIR/$KIND-stderr.log" 2>&1 || { cat "$LOGDIR/$KIND-stderr.log" >&2; die "bad config $conf"; }
    rm -f "$PIDFILE"
    # -D: stay in the foreground (of our background subshell); in -D mode lighttpd does not apply
    # server.breakagelog, so its stderr (inherited by the programs) goes to the error log here.
    (cd / && exec setsid lighttpd -D -f "$conf" < /dev/null >> "$LOGDIR/$KIND-error.log" 2>&1) &
    child=$!
    wait_port "$child"
}

# Apache kinds: the user Apache and the pools run as. Started as root: nobody/nogroup (Apache
# switches itself, the pools are started through setpriv); otherwise the invoking user, for both.
AS_SERVER_USER=()
[ "$(id -u)" != 0 ] || AS_SERVER_USER=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
give_to_server_user() { # path...
    [ "$(id -u)" != 0 ] || chown nobody:nogroup "$@"
}

# Copy the secret file a config setting names into the stage dir, readable by the server user only
# (0600, owned by it), and point the staged config at the copy.
stage_secret() { # setting name stage
    local src
    src=$(conf_value "$1" "$VARDIR/latchkey.conf")
    [ -n "$src" ] || return 0
    [ -f "$src" ] || die "$1: no such file $src (run latchkey init first)"
    install -m 0600 "$src" "$3/$2"
    give_to_server_user "$3/$2"
    sed -i -E "s|^([[:space:]]*$1[[:space:]]*=[[:space:]]*).*\$|\\1$3/$2|" "$3/latchkey.conf"
}


# an empty record of demo app runs, writable by the server user (LATCHKEY_DEMO_LOG=1 only)
demo_log_file() {
    [ -z "$DEMOLOG" ] || { : > "$DEMOLOG"; chmod 0666 "$DEMOLOG"; }
}

# start_pool NAME LISTEN PROGRAM [OPTIONS]: a latchkey-pool of a staged program (Apache kinds), run
# as the server user
start_pool() {
    local name=$1 listen=$2 program=$3 stage i
    shift 3
    stage=$(cat "$STAGEFILE")
    (cd / && exec setsid env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C LATCHKEY_CONF="$stage/latchkey.conf" \
        ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} \
        ${LSAN_OPTIONS:+LSAN_OPTIONS="$LSAN_OPTIONS"} "${AS_SERVER_USER[@]}" \
        "$stage/bin/latchkey-pool" --listen "$listen" --workers "$POOL_WORKERS" \
        --pid-file "$stage/run/pool-$name.pid" "$@" -- "$program" \
        < /dev/null >> "$LOGDIR/$KIND-error.log" 2>&1) &
    for ((i = 0; i < 100; i++)); do
        case $listen in
            unix:*) [ -S "${listen#unix:}" ] && [ -s "$stage/run/pool-$name.pid" ] && return 0 ;;
            *) port_open "${listen##*:}" && [ -s "$stage/run/pool-$name.pid" ] && return 0 ;;
        esac
        sleep 0.1
    done
    tail -n 20 "$LOGDIR/$KIND-error.log" >&2 || true
    die "pool $name did not start on $listen"
}

# stop every pool of the stage dir and wait until they and their workers are gone
stop_pools() {
    local stage f pid pids=""
    [ -f "$STAGEFILE" ] || return 0
    stage=$(cat "$STAGEFILE")
    for f in "$stage"/run/pool-*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null || true)
        [[ $pid =~ ^[0-9]+$ ]] && grep -q '^latchkey-pool$' "/proc/$pid/comm" 2>/dev/null || continue
        pids+=" $pid $(descendants "$pid" | tr '\n' ' ')"
        kill -TERM "$pid" 2>/dev/null || true
    done
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    if ! wait_gone 30 $pids; then
        log "pools did not stop within 30 s, sending SIGKILL"
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
    fi
}

start_apache() {
    local stage child moddir tpl p keyfile
    moddir=/usr/lib/apache2/modules
    [ -f "$moddir/mod_fcgid.so" ] || die "mod_fcgid not found in $moddir (apt-get install libapache2-mod-fcgid)"
    stage=$(mktemp -d /tmp/latchkey-apache.XXXXXX)
    chmod 0755 "$stage"
    echo "$stage" > "$STAGEFILE"
    mkdir -m 0755 "$stage/bin" "$stage/docroot"
    # pid files, mutexes and the pools' sockets: only the server user may enter
    mkdir -m 0700 "$stage/run"
    give_to_server_user "$stage/run"
    for p in $PROGRAMS authorize; do
        cp "$BINDIR/$p.fcgi" "$stage/bin/$p.fcgi"
        chmod 0755 "$stage/bin/$p.fcgi"
    done
    cp "$BINDIR/latchkey-pool" "$stage/bin/latchkey-pool"
    cp -r "$REPO/demo" "$stage/demo"
    chmod -R a+rX "$stage/bin" "$stage/demo"
    demo_log_file
    # The programs' config, without what only the CLI uses (owner DB user, retired audit keys).
    grep -vE '^[[:space:]]*(db_admin_user|db_admin_password_file|audit_old_keys_file)[[:space:]]*=' \
        "$VARDIR/latchkey.conf" > "$stage/latchkey.conf"
    chmod 0644 "$stage/latchkey.conf"
    stage_secret db_password_file db.password "$stage"
    stage_secret audit_key_file audit.key "$stage"
    # the audit chain's anchor, next to the key (<audit_key_file>.anchor): the console checks it
    keyfile=$(conf_value audit_key_file "$VARDIR/latchkey.conf")
    if [ -n "$keyfile" ] && [ -f "$keyfile.anchor" ]; then
        install -m 0600 "$keyfile.anchor" "$stage/audit.key.anchor"
        [ "$(id -u)" != 0 ] || chown nobody:nogroup "$stage/audit.key.anchor"
    fi
    # the API (mod_fcgid, or mod_proxy_fcgi to the pools), then the authorizer in front of the demo app
    # apache: the standalone server includes latchkey itself from the snippet an existing server uses
    if [ "$KIND" = apache ]; then
        tpl=$REPO/apache/latchkey.conf.in
        render "$REPO/apache/latchkey-include.conf.in" "$stage/latchkey-include.conf" \
            BINDIR="$stage/bin" CONF="$stage/latchkey.conf"
    else
        tpl=$REPO/apache/latchkey-proxy.conf.in
    fi
    cat "$tpl" "$REPO/apache/latchkey-authz.conf.in" > "$stage/httpd.conf.in"
    render "$stage/httpd.conf.in" "$stage/httpd.conf" PORT="$PORT" BINDIR="$stage/bin" \
        CONF="$stage/latchkey.conf" SERVERROOT="$stage" RUNDIR="$stage/run" LOGDIR="$LOGDIR" \
        DOCROOT="$stage/docroot" MODDIR="$moddir" USER=nobody GROUP=nogroup AUTHZ_PORT="$AUTHZ_PORT" \
        DEMODIR="$stage/demo" DEMOLOG="$DEMOLOG" INCLUDE="$stage/latchkey-include.conf"
    if [ -n "${ADMIN_HTPASSWD-}" ]; then   # /admin behind Basic auth (the "#ADMIN_AUTH" lines)
        cp "$ADMIN_HTPASSWD" "$stage/admin.htpasswd"
        chmod 0644 "$stage/admin.htpasswd"
        for f in "$stage/httpd.conf" "$stage/latchkey-include.conf"; do
            [ ! -f "$f" ] || sed -i -e "s|^#ADMIN_AUTH ||" -e "s|@ADMIN_HTPASSWD@|$stage/admin.htpasswd|g" "$f"
        done
    fi
    if [ -n "${APACHE_LOGLEVEL-}" ]; then echo "LogLevel $APACHE_LOGLEVEL" >> "$stage/httpd.conf"; fi
    cp "$stage/httpd.conf" "$RUNDIR/$KIND.conf"   # for reference; the one in use is in the stage dir
    apache2 -t -f "$stage/httpd.conf" > "$LOGDIR/$KIND-stderr.log" 2>&1 || { cat "$LOGDIR/$KIND-stderr.log" >&2; die "bad config $stage/httpd.conf"; }
    if port_open "$AUTHZ_PORT"; then die "authorizer port $AUTHZ_PORT is already in use"; fi
    # the programs outside Apache: the authorizer (TCP: mod_authnz_fcgi), and for apache-proxy the API
    trap 'stop_pools; do_stop_apache_stage' EXIT   # a failed start leaves nothing running
    start_pool authorize "127.0.0.1:$AUTHZ_PORT" "$stage/bin/authorize.fcgi"
    if [ "$KIND" = apache-proxy ]; then
        for p in $PROGRAMS; do
            start_pool "$p" "unix:$stage/run/$p.sock" "$stage/bin/$p.fcgi" --socket-mode 0600
        done
    fi
    rm -f "$PIDFILE"
    (cd / && exec setsid env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C \
        apache2 -f "$stage/httpd.conf" -DFOREGROUND < /dev/null >> "$LOGDIR/$KIND-stderr.log" 2>&1) &
    child=$!
    # from here a start that fails or is interrupted (Ctrl-C) stops Apache too, before the stage
    # dir that identifies it is removed
    trap 'do_stop' EXIT
    # PIDFILE points at Apache's own pid file
    ln -sf "$stage/run/apache.pid" "$PIDFILE"
    wait_port "$child"
    trap - EXIT
}

wait_port() {
    local child=$1 i
    for ((i = 0; i < 300; i++)); do
        if port_open "$PORT" && [ -n "$(server_pid)" ]; then
            log "listening on http://127.0.0.1:$PORT (pid $(server_pid))"
            return 0
        fi
        if ! kill -0 "$child" 2>/dev/null; then
            tail -n 20 "$LOGDIR/$KIND-stderr.log" "$LOGDIR/$KIND-error.log" >&2 2>/dev/null || true
            die "server exited during startup"
        fi
        sleep 0.1
    done
    kill -TERM "$child" 2>/dev/null || true
    die "port $PORT did not answer within 30 s"
}

do_start() {
    [ -f "$VARDIR/latchkey.conf" ] || die "no $VARDIR/latchkey.conf (run scripts/mariadb.sh start first)"
    [ -d "$BINDIR" ] || die "no such directory: $BINDIR"
    BINDIR=$(cd "$BINDIR" && pwd -P)
    for p in $PROGRAMS authorize; do
        [ -x "$BINDIR/$p.fcgi" ] || die "missing program $BINDIR/$p.fcgi"
    done
    [ -x "$BINDIR/latchkey-pool" ] || die "missing program $BINDIR/latchkey-pool"
    [ -z "$(server_pid)" ] || die "already running (pid $(server_pid)); stop it first"
    if port_open "$PORT"; then die "port $PORT is already in use"; fi
    extra_env > /dev/null   # validate the sanitizer options here (render calls it in a subshell)
    mkdir -p -m 0755 "$RUNDIR" "$LOGDIR"
    case $KIND in
        apache*) stop_pools; do_stop_apache_stage; start_apache ;;
        *) start_lighttpd ;;
    esac
}

do_stop_apache_stage() { # remove a stage dir left by an earlier run
    local stage
    [ -f "$STAGEFILE" ] || return 0
    stage=$(cat "$STAGEFILE")
    case $stage in /tmp/latchkey-apache.*) rm -rf "$stage" ;; esac
    rm -f "$STAGEFILE"
}

do_stop() {
    local pid kids
    pid=$(server_pid)
    if [ -z "$pid" ]; then
        log "not running"
    else
        kids=$(descendants "$pid" | tr '\n' ' ')
        kill -TERM "$pid" 2>/dev/null || true
        # shellcheck disable=SC2086
        if ! wait_gone 30 "$pid" $kids; then
            log "did not stop within 30 s, sending SIGKILL"
            # shellcheck disable=SC2086
            kill -KILL "$pid" $kids 2>/dev/null || true
            # shellcheck disable=SC2086
            wait_gone 5 "$pid" $kids || true
        fi
        log "stopped"
    fi
    rm -f "$PIDFILE"
    if [[ $KIND = apache* ]]; then
        stop_pools
        do_stop_apache_stage
    fi
}

do_status() {
    if [ -n "$(server_pid)" ]; then
        echo "$KIND: running (pid $(server_pid))"
    else
        echo "$KIND: stopped"
        exit 3
    fi
}

case $CMD in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
esac
