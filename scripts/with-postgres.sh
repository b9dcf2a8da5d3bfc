#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on loopback, run the given command with DATABASE_URL
# pointing at it, then stop the server and remove its files.
set -euo pipefail

bin_dir=""
for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/initdb" ] && bin_dir="$candidate"
done
if [ -z "$bin_dir" ] && command -v initdb >/dev/null 2>&1; then
    bin_dir=$(dirname "$(command -v initdb)")
fi
if [ -z "$bin_dir" ]; then
    echo "PostgreSQL server binaries not found (apt-get install postgresql)." >&2
    exit 1
fi

work_dir=$(mktemp -d /tmp/kehu-postgres.XXXXXX)
chmod 755 "$work_dir"
port=${KEHU_TEST_POSTGRES_PORT:-$((20000 + RANDOM % 20000))}
run_as=()
if [ "$(id -u)" = "0" ]; then
    chown postgres "$work_dir" 2>/dev/null || { useradd -r postgres && chown postgres "$work_dir"; }
    run_as=(runuser -u postgres --)
fi

stop_server() {
    "${run_as[@]}" "$bin_dir/pg_ctl" -D "$work_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work_dir"
}
trap stop_server EXIT

"${run_as[@]}" "$bin_dir/initdb" -D "$work_dir/data" -U postgres --auth=trust -E UTF8 \
    --locale=C.UTF-8 >/dev/null
"${run_as[@]}" "$bin_dir/pg_ctl" -D "$work_dir/data" -l "$work_dir/server.log" -w \
    -o "-p $port -k $work_dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
"$bin_dir/createdb" -h 127.0.0.1 -p "$port" -U postgres kehu

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/kehu"
echo "PostgreSQL $("$bin_dir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
"$@"
