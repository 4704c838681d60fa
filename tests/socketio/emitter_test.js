// Emits through the unmodified @socket.io/redis-emitter into a tickgate node
// whose Socket.IO emitter feed listens on the same Redis, and checks what the
// unmodified socket.io-client receives. Usage: node emitter_test.js PORT REDIS_PORT
// Exits 0 and prints "emitter: all checks passed" when every step worked.
'use strict';
const { io } = require('socket.io-client');
const { Emitter } = require('@socket.io/redis-emitter');
const { createClient } = require('redis');

const port = Number(process.argv[2]);
const redisPort = Number(process.argv[3]);
const base = `http://127.0.0.1:${port}`;
const deadline = setTimeout(() => fail('timed out'), 15000);

function fail(msg) {
  console.error(`emitter: FAILED: ${msg}`);
  process.exit(1);
}

function check(cond, msg) {
  if (!cond) fail(msg);
  console.log(`emitter: ok - ${msg}`);
}

// A client of `nsp` on its own connection, logging every event it receives.
async function client(nsp) {
  const socket = io(`${base}${nsp}`, { transports: ['websocket'], reconnection: false, forceNew: true });
  socket.log = [];
  socket.onAny((event, ...args) => socket.log.push([event, ...args]));
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

// Joins `room`; the ack also says the namespace's own topic is attached
// (acks go out in request order, and the node followed it at CONNECT).
async function join(socket, room) {
  const ack = await new Promise((resolve) => socket.emit('join_room', { room }, resolve));
  if (!ack || ack.success !== true) fail(`join_room ${room}: ${JSON.stringify(ack)}`);
}

// The events a client received besides the node's own, in a stable order
// (deliveries of different topics may interleave).
function received(socket) {
  return socket.log
    .filter(([event]) => !['connected', 'done'].includes(event))
    .map((e) => JSON.stringify(e))
    .sort();
}

function dones(socket) {
  return socket.log.filter(([event]) => event === 'done').length;
}

async function main() {
  const redis = createClient({ url: `redis://127.0.0.1:${redisPort}` });
  await redis.connect();
  const emitter = new Emitter(redis);

  const a = await client('/');
  const b = await client('/');
  const ab = await client('/');
  const none = await client('/');
  const prices = await client('/prices');
  await join(a, 'price:A');
  await join(b, 'price:B');
  await join(ab, 'price:A');
  await join(ab, 'price:B');
  await join(none, 'trade:Z');
  await join(prices, 'trade:P');

  emitter.to('price:A').emit('price_update', { symbol: 'A', price: 1.5 });
  emitter.to(['price:A', 'price:B']).emit('both', 7);
  emitter.to('price:A').except('price:B').emit('not_b', 'x');
  emitter.emit('everyone', 'hello', 2, { deep: [true, null] });
  emitter.emit('nothing');
  emitter.of('/prices').emit('prices_only', { n: 1 }, [2, 3]);
  // One marker per topic in use: once a client has its markers, every
  // earlier emit of its topics has reached it (a topic delivers in order).
  emitter.to('price:A').emit('done');
  emitter.to('price:B').emit('done');
  emitter.to('trade:Z').emit('done');
  emitter.emit('done');
  emitter.of('/prices').to('trade:P').emit('done');
  emitter.of('/prices').emit('done');

  const expected = new Map([
    [a, 2], [b, 2], [ab, 3], [none, 2], [prices, 2],
  ]);
  await new Promise((resolve) => {
    const poll = setInterval(() => {
      if ([...expected].every(([s, n]) => dones(s) >= n)) {
        clearInterval(poll);
        resolve();
      }
    }, 10);
  });
  for (const [s, n] of expected) check(dones(s) === n, `a client gets each marker once (${n})`);

  const everyone = ['["everyone","hello",2,{"deep":[true,null]}]', '["nothing"]'];
  const sorted = (l) => [...l].sort();
  check(JSON.stringify(received(a)) === JSON.stringify(sorted([
    '["price_update",{"symbol":"A","price":1.5}]', '["both",7]', '["not_b","x"]', ...everyone,
  ])), `to(room).emit reaches the room, except spares none of it, multi-args arrive as arguments: ${received(a)}`);
  check(JSON.stringify(received(b)) === JSON.stringify(sorted(['["both",7]', ...everyone])),
        `a client outside the room does not get its emits: ${received(b)}`);
  check(JSON.stringify(received(ab)) === JSON.stringify(sorted([
    '["price_update",{"symbol":"A","price":1.5}]', '["both",7]', ...everyone,
  ])), `a client in two rooms gets to([a,b]) once and nothing from except(b): ${received(ab)}`);
  check(JSON.stringify(received(none)) === JSON.stringify(sorted(everyone)),
        `emit() reaches every client of the namespace: ${received(none)}`);
  check(JSON.stringify(received(prices)) === JSON.stringify(['["prices_only",{"n":1},[2,3]]']),
        `of('/prices').emit reaches /prices only: ${received(prices)}`);

  for (const s of expected.keys()) s.close();
  await redis.quit();
  clearTimeout(deadline);
  console.log('emitter: all checks passed');
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
