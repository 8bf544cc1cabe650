#!/bin/bash
# Issue 20's table, measured with the users' own clients (timings, not checks).
#   tests/bench/client_table.sh [--big | --tiny] [--rows N] [--rounds N] [--readers "1 8 16"] [--relay PATH]
#                               [--floor PATH]
# --tiny (8 x 300 rows, 1 round, 1 and 2 readers) is the smoke run CTest makes (client_table_smoke,
# label integration): it checks that every row of the table is printed, not the figures.
# A MariaDB source gets a sysbench insert history (8 tables; default 65k rows each, about 200 MB of
# binlog; --big: 400k rows, about 1.2 GB as in the issue). Then, alternating relay and source in every round and
# keeping the best of --rounds:
#   - ingest from process start: `binlog-relay run` on an empty store until its SHOW MASTER STATUS
#     equals the source's, against a MariaDB replica's IO thread from START SLAVE IO_THREAD until
#     Read_Master_Log_Pos reaches the source's end (sync = commit for the relay);
#   - serve: N concurrent `mariadb-binlog --read-from-remote-server --raw --to-last-log`, files
#     symlinked to /dev/null, from the relay and from the source, with the server process's CPU
#     time per pull (utime + stime from /proc) and the clients' (summed, /usr/bin/time); with at
#     least as many readers as cores, the floor a relay using no CPU at all would reach (the clients'
#     CPU over the clients' plus the source's) and a bound for any server that writes the bytes into
#     the readers' sockets (the clients' CPU plus what loopback_send_floor spends to write as many
#     bytes, no file read, no check, over the cores, against the source's time); for 1 reader also
#     the client's share of a core and its voluntary context switches, and the server's share of a
#     core during that pull;
#   - a MariaDB replica's IO thread pulling the whole history from the relay and from the source;
#   - the disk for reference: `dd bs=8M conv=fdatasync` of the same bytes.
# Starts its own servers on loopback ports in a temp dir and stops exactly those, by pid.
set -euo pipefail
ROWS=65000; ROUNDS=2; READERS="1 8 16"; TINY=0; LIMIT=3600
HERE=$(cd "$(dirname "$0")/../.." && pwd)
RELAY="$HERE/build/relay/binlog-relay"
FLOOR="$HERE/build/tests/bench/loopback_send_floor"
while [ $# -gt 0 ]; do
  case "$1" in
    --big) ROWS=400000 ;;
    --tiny) ROWS=300; ROUNDS=1; READERS="1 2"; TINY=1; LIMIT=40 ;;
    --rows) ROWS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --readers) READERS=$2; shift ;;
    --relay) RELAY=$2; shift ;;
    --floor) FLOOR=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$RELAY" ] || { echo "no binlog-relay at $RELAY: build it or pass --relay" >&2; exit 2; }
[ -x "$FLOOR" ] || { echo "no loopback_send_floor at $FLOOR: build it or pass --floor" >&2; exit 2; }
for tool in mariadbd mariadb-install-db mariadb mariadb-binlog sysbench; do
  command -v $tool >/dev/null || { echo "$tool is missing (scripts/install-deps)" >&2; exit 2; }
done

BENCH_NAME=client-table
# shellcheck source=tests/bench/bench_lib.sh
source "$HERE/tests/bench/bench_lib.sh"

src() { mariadb -S "$D/source/sock" -uroot -N -e "$1"; }
rep() { mariadb -S "$D/replica/sock" -uroot -N -e "$1"; }

SP=$(free_port); RP=$(free_port); start_mariadb source "$SP" 1 --log-bin="$D/source/data/mysql-bin" \
  --binlog-format=ROW --max-binlog-size=256M
SOURCE_PID=${PIDS[-1]}
src "CREATE USER r@'%' IDENTIFIED BY 'r'; GRANT ALL ON *.* TO r@'%'; CREATE DATABASE sbtest;"
echo "history: sysbench oltp_insert prepare, 8 tables x $ROWS rows ..." >&2
sysbench oltp_insert --db-driver=mysql --mysql-socket="$D/source/sock" --mysql-user=root --tables=8 \
  --table-size="$ROWS" --threads=2 prepare >"$D/sysbench.log" 2>&1
read -r END_FILE END_POS < <(src 'SHOW MASTER STATUS' | awk '{print $1, $2}')
FIRST=$(src 'SHOW BINARY LOGS' | awk 'NR==1{print $1}')
BYTES=$(src 'SHOW BINARY LOGS' | awk '{s+=$2} END{print s}')
start_mariadb replica "$RP" 2 --skip-log-bin --relay-log="$D/replica/data/relay"

