// Starts the real tickgate binary for the client tests and talks to its HTTP API.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

// The binary under test: TICKGATE_BINARY (the ctest entry sets it), else the
// Release build's in this checkout (tools/setup builds into build/).
export function tickgateBinary() {
  return process.env.TICKGATE_BINARY ?? fileURLToPath(new URL('../../../../build/tickgate', import.meta.url));
}

export async function until(check, { timeoutMs = 10000, stepMs = 10, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value)
      return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

// A node on a free port (port 0 and the ready file), loopback only; stopped
// by its PID. Its log is kept for a failing test's message.
export class TickgateNode {
  static async start(args = []) {
    const node = new TickgateNode();
    await node.#start(args);
    return node;
  }

  #dir;
  #child;
  port = 0;

  async #start(args) {
    this.#dir = mkdtempSync(join(tmpdir(), 'tickgate-jsclient-'));
    const ready = join(this.#dir, 'ready.json');
    const log = openSync(join(this.#dir, 'node.log'), 'w');
    const env = { ...process.env };
    for (const key of ['WS_PORT', 'PORT', 'WS_HOST', 'ADMIN_PORT', 'ADMIN_SECRET', 'REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'JWT_SECRET'])
      delete env[key];
    this.#child = spawn(tickgateBinary(),
      ['--ws.host=127.0.0.1', '--ws.port=0', '--admin.port=0', `--ready-file=${ready}`, ...args],
      { stdio: ['ignore', 'ignore', log], env });
    closeSync(log);
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.exited = exited;
    await until(() => {
      if (this.#child.exitCode !== null)
        throw new Error(`tickgate exited: ${this.log()}`);
      try {
        this.port = JSON.parse(readFileSync(ready, 'utf8')).port;
      } catch {
        return false;
      }
      return this.port > 0;
    }, { what: 'tickgate to start' });
  }

  get pid() {
    return this.#child.pid;
  }

  log() {
    try {
      return readFileSync(join(this.#dir, 'node.log'), 'utf8');
    } catch {
      return '';
    }
  }

  // SIGTERM (or `signal`), then SIGKILL if it has not exited after a grace.
  async stop(signal = 'SIGTERM') {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      process.kill(this.#child.pid, signal);
      const done = await Promise.race([this.exited.then(() => true), sleep(8000, false, { ref: false })]);
      if (!done) {
        process.kill(this.#child.pid, 'SIGKILL');
        await this.exited;
      }
    }
    const log = this.log();
    rmSync(this.#dir, { recursive: true, force: true });
    // In a sanitized build the node reports memory errors in its log.
    for (const mark of ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', ': runtime error: '])
      if (log.includes(mark))
        throw new Error(`tickgate reported a sanitizer finding:\n${log}`);
  }

  get httpUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/v1`;
  }

  async publish(topic, data) {
    const res = await fetch(`${this.httpUrl}/api/publish`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ topic, data }),
    });
    if (res.status !== 200)
      throw new Error(`publish ${topic}: ${res.status} ${await res.text()}`);
  }

  async get(path) {
    const res = await fetch(`${this.httpUrl}${path}`);
    return res.json();
  }
}

// An HS256 JWT signed with node:crypto, as a back end issuing tokens would.
export function signJwt(claims, secret) {
  const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
