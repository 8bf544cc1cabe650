# Shell helpers the client-side benches share (sourced, not run): a temp dir D with the pids the
# bench started (PIDS, stopped by pid on exit), free loopback ports, timing, and a MariaDB server
# started in D (BENCH_KEEP=1 keeps D for a look afterwards). The sourcing script sets LIMIT (seconds a wait may take) before using waited().
D=$(mktemp -d "/tmp/brelay-${BENCH_NAME:-bench}.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$D"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
waited() {  # t0 what: fails the run when a wait passed LIMIT seconds (a stuck relay or replica)
  [ "$(echo "$(now) - $1 > $LIMIT" | bc)" = 0 ] && return
  echo "$2 did not finish within $LIMIT s; see $D" >&2; exit 1
}
ROOT_USER=(); [ "$(id -u)" = 0 ] && ROOT_USER=(--user=root)

start_mariadb() {  # name port server_id extra...
  local name=$1 port=$2 id=$3; shift 3
  mkdir -p "$D/$name/tmp"
  mariadb-install-db --no-defaults --datadir="$D/$name/data" --auth-root-authentication-method=normal \
    --skip-test-db --tmpdir="$D/$name/tmp" "${ROOT_USER[@]}" >"$D/$name/install.log" 2>&1
  mariadbd --no-defaults --datadir="$D/$name/data" --socket="$D/$name/sock" --port="$port" \
    --bind-address=127.0.0.1 --pid-file="$D/$name/pid" --log-error="$D/$name/err.log" \
    --tmpdir="$D/$name/tmp" --server-id="$id" --skip-name-resolve --innodb-flush-log-at-trx-commit=2 \
    --innodb-buffer-pool-size=256M --innodb-log-file-size=256M --max-allowed-packet=1G "${ROOT_USER[@]}" "$@" \
    >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do mariadb -S "$D/$name/sock" -uroot -e 'select 1' >/dev/null 2>&1 && return; sleep 0.1; done
  echo "mariadbd $name did not start; see $D/$name/err.log" >&2; exit 1
}
best() { printf '%s\n' "$@" | sort -g | head -1; }
# $1 / $2 rounded to two places (bc's scale alone truncates: 0.357 printed as .35 against a 0.35x goal).
ratio() { if [ "$(echo "$2 == 0" | bc)" = 1 ]; then echo "-"; else LC_ALL=C printf '%.2f' "$(echo "scale=6; $1 / $2" | bc)"; fi; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of a server process, in ticks
cpu_seconds_since() { echo "($(cpu_ticks "$1") - $2) / $(getconf CLK_TCK)" | bc -l; }  # pid ticks_before
