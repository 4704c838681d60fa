// "Watch a topic": the JS client on a public topic, so a newcomer sees events
// arrive (the demo feed of tools/run publishes trade@AAPL and friends).
import { TickgateClient } from '/client/index.js';
import { $, row, showState } from './dom.js';

const shownRows = 12;

export function startWatch(wsUrl) {
  const client = new TickgateClient({ url: wsUrl });
  let handle = null;
  let count = 0;
  client.on('status', (s) => showState($('watch-status'), s, s));

  function watch(topic) {
    handle?.unsubscribe();
    count = 0;
    $('watch-count').textContent = '0';
    $('watch-rows').replaceChildren();
    const current = client.subscribe(topic, { last: 5 }, (e) => {
      count++;
      $('watch-count').textContent = String(count);
      const data = e.data !== undefined ? JSON.stringify(e.data) : `(binary, ${e.data_b64.length} base64 chars)`;
      const time = e.ts ? new Date(e.ts / 1000).toISOString().slice(11, 23) : '';
      $('watch-rows').prepend(row([{ text: String(e.seq), value: e.seq, className: 'num' }, time, { text: data, className: 'data' }]));
      while ($('watch-rows').rows.length > shownRows)
        $('watch-rows').lastElementChild.remove();
    });
    current.on('reset', () => $('watch-rows').replaceChildren());
    current.on('error', (err) => {
      if (!current.active && current === handle)
        showState($('watch-status'), 'ERROR', `${topic}: ${err.code ?? 'error'} ${err.message}`);
    });
    handle = current;
  }

  $('watch-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const topic = $('watch-topic').value.trim();
    if (topic)
      watch(topic);
  });
  watch($('watch-topic').value.trim());
  return client;
}
