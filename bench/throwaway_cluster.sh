# bench/throwaway_cluster.sh: sourced by benchmarks that need a server of
# their own with aiguard preloaded (run as root; the server runs as
# postgres).  start_throwaway_cluster DIR PORT WORKER_DB initialises DIR,
# starts it on PORT with the worker serving WORKER_DB (same settings as
# ./dev.sh's cluster), exports PGHOST and PGPORT, and gives the current
# user a superuser role; stop_throwaway_cluster DIR stops it.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
as_postgres() { su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; }

start_throwaway_cluster() {
	local dir=$1 port=$2 worker_db=$3
	export PGHOST=/tmp PGPORT=$port
	as_postgres $PGBIN/pg_ctl -D "$dir" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
	mkdir -p "$dir" && chown postgres "$dir"
	as_postgres $PGBIN/initdb -D "$dir" -E UTF8 --locale=C.UTF-8 -A trust >/dev/null
	cat >> "$dir/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '/tmp'
listen_addresses = ''
fsync = off
shared_preload_libraries = 'aiguard'
aiguard.database = '$worker_db'
CONF
	as_postgres $PGBIN/pg_ctl -D "$dir" -l "$dir/server.log" -w start >/dev/null
	psql -U postgres -d postgres -qc "CREATE ROLE \"$(id -un)\" SUPERUSER LOGIN" 2>/dev/null || true
}

stop_throwaway_cluster() {
	as_postgres $PGBIN/pg_ctl -D "$1" -m fast stop >/dev/null 2>&1 || true
}
