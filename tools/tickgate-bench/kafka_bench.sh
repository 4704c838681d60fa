#!/bin/sh
# The Kafka feed's figures (tools/tickgate-bench/README.md, "Kafka ingest").
#
#   kafka_bench.sh ingest [N] [S] [P] [node flags...]
#     records/s from tickgate-kafka-mock into one node's topic actors:
#     produces N MoonX price updates for S symbols over P partitions with kcat
#     while every broker is down for the node, starts the node (its S topics
#     kept alive by a history query each, no subscribers), brings the brokers
#     up and samples tickgate_publications_total every 50 ms from its first
#     move to its last (the mock cluster keeps a bounded log per partition
#     and may hold fewer than N: what it served is what is counted).
#     Prints: records, seconds and records/s from first to last move; the
#     same over only the intervals in which records arrived ("flowing");
#     node and mock CPU seconds; the node's CPU seconds per thread.
#   kafka_bench.sh latency [RATE] [SECONDS] [node flags...]
#     produce time -> client receipt through Kafka: tickgate-bench wide
#     --kafka produces RATE MoonX price updates/s over 100 symbols (each
#     record handed to librdkafka as it is made, sent within linger.ms=5) and 100 native
#     WebSocket clients each follow one symbol's price:K<i>.
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
    --kafka.brokers="$bs" --kafka.topics=price.updates --kafka.offset-reset=earliest --kafka.group-id="bench-$$" \
    --topic.idle-grace=600s "$@" 2>"$dir/node.log" &
  node=$!
  while [ ! -s "$dir/ready" ]; do sleep 0.05; done
  port=$(sed 's/.*"port":\([0-9]*\).*/\1/' "$dir/ready")
}

if [ "$mode" = latency ]; then
  rate=${1:-10000}; seconds=${2:-10}
  if [ $# -ge 2 ]; then shift 2; else shift $#; fi
  start_node "$@"
  # Publishing starts once the group gave the node its partitions.
  until curl -s "http://127.0.0.1:$port/metrics" | grep -q "^tickgate_kafka_assigned_partitions [1-9]"; do sleep 0.1; done
  "$BUILD/tickgate-bench" wide --url "ws://127.0.0.1:$port/v1" --kafka "$bs" --clients 100 \
    --topics 100 --per-client 1 --rate "$rate" --duration "$seconds" --warmup 2 --server-pid "$node"
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
  kcat -P -b "$bs" -t price.updates -l -X linger.ms=${LINGER:-5} -X batch.num.messages=${BATCH:-1000} "$f"
done
echo "broker all down" >&3
# The node's client retries the brokers with a growing backoff (up to 10 s
# by default) while they are down; short, so all of them are back at once
# when they come up instead of one by one.
start_node '--kafka.properties=["reconnect.backoff.max.ms=100","fetch.wait.max.ms=10"]' "$@"
i=0; while [ $i -lt "$S" ]; do curl -s -o /dev/null "http://127.0.0.1:$port/api/history?topic=price:SYM$i"; i=$((i + 1)); done
echo "broker all up" >&3
count() { curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "tickgate_publications_total" { print $2 }'; }
while [ "$(count)" -eq 0 ]; do sleep 0.01; done
# Samples "time count" every 50 ms until the count has not moved for a second.
last=-1; still=0
while [ $still -lt 20 ]; do
  now=$(count)
  echo "$(date +%s.%N) $now"
  if [ "$now" -ne "$last" ]; then last=$now; still=0; else still=$((still + 1)); fi
  sleep 0.05
done >"$dir/samples"
[ -n "${VERBOSE:-}" ] && cat "$dir/samples" >&2
cpu=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$node/stat")
# CPU seconds per node thread, summed by name (tg.kafka: the consumer thread).
threads=$(for t in /proc/$node/task/*/stat; do sed 's/^[0-9]* (\(.*\)) [A-Z] \(.*\)/\1 \2/' "$t"; done |
  awk '{ cpu[$1] += ($12 + $13) / 100 } END { for (n in cpu) printf "%s=%.2f ", n, cpu[n] }')
mock_cpu=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$mock/stat")
# First to last move; "flowing": only the sample intervals in which the
# count moved (the mock cluster pauses its deliveries now and then).
awk -v cpu="$cpu" -v mock="$mock_cpu" '
  NR == 1 { t0 = $1; c0 = $2 }
  NR > 1 && $2 != pc { t1 = $1; n = $2; flow_t += $1 - pt; flow_n += $2 - pc }
  { pt = $1; pc = $2 }
  END { printf "records=%d seconds=%.3f records_per_s=%.0f flowing_s=%.3f records_per_s_flowing=%.0f node_cpu_s=%s mock_cpu_s=%s\n",
        n, t1 - t0, (n - c0) / (t1 - t0), flow_t, flow_n / flow_t, cpu, mock }' "$dir/samples"
echo "node threads (cpu s): $threads"
