// The node's polling endpoints (/api/snapshot, /api/history), used to reload
// after a reset, to fill gaps, and for FALLBACK polling.

// The most topics /api/snapshot answers in one request.
export const snapshotMaxTopics = 100;

export class HttpApi {
  #baseUrl;
  #fetch;
  #token;

  // `token()` returns the current token, so a refresh applies at once.
  constructor({ baseUrl, fetch, token }) {
    this.#baseUrl = baseUrl.replace(/\/$/, '');
    this.#fetch = fetch;
    this.#token = token;
  }

  // The latest retained event of each topic (null: none), ≤ 100 topics.
  async snapshots(topics) {
    const body = await this.#get(`/api/snapshot?topics=${topics.map(encodeURIComponent).join(',')}`);
    return body.topics ?? {};
  }

  async snapshot(topic) {
    return (await this.snapshots([topic]))[topic] ?? null;
  }

  // The retained events of `epoch` after `since`:
  // {epoch, seq, recovered, events: [{seq, ts, snapshot, data}, ...]}.
  history(topic, epoch, since) {
    const query = `topic=${encodeURIComponent(topic)}&epoch=${encodeURIComponent(epoch)}&since=${since}&limit=1000`;
    return this.#get(`/api/history?${query}`);
  }

  async #get(path) {
    const token = this.#token();
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const res = await this.#fetch(`${this.#baseUrl}${path}`, { headers });
    const body = await res.json().catch(() => ({}));
    if (!res.ok)
      throw Object.assign(new Error(`GET ${path}: ${res.status} ${body.error ?? ''}`.trim()), { status: res.status });
    return body;
  }
}

// http(s)://host:port of a ws(s):// URL.
export function httpOrigin(wsUrl) {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  return u.origin;
}
