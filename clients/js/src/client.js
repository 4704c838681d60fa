import { Emitter } from './emitter.js';
import { Subscription } from './subscription.js';
import { HttpApi, httpOrigin } from './http_api.js';
import { Poller } from './poller.js';

export const Status = Object.freeze({
  CONNECTING: 'CONNECTING',
  OPEN: 'OPEN',
  CLOSED: 'CLOSED',
  RECONNECTING: 'RECONNECTING',
  FALLBACK: 'FALLBACK',
  ERROR: 'ERROR',
});

const defaults = {
  reconnect: { initialMs: 2000, maxMs: 30000, maxAttempts: 5, jitter: 0.3 },
  pollIntervalMs: 5000,
  queueSize: 1000,
  heartbeatMs: 25000,
};

// The most topics a subscribe frame of this client lists (the node's
// ws.max-subscriptions defaults to 100).
const subscribeMaxTopics = 100;

// Node ≥ 22 and browsers have a global WebSocket; Node 18/20 use the `ws`
// package, imported only there so the browser path has no Node import.
async function webSocketClass() {
  if (globalThis.WebSocket)
    return globalThis.WebSocket;
  const mod = await import('ws');
  return mod.WebSocket ?? mod.default;
}

// A native-protocol (/v1) client that never loses an event silently.
//
//   CONNECTING ──open──► OPEN ──drop, or silent past a heartbeat──► RECONNECTING
//        │                ▲                                          │   │
//        └──fail──────────┼──────────────────────────────────────────┘   │
//                         ├──────────────open────────────────────────────┘
//                         │                       maxAttempts failed in a row
//                         └──open── FALLBACK ◄───────────────────────────┘
//   FALLBACK polls HTTP every pollIntervalMs and keeps trying the WebSocket.
//   ERROR: the node closed with 4001 (token refused); RECONNECTING follows.
//   close() from any state ──► CLOSED.
export class TickgateClient extends Emitter {
  #url;
  #token;
  #reconnect;
  #queueSize;
  #heartbeatMs;
  #timers;
  #random;
  #WebSocket;

  #ws = null;
  #status = null;
  #failures = 0;
  #retryTimer = null;
  #heartbeatTimer = null;
  #heard = false;
  #poller;
  #closed = false;
  #nextId = 1;
  #queue = [];
  #requests = new Map();
  #subscriptions = new Map();
  #batch = [];

