// The dashboard at /dashboard in headless Chromium, against a node carrying
// known traffic: native clients (the ws package) on a few topics and a
// steady publish rate. What the page shows is compared with /api/stats read
// at the same moment; the operator actions are tried without, with a wrong
// and with the right credential.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { TickgateNode, signJwt, until } from '../../clients/js/test/support/tickgate.js';
import { launchBrowser, openPage, screenshotPath } from './support/browser.js';

const secret = 'dash-s3cret';
const clientCount = 6;
const topics = ['load@one', 'load@two', 'load@three'];
// Client i follows topics[i % 3] and, when i is even, load@one too.
const topicsOf = (i) => [...new Set([topics[i % topics.length], ...(i % 2 === 0 ? [topics[0]] : [])])];
const publishPerSecond = 40;

// Tolerances: the page refreshes every second, so a counter it shows may lag
// /api/stats by up to about two refreshes of traffic; a rate it shows (one
// interval between two refreshes) is within half of the rate measured here
// over three seconds.
const counterLagEvents = publishPerSecond * 2.5;
const rateTolerance = 0.5;

async function connectClient(node, i) {
  const ws = new WebSocket(`${node.wsUrl}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  ws.frames = [];
  ws.on('message', (m) => ws.frames.push(JSON.parse(String(m))));
  ws.send(JSON.stringify({ op: 'subscribe', id: 1, topics: topicsOf(i) }));
  await until(() => ws.frames.some((f) => f.type === 'ack' && f.id === 1), { what: `client ${i}'s ack` });
  return ws;
}

// A client of another dialect that only stays connected: the stream
// dialect, or Socket.IO (Engine.IO over WebSocket, answering pings) in
// namespace /prices.
async function connectOther(node, kind) {
  const path = kind === 'socketio' ? '/socket.io/?EIO=4&transport=websocket' : '/stream';
  const ws = new WebSocket(`ws://127.0.0.1:${node.port}${path}`);
  const frames = [];
  ws.on('message', (m) => {
    const text = String(m);
    frames.push(text);
    if (text === '2')
      ws.send('3');
    else if (text.startsWith('0{'))
      ws.send('40/prices,');
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  if (kind === 'socketio')
    await until(() => frames.some((f) => f.startsWith('40/prices,{')), { what: 'the Socket.IO namespace' });
  else
    ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: [topics[0]], id: 1 }));
  return ws;
}

// Publishes round-robin over the topics at about `perSecond` until stopped;
// after a stall (a busy machine) it goes on at that pace without catching up
// in a burst, so one second's rate stays close to the next.
function startPublishing(node, perSecond) {
  let running = true;
  let n = 0;
  const done = (async () => {
    let next = Date.now();
    while (running) {
      n++;
      await node.publish(topics[n % topics.length], { n });
      next = Math.max(next + 1000 / perSecond, Date.now());
      await sleep(next - Date.now());
    }
  })();
  return { stop: async () => { running = false; await done; } };
}

// The raw value (data-value) of the element showing figure `name`.
async function shown(page, name) {
  const value = await page.$eval(`[data-metric="${name}"]`, (node) => node.dataset.value);
  assert.notEqual(value, '', `the page shows ${name}`);
  return Number(value);
}

const statsOf = (node) => node.get('/api/stats');
const text = (page, selector) => page.$eval(selector, (node) => node.textContent.trim());

async function signIn(page, credential) {
  if (await page.$eval('#signout-button', (b) => !b.hidden))
    await page.click('#signout-button');
  await page.type('#credential', credential);
  await page.click('#signin-button');
}

// The page's outcome line after clicking `selector` (a new result each
// time). The click happens inside the page, in the same task as finding the
// button: the connection list is drawn again every few seconds.
async function act(page, selector) {
  await page.$eval('#action-result', (node) => { node.dataset.state = ''; node.textContent = ''; });
  await page.$eval(selector, (button) => button.click());
  await page.waitForFunction(() => document.querySelector('#action-result').dataset.state !== '', { timeout: 10000 });
  return { state: await page.$eval('#action-result', (n) => n.dataset.state), text: await text(page, '#action-result') };
}

