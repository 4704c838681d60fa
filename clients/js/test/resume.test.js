// The client resumes by position after a dropped connection, and tells the
// application (reset, then the snapshot) when the node cannot make it whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { TickgateClient } from '../index.js';
import { TickgateNode, until } from './support/tickgate.js';
import { TcpProxy } from './support/proxy.js';
import { record, recordStatus, range, contiguous } from './support/record.js';

const fastReconnect = { initialMs: 50, maxMs: 200, maxAttempts: 1000, jitter: 0.2 };

test('a numbered stream survives dropped TCP connections: every event once, in order', async (t) => {
  const node = await TickgateNode.start(['--history.size=1000']);
  const proxy = await TcpProxy.start(node.port);
  const client = new TickgateClient({ url: proxy.wsUrl, httpUrl: node.httpUrl, reconnect: fastReconnect });
  t.after(async () => { client.close(); await proxy.close(); await node.stop(); });
  const statuses = recordStatus(client);
  const handle = client.subscribe('count@A', {});
  const got = record(handle);
  // From the ack on, the topic follows publishes.
  await new Promise((resolve) => handle.once('subscribed', resolve));

  for (const n of range(1, 300)) {
    await node.publish('count@A', { n });
    if (n % 75 === 0)
      proxy.dropAll(); // cut mid-stream; publishing goes on meanwhile
  }
  await got.waitFor(300);
  await sleep(100); // nothing more may follow

  assert.deepEqual(got.numbers(), range(1, 300));
  assert.ok(contiguous(got.events));
  assert.deepEqual(got.errors, []);
  assert.equal(client.stats.resets, 0);
  assert.ok(client.stats.reconnects >= 3, `reconnects: ${client.stats.reconnects}`);
  assert.equal(statuses.filter((s) => s === 'RECONNECTING').length, client.stats.reconnects);
});

test('an outage longer than the retained history gives reset, then the snapshot, then live events in order', async (t) => {
  const node = await TickgateNode.start(['--history.size=5']);
  const proxy = await TcpProxy.start(node.port);
  const client = new TickgateClient({ url: proxy.wsUrl, httpUrl: node.httpUrl, reconnect: fastReconnect });
  t.after(async () => { client.close(); await proxy.close(); await node.stop(); });
  const statuses = recordStatus(client);
  const handle = client.subscribe('count@B', {});
  const got = record(handle);
  await new Promise((resolve) => handle.once('subscribed', resolve));
  for (const n of range(1, 3))
    await node.publish('count@B', { n });
  await got.waitFor(3);

  proxy.mode = 'refuse';
  proxy.dropAll();
  await statuses.waitFor('RECONNECTING');
  for (const n of range(4, 20)) // 17 events: only the last 5 are retained
    await node.publish('count@B', { n });
  proxy.mode = 'pass';
  await got.waitForNumber(20);
  for (const n of range(21, 25))
    await node.publish('count@B', { n });
  await got.waitFor(9);
  await sleep(100);

  assert.deepEqual(got.timeline, [1, 2, 3, 'reset:not_recovered', 20, 21, 22, 23, 24, 25]);
  assert.equal(got.events[3].source, 'snapshot');
  assert.equal(got.events[3].seq, 20);
  assert.ok(contiguous(got.events.slice(3)));
  assert.equal(client.stats.resets, 1);
});

test('after kill -9 and a restart of the node: reset and snapshot, then live events once and in order', async (t) => {
  let node = await TickgateNode.start([]);
  // The client reaches the node, WebSocket and HTTP, only through the proxy,
  // which is pointed at the restarted node (it listens on another port).
  const proxy = await TcpProxy.start(node.port);
  const client = new TickgateClient({ url: proxy.wsUrl, reconnect: fastReconnect });
  t.after(async () => { client.close(); await proxy.close(); await node.stop(); });
  const handle = client.subscribe('count@C', {});
  const got = record(handle);
  await new Promise((resolve) => handle.once('subscribed', resolve));
  for (const n of range(1, 50))
    await node.publish('count@C', { n });
  await got.waitFor(50);
  const firstEpoch = got.events[0].epoch;

  await node.stop('SIGKILL');
  proxy.mode = 'refuse';
  proxy.dropAll();
  node = await TickgateNode.start([]);
  proxy.targetPort = node.port;
  // History lives in the node's memory, so what the killed node held is
  // gone: the restarted node has a new epoch and cannot resume the client.
  // Its topic is started by a poll and takes 51..60 before the client is back.
  await node.get('/api/snapshot?topics=count@C');
  for (const n of range(51, 60))
    await node.publish('count@C', { n });
  proxy.mode = 'pass';
  await got.waitForNumber(60);
  for (const n of range(61, 80))
    await node.publish('count@C', { n });
  await got.waitForNumber(80);
  await sleep(100);

  assert.deepEqual(got.timeline, [...range(1, 50), 'reset:not_recovered', ...range(60, 80)]);
  const after = got.events.slice(50);
  assert.equal(after[0].source, 'snapshot');
  assert.notEqual(after[0].epoch, firstEpoch);
  assert.deepEqual(after.map((e) => e.seq), range(10, 30));
  assert.equal(client.stats.resets, 1);
});

test('a hundred topics subscribe and resume in single frames, within the node\'s inbound rate limit', async (t) => {
  // burst 20: a hundred subscribe frames, one per topic, would be refused.
  const node = await TickgateNode.start(['--protection.rate=10', '--protection.burst=20']);
  const proxy = await TcpProxy.start(node.port);
  const client = new TickgateClient({ url: proxy.wsUrl, httpUrl: node.httpUrl, reconnect: fastReconnect });
  t.after(async () => { client.close(); await proxy.close(); await node.stop(); });
  const statuses = recordStatus(client);
  await statuses.waitFor('OPEN');
  const topics = range(1, 100).map((i) => `many@${i}`);
  const handles = topics.map((topic) => client.subscribe(topic, {}));
  const logs = handles.map(record);
  // Acknowledged: each handle has the position it resumes from.
  await Promise.all(handles.map((h) => new Promise((resolve) => h.once('subscribed', resolve))));
  await until(() => node.get('/health').then((h) => h.subscriptions === 100), { what: '100 subscriptions' });

  proxy.mode = 'refuse';
  proxy.dropAll();
  await statuses.waitFor('RECONNECTING');
  await fetch(`${node.httpUrl}/api/broadcast`, {
    method: 'POST', body: JSON.stringify({ topics, data: { n: 1 } }),
  });
  proxy.mode = 'pass';
  await Promise.all(logs.map((l) => l.waitFor(1)));
  assert.deepEqual(logs.map((l) => l.timeline), topics.map(() => [1]));
  assert.equal(client.stats.resets, 0);
});
