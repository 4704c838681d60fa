// Figures the dashboard derives from the node's counters: values by dotted
// path, per-second rates between two samples, and bounded series of them.

// The value at a dotted path ("conn.by_dialect.native") of a stats object,
// or undefined.
export function at(stats, path) {
  let v = stats;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object')
      return undefined;
    v = v[key];
  }
  return v;
}

// The sum of every number in a group (auth.failures, the refused_* counters);
// `filter` picks the keys.
export function sum(group, filter = () => true) {
  if (!group || typeof group !== 'object')
    return 0;
  let total = 0;
  for (const [key, v] of Object.entries(group)) {
    if (typeof v === 'number' && filter(key))
      total += v;
  }
  return total;
}

// The counters the charts follow, each as one number taken from /api/stats.
export const counters = {
  events_in: (s) => at(s, 'topic.events_in') ?? 0,
  events_out: (s) => at(s, 'topic.events_out') ?? 0,
  slow_closed: (s) => at(s, 'conn.slow_closed') ?? 0,
  // Frames refused by the per-connection rate limit, plus handshakes the
  // admission gate refused (origin, caps, handshake rate, maintenance).
  rate_refused: (s) => (at(s, 'protection.rate_limited') ?? 0)
    + sum(s.protection, (k) => k.startsWith('refused_')),
  // Tokens refused (by reason) and subscribes a token did not allow.
  auth_refused: (s) => sum(at(s, 'auth.failures')) + (at(s, 'auth.denied') ?? 0),
};

// Per-second rate of each counter between two samples taken `ms` apart. A
// counter that went down (the node restarted) starts again from zero.
export function rates(prev, next, ms) {
  const out = {};
  for (const [name, read] of Object.entries(counters)) {
    const a = read(prev);
    const b = read(next);
    const delta = b >= a ? b - a : b;
    out[name] = ms > 0 ? (delta * 1000) / ms : 0;
  }
  return out;
}

// The last `capacity` samples of one figure, oldest first.
export class Series {
  #values = [];

  constructor(capacity) {
    this.capacity = capacity;
  }

  push(v) {
    this.#values.push(v);
    if (this.#values.length > this.capacity)
      this.#values.shift();
  }

  get values() {
    return this.#values;
  }

  get last() {
    return this.#values.length ? this.#values[this.#values.length - 1] : null;
  }

  get max() {
    return this.#values.reduce((m, v) => Math.max(m, v), 0);
  }
}

// "1.2k/s"-style rate, "12 µs" / "3.4 ms" latency, and plain counts.
export function formatRate(v) {
  if (v >= 10000)
    return `${(v / 1000).toFixed(1)}k`;
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

export function formatMicros(us) {
  if (us === null || us === undefined)
    return '—';
  if (us >= 1e6)
    return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1000)
    return `${(us / 1000).toFixed(us >= 1e5 ? 0 : 1)} ms`;
  return `${Math.round(us)} µs`;
}

export function formatBytes(n) {
  if (n >= 1 << 20)
    return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10)
    return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

export function formatDuration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 120)
    return `${s} s`;
  if (s < 7200)
    return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
