#!/bin/sh
# Install the Debian packages latchkey needs to build, test and run.
# Idempotent: asks dpkg first and only touches apt when something is missing.
# We never rely on the system services these packages may start: scripts/mariadb.sh
# and scripts/webserver.sh run private instances with their own configs.
set -eu

PKGS="build-essential pkg-config debhelper lintian mandoc libfcgi-dev libfcgi-bin libmariadb-dev libssl-dev
libjansson-dev liburiparser-dev libcurl4-openssl-dev zlib1g-dev libargon2-dev liblmdb-dev libcmocka-dev mariadb-server mariadb-client galera-4 rsync
lighttpd apache2 libapache2-mod-fcgid libapache2-mod-qos php-cgi python3-pytest python3-pytest-xdist python3-requests python3-pymysql python3-jsonschema python3-yaml python3-cryptography wrk curl
chromium chromium-driver python3-selenium apache2-utils
tmux util-linux"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing="$missing $p"
done

# npm (the admin console's accessibility test installs axe-core with it, `make openapi` the
# pinned @redocly/cli, which needs Node.js >= 20.19): Debian's package, unless some other
# Node.js installation already provides the command.
command -v npm >/dev/null 2>&1 || missing="$missing npm"

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root (or sudo) to install:$missing" >&2; exit 1; }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing

# Debian 12's libapache2-mod-qos enables itself in the system Apache on install, but was built
# against the old PCRE library that Apache 2.4.71 no longer loads: the system Apache's config then
# fails ("undefined symbol: pcre_free"). latchkey's own Apache configs load that library first
# (LoadFile libpcre.so.3); the system Apache is put back as it was before this install.
case " $missing " in *" libapache2-mod-qos "*)
    if [ -e /etc/apache2/mods-enabled/qos.load ] &&
        apache2ctl -t 2>&1 | grep -q 'mod_qos.so.*pcre_free'; then
        echo "deps: disabling mod_qos in the system Apache again (it breaks its config on Debian 12)" >&2
        $SUDO a2dismod -q qos >/dev/null
    fi ;;
esac
