// The /admin namespace with the unmodified socket.io-client 4.x: admin events
// acked through emit callbacks, admin.stats pushed, maintenance mode refusing
// and then admitting new clients.
// Usage: node admin_test.js PORT ADMIN_TOKEN
// (tests/integration/admin_namespace_test.cpp signs the token and starts the
// node with admin.stats-interval=200ms). Exits 0 and prints
// "socketio-admin: all checks passed" when every step worked.
'use strict';
const { io } = require('socket.io-client');

const [port, token] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const deadline = setTimeout(() => fail('timed out'), 15000);
// forceNew: each client its own Engine.IO connection (io() would otherwise
// multiplex namespaces of one origin over the admin's connection).
const opts = { transports: ['websocket'], reconnection: false, forceNew: true };

function fail(msg) {
  console.error(`socketio-admin: FAILED: ${msg}`);
  process.exit(1);
}

function check(cond, msg) {
  if (!cond) fail(msg);
  console.log(`socketio-admin: ok - ${msg}`);
}

function once(socket, event) {
  return new Promise((resolve) => socket.once(event, resolve));
}

function emitWithAck(socket, event, arg) {
  return new Promise((resolve) => (arg === undefined ? socket.emit(event, resolve) : socket.emit(event, arg, resolve)));
}

async function main() {
  const admin = io(`${base}/admin`, { ...opts, auth: { token } });
  await once(admin, 'connect');
  const pushed = once(admin, 'admin.metrics');
  const metrics = await emitWithAck(admin, 'admin.metrics');
  check(metrics.success === true && metrics.result.conn.open >= 1, 'admin.metrics is acked with the figures');
  check((await pushed).uptime_ms >= 0, 'admin.metrics also arrives as an event');
  const stats = await once(admin, 'admin.stats');
  check(stats.conn && stats.topic, 'admin.stats is pushed');

  const on = await emitWithAck(admin, 'admin.command',
                               { command: 'maintenance', args: { mode: 'on', message: 'upgrade', retry_after: 5 } });
  check(on.success === true && on.result.maintenance.on === true, 'maintenance on is acked');
  const late = io(base, opts);
  const refused = await once(late, 'connect_error');
  check(refused && /websocket error/.test(refused.message), 'a new client is refused during maintenance');
  late.close();

  const off = await emitWithAck(admin, 'admin.command', { command: 'maintenance', args: 'off' });
  check(off.success === true && off.result.maintenance.on === false, 'maintenance off is acked');
  const back = io(base, opts);
  await once(back, 'connect');
  check(back.connected, 'new clients connect again after maintenance');

  const bad = await emitWithAck(admin, 'admin.command', { command: 'format-disk' });
  check(bad.success === false && bad.code === 'bad_request', 'an unknown command is refused in the ack');

  back.disconnect();
  admin.disconnect();
  clearTimeout(deadline);
  console.log('socketio-admin: all checks passed');
  process.exit(0);
}

main().catch((e) => fail(e.stack || String(e)));
