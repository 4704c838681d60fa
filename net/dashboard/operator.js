// The operator panel: kick a connection, restart a topic, broadcast, switch
// maintenance mode. Each action's outcome (or the node's refusal) is shown in
// #action-result; the connection list is fetched again after every action
// and every few seconds while the panel has a credential.
import * as admin from './admin.js';
import { $, row, num, showState } from './dom.js';
import { formatDuration } from './metrics.js';

// Listing connections asks every connection actor for its figures: not too often.
const listIntervalMs = 10000;

function report(what, result) {
  if (result.ok)
    showState($('action-result'), 'ok', `${what}: done${summary(result.body)}`);
  else
    showState($('action-result'), 'refused', `${what}: ${admin.describeRefusal(result)}`);
}

// What the node said besides ok, e.g. "clients 12".
function summary(body) {
  if (!body)
    return '';
  const parts = [];
  if (typeof body.clients === 'number')
    parts.push(`${body.clients} clients`);
  if (body.maintenance)
    parts.push(`maintenance ${body.maintenance.on ? 'on' : 'off'}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

async function refreshConnections() {
  const result = await admin.listConnections();
  const rows = $('connection-rows');
  if (!result.ok) {
    rows.replaceChildren(row([{ text: admin.describeRefusal(result), className: 'meta' }]));
    rows.firstChild.firstChild.colSpan = 7;
    return;
  }
  rows.replaceChildren(...result.body.connections.map((c) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Kick';
    button.className = 'kick';
    button.addEventListener('click', async () => {
      report(`kick ${c.id} (${c.addr})`, await admin.kick(c.id));
      refreshConnections();
    });
    return row([num(c.id), c.addr ?? c.name, c.dialect ?? '', c.user ?? '—', num(c.subs),
                { text: c.age_ms === undefined ? '' : formatDuration(c.age_ms), className: 'num' }, button],
               { 'data-connection': c.id, 'data-addr': c.addr ?? c.name });
  }));
}

export function startOperator() {
  $('restart-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const topic = $('restart-topic').value.trim();
    report(`restart ${topic}`, await admin.restartTopic(topic));
  });
  $('broadcast-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = $('broadcast-body').value;
    try {
      JSON.parse(text);
    } catch {
      showState($('action-result'), 'refused', 'broadcast: the body must be one JSON value');
      return;
    }
    report('broadcast', await admin.broadcast(text));
  });
  $('maintenance-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    report('maintenance on', await admin.maintenance(true, $('maintenance-message').value.trim()));
  });
  $('maintenance-off').addEventListener('click', async () => {
    report('maintenance off', await admin.maintenance(false));
  });
  $('connections-refresh').addEventListener('click', refreshConnections);

  refreshConnections();
  setInterval(() => {
    if (admin.credential.get() && !document.hidden)
      refreshConnections();
  }, listIntervalMs);
  return { refreshConnections };
}
