#!/bin/bash
# Issue 17's storage-at-rest table, measured with the users' own client (timings, not checks).
#   tests/bench/compression_table.sh [--tiny] [--rows N] [--seconds N] [--rounds N] [--level N] [--write-only]
#                                    [--relay PATH]
# --tiny (8 x 300 rows, 1 round) is the smoke run CTest makes (compression_table_smoke, label
# integration): it checks that every row of the table is printed, not the figures.
# A MariaDB source (max_binlog_size 32M; --tiny: 1M) gets a sysbench history: oltp_insert prepare (8 tables,
# default 65k rows each) then 20 s (--seconds) of oltp_write_only (updates, deletes and inserts: ROW events
# with before and after images). --write-only purges the load's files from the source before the
# write run, so the history is the steady write traffic that a retention buffer of days holds (the
# load is sysbench's random-digit columns, which 1 MiB frames compress to about 0.42-0.45x only, the
# digits' own entropy being about 0.40x of a row's bytes). Four relays follow it live from before it
# is written (--write-only: from the purge on): plain, encrypted ([storage] encryption_key_file), zstd
# (compression = "zstd", compress_after = "0s") and zstd + encrypted. Printed:
#   - disk bytes of each store (event files, compressed files and data.mdb, as allocated) against the
#     source's binlog files (issue 17's goal with zstd: at most 0.35x), once every sealed file is
#     compressed: the history ends with FLUSH BINARY LOGS and one small transaction, so the newest
#     file, still open and never compressed, is small as in a store of days; the index's share too;
#   - serving one `mariadb-binlog --read-from-remote-server --raw --to-last-log` (files symlinked to
#     /dev/null) from each relay and from the source, alternating in every round, best of --rounds,
#     with the ratio to the plain relay and to the source (goal: compressed + encrypted at least 0.5x
#     of plain's speed, and faster than the source).
# Starts its own servers on loopback ports in a temp dir and stops exactly those, by pid.
set -euo pipefail
ROWS=65000; ROUNDS=3; TINY=0; LIMIT=1800; LEVEL=3; RUN_SECONDS=20; MAX_BINLOG=32M; WRITE_ONLY=0
HERE=$(cd "$(dirname "$0")/../.." && pwd)
RELAY="$HERE/build/relay/binlog-relay"
while [ $# -gt 0 ]; do
  case "$1" in
    --tiny) ROWS=300; ROUNDS=1; TINY=1; LIMIT=60; RUN_SECONDS=1; MAX_BINLOG=1M ;;
    --rows) ROWS=$2; shift ;;
    --seconds) RUN_SECONDS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --level) LEVEL=$2; shift ;;
    --write-only) WRITE_ONLY=1 ;;
    --relay) RELAY=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$RELAY" ] || { echo "no binlog-relay at $RELAY: build it or pass --relay" >&2; exit 2; }
for tool in mariadbd mariadb-install-db mariadb mariadb-binlog sysbench; do
  command -v $tool >/dev/null || { echo "$tool is missing (scripts/install-deps)" >&2; exit 2; }
done
BENCH_NAME=compression-table
# shellcheck source=tests/bench/bench_lib.sh
source "$HERE/tests/bench/bench_lib.sh"
src() { mariadb -S "$D/source/sock" -uroot -N -e "$1"; }

SP=$(free_port); start_mariadb source "$SP" 1 --log-bin="$D/source/data/mysql-bin" \
  --binlog-format=ROW --max-binlog-size=$MAX_BINLOG
