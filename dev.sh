#!/usr/bin/env bash
# dev.sh: one entry point for newcomers, developers and CI.
#
#   ./dev.sh demo     install dependencies, build, start a throwaway
#                     PostgreSQL, run the demo (chat table, attacks, alerts)
#   ./dev.sh test     the same set-up, then the whole test suite
#   ./dev.sh stop     stop the throwaway server
#
# PGBIN, PGPORT and AIGUARD_CLUSTER choose another PostgreSQL installation,
# port and cluster directory (to run several checkouts side by side).
#
# Run as root on Debian 12 (it installs packages with apt-get and runs the
# server as the unprivileged "postgres" user), or as a user with sudo.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

PGVER=15
PGBIN=${PGBIN:-/usr/lib/postgresql/$PGVER/bin}
export PGPORT=${PGPORT:-5499}
export PGHOST=${PGHOST:-/tmp}
CLUSTER=${AIGUARD_CLUSTER:-/tmp/aiguard-cluster}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

deps() {
	local pkgs="postgresql-$PGVER postgresql-server-dev-$PGVER postgresql-contrib libpcre2-dev libutf8proc-dev libssl-dev build-essential pkg-config libipc-run-perl"
	# the test suite's fuzz smoke: clang with libFuzzer's runtime
	[ "${1:-}" = test ] && pkgs="$pkgs clang libclang-rt-14-dev"
	if ! dpkg -s $pkgs >/dev/null 2>&1; then
		echo "== installing packages: $pkgs"
		$SUDO apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $pkgs >/dev/null
	fi
}

build() {
	echo "== building"
	make -s PG_CONFIG=$PGBIN/pg_config >/dev/null
	$SUDO make -s PG_CONFIG=$PGBIN/pg_config install >/dev/null
}

as_postgres() {
	if [ "$(id -un)" = postgres ]; then "$@"; else $SUDO -u postgres "$@" 2>/dev/null || su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; fi
}

start() {
	if [ ! -f "$CLUSTER/PG_VERSION" ]; then
		echo "== creating a throwaway cluster in $CLUSTER"
		$SUDO mkdir -p "$CLUSTER"
		$SUDO chown postgres:postgres "$CLUSTER"
		as_postgres $PGBIN/initdb -D "$CLUSTER" -E UTF8 --locale=C.UTF-8 -A trust >/dev/null
		{
			echo "port = $PGPORT"
			echo "unix_socket_directories = '$PGHOST'"
			echo "listen_addresses = ''"
			echo "max_connections = 40"
			echo "fsync = off"
		} | as_postgres tee -a "$CLUSTER/postgresql.conf" >/dev/null
	fi
	if ! as_postgres $PGBIN/pg_ctl -D "$CLUSTER" status >/dev/null 2>&1; then
		echo "== starting PostgreSQL on port $PGPORT"
		as_postgres $PGBIN/pg_ctl -D "$CLUSTER" -l "$CLUSTER/server.log" -w start >/dev/null
	fi
	# make installcheck and psql run as the current user: give it a superuser role
	local me; me=$(id -un)
	psql -U postgres -d postgres -qtAc "SELECT 1 FROM pg_roles WHERE rolname = '$me'" | grep -q 1 ||
		psql -U postgres -d postgres -qc "CREATE ROLE \"$me\" SUPERUSER LOGIN"
	psql -U postgres -d postgres -qtAc "SELECT 1 FROM pg_database WHERE datname = '$me'" | grep -q 1 ||
		psql -U postgres -d postgres -qc "CREATE DATABASE \"$me\""
}

stop() {
	if [ -f "$CLUSTER/PG_VERSION" ]; then
		as_postgres $PGBIN/pg_ctl -D "$CLUSTER" -m fast stop >/dev/null 2>&1 || true
	fi
}

demo() {
	deps; build; start
	psql -d postgres -qc "DROP DATABASE IF EXISTS aiguard_demo" >/dev/null
	psql -d postgres -qc "CREATE DATABASE aiguard_demo"
	psql -d aiguard_demo -X -v ON_ERROR_STOP=1 -f demo/demo.sql
}

