// How a subscription orders what reaches the application, with the socket
// and HTTP replaced by fakes: gaps on a live stream, duplicates, resets,
// and the reconnect backoff, under an injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TickgateClient } from '../index.js';
import { record } from './support/record.js';

class FakeSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.onclose?.({ code: 1000 }); }
  open() { this.onopen?.(); }
  receive(frame) { this.onmessage?.({ data: JSON.stringify(frame) }); }
  drop() { this.onclose?.({ code: 1006 }); }
}

// Timers the test fires by hand: the delays asked for are recorded.
function manualTimers() {
  const pending = [];
  return {
    pending,
    setTimeout: (fn, ms) => { const t = { fn, ms }; pending.push(t); return t; },
    clearTimeout: (t) => { const i = pending.indexOf(t); if (i >= 0) pending.splice(i, 1); },
    runNext() { const t = pending.shift(); t.fn(); return t.ms; },
  };
}

// /api/history and /api/snapshot answers of one topic, from a list of events.
function fakeHttp(epoch, retained) {
  const requests = [];
  const fetch = async (url) => {
    const u = new URL(url);
    requests.push(u.pathname + u.search);
    let body;
    if (u.pathname === '/api/history') {
      const since = Number(u.searchParams.get('since'));
      const first = retained[0]?.seq ?? Infinity;
      const recovered = u.searchParams.get('epoch') === epoch && since + 1 >= first;
      body = { topic: u.searchParams.get('topic'), epoch, seq: retained.at(-1)?.seq ?? 0, recovered,
               events: recovered ? retained.filter((e) => e.seq > since) : [] };
    } else {
      const topic = u.searchParams.get('topics');
      const last = retained.at(-1);
      body = { topics: { [topic]: last ? { epoch, ...last, snapshot: false } : null } };
    }
    return { ok: true, status: 200, json: async () => body };
  };
  return { fetch, requests };
}

const event = (seq, epoch = 'E1') => ({ type: 'event', topic: 't', seq, epoch, ts: seq, data: { n: seq } });
const settle = () => new Promise((resolve) => setImmediate(resolve));

async function openClient(http, extra = {}) {
  FakeSocket.all = [];
  const timers = manualTimers();
  const client = new TickgateClient({ url: 'ws://node/v1', WebSocket: FakeSocket, fetch: http.fetch, timers,
                                      random: () => 0.5, ...extra });
  await settle();
  const ws = FakeSocket.all[0];
  ws.open();
  return { client, ws, timers };
}

