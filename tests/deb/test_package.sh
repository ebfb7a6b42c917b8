#!/usr/bin/env bash
# End-to-end test of the Debian package libapache2-mod-classify and of scripts/install, on this
# machine, as root (CI: a fresh Debian machine with apache2 installed):
#   1. scripts/package-deb (release build, cargo deb), and scripts/install --destdir: the staged
#      layout, and nothing written outside the stage;
#   2. dpkg -i, a2enmod classify, a <Location> in a conf-available snippet
#      on a free 127.0.0.1 port, apache2ctl configtest + start, real requests with curl, stop;
#   3. dpkg -r (module disabled, configuration still valid), dpkg -i (re-enabled), dpkg --purge
#      (module, CLI, conffiles, mods-enabled link and a2enmod's state all gone).
# It leaves /etc/apache2 and /var/lib/apache2 as it found them, also on failure (trap), and checks
# that it did. Running it again is safe.
set -euo pipefail
cd "$(dirname "$0")/../.."

PKG=libapache2-mod-classify
SNIPPET=classify-deb-test
SNIPPET_FILE=/etc/apache2/conf-available/$SNIPPET.conf
MODULE=/usr/lib/apache2/modules/mod_classify.so
ENABLED_LINK=/etc/apache2/mods-enabled/classify.load
PIDFILE=/var/run/apache2/apache2.pid
GOLDEN=crates/classify-core/testdata/golden/count_word12_linearsvc_multi

if [ "$(id -u)" != 0 ]; then
    echo "tests/deb/test_package.sh installs a package and starts Apache: run it as root" >&2
    exit 1
fi

step() { echo ">> deb test: $*"; }
fail() {
    echo "deb test: FAIL: $*" >&2
    exit 1
}