SOURCE_PID=${PIDS[-1]}
src "CREATE USER r@'%' IDENTIFIED BY 'r'; GRANT ALL ON *.* TO r@'%'; CREATE DATABASE sbtest;"
printf '1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n' >"$D/keys"; chmod 600 "$D/keys"
RELAYS=0
start_relay() {  # name storage_lines...: starts a relay on its own store; sets PORT_<name>, PID_<name>
  local name=$1; shift
  local port; port=$(free_port)
  RELAYS=$((RELAYS + 1))  # each pulls from the source under a server_id of its own
  {
    printf '[source]\nhost = "127.0.0.1"\nport = %s\nuser = "r"\npassword = "r"\nserver_id = %s\ntls = "disabled"\n' \
      "$SP" $((4100 + RELAYS))
    printf '[storage]\ndata_dir = "%s"\nsync = "commit"\n' "$D/$name"
    for line in "$@"; do printf '%s\n' "$line"; done
    printf '[server]\nlisten = "127.0.0.1:%s"\nserver_id = 4002\n' "$port"
    printf '[[users]]\nname = "repl"\npassword = "replpw"\nrole = "replica"\n'
    printf '[[users]]\nname = "admin"\npassword = "adminpw"\nrole = "admin"\n[log]\nlevel = "info"\n'
  } >"$D/$name.toml"
  chmod 600 "$D/$name.toml"
  "$RELAY" run --config "$D/$name.toml" >>"$D/$name.log" 2>&1 &
  PIDS+=($!)
  printf -v "PORT_$name" '%s' "$port"
  printf -v "PID_$name" '%s' "$!"
}
wait_stored() {  # name compressing: until the relay's SHOW MASTER STATUS is the source's and, for a
                 # compressing relay, its status counts every file but the newest compressed
  local name=$1 compressing=$2 port t0; port="PORT_$name"; t0=$(now)
  while true; do
    local s; s=$(mariadb -h127.0.0.1 -P"${!port}" -uadmin -padminpw -N -e 'SHOW MASTER STATUS' 2>/dev/null | awk '{print $1, $2}') || true
    if [ "$s" = "$END_FILE $END_POS" ]; then
      [ "$compressing" = 0 ] && return
      local c; c=$(mariadb -h127.0.0.1 -P"${!port}" -uadmin -padminpw -N -e 'SHOW RELAY STATUS' 2>/dev/null |
        awk -F'\t' '$1 == "Compressed_Files" { split($2, w, " "); print w[1] }') || true
      [ "${c:-0}" -ge $((FILES - 1)) ] && return
    fi
    waited "$t0" "the relay $name"
    sleep 0.2
  done
}
KEY="encryption_key_file = \"$D/keys\""
ZSTD=("compression = \"zstd\"" "compression_level = $LEVEL" "compress_after = \"0s\"")
start_relays() {
  start_relay plain
  start_relay encrypted "$KEY"
  start_relay zstd "${ZSTD[@]}"
  start_relay zstd_encrypted "${ZSTD[@]}" "$KEY"
}
echo "history: sysbench oltp_insert prepare, 8 tables x $ROWS rows, then ${RUN_SECONDS} s of oltp_write_only ..." >&2
SB=(--db-driver=mysql --mysql-socket="$D/source/sock" --mysql-user=root --tables=8 --table-size="$ROWS")
# The relays follow the history as it is written, as a deployed relay follows its source: each
# sealed file is compressed soon after the source rotates past it, and the LMDB pages of a
# compressed file's dropped runs are reused (a relay that catches up a long backlog at once keeps
# data.mdb at the high-water mark of that backlog's runs instead: LMDB files never shrink).
[ "$WRITE_ONLY" = 1 ] || start_relays
sysbench oltp_insert "${SB[@]}" --threads=2 prepare >"$D/sysbench.log" 2>&1
if [ "$WRITE_ONLY" = 1 ]; then
  # MariaDB keeps a file its binlog checkpoint still needs (PURGE stops there with a note): retry
  # until only the new file is left, else the load's last file (about 0.45x) joins the history.
  src 'FLUSH BINARY LOGS'
  t0=$(now)
  until src "PURGE BINARY LOGS TO '$(src 'SHOW MASTER STATUS' | awk '{print $1}')'" &&
    [ "$(src 'SHOW BINARY LOGS' | wc -l)" = 1 ]; do
    waited "$t0" "purging the load's binlogs on the source"
    sleep 0.5
  done
  start_relays
fi
sysbench oltp_write_only "${SB[@]}" --threads=2 --time="$RUN_SECONDS" run >>"$D/sysbench.log" 2>&1
# The history ends with a rotation, as a retention buffer's store is all sealed files but the newest
# (days of files against one open file): the source's newest file holds one small transaction (the
# relay lists a file once it stores an event of it).
src 'FLUSH BINARY LOGS; CREATE TABLE sbtest.marker (i INT PRIMARY KEY); INSERT INTO sbtest.marker VALUES (1)'
read -r END_FILE END_POS < <(src 'SHOW MASTER STATUS' | awk '{print $1, $2}')
FIRST=$(src 'SHOW BINARY LOGS' | awk 'NR==1{print $1}')
FILES=$(src 'SHOW BINARY LOGS' | wc -l)
BYTES=$(src 'SHOW BINARY LOGS' | awk '{s+=$2} END{print s}')

for name in plain encrypted; do wait_stored "$name" 0; done
for name in zstd zstd_encrypted; do wait_stored "$name" 1; done

for i in 1; do
  mkdir -p "$D/out/$i"
  src 'SHOW BINARY LOGS' | awk '{print $1}' | while read -r f; do ln -s /dev/null "$D/out/$i/$f"; done