relay_config() {  # store listen_port
  cat <<CONF
[source]
host = "127.0.0.1"
port = $SP
user = "r"
password = "r"
server_id = 4001
tls = "disabled"
[storage]
data_dir = "$1"
sync = "commit"
[server]
listen = "127.0.0.1:$2"
server_id = 4002
[[users]]
name = "repl"
password = "replpw"
role = "replica"
[[users]]
name = "admin"
password = "adminpw"
role = "admin"
[log]
level = "warn"
CONF
}
LP=$(free_port); RELAY_PID=
ingest_relay() {  # sets T to the seconds taken; leaves the relay running (not in a subshell)
  [ -n "$RELAY_PID" ] && { kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true; }
  rm -rf "$D/store"; relay_config "$D/store" "$LP" >"$D/relay.toml"; chmod 600 "$D/relay.toml"
  local t0; t0=$(now)
  "$RELAY" run --config "$D/relay.toml" >>"$D/relay.log" 2>&1 &
  RELAY_PID=$!; PIDS+=("$RELAY_PID")
  while true; do
    local s; s=$(mariadb -h127.0.0.1 -P"$LP" -uadmin -padminpw -N -e 'SHOW MASTER STATUS' 2>/dev/null | awk '{print $1, $2}') || true
    [ "$s" = "$END_FILE $END_POS" ] && break
    kill -0 "$RELAY_PID" 2>/dev/null || { echo "the relay exited; see $D/relay.log" >&2; exit 1; }
    waited "$t0" "the relay's ingest"
    sleep 0.02
  done
  T=$(echo "$(now) - $t0" | bc)
}
ingest_replica() {  # port user password: a replica IO thread pulling the history from that server
  rep "STOP SLAVE; RESET SLAVE ALL; CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${1:-$SP}, \
MASTER_USER='${2:-r}', MASTER_PASSWORD='${3:-r}', MASTER_LOG_FILE='$FIRST', MASTER_LOG_POS=4, MASTER_USE_GTID=no;" 2>/dev/null
  local t0; t0=$(now)
  rep 'START SLAVE IO_THREAD'
  while true; do
    local s; s=$(mariadb -S "$D/replica/sock" -uroot -e 'SHOW SLAVE STATUS\G' | awk '/ Master_Log_File:/{f=$2} / Read_Master_Log_Pos:/{p=$2} END{print f, p}')
    [ "$s" = "$END_FILE $END_POS" ] && break
    waited "$t0" "the replica IO thread (from port ${1:-$SP})"
    sleep 0.02
  done
  local t; t=$(echo "$(now) - $t0" | bc); rep 'STOP SLAVE IO_THREAD'; echo "$t"
}
serve() {  # port user password readers server_pid; prints seconds, the server's CPU s to $D/cpu and
           # the clients' (user+sys, summed over the readers) to $D/ccpu
  local port=$1 user=$2 pw=$3 n=$4 t0 c0 pids=()
  c0=$(cpu_ticks "$5"); t0=$(now)
  for i in $(seq "$n"); do
    /usr/bin/time -f '%U %S' -o "$D/ctime.$i" mariadb-binlog --read-from-remote-server --raw --to-last-log \
      -h127.0.0.1 -P"$port" -u"$user" -p"$pw" --result-file="$D/out/$i/" "$FIRST" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  echo "$(now) - $t0" | bc
  cpu_seconds_since "$5" "$c0" >"$D/cpu"
  for i in $(seq "$n"); do tail -1 "$D/ctime.$i"; done | awk '{s += $1 + $2} END {print s}' >"$D/ccpu"
}
client_cpu() {  # port user password server_pid; prints the client's CPU (user+sys, and its share of a
               # core over the pull), its voluntary context switches and the server's share of a core
  local c0 t0 t server
  c0=$(cpu_ticks "$4"); t0=$(now)
  /usr/bin/time -f '%U %S %w' -o "$D/time.txt" mariadb-binlog --read-from-remote-server --raw --to-last-log \
    -h127.0.0.1 -P"$1" -u"$2" -p"$3" --result-file="$D/out/1/" "$FIRST"
  t=$(echo "$(now) - $t0" | bc)
  server=$(cpu_seconds_since "$4" "$c0")
  tail -1 "$D/time.txt" | awk -v t="$t" -v s="$server" \
    '{printf "%.2f s cpu (%.0f %% of a core), %d vcs; server %.0f %% of a core", $1 + $2, 100 * ($1 + $2) / t, $3, 100 * s / t}'
}

