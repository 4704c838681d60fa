// The dashboard: public figures from GET /api/stats and /health every second;
// signed in, the node's admin-only $sys:stats stream (one event a second)
// adds the busiest topics and every feed; operator actions go to /admin/.
import { TickgateClient } from '/client/index.js';
import { credential } from './admin.js';
import { drawHistogram, drawLine } from './charts.js';
import { $, row, num, setMetric, showState } from './dom.js';
import { at, counters, formatBytes, formatDuration, formatMicros, formatRate, rates, Series } from './metrics.js';
import { startOperator } from './operator.js';
import { startWatch } from './watch.js';

const refreshMs = 1000;
// Five minutes of one-second samples per chart.
const chartPoints = 300;
const systemTopic = '$sys:stats';
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1`;

const series = Object.fromEntries(Object.keys(counters).map((name) => [name, new Series(chartPoints)]));
let previous = null; // { stats, at } of the last refresh
let stream = null; // the signed-in client following $sys:stats
let operator = null;

// ---- public figures ----

async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store' });
  if (!res.ok)
    throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

async function refresh() {
  const started = performance.now();
  try {
    const [stats, health] = await Promise.all([getJson('/api/stats'), getJson('/health')]);
    showStats(stats, performance.now());
    showHealth(health);
  } catch (err) {
    showState($('node-state'), 'down', 'unreachable');
    $('node-state').title = err.message;
  }
  setTimeout(refresh, Math.max(0, refreshMs - (performance.now() - started)));
}

function showStats(stats, now) {
  setMetric('node', stats.node);
  setMetric('conn.open', stats.conn.open);
  setMetric('topic.subscriptions', at(stats, 'topic.subscriptions'));
  setMetric('topic.live', at(stats, 'topic.live'));
  setMetric('topic.events_in', counters.events_in(stats), counters.events_in(stats).toLocaleString('en-US'));
  setMetric('topic.events_out', counters.events_out(stats), counters.events_out(stats).toLocaleString('en-US'));
  setMetric('conn.slow_closed', counters.slow_closed(stats));
  setMetric('refusals.rate', counters.rate_refused(stats));
  setMetric('refusals.auth', counters.auth_refused(stats));
  showCounts('by-dialect', 'conn.by_dialect', at(stats, 'conn.by_dialect'));
  showCounts('by-namespace', 'conn.by_namespace', at(stats, 'conn.by_namespace'));
  showLatency(stats.latency);

  if (previous) {
    const r = rates(previous.stats, stats, now - previous.at);
    for (const [name, s] of Object.entries(series))
      s.push(r[name]);
    setMetric('events.in_per_s', Number(r.events_in.toFixed(1)), formatRate(r.events_in));
    setMetric('events.out_per_s', Number(r.events_out.toFixed(1)), formatRate(r.events_out));
    drawLine($('chart-events-in'), series.events_in.values, chartPoints);
    drawLine($('chart-events-out'), series.events_out.values, chartPoints);
    drawLine($('chart-slow'), series.slow_closed.values, chartPoints);
    drawLine($('chart-rate'), series.rate_refused.values, chartPoints);
    drawLine($('chart-auth'), series.auth_refused.values, chartPoints);
  }
  previous = { stats, at: now };
}

// A { name: count } group as rows: `metric.name` on each count cell.
function showCounts(tbodyId, metric, group) {
  const entries = Object.entries(group ?? {});
  if (!entries.length) {
    $(tbodyId).replaceChildren(row([{ text: group ? 'none' : 'not reported by this node', className: 'meta' }, '']));
    return;
  }
  $(tbodyId).replaceChildren(...entries.map(([name, count]) =>
    row([name, num(count, `${metric}.${name}`)], { class: count ? '' : 'zero' })));
}

function showLatency(latency) {
  $('latency-missing').hidden = Boolean(latency);
  $('chart-latency').style.display = latency ? '' : 'none';
  if (!latency)
    return;
  for (const p of ['p50_us', 'p90_us', 'p99_us'])
    setMetric(`latency.${p}`, latency[p], formatMicros(latency[p]));
  setMetric('latency.count', latency.count, latency.count.toLocaleString('en-US'));
  drawHistogram($('chart-latency'), latency.bounds_us, latency.counts);
}

function showHealth(health) {
  showState($('node-state'), health.status, health.status);
  setMetric('health.mode', health.mode);
  setMetric('uptime', health.uptime_s, formatDuration(health.uptime_s * 1000));
  const maintenance = Boolean(health.maintenance);
  $('maintenance').hidden = !maintenance;
  if (!stream?.feeds) {
    // Without the stream: what /health tells, the mode and any configured
    // Redis or Kafka link.
    const feeds = [{ name: health.mode, link: 'up', topics: null }];
    for (const name of ['redis', 'kafka'])
      if (health[name])
        feeds.push({ name, link: health[name], topics: null, reason: health[`${name}_reason`] });
    showFeeds(feeds);
  }
}

function showFeeds(feeds) {
  $('feed-rows').replaceChildren(...feeds.map((f) => {
    const link = { text: f.reason ? `${f.link} (${f.reason})` : f.link, className: `link-${f.link}` };
    return row([f.name, link, num(f.topics)], { 'data-feed': f.name });
  }));
}

// ---- the signed-in stream ----

function showTopics(topics) {
  $('topic-rows').replaceChildren(...topics.map((t) => row([
    t.name, num(t.subscribers), { text: formatRate(t.events_per_s ?? 0), value: t.events_per_s, className: 'num' },
    num(t.seq), t.epoch ?? '—', num(t.retained), { text: formatBytes(t.retained_bytes ?? 0), value: t.retained_bytes, className: 'num' },
  ], { 'data-topic': t.name })));
}

function onSystemStats(client, data) {
  if (stream?.client !== client)
    return; // signed out, or signed in again, meanwhile
  stream.feeds = data.feeds ?? null;
  showState($('signin-state'), 'signed-in', `signed in · ${systemTopic} live`);
  $('topics-note').textContent = `From ${systemTopic} on ${data.node}, ${new Date(data.ts_ms).toISOString().slice(11, 19)} UTC.`;
  showTopics(data.topics ?? []);
  if (data.feeds)
    showFeeds(data.feeds);
  $('feeds-source').textContent = `from ${systemTopic}`;
  $('maintenance').hidden = !data.maintenance?.on;
  $('maintenance').textContent = data.maintenance?.message ? `maintenance on: ${data.maintenance.message}` : 'maintenance on';
}

function notAuthorized(reason) {
  showState($('signin-state'), 'refused', `not authorized${reason ? ` (${reason})` : ''}`);
  $('topics-note').textContent = `The node refused this credential for ${systemTopic}.`;
  stopStream();
}

function startStream(token) {
  stopStream();
  showState($('signin-state'), 'connecting', 'signing in…');
  const client = new TickgateClient({ url: wsUrl, token, reconnect: { initialMs: 1000, maxMs: 5000, maxAttempts: 1e9, jitter: 0.3 } });
  stream = { client, feeds: null };
  client.on('error', (err) => {
    if (err.code === 'unauthorized' && stream?.client === client)
      notAuthorized(err.message);
  });
  client.on('status', (s) => {
    if (stream?.client === client && s !== 'OPEN' && s !== 'ERROR' && s !== 'CLOSED')
      showState($('signin-state'), 'connecting', `signed in · stream ${s.toLowerCase()}`);
  });
  const handle = client.subscribe(systemTopic, {}, (e) => onSystemStats(client, e.data));
  handle.on('error', (err) => {
    if (stream?.client !== client)
      return;
    if (err.code === 'unauthorized' || err.code === 'forbidden')
      notAuthorized(err.message);
    else if (!handle.active)
      showState($('signin-state'), 'refused', `${systemTopic}: ${err.code ?? 'error'} ${err.message}`);
  });
}

// The client is closed once its own handling of the event that ended the
// stream is over (a refusal arrives inside the client's close handling).
function stopStream() {
  const client = stream?.client;
  stream = null;
  if (client)
    queueMicrotask(() => client.close());
  $('topic-rows').replaceChildren();
  $('feeds-source').textContent = 'from /health; sign in for every feed';
}

function showSignedIn(signedIn) {
  $('signin-button').hidden = signedIn;
  $('credential').hidden = signedIn;
  $('signout-button').hidden = !signedIn;
}

function startSignIn() {
  $('signin').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = $('credential').value.trim();
    if (!token)
      return;
    credential.set(token);
    $('credential').value = '';
    showSignedIn(true);
    startStream(token);
    operator.refreshConnections();
  });
  $('signout-button').addEventListener('click', () => {
    credential.clear();
    stopStream();
    showSignedIn(false);
    showState($('signin-state'), 'anonymous', 'not signed in');
    $('topics-note').textContent = `Sign in to follow the node's ${systemTopic} stream.`;
    operator.refreshConnections();
  });
  const saved = credential.get();
  showSignedIn(Boolean(saved));
  if (saved)
    startStream(saved);
}

operator = startOperator();
startSignIn();
startWatch(wsUrl);
refresh();
