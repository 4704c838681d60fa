import { snapshotMaxTopics } from './http_api.js';

// FALLBACK polling: every intervalMs one /api/snapshot request per 100
// subscribed topics; each subscription takes the topic's latest event and,
// if it is behind by more, fills the gap from /api/history itself.
export class Poller {
  #http;
  #timers;
  #intervalMs;
  #subscriptions;
  #onRound;
  #onError;
  #timer = null;
  #running = false;

  // subscriptions: the client's live Map topic → Subscription.
  constructor({ http, timers, intervalMs, subscriptions, onRound, onError }) {
    this.#http = http;
    this.#timers = timers;
    this.#intervalMs = intervalMs;
    this.#subscriptions = subscriptions;
    this.#onRound = onRound;
    this.#onError = onError;
  }

  start() {
    if (this.#running)
      return;
    this.#running = true;
    this.#schedule(0);
  }

  stop() {
    this.#running = false;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(delay) {
    this.#timer = this.#timers.setTimeout(async () => {
      if (!this.#running)
        return;
      try {
        await this.#round();
      } catch (err) {
        this.#onError(err);
      }
      if (this.#running)
        this.#schedule(this.#intervalMs);
    }, delay);
  }

  async #round() {
    this.#onRound();
    const topics = [...this.#subscriptions.keys()];
    for (let i = 0; i < topics.length; i += snapshotMaxTopics) {
      const batch = topics.slice(i, i + snapshotMaxTopics);
      const latest = await this.#http.snapshots(batch);
      if (!this.#running)
        return;
      for (const topic of batch)
        this.#subscriptions.get(topic)?.poll(latest[topic] ?? null);
    }
  }
}
