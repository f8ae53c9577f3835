#!/bin/sh
# debian/webconf.sh PKGDIR: what the Debian package adds to `make install`, rendered from the
# repository's templates with scripts/render-config (run from debian/rules):
#   /etc/latchkey/latchkey.conf                  the sample, with the settings `latchkey setup` needs
#   /etc/apache2/conf-available/latchkey.conf    mod_fcgid (apache/latchkey-include.conf.in)
#   /etc/apache2/conf-available/latchkey-proxy.conf   mod_proxy_fcgi to the latchkey-pool@ services
#                                                (the latchkey part of apache/latchkey-proxy.conf.in)
#   /etc/lighttpd/conf-available/50-latchkey.conf     mod_fastcgi (the routes of lighttpd/latchkey.conf.in)
#   /lib/systemd/system/latchkey-pool@.service, latchkey-authorize.service
set -eu
PKG=$1
RENDER="sh scripts/render-config"
VALUES="BINDIR=/usr/lib/latchkey/cgi-bin CONF=/etc/latchkey/latchkey.conf POOLDIR=/usr/lib/latchkey
USER=www-data GROUP=www-data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
install -d "$PKG/etc/latchkey" "$PKG/etc/apache2/conf-available" \
    "$PKG/etc/lighttpd/conf-available" "$PKG/lib/systemd/system"

# sed that must change something: a template that no longer matches fails the build
edit() { # file sed-expression...
    f=$1
    shift
    for e in "$@"; do
        cp "$f" "$tmp/before"
        sed -i -e "$e" "$f"
        ! cmp -s "$f" "$tmp/before" || { echo "webconf.sh: '$e' changed nothing in $f" >&2; exit 1; }
    done
}

# The config: the commented sample, naming the files `latchkey setup` creates. The audit key
# lives in /var/lib/latchkey, which a purge leaves with the database it signs.
conf=$PKG/etc/latchkey/latchkey.conf
cp etc/latchkey.conf.sample "$conf"
edit "$conf" \
    '1s|.*|# latchkey configuration, installed by the Debian package (latchkey.conf(5)).|' \
    's|^# db_password_file = .*|db_password_file = /etc/latchkey/db.password|' \
    's|^# db_admin_user = |db_admin_user = |' \
    's|^# db_admin_password_file = |db_admin_password_file = |' \
    's|^# audit_key_file = .*|audit_key_file = /var/lib/latchkey/audit.key|' \
    's|^# audit_old_keys_file = .*|audit_old_keys_file = /var/lib/latchkey/audit-old.keys|'

# Apache + mod_fcgid, for a2enconf: the include snippet at server level.
out=$PKG/etc/apache2/conf-available/latchkey.conf
cat > "$out" <<'HEAD'
# latchkey under Debian's Apache with mod_fcgid (the latchkey package). Enable it with
#   a2enmod fcgid headers && a2enconf latchkey && systemctl reload apache2
# after `latchkey setup`. Every virtual host then serves /v1 and /admin (put TLS in front: the
# console and the keys must not travel in clear). Enable this OR latchkey-proxy, not both.
# Below: what the snippet apache/latchkey-include.conf.in holds, at server level.
#
# mod_fcgid's spawn limit is server-wide: it lets the hot classes below reach their size in one
# burst (docs/operations.md, "Sizing mod_fcgid").
<IfModule fcgid_module>
    FcgidSpawnScoreUpLimit 30
</IfModule>

HEAD
# shellcheck disable=SC2086
$RENDER apache/latchkey-include.conf.in $VALUES >> "$out"

# Apache + mod_proxy_fcgi: the routes to the pools of latchkey-pool@PROGRAM.service.
out=$PKG/etc/apache2/conf-available/latchkey-proxy.conf
cat > "$out" <<'HEAD'
# latchkey under Debian's Apache with mod_proxy_fcgi (the latchkey package): Apache sends each
# route to the latchkey-pool@PROGRAM service of its program. After `latchkey setup`:
#   for p in keys key verify me accounts audit webhooks leaks health admin notfound; do systemctl enable --now latchkey-pool@$p; done
#   a2enmod proxy_fcgi && a2enconf latchkey-proxy && systemctl reload apache2
# Enable this OR latchkey (mod_fcgid), not both. Below: the latchkey part of
# apache/latchkey-proxy.conf.in.
<IfModule !proxy_fcgi_module>
    Error "latchkey-proxy: mod_proxy_fcgi is not loaded (a2enmod proxy_fcgi)"
</IfModule>

HEAD
# shellcheck disable=SC2086
$RENDER apache/latchkey-proxy.conf.in $VALUES RUNDIR=/run/latchkey SERVERROOT=/ PORT=80 \
    LOGDIR=/ DOCROOT=/ MODDIR=/ > "$tmp/proxy.conf"
sed -n '/^# mod_proxy_fcgi: one new connection per request/,$p' "$tmp/proxy.conf" >> "$out"
grep -q '^ProxyPassMatch "^/v1/verify' "$out"

# lighttpd + mod_fastcgi, for lighty-enable-mod (which reads the "depends" line): the routes of
# the standalone template, added to the server's fastcgi.server.
out=$PKG/etc/lighttpd/conf-available/50-latchkey.conf
cat > "$out" <<'HEAD'
# -*- depends: fastcgi -*-
# latchkey under Debian's lighttpd (the latchkey package). Enable it with
#   lighty-enable-mod latchkey && systemctl restart lighttpd
# after `latchkey setup`. lighttpd then serves /v1 and /admin (put TLS in front). Below: the
# routes of lighttpd/latchkey.conf.in; what that standalone server sets for itself is here only
# for paths under /v1.

# The programs' sockets: a directory only www-data may enter, made at every start (as root).
include_shell "mkdir -p -m 0700 /run/lighttpd/latchkey-fcgi && chown www-data:www-data /run/lighttpd/latchkey-fcgi && echo '# socket directory /run/lighttpd/latchkey-fcgi'"
# lighttpd's own errors under /v1 in latchkey's JSON shape (notfound.fcgi), and bodies up to 1 MiB
# reach latchkey (which answers 413 above its max_body).
$HTTP["url"] =~ "^/v1(/|$)" {
    server.error-handler = "/v1/.error"
    server.max-request-size = 1024
}

HEAD
# shellcheck disable=SC2086
$RENDER lighttpd/latchkey.conf.in $VALUES RUNDIR=/run/lighttpd NAME=latchkey PORT=80 LOGDIR=/ \
    DOCROOT=/ ERRORDIR=/ > "$tmp/lighttpd.conf"
sed -n '/^var\.latchkey_env = /,/^)$/p' "$tmp/lighttpd.conf" |
    sed -e 's/^fastcgi\.server = (/fastcgi.server += (/' -e '/^#@EXTRA_ENV@$/d' >> "$out"
grep -q '^fastcgi.server += ($' "$out"

# systemd units (debian/rules: installed, not enabled)
for u in latchkey-pool@.service latchkey-authorize.service; do
    # shellcheck disable=SC2086
    $RENDER "apache/$u.in" $VALUES > "$PKG/lib/systemd/system/$u"
done