  constructor(options) {
    super();
    if (!options?.url)
      throw new TypeError('TickgateClient: url is required');
    this.#url = options.url;
    this.#token = options.token ?? null;
    this.#reconnect = { ...defaults.reconnect, ...options.reconnect };
    this.#queueSize = options.queueSize ?? defaults.queueSize;
    this.#heartbeatMs = options.heartbeatMs ?? defaults.heartbeatMs;
    // Injectable for tests and special environments.
    this.#timers = options.timers ?? { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (t) => clearTimeout(t) };
    this.#random = options.random ?? Math.random;
    // Used by the subscriptions (reloads, gap fills) and the poller.
    this._http = new HttpApi({
      baseUrl: options.httpUrl ?? httpOrigin(options.url),
      fetch: options.fetch ?? ((...args) => globalThis.fetch(...args)),
      token: () => this.#token,
    });
    this.#poller = new Poller({
      http: this._http,
      timers: this.#timers,
      intervalMs: options.pollIntervalMs ?? defaults.pollIntervalMs,
      subscriptions: this.#subscriptions,
      onRound: () => this.stats.polls++,
      onError: (err) => this.emit('error', err),
    });
    this.#WebSocket = options.WebSocket ?? null;
    this.stats = {
      delivered: 0, duplicatesDropped: 0, resets: 0, reconnects: 0,
      polls: 0, queued: 0, droppedQueued: 0,
    };
    // Announced after the constructor returns, so a listener added at once
    // sees the whole sequence from CONNECTING.
    this.#status = Status.CONNECTING;
    queueMicrotask(() => this.emit('status', Status.CONNECTING));
    this.#connect();
  }

  get status() {
    return this.#status;
  }

  // Follows `topic`; onEvent receives each event once, in seq order.
  subscribe(topic, options = {}, onEvent = undefined) {
    if (typeof options === 'function')
      [options, onEvent] = [{}, options];
    if (this.#closed)
      throw new Error('TickgateClient: closed');
    if (this.#subscriptions.has(topic))
      throw new Error(`TickgateClient: already subscribed to ${topic}`);
    const sub = new Subscription(this, topic, options, onEvent);
    this.#subscriptions.set(topic, sub);
    if (this.#isOpen()) {
      // Subscribes made in one go leave in one frame when the task ends.
      if (this.#batch.length === 0)
        queueMicrotask(() => this.#flushBatch());
      this.#batch.push(sub);
      return sub;
    }
    this.#request({
      kind: 'subscribe',
      build: () => this.#subscribe([sub]),
      onDrop: () => this.#endSubscription(sub, Object.assign(
        new Error(`subscribe ${topic} dropped from the offline queue`), { code: 'dropped' })),
    });
    return sub;
  }

  // Sends a raw native-protocol frame (queued while disconnected).
  send(frame) {
    this.#request({ build: () => frame });
  }

  // Replaces the token: the `auth` frame refreshes the identity on the open
  // connection (resolves on its ack, rejects on an error or when the
  // connection closes first); every later handshake carries the new token.
  setToken(token) {
    this.#token = token;
    return new Promise((resolve, reject) => {
      this.#request({
        build: (id) => {
          this.#requests.set(id, { kind: 'auth', resolve, reject });
          return { op: 'auth', id, token };
        },
        onDrop: () => reject(new Error('auth request dropped from the offline queue')),
      });
    });
  }

  close() {
    if (this.#closed)
      return;
    this.#closed = true;
    this.#timers.clearTimeout(this.#retryTimer);
    this.#timers.clearTimeout(this.#heartbeatTimer);
    this.#poller.stop();
    for (const sub of this.#subscriptions.values())
      sub.active = false;
    this.#subscriptions.clear();
    this.#failRequests(new Error('client closed'));
    const ws = this.#ws;
    this.#ws = null;
    ws?.close(1000);
    this.#setStatus(Status.CLOSED);
  }

  // ---- used by Subscription ----

  _unsubscribe(sub) {
    if (this.#subscriptions.get(sub.topic) === sub)
      this.#subscriptions.delete(sub.topic);
    this.#request({ kind: 'unsubscribe', topic: sub.topic,
                    build: (id) => ({ op: 'unsubscribe', id, topics: [sub.topic] }) });
  }

  // ---- connection ----

  async #connect() {
    if (this.#closed)
      return;
    let ws;
    try {
      this.#WebSocket ??= await webSocketClass();
      ws = new this.#WebSocket(this.#socketUrl());
    } catch (err) {
      this.emit('error', err);
      this.#onSocketClosed(false, null);
      return;
    }
    if (this.#closed) {
      ws.close(1000);
      return;
    }
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (this.#ws !== ws)
        return;
      opened = true;
      this.#onOpen();
    };
    ws.onmessage = (m) => {
      if (this.#ws !== ws)
        return;
      this.#heard = true;
      this.#onMessage(m.data);
    };
    ws.onerror = () => {};
    ws.onclose = (e) => {
      if (this.#ws !== ws)
        return;
      this.#ws = null;
      this.#onSocketClosed(opened, e);
    };
  }

  #onOpen() {
    if (this.#failures > 0 || this.#status !== Status.CONNECTING)
      this.stats.reconnects++;
    this.#poller.stop();
    this.#heard = true;
    this.#scheduleHeartbeat();
    this.#setStatus(Status.OPEN);
    // Every topic at once, in as few frames as their options allow (the
    // node's inbound rate limit counts frames): those the node knew resume
    // with `since`, those queued meanwhile start as asked. Then what else
    // waited, in order; an unsubscribe of a topic subscribed again since is
    // void.
    const queue = this.#queue;
    this.#queue = [];
    this.#subscribe([...this.#subscriptions.values()]);
    for (const entry of queue) {
      if (entry.kind === 'subscribe' || (entry.kind === 'unsubscribe' && this.#subscriptions.has(entry.topic)))
        continue;
      this.#sendNow(entry.build(this.#nextId++));
    }
  }

  #onSocketClosed(opened, event) {
    this.#timers.clearTimeout(this.#heartbeatTimer);
    this.#failRequests(new Error('connection closed'));
    if (this.#closed)
      return;
    const refused = event?.code === 4001;
    if (refused) {
      this.emit('error', Object.assign(new Error(event.reason || 'unauthorized'), { code: 'unauthorized' }));
      this.#setStatus(Status.ERROR);
    }
    // A refused token counts as a failed attempt, so retrying with it backs
    // off (and reaches FALLBACK) like an unreachable node does.
    this.#failures = opened && !refused ? 0 : this.#failures + 1;
    const { initialMs, maxMs, maxAttempts, jitter } = this.#reconnect;
    if (this.#failures >= maxAttempts) {
      this.#setStatus(Status.FALLBACK);
      this.#poller.start();
    } else {
      this.#setStatus(Status.RECONNECTING);
    }
    // Exponential backoff: initialMs doubling per failure up to maxMs, less
    // up to `jitter` of it at random so many clients do not return at once.
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(this.#failures, 30));
    const delay = base * (1 - jitter * this.#random());
    this.#retryTimer = this.#timers.setTimeout(() => this.#connect(), delay);
  }

  // A connection that went silent without a FIN (a dead NAT entry, a
  // partition) never fires `close`: every heartbeatMs the client pings, and
  // a connection that sent nothing since the previous ping is given up.
  #scheduleHeartbeat() {
    if (!this.#heartbeatMs)
      return;
    this.#heartbeatTimer = this.#timers.setTimeout(() => {
      const ws = this.#ws;
      if (!ws)
        return;
      if (!this.#heard) {
        this.#ws = null;
        try {
          ws.close(4000, 'heartbeat timeout');
        } catch {
          // closing a dead socket may throw in some implementations
        }
        this.#onSocketClosed(true, { code: 1006, reason: 'heartbeat timeout' });
        return;
      }
      this.#heard = false;
      this.#sendNow({ op: 'ping', id: this.#nextId++ });
      this.#scheduleHeartbeat();
    }, this.#heartbeatMs);
  }

  #socketUrl() {
    if (!this.#token)
      return this.#url;
    // A browser WebSocket cannot set headers: the token goes in the query.
    const sep = this.#url.includes('?') ? '&' : '?';
    return `${this.#url}${sep}token=${encodeURIComponent(this.#token)}`;
  }

  #setStatus(status) {
    if (status === this.#status)
      return;
    this.#status = status;
    this.emit('status', status);
  }

  // ---- requests and the offline queue ----

  // Sends now when open; else queues, dropping (and counting) the oldest
  // request beyond queueSize. `build(id)` makes the frame when it is sent
  // (or sends it itself and returns null).
  #isOpen() {
    return this.#ws !== null && this.#status === Status.OPEN;
  }

  // Handles still active when the batch leaves; a connection lost meanwhile
  // subscribes every handle when it opens again.
  #flushBatch() {
    const subs = this.#batch;
    this.#batch = [];
    if (this.#isOpen())
      this.#subscribe(subs);
  }

  #request(entry) {
    if (this.#isOpen()) {
      this.#sendNow(entry.build(this.#nextId++));
      return;
    }
    this.#queue.push(entry);
    this.stats.queued++;
    while (this.#queue.length > this.#queueSize) {
      const dropped = this.#queue.shift();
      this.stats.droppedQueued++;
      dropped.onDrop?.();
    }
  }

  #sendNow(frame) {
    if (frame)
      this.#ws.send(JSON.stringify(frame));
  }

  // Subscribes the active handles of `subs`, one frame per set of options.
  #subscribe(subs) {
    const groups = new Map();
    for (const sub of subs) {
      if (!sub.active)
        continue;
      const { options, since } = sub.subscribeRequest();
      const key = JSON.stringify([options, since !== null]);
      if (!groups.has(key))
        groups.set(key, { options, members: [] });
      groups.get(key).members.push({ sub, since });
    }
    for (const { options, members } of groups.values()) {
      for (let i = 0; i < members.length; i += subscribeMaxTopics) {
        const batch = members.slice(i, i + subscribeMaxTopics);
        const id = this.#nextId++;
        const frame = { op: 'subscribe', id, topics: batch.map((m) => m.sub.topic), ...options };
        if (batch[0].since)
          frame.since = Object.fromEntries(batch.map((m) => [m.sub.topic, m.since]));
        this.#requests.set(id, { kind: 'subscribe', subs: batch.map((m) => m.sub) });
        this.#sendNow(frame);
      }
    }
    return null;
  }

  // The handle ends for a reason the application is told with 'error'.
  #endSubscription(sub, err) {
    if (this.#subscriptions.get(sub.topic) === sub)
      this.#subscriptions.delete(sub.topic);
    sub.active = false;
    sub.emit('error', err);
  }

  #failRequests(err) {
    for (const [id, req] of this.#requests) {
      if (req.kind === 'auth')
        req.reject(err);
      this.#requests.delete(id);
    }
  }

  // ---- frames from the node ----

  #onMessage(text) {
    let frame;
    try {
      frame = JSON.parse(typeof text === 'string' ? text : String(text));
    } catch {
      this.emit('error', new Error('unparsable frame from the node'));
      return;
    }
    switch (frame.type) {
      case 'event': {
        const { type, ...event } = frame;
        this.#subscriptions.get(frame.topic)?.ingest({ ...event, source: 'live' });
        break;
      }
      case 'ack':
        this.#onAck(frame);
        break;
      case 'reset':
        this.#subscriptions.get(frame.topic)?.onReset(frame.epoch);
        break;
      case 'error':
        this.#onError(frame);
        break;
      case 'status':
        this.#subscriptions.get(frame.topic)?.emit('status', frame);
        break;
      default:
        break;
    }
  }

  #onAck(frame) {
    const req = this.#requests.get(frame.id);
    this.#requests.delete(frame.id);
    if (frame.op === 'auth') {
      req?.resolve?.();
    } else if (frame.op === 'subscribe') {
      for (const topic of frame.topics ?? []) {
        const sub = this.#subscriptions.get(topic);
        if (sub && (!req?.subs || req.subs.includes(sub)))
          sub.onAck(frame.positions?.[topic], frame.recovered?.[topic]);
      }
    }
  }

  #onError(frame) {
    const err = Object.assign(new Error(frame.message ?? frame.code), { code: frame.code });
    const req = this.#requests.get(frame.id);
    this.#requests.delete(frame.id);
    if (req?.kind === 'auth') {
      req.reject(err);
    } else if (req?.kind === 'subscribe' && req.subs.length > 1) {
      // The node refuses a whole frame for one topic (say, one that became
      // forbidden): ask again topic by topic, so only that one ends.
      for (const sub of req.subs)
        this.#subscribe([sub]);
    } else if (req?.kind === 'subscribe') {
      this.#endSubscription(req.subs[0], err);
    } else {
      // A token that expired without a refresh (or another user's) closes
      // private subscriptions, named in the message: those handles end.
      const closed = /subscriptions closed:(.*)$/.exec(err.message)?.[1].trim().split(/\s+/) ?? [];
      for (const topic of closed) {
        const sub = this.#subscriptions.get(topic);
        if (sub)
          this.#endSubscription(sub, err);
      }
      this.emit('error', err);
    }
  }
}