test('a gap on a live stream is filled from /api/history, and duplicates are dropped', async () => {
  const http = fakeHttp('E1', [3, 4, 5, 6].map((seq) => ({ seq, ts: seq, data: { n: seq } })));
  const { client, ws } = await openClient(http);
  const got = record(client.subscribe('t', {}));
  await settle(); // subscribes leave together once the task ends
  ws.receive({ type: 'ack', id: ws.sent[0].id, op: 'subscribe', topics: ['t'], positions: { t: { epoch: 'E1', seq: 0 } } });
  ws.receive(event(1));
  ws.receive(event(2));
  ws.receive(event(2));
  ws.receive(event(6)); // 3..5 missing: history has 3..6, so 6 comes from there once
  ws.receive(event(7)); // arrives while the gap is filled
  await settle();
  assert.deepEqual(got.timeline, [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(got.events.map((e) => e.source), ['live', 'live', 'history', 'history', 'history', 'history', 'live']);
  assert.deepEqual(http.requests, ['/api/history?topic=t&epoch=E1&since=2&limit=1000']);
  assert.equal(client.stats.duplicatesDropped, 2); // the repeated 2, and 6 once history gave it
  client.close();
});

test('a gap the history no longer covers gives reset, then the snapshot, then later events', async () => {
  const http = fakeHttp('E1', [{ seq: 9, ts: 9, data: { n: 9 } }]);
  const { client, ws } = await openClient(http);
  const got = record(client.subscribe('t', {}));
  await settle();
  ws.receive({ type: 'ack', id: ws.sent[0].id, op: 'subscribe', topics: ['t'], positions: { t: { epoch: 'E1', seq: 0 } } });
  ws.receive(event(1));
  ws.receive(event(8));
  ws.receive(event(9));
  ws.receive(event(10));
  await settle();
  assert.deepEqual(got.timeline, [1, 'reset:not_retained', 9, 10]);
  assert.equal(got.events[1].source, 'snapshot');
  client.close();
});

test('a reset frame and an event of a new epoch both reload the snapshot of that epoch', async () => {
  const http = fakeHttp('E2', [{ seq: 4, ts: 4, data: { n: 4 } }]);
  const { client, ws } = await openClient(http);
  const got = record(client.subscribe('t', {}));
  await settle();
  ws.receive({ type: 'ack', id: ws.sent[0].id, op: 'subscribe', topics: ['t'], positions: { t: { epoch: 'E1', seq: 0 } } });
  ws.receive(event(1));
  ws.receive({ type: 'reset', topic: 't', epoch: 'E2' });
  ws.receive(event(4, 'E2'));
  ws.receive(event(5, 'E2'));
  await settle();
  assert.deepEqual(got.timeline, [1, 'reset:reset', 4, 5]);
  client.close();
});

test('a throttled subscription takes seq jumps as conflation, not as gaps', async () => {
  const http = fakeHttp('E1', []);
  const { client, ws } = await openClient(http);
  const got = record(client.subscribe('t', { throttleMs: 100 }));
  await settle();
  assert.equal(ws.sent[0].throttle_ms, 100);
  ws.receive({ type: 'ack', id: ws.sent[0].id, op: 'subscribe', topics: ['t'], positions: { t: { epoch: 'E1', seq: 0 } } });
  ws.receive(event(1));
  ws.receive(event(5));
  ws.receive(event(9));
  await settle();
  assert.deepEqual(got.timeline, [1, 5, 9]);
  assert.deepEqual(http.requests, []);
  client.close();
});

test('reconnects back off from initialMs doubling to maxMs, less the jitter, and resubscribe with since', async () => {
  const http = fakeHttp('E1', []);
  const { client, ws, timers } = await openClient(http, {
    reconnect: { initialMs: 100, maxMs: 1000, maxAttempts: 10, jitter: 0.4 },
  });
  client.subscribe('t', { last: 5 });
  await settle();
  assert.equal(ws.sent[0].last, 5);
  ws.receive({ type: 'ack', id: ws.sent[0].id, op: 'subscribe', topics: ['t'], positions: { t: { epoch: 'E1', seq: 3 } } });
  ws.receive(event(1));
  ws.receive(event(2));
  ws.receive(event(3));
  ws.drop();
  const delays = [];
  for (let i = 0; i < 6; ++i) {
    delays.push(timers.runNext());
    await settle();
    FakeSocket.all.at(-1).drop();
  }
  // random() is 0.5, so each delay is 80 % of its base (jitter 0.4).
  assert.deepEqual(delays, [80, 160, 320, 640, 800, 800]);
  timers.runNext();
  await settle();
  const back = FakeSocket.all.at(-1);
  back.open();
  assert.deepEqual(back.sent[0].since, { t: { epoch: 'E1', seq: 3 } });
  assert.equal(back.sent[0].last, undefined);
  client.close();
});

test('a connection silent for a heartbeat after a ping is given up and retried', async () => {
  const http = fakeHttp('E1', []);
  const { client, ws, timers } = await openClient(http, { heartbeatMs: 1000 });
  const statuses = [];
  client.on('status', (s) => statuses.push(s));
  assert.equal(timers.runNext(), 1000);
  assert.equal(ws.sent.at(-1).op, 'ping');
  ws.receive({ type: 'pong', id: ws.sent.at(-1).id, ts: 1 });
  timers.runNext();
  assert.equal(ws.sent.filter((f) => f.op === 'ping').length, 2);
  assert.equal(client.status, 'OPEN');
  timers.runNext(); // nothing heard since the second ping
  assert.deepEqual(statuses, ['RECONNECTING']);
  assert.equal(timers.pending.length, 1, 'one retry scheduled');
  client.close();
});

test('a refused subscribe ends its handle with the node\'s code; events before the ack are not its own', async () => {
  const http = fakeHttp('E1', []);
  const { client, ws } = await openClient(http);
  const refused = record(client.subscribe('private', {}));
  await settle();
  ws.receive({ type: 'error', id: ws.sent[0].id, code: 'forbidden', message: 'not yours' });
  assert.deepEqual(refused.errors.map((e) => e.code), ['forbidden']);
  const got = record(client.subscribe('t', {}));
  await settle();
  ws.receive(event(7)); // still of an earlier subscription of 't'
  ws.receive({ type: 'ack', id: ws.sent[1].id, op: 'subscribe', topics: ['t'], positions: { t: { epoch: 'E1', seq: 7 } } });
  ws.receive(event(8));
  assert.deepEqual(got.timeline, [8]);
  client.close();
});

test('a gap while HTTP is unreachable: error and reset, then the events that waited, without retrying in a loop', async () => {
  let calls = 0;
  const http = { fetch: async () => { calls++; throw new TypeError('fetch failed'); } };
  const { client, ws } = await openClient(http);
  const got = record(client.subscribe('t', {}));
  await settle();
  ws.receive({ type: 'ack', id: ws.sent[0].id, op: 'subscribe', topics: ['t'], positions: { t: { epoch: 'E1', seq: 0 } } });
  ws.receive(event(1));
  ws.receive(event(5));
  ws.receive(event(6));
  for (let i = 0; i < 5; ++i)
    await settle();
  assert.deepEqual(got.timeline, [1, 'reset:not_retained', 5, 6]);
  assert.equal(got.errors.length, 2); // the history request, then the snapshot
  assert.equal(calls, 2);
  client.close();
});

test('subscribes made together leave in one frame; a refused frame is asked again topic by topic', async () => {
  const http = fakeHttp('E1', []);
  const { client, ws, timers } = await openClient(http);
  const logs = ['a', 'b', 'c'].map((topic) => record(client.subscribe(topic, {})));
  record(client.subscribe('d', { throttleMs: 50 }));
  await settle();
  assert.deepEqual(ws.sent.map((f) => f.topics), [['a', 'b', 'c'], ['d']]);
  ws.receive({ type: 'error', id: ws.sent[0].id, code: 'forbidden', message: 'b is not yours' });
  assert.deepEqual(ws.sent.slice(2).map((f) => f.topics), [['a'], ['b'], ['c']]);
  ws.receive({ type: 'ack', id: ws.sent[2].id, op: 'subscribe', topics: ['a'], positions: { a: { epoch: 'E1', seq: 0 } } });
  ws.receive({ type: 'error', id: ws.sent[3].id, code: 'forbidden', message: 'b is not yours' });
  ws.receive({ type: 'ack', id: ws.sent[4].id, op: 'subscribe', topics: ['c'], positions: { c: { epoch: 'E1', seq: 0 } } });
  assert.deepEqual(logs.map((l) => l.errors.map((e) => e.code)), [[], ['forbidden'], []]);

  // After a reconnect: the topics with a position resume together.
  ws.drop();
  timers.runNext();
  await settle();
  const back = FakeSocket.all.at(-1);
  back.open();
  assert.deepEqual(back.sent.map((f) => [f.topics, f.since, f.throttle_ms]), [
    [['a', 'c'], { a: { epoch: 'E1', seq: 0 }, c: { epoch: 'E1', seq: 0 } }, undefined],
    [['d'], undefined, 50],
  ]);
  client.close();
});