package_installed() {
    dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -qE 'installed|config-files|half'
}
apache_running() {
    [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}
wait_apache_stopped() {
    local _
    for _ in $(seq 1 50); do
        apache_running || return 0
        sleep 0.2
    done
    return 1
}
# Everything under /etc/apache2 (paths, link targets, contents) and /var/lib/apache2 (a2enmod's
# state markers).
snapshot() {
    find /etc/apache2 /var/lib/apache2 -printf '%p %y %m %l\n' | sort
    find /etc/apache2 -type f -exec md5sum {} + | sort
}

# A mod_classify installed some other way (scripts/install) would be clobbered: leave it alone.
if ! package_installed && { [ -e "$MODULE" ] || [ -e /etc/apache2/mods-available/classify.load ]; }; then
    fail "mod_classify is installed here, but not by $PKG ($MODULE or mods-available/classify.load exist): this test would overwrite it"
fi

work=$(mktemp -d /tmp/classify-deb-test.XXXXXX)
chmod 0755 "$work" # Apache's children (www-data) read the models in it
apache_was_running=0
apache_running && apache_was_running=1
we_started_apache=0

# Undoes whatever the test did; safe to run at any point, and more than once.
reset_machine() {
    if [ "$we_started_apache" = 1 ] && apache_running; then
        apache2ctl stop >/dev/null 2>&1 || true
        wait_apache_stopped || kill "$(cat "$PIDFILE" 2>/dev/null)" 2>/dev/null || true
        wait_apache_stopped || true
    fi
    we_started_apache=0
    if [ -e "/etc/apache2/conf-enabled/$SNIPPET.conf" ] || [ -e "$SNIPPET_FILE" ]; then
        a2disconf -q -p "$SNIPPET" >/dev/null 2>&1 || true
        rm -f "/etc/apache2/conf-enabled/$SNIPPET.conf" "$SNIPPET_FILE"
    fi
    if package_installed; then
        dpkg --purge "$PKG" >/dev/null
    fi
    # a2enmod/a2enconf leave their (now empty) state directories behind: remove the new ones.
    local dir
    for dir in /var/lib/apache2/module/* /var/lib/apache2/conf/*; do
        [ -d "$dir" ] || continue
        grep -qxF "$dir d" <<<"$dirs_before" || rmdir --ignore-fail-on-non-empty "$dir"
    done
    if [ "$apache_was_running" = 1 ]; then
        apache2ctl graceful >/dev/null 2>&1 || true
    fi
}
on_exit() {
    local status=$?
    trap - EXIT
    set +e
    if [ "$status" != 0 ]; then
        echo "deb test: failed; the logs end with:" >&2
        tail -n 10 /var/log/apache2/error.log "$work/error.log" "$work/access.log" >&2 2>/dev/null
    fi
    reset_machine
    rm -rf "$work"
    if [ "$status" != 0 ]; then
        echo "deb package test: FAILED" >&2
    fi
    exit "$status"
}

dirs_before=$(find /var/lib/apache2 -maxdepth 2 -type d -printf '%p d\n')
trap on_exit EXIT
trap 'exit 130' INT TERM # so that the EXIT trap cleans up then too
# A previous run that was killed may have left the package or the snippet: start clean.
if package_installed || [ -e "$SNIPPET_FILE" ]; then
    step "removing what an earlier run left"
    reset_machine
    dirs_before=$(find /var/lib/apache2 -maxdepth 2 -type d -printf '%p d\n')
fi
snapshot >"$work/before.txt"

# ---------------------------------------------------------------------------------------------
step "scripts/package-deb"
scripts/package-deb >"$work/package.out" 2>&1 || {
    cat "$work/package.out" >&2
    fail "scripts/package-deb failed"
}
deb=$(tail -n 1 "$work/package.out")
[ -f "$deb" ] || fail "scripts/package-deb did not print a .deb path (last line: $deb)"
echo "   $deb"
[ "$(dpkg-deb -f "$deb" Package)" = "$PKG" ] || fail "package name is not $PKG"
dpkg-deb -f "$deb" Depends | grep -q "apache2-api-$(a2query -a)" || fail "no apache2-api-$(a2query -a) dependency"

step "scripts/install --destdir (layout only)"
stage=$work/stage
cargo_target=${CARGO_TARGET_DIR:-target}/release # built by scripts/package-deb
scripts/install --no-build --destdir "$stage" >"$work/install.out"
moddir=$(apxs -q LIBEXECDIR)
for spec in "$moddir/mod_classify.so 644" "/usr/local/bin/classify 755" \
    "/etc/apache2/mods-available/classify.load 644" "/etc/apache2/mods-available/classify.conf 644"; do
    read -r path mode <<<"$spec"
    [ -f "$stage$path" ] || fail "scripts/install did not stage $path"
    [ "$(stat -c %a "$stage$path")" = "$mode" ] || fail "$path has mode $(stat -c %a "$stage$path"), not $mode"
done
cmp -s "$cargo_target/libmod_classify.so" "$stage$moddir/mod_classify.so" || fail "staged .so differs"
grep -qxF "LoadModule classify_module $moddir/mod_classify.so" "$stage/etc/apache2/mods-available/classify.load" ||
    fail "the staged classify.load does not load $moddir/mod_classify.so"
leftovers=$(find "$stage" -name '.*' -type f)
[ -z "$leftovers" ] || fail "scripts/install left temporary files: $leftovers"
# An edited classify.conf is kept, the new one goes beside it as classify.conf.dist.
echo "# edited by the admin" >>"$stage/etc/apache2/mods-available/classify.conf"
scripts/install --no-build --destdir "$stage" --prefix /opt/mc >"$work/install2.out"
grep -q "edited by the admin" "$stage/etc/apache2/mods-available/classify.conf" || fail "edited classify.conf overwritten"
cmp -s conf/classify.conf "$stage/etc/apache2/mods-available/classify.conf.dist" || fail "no classify.conf.dist"
grep -q 'classify.conf.dist' "$work/install2.out" || fail "scripts/install did not say it wrote classify.conf.dist"
[ -x "$stage/opt/mc/bin/classify" ] || fail "--prefix /opt/mc: no /opt/mc/bin/classify"
if [ -e "$MODULE" ] || [ -e /etc/apache2/mods-available/classify.load ]; then
    fail "scripts/install --destdir wrote outside the stage"
fi

step "dpkg -i $(basename "$deb")"
dpkg -i "$deb" >"$work/dpkg.out" 2>&1 || {
    cat "$work/dpkg.out" >&2
    fail "dpkg -i failed"
}
for path in "$MODULE" /usr/bin/classify /etc/apache2/mods-available/classify.load \
    /etc/apache2/mods-available/classify.conf /usr/share/doc/$PKG/README.md; do
    [ -e "$path" ] || fail "the package did not install $path"
done
[ ! -e "$ENABLED_LINK" ] || fail "installing the package enabled the module (the admin should)"

step "the installed classify CLI"
cp "$GOLDEN.model.json" "$work/golden.model.json"
label=$(echo "arcade game" | /usr/bin/classify predict --model "$work/golden.model.json" -)
[ "$label" = games ] || fail "/usr/bin/classify predict: '$label', expected 'games'"
# Train a small model from the golden cases (label<TAB>text) with the installed binary.
/usr/bin/python3 - "$GOLDEN.cases.jsonl" >"$work/train.tsv" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    case = json.loads(line)
    text = " ".join(case["text"].split())
    if case["analyzed"] and text:
        print(f"{case['label']}\t{text}")
PY
/usr/bin/classify train --data "$work/train.tsv" --ngram 1,2 --seed 0 -o "$work/trained.model" \
    >"$work/train.out" 2>&1 || {
    cat "$work/train.out" >&2
    fail "/usr/bin/classify train failed"
}
trained_label=$(echo "arcade game" | /usr/bin/classify predict --model "$work/trained.model" -)
[ -n "$trained_label" ] || fail "the trained model predicts nothing"
chmod 0644 "$work"/*.model*

step "a2enmod classify, a <Location> on 127.0.0.1, apache2ctl configtest and start"
a2enmod classify >/dev/null
[ -L "$ENABLED_LINK" ] || fail "a2enmod classify made no mods-enabled link"
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$SNIPPET_FILE" <<CONF
# Written by tests/deb/test_package.sh and removed by it: a virtual host on a free loopback port.
Listen 127.0.0.1:$port
<VirtualHost 127.0.0.1:$port>
    ServerName classify-deb-test.localhost
    ErrorLog $work/error.log
    CustomLog $work/access.log combined
    <Location /classify-deb-test>
        Require all granted
        SetHandler classify
        ClassifyModel $work/golden.model.json
    </Location>
    <Location /classify-deb-test-trained>
        Require all granted
        SetHandler classify
        ClassifyModel $work/trained.model
    </Location>
</VirtualHost>
CONF
a2enconf -q "$SNIPPET" >/dev/null
apache2ctl configtest 2>"$work/configtest.out" || {
    cat "$work/configtest.out" >&2
    fail "apache2ctl configtest failed"
}
apache2ctl -M 2>/dev/null | grep -q 'classify_module (shared)' || fail "apache2ctl -M does not list classify_module"
if [ "$apache_was_running" = 0 ] && (exec 3<>/dev/tcp/127.0.0.1/80) 2>/dev/null; then
    fail "something other than Debian's apache2 listens on port 80, which /etc/apache2/ports.conf needs"
fi
if [ "$apache_was_running" = 1 ]; then
    # Someone's Apache runs already (systemd, say): a restart re-reads the configuration.
    apache2ctl restart
else
    apache2ctl start
    we_started_apache=1
fi

step "curl http://127.0.0.1:$port/classify-deb-test/arcade%20game"
base=http://127.0.0.1:$port
got=""
for _ in $(seq 1 50); do
    got=$(curl -fsS --max-time 10 "$base/classify-deb-test/arcade%20game" 2>/dev/null) && break
    sleep 0.2
done
[ "$got" = games ] || fail "Apache answered '$got' for 'arcade game', expected 'games'"
got=$(curl -fsS --max-time 10 -H 'Accept: application/json' "$base/classify-deb-test?text=arcade+game")
grep -q '"label":"games"' <<<"$got" || fail "JSON answer without the label games: $got"
got=$(curl -fsS --max-time 10 "$base/classify-deb-test-trained/arcade%20game")
[ "$got" = "$trained_label" ] || fail "Apache: '$got' with the trained model, classify predict: '$trained_label'"
echo "   games; trained model: $got (as /usr/bin/classify predict)"

step "apache2ctl stop"
if [ "$we_started_apache" = 1 ]; then
    apache2ctl stop
    wait_apache_stopped || fail "Apache did not stop"
    we_started_apache=0
fi
a2disconf -q -p "$SNIPPET" >/dev/null
rm -f "$SNIPPET_FILE"

# ---------------------------------------------------------------------------------------------
step "dpkg -r: the module is disabled with its .so, Apache's configuration stays valid"
dpkg -r "$PKG" >/dev/null
[ ! -e "$MODULE" ] || fail "dpkg -r left $MODULE"
if [ -e "$ENABLED_LINK" ] || [ -L "$ENABLED_LINK" ]; then fail "dpkg -r left $ENABLED_LINK"; fi
[ -e /etc/apache2/mods-available/classify.conf ] || fail "dpkg -r removed the conffiles (only purge should)"
apache2ctl configtest 2>"$work/configtest.out" || {
    cat "$work/configtest.out" >&2
    fail "configtest fails after dpkg -r"
}

step "dpkg -i again: the module the package disabled is enabled again"
dpkg -i "$deb" >/dev/null
[ -L "$ENABLED_LINK" ] || fail "reinstalling did not re-enable the module"

step "dpkg --purge $PKG"
dpkg --purge "$PKG" >/dev/null
for path in "$MODULE" "$ENABLED_LINK" /usr/bin/classify /etc/apache2/mods-available/classify.load \
    /etc/apache2/mods-available/classify.conf /usr/share/doc/$PKG; do
    if [ -e "$path" ] || [ -L "$path" ]; then fail "dpkg --purge left $path"; fi
done
if dpkg -l 2>/dev/null | grep -q "$PKG"; then fail "dpkg -l still lists $PKG"; fi
apache2ctl configtest 2>/dev/null || fail "configtest fails after the purge"

reset_machine
snapshot >"$work/after.txt"
if ! diff -u "$work/before.txt" "$work/after.txt" >&2; then
    fail "/etc/apache2 or /var/lib/apache2 differ from before the test (diff above)"
fi
echo "deb package test: passed"
