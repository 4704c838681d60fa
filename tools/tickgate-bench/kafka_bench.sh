#!/bin/sh
# The Kafka feed's figures (tools/tickgate-bench/README.md, "Kafka ingest").
#
#   kafka_bench.sh ingest [N] [S] [P] [node flags...]
#     records/s from tickgate-kafka-mock into one node's topic actors:
#     produces N MoonX price updates for S symbols over P partitions with kcat
#     while every broker is down for the node, starts the node (its S topics
#     kept alive by a history query each, no subscribers), brings the brokers
#     up and times tickgate_publications_total from its first move to its
#     last (the mock cluster keeps a bounded log per partition and may hold
#     fewer than N: what it served is what is counted).
#     Prints: records=R seconds=T records_per_s=R/T node_cpu_s=C
#   kafka_bench.sh latency [RATE] [SECONDS] [node flags...]
#     produce time -> client receipt through Kafka: kafka_latency.js produces
#     RATE records/s through one kcat process (linger.ms=0) and receives them
#     on a native WebSocket subscriber.
set -eu
mode=${1:-ingest}; shift || true
BUILD=${BUILD:-build}
here=$(dirname "$0")
dir=$(mktemp -d /tmp/tickgate-kafka-bench-XXXXXX)
mkfifo "$dir/ctl"
"$BUILD/tickgate-kafka-mock" --brokers 3 --topics "price.updates:${P:-8}" <"$dir/ctl" >"$dir/mock.out" &
mock=$!
exec 3>"$dir/ctl"
node=
cleanup() { [ -n "$node" ] && kill "$node" 2>/dev/null; exec 3>&-; kill "$mock" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
while [ ! -s "$dir/mock.out" ]; do sleep 0.05; done
bs=$(head -1 "$dir/mock.out")

start_node() {
  "$BUILD/tickgate" --ws.port=0 --admin.port=0 --ready-file="$dir/ready" --log-level=warn \
    --kafka.brokers="$bs" --kafka.offset-reset=earliest --kafka.group-id="bench-$$" \
    --topic.idle-grace=600s "$@" 2>"$dir/node.log" &
  node=$!
  while [ ! -s "$dir/ready" ]; do sleep 0.05; done
  port=$(sed 's/.*"port":\([0-9]*\).*/\1/' "$dir/ready")
}

if [ "$mode" = latency ]; then
  rate=${1:-10000}; seconds=${2:-10}
  if [ $# -ge 2 ]; then shift 2; else shift $#; fi
  start_node "$@"
  NODE_PATH="$here/../../tests/socketio/node_modules" node "$here/kafka_latency.js" "$port" "$bs" "$rate" "$seconds"
  exit 0
fi

N=${1:-1000000}; S=${2:-100}
if [ $# -ge 3 ]; then shift 3; else shift $#; fi
awk -v n="$N" -v s="$S" 'BEGIN { for (i = 0; i < n; i++)
  printf "{\"type\":\"price_update\",\"symbol\":\"SYM%d\",\"data\":{\"price\":%d.5,\"change\":0.1,\"volume\":1000,\"n\":%d},\"timestamp\":1700000000000}\n", i % s, 100 + i % 50, i }' >"$dir/records"
# In pieces: one kcat run queues at most 100,000 messages (its client's
# queue.buffering.max.messages) and drops the rest of a larger file.
split -l 50000 "$dir/records" "$dir/part."
for f in "$dir"/part.*; do
  kcat -P -b "$bs" -t price.updates -l -X linger.ms=5 -X batch.num.messages=1000 "$f"
done
echo "broker all down" >&3
start_node "$@"
i=0; while [ $i -lt "$S" ]; do curl -s -o /dev/null "http://127.0.0.1:$port/api/history?topic=price:SYM$i"; i=$((i + 1)); done
echo "broker all up" >&3
count() { curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "tickgate_publications_total" { print $2 }'; }
while [ "$(count)" -eq 0 ]; do sleep 0.01; done
t0=$(date +%s.%N); c0=$(count)
# Done when the count has not moved for a second.
last=$c0; t1=$t0; still=0
while [ $still -lt 50 ]; do
  sleep 0.02; now=$(count)
  if [ "$now" -ne "$last" ]; then last=$now; t1=$(date +%s.%N); still=0; else still=$((still + 1)); fi
  [ -n "${VERBOSE:-}" ] && curl -s "http://127.0.0.1:$port/metrics" | grep -E "^tickgate_(kafka_records_total|publications_total)" >&2
done
cpu=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$node/stat")
awk -v n="$last" -v c0="$c0" -v t0="$t0" -v t1="$t1" -v cpu="$cpu" \
  'BEGIN { printf "records=%d seconds=%.3f records_per_s=%.0f node_cpu_s=%s\n", n, t1 - t0, (n - c0) / (t1 - t0), cpu }'