test('the dashboard shows the node\'s figures, its busiest topics when signed in, and kicks a client from the page',
  { timeout: 90000 }, async (t) => {
    const node = await TickgateNode.start([`--admin.secret=${secret}`, '--history.size=100']);
    const clients = [];
    const others = [];
    const browser = await launchBrowser();
    let publisher = null;
    t.after(async () => {
      await publisher?.stop();
      for (const ws of [...clients, ...others])
        ws.terminate();
      await browser.close();
      await node.stop();
    });
    for (let i = 0; i < clientCount; i++)
      clients.push(await connectClient(node, i));
    others.push(await connectOther(node, 'stream'), await connectOther(node, 'socketio'));
    publisher = startPublishing(node, publishPerSecond);

    const page = await openPage(browser, `${node.httpUrl}/dashboard`);

    // Connections: the test's clients plus the page's own (its "watch a
    // topic" panel), total, by dialect and by namespace, exactly as
    // /api/stats says once the page has refreshed after the last change.
    await until(async () => {
      const stats = await statsOf(node);
      return stats.conn.open === clientCount + others.length + 1
        && await shown(page, 'conn.open') === stats.conn.open
        && await shown(page, 'conn.by_dialect.native') === stats.conn.by_dialect.native;
    }, { what: 'the page to show the connections /api/stats counts', timeoutMs: 10000, stepMs: 200 });
    const stats = await statsOf(node);
    assert.deepEqual([stats.conn.by_dialect.native, stats.conn.by_dialect.stream, stats.conn.by_dialect.socketio],
      [clientCount + 1, 1, 1]);
    assert.equal(stats.conn.by_namespace['/prices'], 1);
    for (const [dialect, count] of Object.entries(stats.conn.by_dialect))
      assert.equal(await shown(page, `conn.by_dialect.${dialect}`), count, `conn.by_dialect.${dialect}`);
    for (const [ns, count] of Object.entries(stats.conn.by_namespace))
      assert.equal(await shown(page, `conn.by_namespace.${ns}`), count, `conn.by_namespace.${ns}`);

    // Event counters (and the latency histogram's, one per delivery) lag
    // /api/stats by at most a couple of refreshes of traffic.
    await sleep(3000);
    const before = await statsOf(node);
    const startedAt = Date.now();
    const pageRates = [];
    for (let i = 0; i < 3; i++) {
      await sleep(1000);
      pageRates.push(await shown(page, 'events.in_per_s'));
    }
    const shownIn = await shown(page, 'topic.events_in');
    const shownOut = await shown(page, 'topic.events_out');
    const shownLatencyCount = await shown(page, 'latency.count');
    const after = await statsOf(node);
    const elapsedMs = Date.now() - startedAt;
    assert.ok(shownIn <= after.topic.events_in && after.topic.events_in - shownIn <= counterLagEvents,
      `events in: page ${shownIn}, /api/stats ${after.topic.events_in} (±${counterLagEvents})`);
    // Subscriptions per topic, on average: the native clients' and the stream client's one.
    const fanOut = (clients.reduce((total, _, i) => total + topicsOf(i).length, 0) + 1) / topics.length;
    assert.ok(shownOut <= after.topic.events_out && after.topic.events_out - shownOut <= counterLagEvents * fanOut,
      `events out: page ${shownOut}, /api/stats ${after.topic.events_out}`);
    assert.ok(shownLatencyCount > 0 && shownLatencyCount <= after.latency.count
      && after.latency.count - shownLatencyCount <= counterLagEvents * fanOut,
      `latency count: page ${shownLatencyCount}, /api/stats ${after.latency.count}`);
    for (const p of ['p50_us', 'p90_us', 'p99_us'])
      assert.ok(await shown(page, `latency.${p}`) > 0, `latency.${p} shown`);
    const measured = ((after.topic.events_in - before.topic.events_in) * 1000) / elapsedMs;
    const pageRate = pageRates.sort((a, b) => a - b)[1];
    assert.ok(Math.abs(pageRate - measured) <= measured * rateTolerance,
      `events in/s: page ${pageRates} (median ${pageRate}), measured ${measured.toFixed(1)}`);

    // Without a credential the node refuses every action, and the page says so.
    const anonymous = await act(page, '#broadcast-form button[type=submit]');
    assert.equal(anonymous.state, 'refused');
    assert.match(anonymous.text, /^broadcast: refused \(40[13]\)/);
    assert.match(await text(page, '#connection-rows'), /refused \(40[13]\)/);

    // A wrong secret: the stream is refused, and so are the actions.
    await signIn(page, 'not-the-secret');
    await page.waitForFunction(() => document.querySelector('#signin-state').dataset.state === 'refused', { timeout: 15000 });
    assert.match(await text(page, '#signin-state'), /^not authorized/);
    await page.type('#restart-topic', topics[1]);
    const wrong = await act(page, '#restart-form button[type=submit]');
    assert.equal(wrong.state, 'refused');
    assert.match(wrong.text, new RegExp(`^restart ${topics[1]}: refused \\(40[13]\\)`));
    assert.equal((await statsOf(node)).topic.restarts, 0);

    // The secret: the busiest-topics table lists the test's topics with
    // their subscribers, from the $sys:stats stream.
    await signIn(page, secret);
    await page.waitForFunction((names) => names.every((name) => document.querySelector(`#topic-rows tr[data-topic="${name}"]`)),
      { timeout: 15000 }, topics);
    assert.equal(await page.$eval('#signin-state', (n) => n.dataset.state), 'signed-in');
    for (const name of topics) {
      const subscribers = clients.filter((_, i) => topicsOf(i).includes(name)).length + (name === topics[0] ? 1 : 0);
      const cells = await page.$$eval(`#topic-rows tr[data-topic="${name}"] td`, (tds) => tds.map((td) => td.textContent));
      assert.equal(Number(cells[1]), subscribers, `subscribers of ${name}: ${cells}`);
      assert.ok(Number(cells[3]) > 0, `seq of ${name}: ${cells}`);
    }
    // A topic's rate needs two samples of its counters (the node takes
    // them every few seconds); then each shows its share of the publishing.
    await page.waitForFunction((names) => names.every((name) =>
      Number(document.querySelector(`#topic-rows tr[data-topic="${name}"] td:nth-child(3)`)?.dataset.value) > 0),
    { timeout: 20000 }, topics);

    // Kick one of the test's clients from the connection list: its socket
    // closes, the others stay.
    const victim = clients[2];
    const addr = `127.0.0.1:${victim._socket.localPort}`;
    await page.click('#connections-refresh');
    const kickButton = `#connection-rows tr[data-addr="${addr}"] button.kick`;
    await page.waitForSelector(kickButton, { timeout: 10000 });
    const kicked = await act(page, kickButton);
    assert.equal(kicked.state, 'ok', kicked.text);
    const code = await Promise.race([victim.closed, sleep(5000, 'still open')]);
    assert.notEqual(code, 'still open', 'the kicked client\'s socket closed');
    for (const ws of clients.filter((c) => c !== victim))
      assert.equal(ws.readyState, WebSocket.OPEN);
    await page.waitForFunction((a) => !document.querySelector(`#connection-rows tr[data-addr="${a}"]`), { timeout: 10000 }, addr);

    // Signed in, a broadcast reaches the clients.
    await page.$eval('#broadcast-body', (area) => { area.value = '{"event":"notice","from":"dashboard test"}'; });
    const sent = await act(page, '#broadcast-form button[type=submit]');
    assert.equal(sent.state, 'ok', sent.text);
    await until(() => clients[0].frames.some((f) => JSON.stringify(f).includes('dashboard test')),
      { what: 'the broadcast at a client' });

    const file = screenshotPath('dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`dashboard screenshot: ${file}`);
    assert.deepEqual(page.problems, []);
  });

test('an admin JWT signs in and may act; a user\'s JWT is not authorized and its actions are refused', { timeout: 60000 }, async (t) => {
  const jwtSecret = 'dash-jwt-key';
  const node = await TickgateNode.start([`--auth.jwt-secret=${jwtSecret}`]);
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await node.stop();
  });
  const exp = Math.floor(Date.now() / 1000) + 300;
  const page = await openPage(browser, `${node.httpUrl}/dashboard`);

  await signIn(page, signJwt({ sub: 'trader-7', exp }, jwtSecret));
  await page.waitForFunction(() => document.querySelector('#signin-state').dataset.state === 'refused', { timeout: 15000 });
  assert.match(await text(page, '#signin-state'), /^not authorized/);
  const refused = await act(page, '#maintenance-form button[type=submit]');
  assert.equal(refused.state, 'refused');
  assert.match(refused.text, /^maintenance on: refused \(40[13]\)/);
  assert.equal((await node.get('/health')).maintenance, 0);

  await signIn(page, signJwt({ sub: 'ops-1', role: 'admin', exp }, jwtSecret));
  await page.waitForFunction(() => document.querySelector('#signin-state').dataset.state === 'signed-in', { timeout: 15000 });
  await page.type('#maintenance-message', 'back soon');
  const on = await act(page, '#maintenance-form button[type=submit]');
  assert.equal(on.state, 'ok', on.text);
  assert.equal((await node.get('/health')).maintenance, 1);
  // The banner: on from /health, with the message from the stream.
  await page.waitForFunction(() => !document.querySelector('#maintenance').hidden
    && document.querySelector('#maintenance').textContent === 'maintenance on: back soon', { timeout: 5000 });
  const off = await act(page, '#maintenance-off');
  assert.equal(off.state, 'ok', off.text);
  assert.equal((await node.get('/health')).maintenance, 0);
  // The operator's own list shows the stream's connection under the token's user.
  await page.click('#connections-refresh');
  await page.waitForFunction(() => [...document.querySelectorAll('#connection-rows td')].some((td) => td.textContent === 'ops-1'),
    { timeout: 10000 });
  assert.deepEqual(page.problems, []);
});
