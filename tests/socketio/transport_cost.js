// What a Socket.IO client costs the node on each Engine.IO transport.
// Usage: node transport_cost.js PORT NODE_PID polling|websocket CLIENTS RATE SECONDS
// CLIENTS unmodified socket.io-clients on one transport join room
// price:COST; this script publishes RATE events/s to it (POST /api/publish,
// a batch every 10 ms) for SECONDS and prints the events/s the clients
// received and the node's CPU time per delivered event (from /proc).
'use strict';
const { io } = require('socket.io-client');
const fs = require('fs');
const http = require('http');

const [port, pid, transport, clients, rate, seconds] = process.argv.slice(2).map((v, i) => (i === 2 ? v : Number(v)));
const base = `http://127.0.0.1:${port}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function cpuSeconds() {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks
}

function publishBatch(n, seq) {
  const body = JSON.stringify(Array.from({ length: n }, (_, i) => ({ topic: 'price:COST', data: { seq: seq + i, price: '64000.5' } })));
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/api/publish`, { method: 'POST', agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main() {
  const sockets = [];
  let received = 0;
  for (let i = 0; i < clients; i++) {
    const s = io(base, { transports: [transport], reconnection: false, forceNew: true });
    await new Promise((resolve) => s.once('connect', resolve));
    await new Promise((resolve) => s.emit('join_room', { room: 'price:COST' }, resolve));
    s.on('price_update', () => received++);
    sockets.push(s);
  }
  const perTick = Math.max(1, Math.round(rate / 100));
  let seq = 0;
  const cpu0 = cpuSeconds();
  const t0 = Date.now();
  received = 0;
  while (Date.now() - t0 < seconds * 1000) {
    const next = t0 + ((seq / perTick) + 1) * 10;
    await publishBatch(perTick, seq);
    seq += perTick;
    const wait = next - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await new Promise((r) => setTimeout(r, 500)); // the last batch's deliveries
  const elapsed = (Date.now() - t0) / 1000;
  const cpu = cpuSeconds() - cpu0;
  console.log(JSON.stringify({
    transport, clients, published_per_s: Math.round(seq / elapsed),
    received_per_s: Math.round(received / elapsed),
    received_per_client_per_s: Math.round(received / elapsed / clients),
    delivered_fraction: +(received / (seq * clients)).toFixed(4),
    node_cpu_percent: +(100 * cpu / elapsed).toFixed(1),
    node_cpu_us_per_delivery: +(1e6 * cpu / Math.max(1, received)).toFixed(2),
  }));
  sockets.forEach((s) => s.disconnect());
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
