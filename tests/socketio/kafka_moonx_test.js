// The MoonX gateway's README client code, unchanged but for the address,
// against a tickgate node consuming MoonX events from Kafka (the mock
// cluster). Usage: node kafka_moonx_test.js PORT BOOTSTRAP TOKEN (a JWT of
// user "your-user-id", signed with the node's key)
// Produces each event type with kcat until the client has received it
// (at-least-once: a record produced before the join completed is missed,
// the next one is not), then checks what the handlers saw.
// Exits 0 and prints "moonx: all checks passed" when every check held.
'use strict';
const { io } = require('socket.io-client');
const { execFileSync } = require('child_process');

const port = Number(process.argv[2]);
const bootstrap = process.argv[3];
const token = process.argv[4];
const deadline = setTimeout(() => fail('timed out'), 20000);

function fail(msg) {
  console.error(`moonx: FAILED: ${msg}`);
  process.exit(1);
}

function check(cond, msg) {
  if (!cond) fail(msg);
  console.log(`moonx: ok - ${msg}`);
}

// As MoonX's back-end services publish them.
const records = {
  price: ['price.updates', { type: 'price_update', symbol: 'BTC-USDC',
    data: { price: 45000.50, change: +2.5, volume: 1234567.89 }, timestamp: Date.now() }],
  book: ['order.book.updates', { type: 'order_book_update', symbol: 'ETH-USDC',
    data: { bids: [[2500, 1]], asks: [[2501, 2]] }, timestamp: Date.now() }],
  trade: ['trade.notifications', { type: 'trade_notification', symbol: 'ETH-USDC', userId: 'your-user-id',
    data: { price: 2500.00, amount: 1.5, side: 'buy' }, timestamp: Date.now() }],
  portfolio: ['portfolio.updates', { type: 'portfolio_update', userId: 'your-user-id',
    data: { totalValue: 50000.00, pnl: +1250.50, positions: [{ symbol: 'BTC-USDC', amount: 1.2, value: 30000 }] },
    timestamp: Date.now() }],
  alert: ['system.alerts', { type: 'system_alert',
    data: { level: 'info', message: 'New token PEPE now available for trading' }, timestamp: Date.now() }],
};
const got = {};

// --- the README's client code (console.log replaced by recording) ---
const socket = io(`http://127.0.0.1:${port}`, {
  auth: { token: token },
  transports: ['websocket'], // WebSocket only for best performance
  timeout: 5000
});

socket.emit('join_room', { room: 'price:BTC-USDC' });
socket.on('price_update', (data) => {
  got.price = { symbol: data.symbol, price: data.price, change: data.change, volume: data.volume };
});

socket.emit('join_room', { room: 'orderbook:ETH-USDC' });
socket.on('order_book_update', (data) => {
  got.book = { symbol: data.symbol, bids: data.bids, asks: data.asks };
});

socket.emit('join_room', { room: 'user:your-user-id' });
socket.on('trade_notification', (data) => {
  if (data.personal) {
    got.trade = data;
  }
});

socket.on('portfolio_update', (data) => {
  got.portfolio = { totalValue: data.totalValue, pnl: data.pnl, positions: data.positions };
});
// --- end of the README's code; the system alert every client receives ---
socket.on('system_alert', (data) => { got.alert = data; });

function produceMissing() {
  for (const [key, [topic, record]] of Object.entries(records))
    if (!got[key])
      execFileSync('kcat', ['-P', '-b', bootstrap, '-t', topic], { input: JSON.stringify(record) + '\n' });
}

socket.on('connect', () => {
  const timer = setInterval(() => {
    if (Object.keys(records).every((k) => got[k])) {
      clearInterval(timer);
      verify();
      return;
    }
    produceMissing();
  }, 300);
});

function verify() {
  check(got.price.symbol === 'BTC-USDC' && got.price.price === 45000.5 && got.price.change === 2.5
        && got.price.volume === 1234567.89, 'price_update carries symbol, price, change, volume');
  check(got.book.symbol === 'ETH-USDC' && got.book.bids[0][0] === 2500 && got.book.asks[0][1] === 2,
        'order_book_update carries symbol, bids, asks');
  check(got.trade.personal === true && got.trade.side === 'buy' && got.trade.amount === 1.5
        && got.trade.symbol === 'ETH-USDC', 'the personal trade_notification reaches the user room');
  check(got.portfolio.totalValue === 50000 && got.portfolio.pnl === 1250.5
        && got.portfolio.positions.length === 1, 'portfolio_update reaches the user room');
  check(got.alert.level === 'info' && got.alert.message.startsWith('New token'),
        'system_alert reaches every client');
  check(typeof got.trade.timestamp === 'number', 'deliveries carry the record timestamp');
  clearTimeout(deadline);
  socket.close();
  console.log('moonx: all checks passed');
  process.exit(0);
}