done
serve() {  # port user password server_pid: seconds of one pull of the whole history; the server's
           # and the client's CPU seconds go to $D/cpu
  local t0 c0; c0=$(cpu_ticks "$4"); t0=$(now)
  /usr/bin/time -f '%U %S' -o "$D/time.txt" mariadb-binlog --read-from-remote-server --raw --to-last-log \
    -h127.0.0.1 -P"$1" -u"$2" -p"$3" --result-file="$D/out/1/" "$FIRST"
  echo "$(now) - $t0" | bc
  echo "$(cpu_seconds_since "$4" "$c0") $(tail -1 "$D/time.txt" | awk '{print $1 + $2}')" >"$D/cpu"
}
disk() { du -s --block-size=1 "$D/$1" | awk '{print $1}'; }

printf '\n%s bytes of binlog in %s files (%s .. %s, %s), zstd level %s, best of %s rounds, alternating\n\n' \
  "$BYTES" "$FILES" "$FIRST" "$END_FILE" "$([ "$WRITE_ONLY" = 1 ] && echo "the write run only" || echo "load and write run")" \
  "$LEVEL" "$ROUNDS"
printf '| store | disk bytes | / source binlog |\n|---|---|---|\n'
printf '| the source'"'"'s binlog files | %s | 1.00x |\n' "$BYTES"
for name in plain encrypted zstd zstd_encrypted; do
  b=$(disk "$name"); printf '| relay, %s | %s | %sx |\n' "$name" "$b" "$(ratio "$b" "$BYTES")"
done
b=$(du -s --block-size=1 "$D/zstd/data.mdb" | awk '{print $1}')
printf '| relay, zstd: its LMDB index alone (data.mdb) | %s | %sx |\n' "$b" "$(ratio "$b" "$BYTES")"
# The sealed files alone (what a retention buffer of days is made of): their compressed size against
# the same files' stored bytes, from SHOW RELAY STATUS.
for name in zstd zstd_encrypted; do
  port="PORT_$name"
  mariadb -h127.0.0.1 -P"${!port}" -uadmin -padminpw -N -e 'SHOW RELAY STATUS' |
    awk -F'\t' -v n="$name" '$1 == "Compressed_Files" {
      split($2, w, " "); printf "| relay, %s: the sealed files alone (%s of %s files) | %s | %.2fx of their stored bytes |\n",
      n, w[1], w[3], w[9], (w[5] > 0 ? w[9] / w[5] : 0) }'
done
declare -A BEST_T BEST_SCPU BEST_CCPU
pull() {  # name port user password pid: one round's pull, keeping the best time and least CPU
  local t; t=$(serve "$2" "$3" "$4" "$5"); read -r scpu ccpu <"$D/cpu"
  if [ -z "${BEST_T[$1]:-}" ] || [ "$(echo "$t < ${BEST_T[$1]}" | bc)" = 1 ]; then BEST_T[$1]=$t; fi
  if [ -z "${BEST_SCPU[$1]:-}" ] || [ "$(echo "$scpu < ${BEST_SCPU[$1]}" | bc)" = 1 ]; then BEST_SCPU[$1]=$scpu; fi
  if [ -z "${BEST_CCPU[$1]:-}" ] || [ "$(echo "$ccpu < ${BEST_CCPU[$1]}" | bc)" = 1 ]; then BEST_CCPU[$1]=$ccpu; fi
}
for _ in $(seq "$ROUNDS"); do
  pull source "$SP" r r "$SOURCE_PID"
  for name in plain encrypted zstd zstd_encrypted; do
    port="PORT_$name"; pid="PID_$name"; pull "$name" "${!port}" repl replpw "${!pid}"
  done
done
s=${BEST_T[source]}; p=${BEST_T[plain]}
printf '\n| one mariadb-binlog --raw pull from | seconds | speed / plain relay | time / source | server CPU s | client CPU s |\n'
printf '|---|---|---|---|---|---|\n'
for name in source plain encrypted zstd zstd_encrypted; do
  t=${BEST_T[$name]}
  printf '| %s | %.2f | %sx | %sx | %.2f | %.2f |\n' "$([ "$name" = source ] && echo "the MariaDB source" || echo "relay, $name")" \
    "$t" "$(ratio "$p" "$t")" "$(ratio "$t" "$s")" "${BEST_SCPU[$name]}" "${BEST_CCPU[$name]}"
done
grep -h "compressed mysql-bin" "$D"/zstd.log | tail -1 >&2 || true
[ "$TINY" = 1 ] && echo "compression_table: every row printed (smoke run)"
exit 0
