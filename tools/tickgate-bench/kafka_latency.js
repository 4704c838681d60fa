// Latency the Kafka path adds: produce time -> receipt by a native WebSocket
// subscriber. Run by kafka_bench.sh latency (NODE_PATH: tests/socketio's
// node_modules, for `ws`). Usage: node kafka_latency.js PORT BOOTSTRAP RATE SECONDS
// Each record carries its produce time in µs (data.t); records go to one
// kcat process (linger.ms=0) at RATE per second in 1 ms ticks.
'use strict';
const WebSocket = require('ws');
const { spawn } = require('child_process');
const { performance } = require('perf_hooks');

const [port, bootstrap, rate, seconds] = process.argv.slice(2);
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
const lat = [];
let sent = 0;
let warm = true;

const kcat = spawn('kcat', ['-P', '-b', bootstrap, '-t', 'price.updates', '-X', 'linger.ms=0'],
                   { stdio: ['pipe', 'inherit', 'inherit'] });
const ws = new WebSocket(`ws://127.0.0.1:${port}/v1`);
ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', id: 1, topics: ['price:LAT'] })));
ws.on('message', (buf) => {
  const m = JSON.parse(buf.toString());
  if (m.type === 'ack') start();
  if (m.type === 'event' && !warm) lat.push(nowUs() - m.data.t);
});

function start() {
  const perMs = Number(rate) / 1000;
  let owed = 0;
  const t0 = Date.now();
  let last = performance.now();
  setTimeout(() => { warm = false; }, 1000); // the group join and first fetches
  const timer = setInterval(() => {
    const now = performance.now(); // timers fire late: pay what the elapsed time owes
    owed += perMs * (now - last);
    last = now;
    let lines = '';
    for (; owed >= 1; owed -= 1, ++sent)
      lines += `{"type":"price_update","symbol":"LAT","data":{"t":${nowUs()}},"timestamp":${Date.now()}}\n`;
    if (lines) kcat.stdin.write(lines);
    if (Date.now() - t0 > 1000 * (Number(seconds) + 1)) {
      clearInterval(timer);
      setTimeout(report, 1000);
    }
  }, 1);
}

function report() {
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] / 1000 : NaN);
  const secs = Number(seconds);
  console.log(`sent=${sent} received=${lat.length} rate_per_s=${(lat.length / secs).toFixed(0)} ` +
              `p50_ms=${q(0.5).toFixed(2)} p90_ms=${q(0.9).toFixed(2)} p99_ms=${q(0.99).toFixed(2)} max_ms=${q(1).toFixed(2)}`);
  kcat.stdin.end();
  ws.close();
  process.exit(0);
}
