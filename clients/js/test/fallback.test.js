// With the WebSocket unreachable past maxAttempts the client polls the
// node's HTTP endpoints (FALLBACK), and returns to the WebSocket by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { TickgateClient } from '../index.js';
import { TickgateNode } from './support/tickgate.js';
import { TcpProxy } from './support/proxy.js';
import { record, recordStatus, range, contiguous } from './support/record.js';

test('WebSocket refused past maxAttempts: FALLBACK keeps values arriving in order, then OPEN again', async (t) => {
  const node = await TickgateNode.start([]);
  // The proxy carries the WebSocket; httpUrl reaches the node directly.
  const proxy = await TcpProxy.start(node.port);
  const client = new TickgateClient({
    url: proxy.wsUrl, httpUrl: node.httpUrl, pollIntervalMs: 100,
    reconnect: { initialMs: 20, maxMs: 100, maxAttempts: 3, jitter: 0.2 },
  });
  t.after(async () => { client.close(); await proxy.close(); await node.stop(); });
  const statuses = recordStatus(client);
  const handle = client.subscribe('count@F', {});
  const got = record(handle);
  const statusAtDelivery = [];
  handle.on('event', () => statusAtDelivery.push(client.status));
  await new Promise((resolve) => handle.once('subscribed', resolve));
  for (const n of range(1, 5))
    await node.publish('count@F', { n });
  await got.waitFor(5);

  proxy.mode = 'refuse-ws';
  proxy.dropAll();
  await statuses.waitFor('FALLBACK');
  // Several events per poll interval: the poll sees only the latest and
  // fills the rest from /api/history.
  for (const n of range(6, 30)) {
    await node.publish('count@F', { n });
    await sleep(10);
  }
  await got.waitForNumber(30);
  assert.equal(client.status, 'FALLBACK');
  assert.ok(proxy.upgradesRefused >= 3, 'the client kept probing the WebSocket');

  proxy.mode = 'pass';
  await statuses.waitFor('OPEN', 2);
  for (const n of range(31, 40))
    await node.publish('count@F', { n });
  await got.waitForNumber(40);
  await sleep(100);

  assert.deepEqual(got.numbers(), range(1, 40));
  assert.ok(contiguous(got.events));
  assert.deepEqual(statusAtDelivery.slice(5, 30), Array(25).fill('FALLBACK'));
  assert.deepEqual(got.events.slice(30).map((e) => e.source), Array(10).fill('live'));
  assert.deepEqual([...statuses], ['CONNECTING', 'OPEN', 'RECONNECTING', 'FALLBACK', 'OPEN']);
  assert.equal(client.stats.resets, 0);
  assert.ok(client.stats.polls > 0);
});