run_tests() {
	deps test; build; start
	local core_pass=0 core_fail=0 reg_pass=0 reg_fail=0 status=0

	echo "== core unit tests and rule examples (no server)"
	make -s check-core PG_CONFIG=$PGBIN/pg_config > "$CLUSTER.core.out" 2>&1 || status=1
	cat "$CLUSTER.core.out"
	read -r core_pass core_fail < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$CLUSTER.core.out" | tail -1)

	echo "== fuzz smoke: 20,000 libFuzzer runs from the rules' examples, the same every time (ASan, UBSan; every scan against the naive one)"
	local fuzz_pass=0 fuzz_fail=0
	if make -s fuzz-smoke > "$CLUSTER.fuzz.out" 2>&1; then
		fuzz_pass=1
		grep -E '^Done [0-9]+ runs' "$CLUSTER.fuzz.out" || true
	else
		fuzz_fail=1
		status=1
		tail -80 "$CLUSTER.fuzz.out"
	fi

	echo "== regression tests (pg_regress)"
	make -s installcheck PG_CONFIG=$PGBIN/pg_config > "$CLUSTER.regress.out" 2>&1 || status=1
	cat "$CLUSTER.regress.out"
	if [ -f regression.diffs ] && [ -s regression.diffs ]; then head -200 regression.diffs; fi
	reg_fail=$(grep -cE '^(not ok|test .* \.\.\. FAILED|     [a-z_]+ +\.\.\. FAILED)' "$CLUSTER.regress.out" || true)
	reg_pass=$(grep -cE '(^ok |\.\.\. ok)' "$CLUSTER.regress.out" || true)

	echo "== TAP tests (worker, async and block modes, on clusters of their own)"
	# initdb refuses root: run them as postgres, in a copy it owns
	local tapdir="$CLUSTER.tap" tap_total=0 tap_fail=0
	$SUDO rm -rf "$tapdir"
	mkdir -p "$tapdir"
	tar -C "$here" --exclude=./results --exclude=./tmp_check --exclude=./tmp_check_iso --exclude=./output_iso -cf - . | tar -C "$tapdir" -xf -
	$SUDO chown -R postgres "$tapdir"
	as_postgres make -s -C "$tapdir" check-tap PG_CONFIG=$PGBIN/pg_config > "$CLUSTER.tap.out" 2>&1 || status=1
	cat "$CLUSTER.tap.out"
	tap_total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$CLUSTER.tap.out" | tail -1)
	tap_fail=$(cat "$tapdir"/tmp_check/log/regress_log_* 2>/dev/null | grep -c '^not ok' || true)
	if ! grep -q '^Result: PASS' "$CLUSTER.tap.out" && [ "${tap_fail:-0}" -eq 0 ]; then
		tap_fail=1		# a test died before reporting
		ls "$tapdir"/tmp_check/log/ 2>/dev/null | sed 's/^/   log: /'
	fi
	local tap_pass=$(( ${tap_total:-0} - ${tap_fail:-0} ))
	[ "$tap_pass" -ge 0 ] || tap_pass=0

	echo "== isolation tests (concurrent sessions, on a temporary instance of their own)"
	# in the same copy, as postgres (pg_isolation_regress runs initdb too)
	local iso_pass=0 iso_fail=0 iso_status=0
	as_postgres make -s -C "$tapdir" check-isolation PG_CONFIG=$PGBIN/pg_config > "$CLUSTER.iso.out" 2>&1 || iso_status=1
	cat "$CLUSTER.iso.out"
	if [ -s "$tapdir/output_iso/regression.diffs" ]; then head -200 "$tapdir/output_iso/regression.diffs"; fi
	iso_fail=$(grep -cE '^(not ok|test .* \.\.\. FAILED|     [a-z_]+ +\.\.\. FAILED)' "$CLUSTER.iso.out" || true)
	iso_pass=$(grep -cE '(^ok |\.\.\. ok)' "$CLUSTER.iso.out" || true)
	if [ "$iso_status" -ne 0 ]; then
		status=1
		[ "$iso_fail" -gt 0 ] || iso_fail=1		# it stopped before running the specs
		[ -f "$tapdir/output_iso/log/postmaster.log" ] && echo "   log: $tapdir/output_iso/log/postmaster.log"
	fi

	echo
	echo "core: ${core_pass:-0} passed, ${core_fail:-0} failed; fuzz smoke: $fuzz_pass passed, $fuzz_fail failed; regression: $reg_pass passed, $reg_fail failed; TAP: $tap_pass passed, $tap_fail failed; isolation: $iso_pass passed, $iso_fail failed"
	echo "$(( ${core_pass:-0} + fuzz_pass + reg_pass + tap_pass + iso_pass )) passed, $(( ${core_fail:-0} + fuzz_fail + reg_fail + tap_fail + iso_fail )) failed"
	return $status
}

case "${1:-}" in
	demo) demo ;;
	test) run_tests ;;
	start) deps; build; start ;;
	stop) stop ;;
	*) echo "usage: $0 demo|test|start|stop" >&2; exit 2 ;;
esac