for i in $(seq 16); do
  mkdir -p "$D/out/$i"
  src 'SHOW BINARY LOGS' | awk '{print $1}' | while read -r f; do ln -s /dev/null "$D/out/$i/$f"; done
done

declare -a RI SI
for _ in $(seq "$ROUNDS"); do ingest_relay; RI+=("$T"); SI+=("$(ingest_replica)"); done
printf '\n%s bytes of binlog (%s .. %s:%s), best of %s rounds, relay and source alternating\n\n' \
  "$BYTES" "$FIRST" "$END_FILE" "$END_POS" "$ROUNDS"
printf '| what | MariaDB source | relay | relay / source |\n|---|---|---|---|\n'
for n in $READERS; do
  declare -a R=() S=() RC=() SC=() RCC=() SCC=()
  for _ in $(seq "$ROUNDS"); do
    R+=("$(serve "$LP" repl replpw "$n" "$RELAY_PID")"); RC+=("$(cat "$D/cpu")"); RCC+=("$(cat "$D/ccpu")")
    S+=("$(serve "$SP" r r "$n" "$SOURCE_PID")"); SC+=("$(cat "$D/cpu")"); SCC+=("$(cat "$D/ccpu")")
  done
  r=$(best "${R[@]}"); s=$(best "${S[@]}")
  printf '| mariadb-binlog --raw, %s reader(s) | %.2f s | %.2f s | %sx |\n' "$n" "$s" "$r" "$(ratio "$r" "$s")"
  rs=$(best "${RC[@]}"); ss=$(best "${SC[@]}")
  printf '| the same, server CPU (user+sys, least of %s) | %.2f s | %.2f s | %sx |\n' "$ROUNDS" "$ss" "$rs" \
    "$(ratio "$rs" "$ss")"
  rc=$(best "${RCC[@]}"); sc=$(best "${SCC[@]}")
  printf '| the same, the clients'"'"' CPU (summed, least of %s) | %.2f s | %.2f s | %sx |\n' "$ROUNDS" "$sc" "$rc" \
    "$(ratio "$rc" "$sc")"
  # On a machine whose cores the pull saturates, its time is at least (clients + server CPU) / cores:
  # a relay that used no CPU at all would take at least this share of the source's CPU-bound time.
  if [ "$n" -ge "$(nproc)" ]; then
    printf '| the same, floor for a relay using no CPU: clients / (clients + source server) CPU | | | %sx |\n' \
      "$(ratio "$rc" "$(echo "$sc + $ss" | bc -l)")"
    # Any server must at least write the bytes into the readers' sockets: at what that alone costs
    # here, with the clients' CPU as measured and every core busy all along.
    per_gb=$("$FLOOR" "$n" "$(( (BYTES + 999999) / 1000000 ))" | awk '{print $(NF - 3)}')
    printf '| the same, bound for any server: clients'"'"' CPU + %s s per GB written to loopback sockets (loopback_send_floor), over %s cores | | | %sx |\n' \
      "$per_gb" "$(nproc)" "$(ratio "$(echo "($rc + $per_gb * $n * $BYTES / 10^9) / $(nproc)" | bc -l)" "$s")"
  fi
done
printf '| mariadb-binlog --raw, 1 reader, client | %s | %s | |\n' "$(client_cpu "$SP" r r "$SOURCE_PID")" \
  "$(client_cpu "$LP" repl replpw "$RELAY_PID")"
r=$(best "${RI[@]}"); s=$(best "${SI[@]}")
printf '| ingest from start (source: replica IO thread) | %.2f s | %.2f s | %sx |\n' "$s" "$r" "$(ratio "$r" "$s")"
declare -a RP SP2
for _ in $(seq "$ROUNDS"); do RP+=("$(ingest_replica "$LP" repl replpw)"); SP2+=("$(ingest_replica "$SP" r r)"); done
r=$(best "${RP[@]}"); s=$(best "${SP2[@]}")
printf '| replica IO thread pulling the history | %.2f s | %.2f s | %sx |\n' "$s" "$r" "$(ratio "$r" "$s")"
declare -a DD
for _ in $(seq "$ROUNDS"); do
  t0=$(now)
  src 'SHOW BINARY LOGS' | awk '{print $1}' | (cd "$D/source/data" && xargs cat) |
    dd of="$D/dd.out" bs=8M iflag=fullblock conv=fdatasync status=none
  DD+=("$(echo "$(now) - $t0" | bc)"); rm -f "$D/dd.out"
done
printf '| the disk: dd bs=8M conv=fdatasync of the same bytes | %.2f s | | |\n' "$(best "${DD[@]}")"
[ "$TINY" = 1 ] && echo "client_table: every row printed (smoke run)"
exit 0
