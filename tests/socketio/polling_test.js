// Drives a tickgate node with the unmodified socket.io-client 4.x over
// Engine.IO HTTP long-polling. Usage: node polling_test.js PORT MODE
//   MODE upgrade: default options (polling first, then the WebSocket
//                 upgrade); events keep arriving across the switch, none
//                 lost or repeated.
//   MODE polling: transports: ['polling'] only; rooms, events, acks, pings
//                 (the node runs with a 1 s ping interval) and a clean close.
// Exits 0 and prints "polling: all checks passed" when every step worked.
'use strict';
const { io } = require('socket.io-client');
const http = require('http');
const net = require('net');

const port = Number(process.argv[2]);
const mode = process.argv[3];
const base = `http://127.0.0.1:${port}`;
const deadline = setTimeout(() => fail('timed out'), 15000);

function fail(msg) {
  console.error(`polling: FAILED: ${msg}`);
  process.exit(1);
}

function check(cond, msg) {
  if (!cond) fail(msg);
  console.log(`polling: ok - ${msg}`);
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

function publish(topic, data) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ topic, data });
    const req = http.request(`${base}/api/publish`, { method: 'POST', agent: keepAlive }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`publish ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function stats() {
  return new Promise((resolve, reject) => {
    http.get(`${base}/api/stats`, { agent: keepAlive }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

// True once the node has no connection left (it saw the client's close).
async function nodeSawTheClose() {
  const until = Date.now() + 3000;
  while (Date.now() < until) {
    if ((await stats()).conn.open === 0) return true;
    await sleep(20);
  }
  return false;
}

function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, resolve));
}

function emitWithAck(socket, event, arg) {
  return new Promise((resolve) => socket.emit(event, arg, resolve));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function transportOf(socket) {
  return socket.io.engine.transport.name;
}

// An agent whose connections open 300 ms late. Given to the WebSocket
// transport only, it holds the upgrade back until events flow over polling,
// so the switch happens in the middle of the stream.
class LateAgent extends http.Agent {
  createConnection(options, callback) {
    setTimeout(() => {
      const s = net.connect({ host: options.host, port: options.port });
      s.once('connect', () => callback(null, s));
      s.once('error', (e) => callback(e));
    }, 300);
  }
}

async function upgrade() {
  const socket = io(base, {
    reconnection: false,
    transportOptions: { websocket: { agent: new LateAgent() } },
  });
  await once(socket, 'connect');
  check(transportOf(socket) === 'polling', 'default options start with polling');
  const upgraded = once(socket.io.engine, 'upgrade');
  const joined = await emitWithAck(socket, 'join_room', { room: 'price:UP' });
  check(joined && joined.success === true, 'join_room is acknowledged over polling');

  const seen = [];
  let beforeUpgrade = 0;
  socket.on('price_update', (d) => {
    seen.push(d.seq);
    if (transportOf(socket) === 'polling') beforeUpgrade++;
  });
  // Publishes seq 1, 2, ... (each after the last was accepted) until the
  // upgrade has been over for a while.
  let published = 0;
  let stop = false;
  const publisher = (async () => {
    while (!stop) {
      await publish('price:UP', { seq: ++published });
      await sleep(2);
    }
  })();
  await upgraded;
  check(transportOf(socket) === 'websocket', 'the transport becomes websocket');
  await sleep(300);
  stop = true;
  await publisher;
  const waitUntil = Date.now() + 3000;
  while (seen[seen.length - 1] !== published && Date.now() < waitUntil) await sleep(10);
  check(beforeUpgrade > 0, `events arrived over polling before the switch (${beforeUpgrade})`);
  check(seen.length - beforeUpgrade > 0, `and over the websocket after it (${seen.length - beforeUpgrade})`);
  check(seen[0] === 1, `the first event after the ack arrived (first seq ${seen[0]})`);
  let consecutive = true;
  for (let i = 1; i < seen.length; i++) if (seen[i] !== seen[i - 1] + 1) consecutive = false;
  check(consecutive && seen[seen.length - 1] === published,
    `every event arrived once, in order (${seen.length} of ${published})`);
  const pong = await emitWithAck(socket, 'ping');
  check(pong && typeof pong.timestamp === 'number', 'acks work over the upgraded session');
  socket.disconnect();
  check(await nodeSawTheClose(), 'the node ends the connection when the client disconnects');
}

async function pollingOnly() {
  const socket = io(base, { transports: ['polling'], reconnection: false });
  await once(socket, 'connect');
  check(transportOf(socket) === 'polling', 'connects over polling');
  const joined = await emitWithAck(socket, 'join_room', { room: 'trade:PX' });
  check(joined && joined.success === true && joined.room === 'trade:PX', 'join_room is acknowledged');
  const got = [];
  socket.on('trade_notification', (d) => got.push(d.n));
  await Promise.all([publish('trade:PX', { n: 1 }), publish('trade:PX', { n: 2 })]);
  await publish('trade:PX', { n: 3 });
  let until = Date.now() + 3000;
  while (got.length < 3 && Date.now() < until) await sleep(10);
  check(got.length === 3 && got[2] === 3, `published events arrive (${got.join(',')})`);
  const pong = await emitWithAck(socket, 'ping');
  check(pong && typeof pong.timestamp === 'number', 'an event with an ack is answered');
  // Several ping intervals of silence: the server's pings travel over polling.
  let pings = 0;
  socket.io.engine.on('ping', () => pings++);
  await sleep(2500);
  check(socket.connected && pings >= 2, `stays connected through server pings (${pings})`);
  await publish('trade:PX', { n: 4 });
  until = Date.now() + 3000;
  while (got.length < 4 && Date.now() < until) await sleep(10);
  check(got[3] === 4, 'events still arrive after the pings');
  const closed = once(socket.io.engine, 'close');
  socket.disconnect();
  const reason = await closed;
  check(!socket.connected, `disconnects cleanly (${reason})`);
  check(await nodeSawTheClose(), 'the node ends the session at the close packet');
}

(mode === 'upgrade' ? upgrade() : pollingOnly())
  .then(() => {
    clearTimeout(deadline);
    console.log('polling: all checks passed');
    process.exit(0);
  })
  .catch((e) => fail(e.stack || String(e)));
