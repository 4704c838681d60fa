// Records what a subscription hands the application, in the order it does.
import { until } from './tickgate.js';

export function record(handle) {
  const log = { events: [], timeline: [], errors: [] };
  handle.on('event', (e) => {
    log.events.push(e);
    log.timeline.push(e.data.n);
  });
  handle.on('reset', (r) => log.timeline.push(`reset:${r.reason}`));
  handle.on('error', (err) => log.errors.push(err));
  log.numbers = () => log.events.map((e) => e.data.n);
  log.waitFor = (count, what = `${count} events`) =>
    until(() => log.events.length >= count, { what, timeoutMs: 15000 });
  log.waitForNumber = (n) => until(() => log.events.some((e) => e.data.n === n), { what: `event ${n}`, timeoutMs: 15000 });
  return log;
}

export function recordStatus(client) {
  const statuses = [];
  client.on('status', (s) => statuses.push(s));
  statuses.waitFor = (status, count = 1) =>
    until(() => statuses.filter((s) => s === status).length >= count, { what: `status ${status}`, timeoutMs: 15000 });
  return statuses;
}

export const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// Seqs within one epoch go up by exactly one.
export function contiguous(events) {
  return events.every((e, i) => i === 0 || e.epoch !== events[i - 1].epoch || e.seq === events[i - 1].seq + 1);
}
