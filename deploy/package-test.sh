#!/usr/bin/env bash
# Builds the Debian package (Release into build-pkg by default; BUILD_DIR, BUILD_TYPE and
# PACKAGE_CMAKE_ARGS choose another build, as CI does), installs it on this
# machine, checks what it put where, verifies the systemd unit, runs the installed binary once as
# the cobrador user (migrate, serve on a free loopback port, /readyz, SIGTERM, exit 0), then
# removes and purges it. Needs root. Prints one PASS/FAIL line per check; exits 1 on any FAIL.
#
# systemd need not run (this is tested where it is not PID 1): the unit is checked with
# systemd-analyze and the binary is started directly, as the unit would start it.
# Refuses to run where cobrador is already installed or a cobrador user exists, since purging
# would delete that installation's user and /var/lib/cobrador.
# JOBS=N limits the build's parallelism (deploy/build.sh).
# shellcheck disable=SC2001,SC2016,SC2317  # bash -c scripts take "$0"; functions run from check and trap
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${BUILD_DIR:-build-pkg}"
failures=0
installed_by_us=0
server_pid=""
work=""

pass() { echo "PASS: $*"; }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
check() {  # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
stat_is() {  # stat_is PATH MODE OWNER:GROUP
  local got
  got="$(stat -c '%a %U:%G' "$1" 2>/dev/null)" || return 1
  [ "$got" = "$2 $3" ] || {
    echo "  $1 is '$got', want '$2 $3'"
    return 1
  }
}
package_state() { dpkg-query -W -f='${db:Status-Abbrev}' cobrador 2>/dev/null | tr -d ' ' || true; }

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  [ -n "$work" ] && rm -rf "$work"
  if [ "$installed_by_us" = 1 ] && [ -n "$(package_state)" ] && [ "$(package_state)" != un ]; then
    echo "package-test: purging the package left behind" >&2
    dpkg -P cobrador >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

finish() {
  if [ "$failures" -eq 0 ]; then
    echo "package-test: all checks passed"
    exit 0
  fi
  echo "package-test: $failures check(s) FAILED"
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  echo "FAIL: package-test.sh needs root (dpkg -i, a system user)"
  exit 1
fi
state="$(package_state)"
if [ -n "$state" ] && [ "$state" != un ]; then
  echo "FAIL: cobrador is already installed here (dpkg state '$state'); refusing to purge it"
  exit 1
fi
if getent passwd cobrador >/dev/null || [ -e /var/lib/cobrador ]; then
  echo "FAIL: a cobrador user or /var/lib/cobrador exists already; refusing to touch them"
  exit 1
fi
for tool in dpkg-deb systemd-analyze curl runuser python3; do
  command -v "$tool" >/dev/null || {
    echo "FAIL: $tool is missing"
    exit 1
  }
done

# CI packages the README's own build (BUILD_DIR=build BUILD_TYPE=RelWithDebInfo
# PACKAGE_CMAKE_ARGS=) so that the test stage after it builds nothing twice; by hand, a lean
# Release build of its own.
build_type="${BUILD_TYPE:-Release}"
read -r -a cmake_args <<<"${PACKAGE_CMAKE_ARGS--DBUILD_TESTING=OFF -DCOBRADOR_BENCH=OFF}"
echo "== build the package ($BUILD_DIR, $build_type)"
BUILD_DIR="$BUILD_DIR" BUILD_TYPE="$build_type" bash deploy/build.sh "${cmake_args[@]}"
cmake --build "$BUILD_DIR" --target package
version="$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD_DIR/CMakeCache.txt")"
deb="$BUILD_DIR/cobrador_${version}_$(dpkg --print-architecture).deb"
if [ -f "$deb" ]; then pass "package built: $deb"; else
  fail "no $deb after --target package"
  finish
fi

echo "== the package's metadata"
fields="$(dpkg-deb -f "$deb")"
echo "$fields" | sed -n 's/^\(Package\|Version\|Section\|Maintainer\|Depends\): /  \1: /p'
check "Package cobrador, Version $version, Section net" \
  bash -c 'grep -qx "Package: cobrador" <<<"$0" && grep -qx "Version: $1" <<<"$0" &&
           grep -qx "Section: net" <<<"$0"' "$fields" "$version"
check "Depends has libc6 (dpkg-shlibdeps ran) and ca-certificates" \
  bash -c 'd="$(grep "^Depends:" <<<"$0")"; [[ $d == *libc6* && $d == *ca-certificates* ]]' "$fields"
control="$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)"
check "control has postinst, prerm, postrm, conffiles" \
  bash -c 'for f in postinst prerm postrm conffiles; do grep -qx "./$f" <<<"$0" || exit 1; done' "$control"

echo "== dpkg -i"
installed_by_us=1
if ! dpkg -i "$deb"; then
  echo "package-test: dpkg -i failed, trying apt-get -f install" >&2
  apt-get -f install -y -q
fi
check "dpkg says cobrador is installed" [ "$(package_state)" = ii ]

echo "== files, user, permissions"
check "/usr/bin/cobrador is 0755 root:root" stat_is /usr/bin/cobrador 755 root:root
check "/usr/bin/cobrador runs (migrate --help)" \
  bash -c '/usr/bin/cobrador migrate --help >/dev/null 2>&1'
check "unit /lib/systemd/system/cobrador.service" stat_is /lib/systemd/system/cobrador.service 644 root:root
check "user cobrador is a system user with group cobrador, home /var/lib/cobrador, nologin" \
  bash -c 'IFS=: read -r _ _ uid gid _ home shell < <(getent passwd cobrador) &&
           [ "$uid" -lt 1000 ] && [ "$(getent group "$gid" | cut -d: -f1)" = cobrador ] &&
           [ "$home" = /var/lib/cobrador ] && [ "$shell" = /usr/sbin/nologin ]'
check "/var/lib/cobrador is 0750 cobrador:cobrador" stat_is /var/lib/cobrador 750 cobrador:cobrador
check "/etc/cobrador/cobrador.toml is 0640 root:cobrador" stat_is /etc/cobrador/cobrador.toml 640 root:cobrador
check "/etc/cobrador/cobrador.env is 0600 root:root" stat_is /etc/cobrador/cobrador.env 600 root:root
check "/etc/cobrador/tls is 0750 root:cobrador" stat_is /etc/cobrador/tls 750 root:cobrador
check "cobrador.env sets nothing (every variable commented out)" \
  bash -c '! grep -Eq "^[[:space:]]*[A-Z_]+=" /etc/cobrador/cobrador.env'
conffiles="$(dpkg-query -W -f='${Conffiles}\n' cobrador)"
check "both files under /etc/cobrador are conffiles" \
  bash -c 'grep -q " /etc/cobrador/cobrador.toml " <<<"$0" && grep -q " /etc/cobrador/cobrador.env " <<<"$0"' "$conffiles"
check "/etc/cobrador/cobrador.toml is the example config" \
  cmp -s /etc/cobrador/cobrador.toml deploy/cobrador.example.toml
check "policy.json and reminders.json in /usr/share/cobrador" \
  bash -c 'cmp -s /usr/share/cobrador/policy.json dialogs/data/policy.json &&
           cmp -s /usr/share/cobrador/reminders.json dialogs/data/reminders.json'
want_templates="$(find deploy/whatsapp-templates -name '*.json' | wc -l)"
got_templates="$(find /usr/share/cobrador/whatsapp-templates -name '*.json' 2>/dev/null | wc -l)"
check "all $want_templates WhatsApp templates in /usr/share/cobrador/whatsapp-templates" \
  [ "$got_templates" -eq "$want_templates" ]
check "docs in /usr/share/doc/cobrador" \
  bash -c 'for f in README.md operations.md cobrador.example.toml; do
             [ -f /usr/share/doc/cobrador/$f ] || exit 1; done'

echo "== systemd-analyze verify"
verify_out="$(systemd-analyze verify /lib/systemd/system/cobrador.service 2>&1 || true)"
complaints="$(grep -i 'cobrador' <<<"$verify_out" || true)"
if [ -z "$complaints" ]; then
  pass "systemd-analyze verify: nothing about cobrador.service"
else
  fail "systemd-analyze verify complains:"
  sed 's/^/  /' <<<"$complaints"
fi
if security_out="$(systemd-analyze security --offline=true /lib/systemd/system/cobrador.service 2>&1)"; then
  score="$(grep -o 'Overall exposure level for cobrador.service: .*' <<<"$security_out" || true)"
  echo "  ${score:-no exposure score printed}"
  exposure="$(sed -n 's/^.*cobrador.service: \([0-9.]*\).*$/\1/p' <<<"$score")"
  check "exposure level ${exposure:-?} is at most 2.0 (systemd's OK band is below 4.0)" \
    awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.0) }'
