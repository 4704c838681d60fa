// What the client sends: the offline queue and its bound, token refresh with
// the auth frame, and the status an application shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { TickgateClient } from '../index.js';
import { TickgateNode, signJwt, until } from './support/tickgate.js';
import { TcpProxy } from './support/proxy.js';
import { record, recordStatus } from './support/record.js';

const fastReconnect = { initialMs: 20, maxMs: 100, maxAttempts: 1000, jitter: 0.2 };
const secret = 'client-test-secret';
const nowS = () => Math.floor(Date.now() / 1000);

test('requests made while disconnected wait in a bounded queue: the oldest are dropped and counted', async (t) => {
  const node = await TickgateNode.start([]);
  const proxy = await TcpProxy.start(node.port);
  proxy.mode = 'refuse';
  const client = new TickgateClient({ url: proxy.wsUrl, httpUrl: node.httpUrl, queueSize: 3, reconnect: fastReconnect });
  t.after(async () => { client.close(); await proxy.close(); await node.stop(); });
  const statuses = recordStatus(client);
  await statuses.waitFor('RECONNECTING');

  const topics = ['q@1', 'q@2', 'q@3', 'q@4', 'q@5'];
  const handles = [];
  const logs = [];
  for (const topic of topics) {
    handles.push(client.subscribe(topic, {}));
    logs.push(record(handles.at(-1)));
  }
  assert.equal(client.stats.droppedQueued, 2);
  assert.deepEqual(logs.map((l) => l.errors.map((e) => e.code)), [['dropped'], ['dropped'], [], [], []]);
  assert.equal(handles[0].active, false);

  proxy.mode = 'pass';
  await Promise.all(handles.slice(2).map((h) => new Promise((resolve) => h.once('subscribed', resolve))));
  for (const topic of topics)
    await node.publish(topic, { n: 1 });
  await Promise.all(logs.slice(2).map((l) => l.waitFor(1)));
  await sleep(100);
  assert.deepEqual(logs.map((l) => l.events.length), [0, 0, 1, 1, 1]);
  const health = await node.get('/health');
  assert.equal(health.subscriptions, 3, 'the dropped subscribes never reached the node');
});

test('a token refreshed with the auth frame keeps private subscriptions past the first token\'s expiry', async (t) => {
  const node = await TickgateNode.start([`--auth.jwt-secret=${secret}`, '--auth.leeway=0s']);
  const proxy = await TcpProxy.start(node.port);
  const expiresAt = nowS() + 2;
  const shortToken = signJwt({ sub: 'alice', exp: expiresAt }, secret);
  const options = { httpUrl: node.httpUrl, token: shortToken, reconnect: fastReconnect };
  const client = new TickgateClient({ ...options, url: proxy.wsUrl });
  // The same start without a refresh: the node closes its private subscription.
  const unrefreshed = new TickgateClient({ ...options, url: node.wsUrl });
  t.after(async () => { client.close(); unrefreshed.close(); await proxy.close(); await node.stop(); });
  const handle = client.subscribe('user:alice', {});
  const got = record(handle);
  const control = record(unrefreshed.subscribe('user:alice', {}));
  await new Promise((resolve) => handle.once('subscribed', resolve));
  await until(() => node.get('/health').then((h) => h.subscriptions === 2), { what: 'both subscribed' });
  await node.publish('user:alice', { n: 1 });
  await got.waitFor(1);

  await assert.rejects(client.setToken(signJwt({ sub: 'alice', exp: nowS() + 3600 }, 'another-secret')),
                       (err) => err.code === 'unauthorized');
  await client.setToken(signJwt({ sub: 'alice', exp: nowS() + 3600 }, secret));

  // Past the first token's expiry (whole seconds in the JWT, no leeway).
  await until(() => control.errors.length > 0, { what: 'the unrefreshed subscription closed', timeoutMs: 5000 });
  assert.equal(control.errors[0].code, 'unauthorized');
  assert.ok(nowS() >= expiresAt);
  await node.publish('user:alice', { n: 2 });
  await got.waitFor(2);

  // A reconnect presents the refreshed token in the handshake and resumes.
  proxy.dropAll();
  await until(() => client.stats.reconnects === 1 && client.status === 'OPEN', { what: 'reconnected' });
  await node.publish('user:alice', { n: 3 });
  await got.waitFor(3);
  await sleep(100);
  assert.deepEqual(got.timeline, [1, 2, 3]);
  assert.deepEqual(got.errors, []);
  assert.deepEqual(control.numbers(), [1]);
});

test('status: CONNECTING, then ERROR for a refused token, OPEN once refreshed, RECONNECTING on a drop, CLOSED', async (t) => {
  const node = await TickgateNode.start([`--auth.jwt-secret=${secret}`]);
  const proxy = await TcpProxy.start(node.port);
  const expired = signJwt({ sub: 'bob', exp: nowS() - 60 }, secret);
  const client = new TickgateClient({ url: proxy.wsUrl, httpUrl: node.httpUrl, token: expired,
                                      reconnect: { ...fastReconnect, initialMs: 200, maxMs: 200 } });
  t.after(async () => { client.close(); await proxy.close(); await node.stop(); });
  const statuses = recordStatus(client);
  const errors = [];
  client.on('error', (err) => errors.push(err));
  await statuses.waitFor('ERROR');
  assert.equal(errors[0].code, 'unauthorized');
  assert.match(errors[0].message, /expired/);

  // A fresh token while disconnected: the next handshake carries it, and
  // the queued auth frame is acknowledged once the connection is open.
  await client.setToken(signJwt({ sub: 'bob', exp: nowS() + 3600 }, secret));
  assert.equal(client.status, 'OPEN');
  const opened = statuses.filter((s) => s === 'OPEN').length;
  proxy.dropAll();
  await statuses.waitFor('OPEN', opened + 1);
  client.close();
  // The node accepts the upgrade, then closes it with 4001 and the reason.
  assert.deepEqual(statuses.slice(0, 4), ['CONNECTING', 'OPEN', 'ERROR', 'RECONNECTING']);
  const rest = statuses.slice(4);
  // The 200 ms retry may meet the expired token again before the refresh.
  while (rest[1] === 'ERROR')
    rest.splice(0, 3);
  assert.deepEqual(rest, ['OPEN', 'RECONNECTING', 'OPEN', 'CLOSED']);
});
