#!/bin/sh
# The cluster's figures (tools/tickgate-bench/README.md, "Cluster").
#
#   cluster_bench.sh single [bench flags...]
#     one node A; 2,000 fanout clients on A, publishes through A's HTTP at
#     100 msg/s (200k deliveries/s). CLIENTS and RATE change the two (e.g.
#     CLIENTS=1000 RATE=200: the load of one cluster node below).
#   cluster_bench.sh cluster PREFIX [bench flags...]
#     three nodes n1..n3 (n2, n3 join through n1, no Redis); publishes
#     through n1's HTTP at 200 msg/s to the topic PREFIX0, 1,000 clients on
#     each of n2 and n3 (200k deliveries/s per node). PREFIX picks the
#     topic's home (rendezvous hashing over n1..n3): bench. is homed on n1,
#     a. on n2. CLIENTS (over both nodes) and RATE as for single.
# Nodes are started with setsid on free ports and stopped by their PIDs.
# Prints `uptime` first and each node's relay frames sent afterwards.
set -eu
mode=${1:-single}; shift || true
BUILD=${BUILD:-build}
DURATION=${DURATION:-10}
dir=$(mktemp -d /tmp/tickgate-cluster-bench-XXXXXX)
pids=""
cleanup() {
  for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $pids; do
    n=0
    while kill -0 "$p" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT

# start_node NAME [flags...]: sets PORT, CPORT and PID of the node.
start_node() {
  name=$1; shift
  setsid "$BUILD/tickgate" --ws.host=127.0.0.1 --ws.port=0 --admin.port=0 \
    --ready-file="$dir/$name.ready" --log-level=warn "$@" >"$dir/$name.log" 2>&1 &
  PID=$!
  pids="$pids $PID"
  until grep -q '"port":' "$dir/$name.ready" 2>/dev/null; do sleep 0.05; done
  PORT=$(sed 's/.*"port":\([0-9]*\).*/\1/' "$dir/$name.ready")
  CPORT=$(sed -n 's/.*"cluster_port":\([0-9]*\).*/\1/p' "$dir/$name.ready")
}
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v s="$2" '$1 == s { print $2 }'; }
relayed='tickgate_cluster_relayed_total{direction="out"}'

uptime
if [ "$mode" = single ]; then
  start_node A
  "$BUILD/tickgate-bench" fanout --url "ws://127.0.0.1:$PORT/v1" --clients "${CLIENTS:-2000}" --rate "${RATE:-100}" \
    --duration "$DURATION" --server-pid "$PID" "$@"
  exit 0
fi

prefix=${1:-bench.}; shift || true
start_node n1 --node-id=n1 --cluster.pick-port
P1=$PORT; PID1=$PID; seed=127.0.0.1:$CPORT
start_node n2 --node-id=n2 --cluster.pick-port --cluster.seeds=$seed
P2=$PORT; PID2=$PID
start_node n3 --node-id=n3 --cluster.pick-port --cluster.seeds=$seed
P3=$PORT; PID3=$PID
n=0
for p in $P1 $P2 $P3; do
  until [ "$(metric "$p" 'tickgate_cluster_members{state="up"}')" = 3 ]; do
    sleep 0.1; n=$((n + 1))
    [ $n -lt 200 ] || { echo "the cluster did not form" >&2; exit 1; }
  done
done
echo "nodes: n1 pid $PID1 port $P1, n2 pid $PID2 port $P2, n3 pid $PID3 port $P3; topic ${prefix}0"
"$BUILD/tickgate-bench" fanout --url "ws://127.0.0.1:$P2/v1" --url "ws://127.0.0.1:$P3/v1" \
  --http "http://127.0.0.1:$P1" --topic-prefix "$prefix" --clients "${CLIENTS:-2000}" --rate "${RATE:-200}" \
  --duration "$DURATION" --server-pid "$PID2" --server-pid "$PID3" --server-pid "$PID1" "$@"
echo "relay frames sent since start: n1 $(metric "$P1" "$relayed"), n2 $(metric "$P2" "$relayed"), n3 $(metric "$P3" "$relayed")"
