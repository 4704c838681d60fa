// What watching $sys:stats costs a node: CPU of a fresh node holding N live
// topics over 10 s, first with nobody watching, then with one admin client
// following $sys:stats. Loopback only; stops the node it starts.
//
//   node tools/tickgate-bench/stats_watch_cost.mjs build/tickgate 10000
//
// Uses the `ws` package the JavaScript client's tests install (tools/test).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(new URL('../../clients/js/package.json', import.meta.url));
const { WebSocket } = require('ws');

const [binary, count] = [process.argv[2] ?? 'build/tickgate', Number(process.argv[3] ?? 1000)];
const dir = mkdtempSync(join(tmpdir(), 'tg-watch-'));
const ready = join(dir, 'ready');
const node = spawn(binary, ['--ws.port=0', '--admin.port=0', '--admin.secret=bench',
  `--ws.max-subscriptions=${count}`, `--ready-file=${ready}`, '--log-level=warn'], { stdio: 'ignore' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const deadline = Date.now() + 10000;
while (!existsSync(ready) && Date.now() < deadline) await sleep(50);
await sleep(100);
const { port } = JSON.parse(readFileSync(ready, 'utf8'));
const cpuSeconds = () => {
  const fields = readFileSync(`/proc/${node.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
};
const open = (query = '') => new Promise((resolve, reject) => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1${query}`);
  ws.on('open', () => resolve(ws));
  ws.on('error', reject);
});

const holder = await open();
const topics = Array.from({ length: count }, (_, i) => `trade@T${i}`);
for (let i = 0; i < count; i += 1000)
  holder.send(JSON.stringify({ op: 'subscribe', topics: topics.slice(i, i + 1000) }));
await sleep(3000);
let before = cpuSeconds();
await sleep(10000);
const unwatched = cpuSeconds() - before;

const watcher = await open('?token=bench');
let events = 0;
watcher.on('message', (m) => { if (m.toString().startsWith('{"type":"event"')) events++; });
watcher.send(JSON.stringify({ op: 'subscribe', topics: ['$sys:stats'] }));
await sleep(3000);
before = cpuSeconds();
const seen = events;
await sleep(10000);
const watched = cpuSeconds() - before;
console.log(JSON.stringify({ topics: count, cpu_s_unwatched_10s: +unwatched.toFixed(2),
  cpu_s_watched_10s: +watched.toFixed(2), stats_events_10s: events - seen }));
node.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
process.exit(0);
