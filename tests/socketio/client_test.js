// Drives a tickgate node with the unmodified socket.io-client 4.x over the
// WebSocket transport. Usage: node client_test.js PORT
// Exits 0 and prints "socketio: all checks passed" when every step worked.
'use strict';
const { io } = require('socket.io-client');
const http = require('http');

const port = Number(process.argv[2]);
const base = `http://127.0.0.1:${port}`;
const deadline = setTimeout(() => fail('timed out'), 15000);

function fail(msg) {
  console.error(`socketio: FAILED: ${msg}`);
  process.exit(1);
}

function check(cond, msg) {
  if (!cond) fail(msg);
  console.log(`socketio: ok - ${msg}`);
}

function publish(topic, data) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ topic, data });
    const req = http.request(`${base}/api/publish`, { method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`publish ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function once(socket, event) {
  return new Promise((resolve) => socket.once(event, resolve));
}

function emitWithAck(socket, event, arg) {
  return new Promise((resolve) => socket.emit(event, arg, resolve));
}

async function main() {
  // Namespace /prices: subscribe {symbols} with an ack, deliveries as price.update.
  const prices = io(`${base}/prices`, { transports: ['websocket'], reconnection: false });
  const connected = once(prices, 'connected');
  await once(prices, 'connect');
  check(prices.connected, 'connects to /prices over the websocket transport');
  const hello = await connected;
  check(hello.namespace === '/prices', 'server emits connected with the namespace');

  const confirmed = once(prices, 'subscription.confirmed');
  const ack = await emitWithAck(prices, 'subscribe', { symbols: ['BTC-USDC'] });
  check(ack && ack.success === true && ack.symbols[0] === 'BTC-USDC', 'subscribe is acknowledged');
  const conf = await confirmed;
  check(conf.symbols[0] === 'BTC-USDC', 'subscription.confirmed names the symbol');

  const update = once(prices, 'price.update');
  await publish('price:BTC-USDC', { symbol: 'BTC-USDC', price: '64000.5' });
  const u = await update;
  check(u.symbol === 'BTC-USDC' && u.price === '64000.5', 'price.update carries the published payload');

  // Rooms on the default namespace: join_room, deliveries named by room prefix.
  const root = io(base, { transports: ['websocket'], reconnection: false });
  await once(root, 'connect');
  const joined = await emitWithAck(root, 'join_room', { room: 'orderbook:ETH-USDC' });
  check(joined && joined.success === true && joined.room === 'orderbook:ETH-USDC', 'join_room is acknowledged');
  const book = once(root, 'order_book_update');
  await publish('orderbook:ETH-USDC', { bids: [['3000.1', '2']], asks: [] });
  const b = await book;
  check(Array.isArray(b.bids) && b.bids[0][0] === '3000.1', 'order_book_update arrives for the room');

  const bad = await emitWithAck(root, 'join_room', { room: 'secret:x' });
  check(bad && bad.success === false && bad.code === 'invalid_topic', 'an unknown room is refused in the ack');

  const left = await emitWithAck(root, 'leave_room', { room: 'orderbook:ETH-USDC' });
  check(left && left.success === true, 'leave_room is acknowledged');

  // Unknown namespaces are refused with connect_error.
  const nowhere = io(`${base}/nowhere`, { transports: ['websocket'], reconnection: false });
  const err = await once(nowhere, 'connect_error');
  check(/Invalid namespace/.test(err.message), 'an unknown namespace gets connect_error');
  nowhere.close();

  prices.disconnect();
  root.disconnect();
  check(!prices.connected && !root.connected, 'disconnects cleanly');
  clearTimeout(deadline);
  console.log('socketio: all checks passed');
  process.exit(0);
}

main().catch((e) => fail(e.stack || String(e)));