else
  echo "  systemd-analyze security --offline is not supported here; skipped"
fi

echo "== run the installed binary as cobrador"
work="$(mktemp -d /tmp/cobrador-package-test.XXXXXX)"
chown cobrador:cobrador "$work"
chmod 0750 "$work"
db="$work/cobrador.db"
check "migrate (as cobrador) creates the ledger" \
  bash -c 'cd "$0" && runuser -u cobrador -- /usr/bin/cobrador migrate --db "$1" >/dev/null &&
           [ "$(stat -c %U "$1")" = cobrador ]' "$work" "$db"
check "migrate again is a no-op" \
  bash -c 'cd "$0" && runuser -u cobrador -- /usr/bin/cobrador migrate --db "$1" >/dev/null' "$work" "$db"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# The installed /etc/cobrador/cobrador.toml, read as the service reads it (group cobrador), with
# the environment overriding its db and listen address.
(cd "$work" && exec runuser -u cobrador -- env COBRADOR_DB="$db" COBRADOR_LISTEN="127.0.0.1:$port" \
  /usr/bin/cobrador serve --config /etc/cobrador/cobrador.toml) >"$work/serve.log" 2>&1 &
server_pid=$!
ready=0
for _ in $(seq 1 100); do  # 20 s
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
    ready=1
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.2
done
if [ "$ready" = 1 ]; then pass "serve --config /etc/cobrador/cobrador.toml: /readyz on 127.0.0.1:$port"; else
  fail "serve did not become ready within 20 s"
  sed 's/^/  /' "$work/serve.log"
