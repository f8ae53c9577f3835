#!/bin/bash
# A private 3-node MariaDB Galera cluster on loopback, for development, tests and benchmarks.
#
#   scripts/galera.sh start [NODE] DIR   start the cluster (all nodes), or one node (rejoins)
#   scripts/galera.sh stop [NODE] DIR    clean shutdown (all: nodes 3, 2, then 1, so 1 may bootstrap)
#   scripts/galera.sh kill NODE DIR      SIGKILL one node (a crash)
#   scripts/galera.sh status DIR         each node's wsrep_cluster_size, state and wsrep_ready
#   scripts/galera.sh grant DIR          the runtime user's table rights (scripts/mariadb.sh grant)
#
# Ports: GALERA_PORT (3311) is the first of 12 consecutive ports, kept in DIR/galera.port at the
# first start: node N (1..3) serves SQL on GALERA_PORT+N-1, group communication on +3, IST on +6
# and rsync SST on +9 (so parallel clusters on one machine need only distinct GALERA_PORTs).
#
# DIR is laid out as scripts/mariadb.sh's VARDIR, node 1 in its place, so that script's users,
# passwords, latchkey.conf and `grant` serve the cluster too:
#   DIR/db DIR/run DIR/log           node 1 (datadir, socket and pid file, logs)
#   DIR/n2/{db,run,log} DIR/n3/...   nodes 2 and 3
#   DIR/latchkey.conf                db_host lists the three nodes (127.0.0.1:PORT, ...)
# Node 1 bootstraps a new cluster (--wsrep-new-cluster) when no node runs; the others join it and
# receive its data by rsync SST (or IST when they rejoin). mariadbd runs as the `mysql` user: the
# rsync SST of a joiner started as root fails ("cannot stat destination: Permission denied").
# So the node directories belong to mysql and every parent directory of DIR must be traversable.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd -P)
PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
NODES=(1 2 3)

usage() { echo "usage: $0 start|stop|status|kill|grant [NODE] DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
CMD=$1
if [ $# -ge 3 ]; then ONLY=$2; DIR=$3; else ONLY=""; DIR=$2; fi
case $CMD in start|stop|status|kill|grant) ;; *) usage ;; esac
[ -z "$ONLY" ] || [[ $ONLY =~ ^[123]$ ]] || usage
[ "$CMD" != kill ] || [ -n "$ONLY" ] || usage

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
if [ ! -s "$DIR/galera.port" ]; then
    [[ ${GALERA_PORT:-3311} =~ ^[0-9]+$ ]] || usage
    echo "${GALERA_PORT:-3311}" > "$DIR/galera.port"
fi
BASE=$(cat "$DIR/galera.port")

node_dir() { if [ "$1" = 1 ]; then echo "$DIR"; else echo "$DIR/n$1"; fi; }
sql_port() { echo $((BASE + $1 - 1)); }
sock() { echo "$(node_dir "$1")/run/mysqld.sock"; }
client() { local n=$1; shift; mariadb --no-defaults --socket="$(sock "$n")" --user=root --batch --skip-column-names --connect-timeout=2 "$@"; }

