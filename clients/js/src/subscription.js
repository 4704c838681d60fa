import { Emitter, reportLater } from './emitter.js';

// One subscribed topic: the handle `client.subscribe` returns. It owns the
// topic's position (epoch and the seq of the last event handed to the
// application) and is the only place that decides what reaches onEvent, so
// events from the WebSocket, its replays after a resume and HTTP polling all
// pass the same check: each seq once, in order, within one epoch.
//
//   ingest(event) ── same epoch, seq = last + 1 ──► onEvent
//        │ seq <= last: duplicate, dropped
//        │ seq > last + 1 (not throttled): gap ─► fill from /api/history
//        │ other epoch, or history cannot fill ─► 'reset', /api/snapshot
//        └ while a fill or reload runs, arriving events wait in `pending`
//          and are ingested again, in order, when it ends.
export class Subscription extends Emitter {
  #client;
  #onEvent;
  #recovering = false;
  #pending = [];

  constructor(client, topic, options, onEvent) {
    super();
    this.#client = client;
    this.#onEvent = onEvent;
    this.topic = topic;
    this.options = { ...options };
    // Position of the last event delivered (or the ack's position when the
    // application asked for live events only); null until known.
    this.epoch = null;
    this.seq = null;
    this.active = true;
    // Events before the first ack belong to an earlier subscription of the
    // topic on this connection (unsubscribed, its unsubscribe not yet applied).
    this.acked = false;
  }

  get throttled() {
    return Boolean(this.options.throttleMs);
  }

  unsubscribe() {
    if (!this.active)
      return;
    this.active = false;
    this.#pending = [];
    this.#client._unsubscribe(this);
  }

  // What a subscribe of this handle asks, decided when it is sent: `since`
  // once a position is known, so a resubscribe resumes instead of rewinding;
  // the options that apply to every topic of a frame in `options`.
  subscribeRequest() {
    const options = {};
    const resume = this.epoch !== null && this.seq !== null;
    if (!resume && this.options.last)
      options.last = this.options.last;
    if (!resume && this.options.snapshot)
      options.snapshot = true;
    if (this.options.throttleMs)
      options.throttle_ms = this.options.throttleMs;
    return { options, since: resume ? { epoch: this.epoch, seq: this.seq } : null };
  }

  // The node attached the topic. `recovered` is undefined for a subscribe
  // without `since`, else whether the events after our position follow.
  onAck(position, recovered) {
    this.acked = true;
    this.#applyAck(position, recovered);
    this.emit('subscribed', { topic: this.topic, position, recovered });
  }

  #applyAck(position, recovered) {
    if (!position || recovered === true)
      return;
    if (recovered === false) {
      // The events after our position are gone (other epoch, or no longer
      // retained): live events continue after position.seq; reload first.
      this.#reload('not_recovered', position.epoch, position.seq);
      return;
    }
    // A first subscribe. With `last` or `snapshot` the replay (seqs up to the
    // position) follows, so the first event delivered sets the seq.
    this.epoch = position.epoch;
    if (!this.options.last && !this.options.snapshot)
      this.seq = position.seq;
  }

  // A `reset` frame: a new epoch began and the events in between are unknown.
  onReset(epoch) {
    if (this.active)
      this.#reload('reset', epoch, null);
  }

  ingest(event) {
    if (!this.active || !this.acked)
      return;
    if (this.#recovering) {
      this.#pending.push(event);
      return;
    }
    if (this.epoch !== null && event.epoch !== this.epoch) {
      this.#pending.push(event);
      this.#reload('epoch_changed', event.epoch, null);
      return;
    }
    if (this.seq !== null && event.seq <= this.seq) {
      this.#client.stats.duplicatesDropped++;
      return;
    }
    if (this.seq !== null && event.seq > this.seq + 1 && !this.throttled) {
      this.#pending.push(event);
      this.#fill();
      return;
    }
    this.#deliver(event);
  }

  // HTTP fallback: the latest retained event of the topic, polled.
  poll(latest) {
    if (!this.active || this.#recovering || !latest)
      return;
    const event = { topic: this.topic, ...latest, source: 'poll' };
    if (this.epoch === null) {
      this.#deliver(event);
    } else if (latest.epoch !== this.epoch) {
      this.#reload('epoch_changed', latest.epoch, null);
    } else if (this.seq === null || latest.seq === this.seq + 1 || (this.throttled && latest.seq > this.seq)) {
      this.#deliver(event);
    } else if (latest.seq > this.seq + 1) {
      this.#pending.push(event);
      this.#fill();
    }
  }

  #deliver(event) {
    this.epoch = event.epoch;
    this.seq = event.seq;
    this.#client.stats.delivered++;
    try {
      this.#onEvent?.(event);
    } catch (err) {
      reportLater(err);
    }
    this.emit('event', event);
  }

  // Runs one recovery step with arriving events held back, then ingests them.
  async #recover(step) {
    this.#recovering = true;
    try {
      await step();
    } catch (err) {
      this.emit('error', err);
    } finally {
      this.#recovering = false;
    }
    const pending = this.#pending;
    this.#pending = [];
    for (const event of pending)
      this.ingest(event);
  }

  // Fetches the events after our seq from /api/history; if the node no
  // longer retains them (or cannot be asked), falls back to a reset and the
  // snapshot. The reload expects no particular seq, so events that waited
  // are taken from there even if the snapshot cannot be had either.
  #fill() {
    this.#recover(async () => {
      for (;;) {
        let page;
        try {
          page = await this.#client._http.history(this.topic, this.epoch, this.seq);
        } catch (err) {
          this.emit('error', err);
          await this.#reloadNow('not_retained', this.epoch, null);
          return;
        }
        if (!this.active)
          return;
        if (!page.recovered) {
          await this.#reloadNow('not_retained', page.epoch ?? this.epoch, null);
          return;
        }
        const before = this.seq;
        for (const e of page.events)
          if (e.seq === this.seq + 1)
            this.#deliver({ topic: this.topic, epoch: page.epoch, ...e, source: 'history' });
        const target = this.#pending.length ? this.#pending[0].seq - 1 : page.seq;
        if (this.seq >= target)
          return;
        if (this.seq === before) {
          // Retained, yet the next event is missing: nothing to resume from.
          await this.#reloadNow('not_retained', this.epoch, null);
          return;
        }
      }
    });
  }

  #reload(reason, epoch, seq) {
    this.#recover(() => this.#reloadNow(reason, epoch, seq));
  }

  // Tells the application to forget what it holds ('reset'), then delivers
  // the topic's latest event from /api/snapshot. `seq` is an ack's position
  // (live events follow it; the event at it was never delivered, so a
  // snapshot at that seq is shown), or null: the next event sets it.
  async #reloadNow(reason, epoch, seq) {
    this.#client.stats.resets++;
    this.epoch = epoch ?? null;
    this.seq = seq ?? null;
    this.emit('reset', { topic: this.topic, epoch: this.epoch, reason });
    const latest = await this.#client._http.snapshot(this.topic);
    if (!this.active || !latest)
      return;
    if (this.epoch !== null && latest.epoch !== this.epoch)
      return; // an older or newer incarnation: a reset frame or event follows
    if (this.seq === null || latest.seq >= this.seq)
      this.#deliver({ topic: this.topic, ...latest, source: 'snapshot' });
  }
}
