// The JavaScript client in headless Chromium, in the page the node serves at
// /client/: a person's path (type a topic, Subscribe) with the client's
// default settings, events published over HTTP, and a node that crashes and
// comes back on the same port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TickgateNode, until } from '../../clients/js/test/support/tickgate.js';
import { launchBrowser, openPage } from './support/browser.js';

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// What the page's client has handed the application so far.
const pageNumbers = (page) => page.evaluate(() => window.tickgate.state.events.map((e) => e.data.n));
const pageStatuses = (page) => page.evaluate(() => [...window.tickgate.state.statuses]);

// Waits for `check`; a timeout says what the page had seen by then.
async function waitFor(page, what, check, timeoutMs = 10000) {
  try {
    await until(check, { what, timeoutMs });
  } catch (err) {
    const seen = await page.evaluate(() => {
      const { state } = window.tickgate;
      return JSON.stringify({ statuses: state.statuses, numbers: state.events.map((e) => e.data.n),
                              resets: state.resets, errors: state.errors });
    });
    throw new Error(`${err.message}; the page saw ${seen}`);
  }
}

async function subscriptions(node) {
  return (await node.get('/api/stats')).topic.subscriptions;
}

test('the client page subscribes, receives, and keeps receiving after the node is killed and restarted on the same port',
  { timeout: 60000 }, async (t) => {
    let node = await TickgateNode.start();
    const port = node.port;
    const browser = await launchBrowser();
    t.after(async () => {
      await browser.close();
      await node.stop();
    });
    const page = await openPage(browser, `${node.httpUrl}/client/`);
    await page.waitForFunction(() => window.tickgate?.TickgateClient, { timeout: 10000 });

    // Subscribe as a person does; the node's count shows when it applied.
    await page.$eval('#topic', (input) => { input.value = ''; });
    await page.type('#topic', 'count@browser');
    await page.click('#subscribe');
    await waitFor(page, 'the page to subscribe', async () => (await subscriptions(node)) === 1);
    for (const n of range(1, 5))
      await node.publish('count@browser', { n });
    await waitFor(page, 'events 1-5 in the page', async () => (await pageNumbers(page)).length >= 5);
    assert.deepEqual(await pageNumbers(page), range(1, 5));
    assert.equal(await page.$eval('#status', (s) => s.dataset.status), 'OPEN');
    assert.equal(await page.$$eval('#events tr', (rows) => rows.length), 5);
    assert.equal(await page.$eval('#events tr td:nth-child(3)', (td) => td.textContent), '5'); // newest first

    // A crash: nothing is closed cleanly. Another node takes the same port.
    await node.stop('SIGKILL');
    await waitFor(page, 'status RECONNECTING', async () => (await pageStatuses(page)).includes('RECONNECTING'));
    node = await TickgateNode.start([`--ws.port=${port}`]);
    assert.equal(node.port, port);
    await waitFor(page, 'status OPEN again', async () => {
      const statuses = await pageStatuses(page);
      return statuses.lastIndexOf('OPEN') > statuses.indexOf('RECONNECTING');
    }, 20000);
    await waitFor(page, 'the page to subscribe again', async () => (await subscriptions(node)) === 1);
    // The resume fails (the new node has another epoch): the client resets
    // and reloads the topic's latest event, holding live events meanwhile.
    // Event 6 reaches the page once that is over, by either way; 7-10 follow live.
    await node.publish('count@browser', { n: 6 });
    await waitFor(page, 'event 6 in the page', async () => (await pageNumbers(page)).includes(6));
    for (const n of range(7, 10))
      await node.publish('count@browser', { n });
    await waitFor(page, 'events 7-10 in the page', async () => (await pageNumbers(page)).length >= 10);

    // The new node has none of the old history: the client said so (reset)
    // and went on with the new epoch's events, each once, in order.
    assert.deepEqual(await pageNumbers(page), range(1, 10));
    const statuses = await pageStatuses(page);
    const reconnecting = statuses.indexOf('RECONNECTING');
    assert.deepEqual(statuses.slice(0, 2), ['CONNECTING', 'OPEN']);
    assert.ok(reconnecting > 0 && statuses.indexOf('OPEN', reconnecting) > reconnecting, `statuses: ${statuses}`);
    assert.ok(!statuses.includes('FALLBACK') && !statuses.includes('CLOSED'), `statuses: ${statuses}`);
    const resets = await page.evaluate(() => window.tickgate.state.resets.map((r) => r.reason));
    assert.deepEqual(resets, ['not_recovered']);
    assert.equal(await page.$eval('#status', (s) => s.textContent), 'OPEN');
    assert.equal(await page.$eval('#received', (s) => s.textContent), '10');
    assert.deepEqual(page.problems, []);
  });