# pid of node N's mariadbd, or nothing (pid file, else the process whose command line names its datadir)
node_pid() {
    local d pid p
    d=$(node_dir "$1")
    pid=$(cat "$d/run/mysqld.pid" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && grep -qE '^(mariadbd|mysqld)$' "/proc/$pid/comm" 2>/dev/null; then
        echo "$pid"; return 0
    fi
    for p in /proc/[0-9]*; do
        grep -qE '^(mariadbd|mysqld)$' "$p/comm" 2>/dev/null || continue
        if tr '\0' '\n' < "$p/cmdline" 2>/dev/null | grep -qxF -- "--datadir=$d/db"; then
            echo "${p#/proc/}"; return 0
        fi
    done
}

fail() { # message log
    echo "galera: $1, see $2" >&2
    tail -n 20 "$2" >&2 || true
    exit 1
}

any_running() { local n; for n in "${NODES[@]}"; do [ -z "$(node_pid "$n")" ] || return 0; done; return 1; }

# The state of node N: "SIZE STATE READY" (empty when it does not answer)
wsrep_state() {
    client "$1" -e "SELECT MAX(IF(VARIABLE_NAME = 'WSREP_CLUSTER_SIZE', VARIABLE_VALUE, NULL)),
        MAX(IF(VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT', VARIABLE_VALUE, NULL)),
        MAX(IF(VARIABLE_NAME = 'WSREP_READY', VARIABLE_VALUE, NULL))
        FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME LIKE 'WSREP_%'" 2>/dev/null | tr '\t' ' ' || true
}

start_node() { # N
    local n=$1 d pid child i gcomm="" m new=()
    d=$(node_dir "$n")
    pid=$(node_pid "$n")
    if [ -n "$pid" ]; then echo "galera: node $n already running (pid $pid)" >&2; return 0; fi
    mkdir -p "$d/db" "$d/run" "$d/log" "$d/tmp"
    chown -R mysql:mysql "$d/db" "$d/run" "$d/log" "$d/tmp"
    chmod 0755 "$d" "$d/run" "$d/log"
    chmod 0700 "$d/tmp"
    # temporary files in the node's own directory (as scripts/mariadb.sh): installs at once in a
    # shared /tmp can collide on a temporary table's name
    if [ ! -d "$d/db/mysql" ]; then
        mariadb-install-db --no-defaults --datadir="$d/db" --user=mysql \
            --auth-root-authentication-method=socket --skip-test-db --tmpdir="$d/tmp" \
            > "$d/log/mariadb-install.log" 2>&1 ||
            fail "mariadb-install-db failed for node $n" "$d/log/mariadb-install.log"
    fi
    for m in "${NODES[@]}"; do gcomm+=${gcomm:+,}127.0.0.1:$((BASE + 3 + m - 1)); done
    if ! any_running; then
        # nobody to join: this node starts a new cluster from its own data
        [ "$n" = 1 ] || { echo "galera: start node 1 first (no node is running)" >&2; exit 1; }
        [ ! -f "$d/db/grastate.dat" ] || sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$d/db/grastate.dat"
        new=(--wsrep-new-cluster)
    fi
    rm -f "$d/run/mysqld.sock" "$d/run/mysqld.pid"
    # setsid: a Ctrl-C in the caller's terminal must not hit the server; the caller stops it.
    setsid mariadbd --no-defaults --user=mysql \
        --datadir="$d/db" --socket="$d/run/mysqld.sock" --pid-file="$d/run/mysqld.pid" \
        --log-error="$d/log/mariadb.err" --tmpdir="$d/tmp" \
        --bind-address=127.0.0.1 --port="$(sql_port "$n")" --skip-name-resolve \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --max-connections=500 --innodb-buffer-pool-size="${LATCHKEY_DB_BUFFER_POOL:-64M}" \
        --innodb-flush-log-at-trx-commit=2 \
        --binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2 \
        --wsrep-on=ON --wsrep-provider="$PROVIDER" --wsrep-cluster-name=latchkey \
        --wsrep-cluster-address="gcomm://$gcomm" --wsrep-node-name="node$n" \
        --wsrep-node-address=127.0.0.1 \
        --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$((BASE + 3 + n - 1));ist.recv_addr=127.0.0.1:$((BASE + 6 + n - 1));gcache.size=64M" \
        --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$((BASE + 9 + n - 1))" \
        "${new[@]}" < /dev/null >> "$d/log/mariadb.stdout" 2>&1 &
    child=$!
    # synced: joined by SST or IST and applying (a joiner's SST can take a while)
    for ((i = 0; i < 1200; i++)); do
        [ "$(wsrep_state "$n" | cut -d' ' -f2-)" != "Synced ON" ] || break
        kill -0 "$child" 2>/dev/null || fail "node $n exited during startup" "$d/log/mariadb.err"
        sleep 0.1
    done
    [ "$(wsrep_state "$n" | cut -d' ' -f2-)" = "Synced ON" ] ||
        fail "node $n not synced within 120 s" "$d/log/mariadb.err"
    echo "galera: node $n synced on 127.0.0.1:$(sql_port "$n") (pid $(node_pid "$n"))" >&2
}

# The latchkey users and config (scripts/mariadb.sh on the running node 1: it bootstraps the users,
# which Galera replicates), with db_host listing every node.
configure() {
    local hosts="" n
    "$REPO/scripts/mariadb.sh" start "$DIR" "$(sql_port 1)"
    for n in "${NODES[@]}"; do hosts+=${hosts:+, }127.0.0.1:$(sql_port "$n"); done
    sed -i -E "s/^([[:space:]]*db_host[[:space:]]*=).*/\\1 $hosts/" "$DIR/latchkey.conf"
}

stop_node() { # N
    local n=$1 pid i
    pid=$(node_pid "$n")
    [ -n "$pid" ] || return 0
    kill -CONT "$pid" 2>/dev/null || true   # in case a test paused it
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "galera: node $n did not stop within 60 s, sending SIGKILL" >&2 || true
        kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "galera: node $n stopped" >&2 || true
}

case $CMD in
start)
    if [ -n "$ONLY" ]; then
        start_node "$ONLY"
    else
        for n in "${NODES[@]}"; do
            start_node "$n"
            [ "$n" != 1 ] || configure
        done
    fi
    ;;
stop)
    if [ -n "$ONLY" ]; then stop_node "$ONLY"; else for n in 3 2 1; do stop_node "$n"; done; fi
    ;;
kill)
    pid=$(node_pid "$ONLY")
    [ -z "$pid" ] || kill -KILL "$pid"
    echo "galera: node $ONLY killed" >&2
    ;;
status)
    rc=3
    for n in "${NODES[@]}"; do
        [ -z "$ONLY" ] || [ "$n" = "$ONLY" ] || continue
        pid=$(node_pid "$n")
        if [ -z "$pid" ]; then
            echo "node $n 127.0.0.1:$(sql_port "$n") stopped"
            continue
        fi
        rc=0
        read -r size state ready <<< "$(wsrep_state "$n")" || true
        echo "node $n 127.0.0.1:$(sql_port "$n") pid $pid wsrep_cluster_size=${size:-?} wsrep_local_state_comment=${state:-?} wsrep_ready=${ready:-?}"
    done
    exit $rc
    ;;
grant)
    "$REPO/scripts/mariadb.sh" grant "$DIR"
    ;;
esac