fi
check "/healthz answers" curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz"
# runuser forks: signal the server itself, as systemd would.
cobrador_pid="$(pgrep -P "$server_pid" -x cobrador || true)"
if [ -z "$cobrador_pid" ] && [ "$(ps -o comm= -p "$server_pid" 2>/dev/null)" = cobrador ]; then
  cobrador_pid="$server_pid"
fi
check "serve runs as user cobrador" \
  bash -c '[ -n "$0" ] && [ "$(ps -o user= -p "$0" | tr -d " ")" = cobrador ]' "$cobrador_pid"
if [ -n "$cobrador_pid" ]; then kill -TERM "$cobrador_pid"; else kill -TERM "$server_pid" 2>/dev/null || true; fi
for _ in $(seq 1 75); do  # 15 s: the server drains for up to 10 s
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.2
done
rc=0
if kill -0 "$server_pid" 2>/dev/null; then
  fail "serve still running 15 s after SIGTERM"
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
else
  wait "$server_pid" || rc=$?
  check "serve exits 0 on SIGTERM (got $rc)" [ "$rc" -eq 0 ]
fi
server_pid=""
rm -rf "$work"
work=""

echo "== dpkg -r (keeps configuration, user and data)"
dpkg -r cobrador
check "dpkg state is config-files" [ "$(package_state)" = rc ]
check "/usr/bin/cobrador and the unit are gone" \
  bash -c '[ ! -e /usr/bin/cobrador ] && [ ! -e /lib/systemd/system/cobrador.service ]'
check "conffiles, user and /var/lib/cobrador kept" \
  bash -c '[ -f /etc/cobrador/cobrador.toml ] && [ -f /etc/cobrador/cobrador.env ] &&
           getent passwd cobrador >/dev/null && [ -d /var/lib/cobrador ]'

echo "== dpkg -P (purge)"
dpkg -P cobrador
check "dpkg knows nothing of cobrador" bash -c '[ -z "$0" ] || [ "$0" = un ]' "$(package_state)"
check "user and group cobrador removed" \
  bash -c '! getent passwd cobrador >/dev/null && ! getent group cobrador >/dev/null'
check "/var/lib/cobrador and /etc/cobrador removed" \
  bash -c '[ ! -e /var/lib/cobrador ] && [ ! -e /etc/cobrador ]'
installed_by_us=0

finish
