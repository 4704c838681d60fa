// Type declarations of tickgate-client (index.js).

export type Status = 'CONNECTING' | 'OPEN' | 'CLOSED' | 'RECONNECTING' | 'FALLBACK' | 'ERROR';

export declare const Status: Readonly<{ [K in Status]: K }>;

export interface ReconnectOptions {
  /** First retry delay; doubles per failed attempt. Default 2000. */
  initialMs?: number;
  /** Longest retry delay. Default 30000. */
  maxMs?: number;
  /** Failed attempts in a row before FALLBACK (HTTP polling). Default 5. */
  maxAttempts?: number;
  /** Up to this fraction (0..1) of each delay is taken off at random. Default 0.3. */
  jitter?: number;
}

export interface ClientOptions {
  /** WebSocket URL of the native endpoint, e.g. `ws://127.0.0.1:8080/v1`. */
  url: string;
  /** JWT sent as `?token=` in each handshake and as `Authorization: Bearer` over HTTP. */
  token?: string;
  /** Base of the HTTP API (`/api/snapshot`, `/api/history`); default: the url's origin. */
  httpUrl?: string;
  reconnect?: ReconnectOptions;
  /** HTTP polling interval in FALLBACK. Default 5000. */
  pollIntervalMs?: number;
  /** Requests kept while disconnected; the oldest beyond it are dropped. Default 1000. */
  queueSize?: number;
  /** Ping interval; a connection silent for one interval after a ping is given up. 0: off. Default 25000. */
  heartbeatMs?: number;
  /** A WebSocket class; default: globalThis.WebSocket, else the `ws` package. */
  WebSocket?: unknown;
  /** A fetch function; default: globalThis.fetch. */
  fetch?: typeof fetch;
  /** Timers used for backoff and polling (tests inject their own). */
  timers?: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(handle: unknown): void };
  /** Random numbers in [0, 1) for the jitter. Default Math.random. */
  random?: () => number;
}

export interface SubscribeOptions {
  /** Start with the N most recent retained events (1..10000). */
  last?: number;
  /** Start with the latest snapshot event and every event after it. */
  snapshot?: boolean;
  /** At most one event per interval (10..60000 ms), conflated by the node. */
  throttleMs?: number;
}

export interface TickgateEvent<T = unknown> {
  topic: string;
  /** The topic's incarnation; a new epoch restarts seq. */
  epoch: string;
  /** Position within the epoch, from 1 without gaps. */
  seq: number;
  /** Microseconds since the Unix epoch when the node accepted the publish. */
  ts: number;
  /** The publisher's payload (JSON as-is, other text as a string). */
  data?: T;
  /** Non-UTF-8 payloads, base64. */
  data_b64?: string;
  /** Published as a snapshot event. */
  snapshot?: boolean;
  /** How it reached the client: the WebSocket, a history fill, a snapshot reload, or a poll. */
  source: 'live' | 'history' | 'snapshot' | 'poll';
}

export interface ResetInfo {
  topic: string;
  /** The epoch events continue in (null: unknown until the next event). */
  epoch: string | null;
  reason: 'not_recovered' | 'reset' | 'epoch_changed' | 'not_retained';
}

export interface Position {
  epoch: string;
  seq: number;
}

export interface TickgateError extends Error {
  /** The node's stable error code (`unauthorized`, `forbidden`, `invalid_topic`, ...) or `dropped`. */
  code?: string;
}

export declare class Subscription<T = unknown> {
  readonly topic: string;
  readonly options: SubscribeOptions;
  /** Position of the last event delivered (or of the ack). */
  readonly epoch: string | null;
  readonly seq: number | null;
  /** False once unsubscribed, refused by the node, or dropped from the offline queue. */
  readonly active: boolean;
  unsubscribe(): void;
  on(name: 'event', fn: (event: TickgateEvent<T>) => void): this;
  on(name: 'reset', fn: (info: ResetInfo) => void): this;
  on(name: 'subscribed', fn: (info: { topic: string; position?: Position; recovered?: boolean }) => void): this;
  on(name: 'status', fn: (frame: { topic: string; state: string; message?: string }) => void): this;
  on(name: 'error', fn: (error: TickgateError) => void): this;
  once(name: string, fn: (...args: any[]) => void): this;
  off(name: string, fn: (...args: any[]) => void): this;
}

export interface ClientStats {
  delivered: number;
  duplicatesDropped: number;
  resets: number;
  reconnects: number;
  polls: number;
  queued: number;
  droppedQueued: number;
}

export declare class TickgateClient {
  constructor(options: ClientOptions);
  readonly status: Status;
  readonly stats: ClientStats;
  subscribe<T = unknown>(topic: string, options?: SubscribeOptions, onEvent?: (event: TickgateEvent<T>) => void): Subscription<T>;
  subscribe<T = unknown>(topic: string, onEvent: (event: TickgateEvent<T>) => void): Subscription<T>;
  /** Sends a raw native-protocol frame; queued while disconnected. */
  send(frame: object): void;
  /** Refreshes the identity with the `auth` frame; later handshakes use the new token. */
  setToken(token: string): Promise<void>;
  close(): void;
  on(name: 'status', fn: (status: Status) => void): this;
  on(name: 'error', fn: (error: TickgateError) => void): this;
  once(name: string, fn: (...args: any[]) => void): this;
  off(name: string, fn: (...args: any[]) => void): this;
}
