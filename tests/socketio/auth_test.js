// Authentication with the unmodified socket.io-client 4.x: the handshake's
// auth.token, private rooms and the /admin namespace.
// Usage: node auth_test.js PORT ALICE_TOKEN EXPIRED_TOKEN ADMIN_TOKEN
// (tests/integration/auth_test.cpp signs the tokens). Exits 0 and prints
// "socketio-auth: all checks passed" when every step worked.
'use strict';
const { io } = require('socket.io-client');

const [port, alice, expired, admin] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const deadline = setTimeout(() => fail('timed out'), 15000);
const opts = (token) => ({ transports: ['websocket'], reconnection: false, auth: token ? { token } : undefined });

function fail(msg) {
  console.error(`socketio-auth: FAILED: ${msg}`);
  process.exit(1);
}

function check(cond, msg) {
  if (!cond) fail(msg);
  console.log(`socketio-auth: ok - ${msg}`);
}

function once(socket, event) {
  return new Promise((resolve) => socket.once(event, resolve));
}

function emitWithAck(socket, event, arg) {
  return new Promise((resolve) => socket.emit(event, arg, resolve));
}

async function main() {
  const user = io(base, opts(alice));
  await once(user, 'connect');
  const own = await emitWithAck(user, 'join_room', { room: 'user:alice' });
  check(own && own.success === true, 'a valid auth.token opens its own user room');
  const other = await emitWithAck(user, 'join_room', { room: 'user:bob' });
  check(other && other.success === false && other.code === 'forbidden', "another user's room is forbidden");

  const late = io(base, opts(expired));
  const lateErr = await once(late, 'connect_error');
  check(lateErr.data && lateErr.data.code === 'unauthorized' && /token expired/.test(lateErr.message),
        'an expired auth.token gets connect_error unauthorized');
  late.close();

  const trader = io(`${base}/admin`, opts(alice));
  const denied = await once(trader, 'connect_error');
  check(denied.data && denied.data.code === 'forbidden', '/admin refuses a client without role admin');
  trader.close();

  const root = io(`${base}/admin`, opts(admin));
  await once(root, 'connect');
  check(root.connected, '/admin admits role admin');

  user.disconnect();
  root.disconnect();
  clearTimeout(deadline);
  console.log('socketio-auth: all checks passed');
  process.exit(0);
}

main().catch((e) => fail(e.stack || String(e)));
