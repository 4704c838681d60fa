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
    await until(async () => (await subscriptions(node)) === 1, { what: 'the page to subscribe' });
    for (const n of range(1, 5))
      await node.publish('count@browser', { n });
    await until(async () => (await pageNumbers(page)).length >= 5, { what: 'events 1-5 in the page' });
    assert.deepEqual(await pageNumbers(page), range(1, 5));
    assert.equal(await page.$eval('#status', (s) => s.dataset.status), 'OPEN');
    assert.equal(await page.$$eval('#events tr', (rows) => rows.length), 5);
    assert.equal(await page.$eval('#events tr td:nth-child(3)', (td) => td.textContent), '5'); // newest first

    // A crash: nothing is closed cleanly. Another node takes the same port.
    await node.stop('SIGKILL');
    await until(async () => (await pageStatuses(page)).includes('RECONNECTING'), { what: 'status RECONNECTING' });
    node = await TickgateNode.start([`--ws.port=${port}`]);
    assert.equal(node.port, port);
    await until(async () => (await pageStatuses(page)).lastIndexOf('OPEN') > (await pageStatuses(page)).indexOf('RECONNECTING'),
      { what: 'status OPEN again', timeoutMs: 20000 });
    await until(async () => (await subscriptions(node)) === 1, { what: 'the page to subscribe again' });
    for (const n of range(6, 10))
      await node.publish('count@browser', { n });
    await until(async () => (await pageNumbers(page)).length >= 10, { what: 'events 6-10 in the page' });

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
