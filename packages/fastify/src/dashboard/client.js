// The dashboard page's script (browser). Bundled with uPlot into dist/dashboard/app.js at build
// time by build-dashboard.mjs: nothing is fetched from outside at run time.
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css';
import pageCss from './style.css';

const prefix = document.body.dataset.prefix || '/cache';
const TOKEN_KEY = 'stratacache.token';
const state = { token: sessionStorage.getItem(TOKEN_KEY) || '', role: undefined, data: undefined, charts: {}, timer: undefined };
window.strataDashboard = state;

const style = document.createElement('style');
style.textContent = uplotCss + '\n' + pageCss;
document.head.appendChild(style);

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (v === false || v === undefined || v === null) continue;
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  return el;
}

async function api(method, path, body) {
  const res = await fetch(prefix + path, {
    method,
    headers: { authorization: 'Bearer ' + state.token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(json.message || res.statusText), { status: res.status });
  return json;
}

const app = document.getElementById('app');

function renderLogin(message) {
  app.replaceChildren(
    h('header', {}, h('h1', { text: 'stratacache' })),
    h('form', { id: 'login', class: 'card login', on: { submit: (e) => { e.preventDefault(); login(document.getElementById('token').value.trim()); } } },
      h('label', { for: 'token', text: 'Bearer token (read or admin)' }),
      h('input', { id: 'token', type: 'password', autocomplete: 'off', required: true }),
      h('button', { type: 'submit', id: 'login-button', text: 'Log in' }),
      message ? h('p', { class: 'error', id: 'login-error', text: message }) : null,
    ),
  );
}

async function login(token) {
  state.token = token;
  try {
    const who = await api('GET', '/auth/whoami');
    state.role = who.role;
    sessionStorage.setItem(TOKEN_KEY, token);
    renderShell();
    await refresh();
    void live();
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    renderLogin(err.status === 401 ? 'Unknown token.' : 'Login failed: ' + err.message);
  }
}

function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = '';
  state.role = undefined;
  clearTimeout(state.timer);
  if (state.live) state.live.abort();
  renderLogin();
}

const isAdmin = () => state.role === 'admin';
const adminAttrs = () => (isAdmin() ? { class: 'admin-action' } : { class: 'admin-action', disabled: true, title: 'needs an admin token' });

function toast(text, ok = true) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.className = ok ? 'ok' : 'error';
}

async function action(label, fn) {
  try {
    const r = await fn();
    toast(label + ': ' + (r && r.ok === false ? 'failed (' + (r.reason || 'error') + ')' : 'done'));
  } catch (err) {
    toast(label + ': ' + err.message, false);
  }
  await refresh();
}

function renderShell() {
  state.charts = {};
  app.replaceChildren(
    h('header', {},
      h('h1', { text: 'stratacache' }),
      h('span', { id: 'role', class: 'badge ' + state.role, text: state.role + ' token' }),
      h('span', { id: 'updated', class: 'muted' }),
      h('span', { id: 'live', class: 'muted' }),
      h('span', { id: 'status' }),
      h('button', { id: 'refresh', on: { click: () => refresh() }, text: 'Refresh' }),
      h('button', { id: 'logout', on: { click: logout }, text: 'Log out' }),
    ),
    h('section', { id: 'cards', class: 'cards' }),
    h('section', { class: 'grid' },
      chartCard('hitRate', 'Hit rate (per minute, all instances)'),
      chartCard('requests', 'Requests per minute'),
      chartCard('latency', 'Latency by source, p50 / p99 (ms)'),
      chartCard('memory', 'Redis memory (MB) and keys'),
      chartCard('breaker', 'Breaker state (0 closed, 1 half-open, 2 open)'),
      h('div', { class: 'card' }, h('h2', { text: 'Admin actions' }),
        h('div', { class: 'actions' },
          h('button', { id: 'clear', ...adminAttrs(), on: { click: () => confirm('Clear the whole cache?') && action('clear', () => api('POST', '/clear')) }, text: 'Clear cache' }),
          h('button', { id: 'optimize', ...adminAttrs(), on: { click: () => action('optimize', () => api('POST', '/optimize', {})) }, text: 'Apply TTL advice' }),
        ),
        h('form', { id: 'invalidate', class: 'actions', on: { submit: (e) => { e.preventDefault(); const kind = document.getElementById('inv-kind').value; const value = document.getElementById('inv-value').value; action('invalidate ' + kind, () => api('POST', '/invalidate', { [kind]: value })); } } },
          h('select', { id: 'inv-kind' }, ['key', 'pattern', 'tag', 'namespace'].map((k) => h('option', { value: k, text: k }))),
          h('input', { id: 'inv-value', placeholder: 'jobs:get:*', required: true }),
          h('button', { id: 'invalidate-button', type: 'submit', ...adminAttrs(), text: 'Invalidate' }),
        ),
      ),
    ),
    h('section', { class: 'grid' },
      h('div', { class: 'card' }, h('h2', { text: 'Alerts' }), h('div', { id: 'alerts' })),
      h('div', { class: 'card' }, h('h2', { text: 'Top queries' }), h('div', { id: 'top' })),
      h('div', { class: 'card' }, h('h2', { text: 'By entity (last hour, all instances)' }), h('div', { id: 'entities' })),
      h('div', { class: 'card' }, h('h2', { text: 'Invalidations' }), h('div', { id: 'invalidations' })),
      h('div', { class: 'card' }, h('h2', { text: 'Warming queue' }), h('div', { id: 'warming' })),
    ),
  );
}

function chartCard(id, title) {
  return h('div', { class: 'card' }, h('h2', { text: title }), h('div', { id: 'chart-' + id, class: 'chart' }));
}

const fmtTime = (t) => new Date(t).toLocaleTimeString();
const pct = (x) => (x * 100).toFixed(1) + ' %';
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

function chart(id, series, data, axes) {
  const el = document.getElementById('chart-' + id);
  const width = Math.max(280, el.clientWidth - 8);
  const existing = state.charts[id];
  if (existing && existing.series.length === series.length + 1) {
    existing.setData(data);
    existing.setSize({ width, height: 200 });
    return existing;
  }
  if (existing) existing.destroy();
  const opts = {
    width,
    height: 200,
    series: [{}, ...series.map((s, i) => ({ stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true, ...s }))],
    axes: axes || [{}, { size: 50 }],
    legend: { live: false },
  };
  state.charts[id] = new uPlot(opts, data, el);
  return state.charts[id];
}

function table(id, headers, rows, empty) {
  const el = document.getElementById(id);
  if (rows.length === 0) return el.replaceChildren(h('p', { class: 'muted', text: empty }));
  el.replaceChildren(h('table', {}, h('thead', {}, h('tr', {}, headers.map((x) => h('th', { text: x })))), h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
}

function render(d) {
  document.getElementById('updated').textContent = 'updated ' + fmtTime(d.generatedAt);
  const local = d.overview && d.overview.local;
  const redis = d.overview && d.overview.redis;
  const circuits = (d.overview && d.overview.circuits) || {};
  const open = Object.values(circuits).filter((s) => s !== 'closed').length;
  const card = (label, value, id) => h('div', { class: 'card stat', id }, h('div', { class: 'muted', text: label }), h('div', { class: 'value', text: value }));
  document.getElementById('cards').replaceChildren(
    card('Requests (this process)', local ? String(local.requests) : '—', 'stat-requests'),
    card('Hit rate (this process)', local ? pct(local.hitRate) : '—', 'stat-hitrate'),
    card('Origin p99', local ? local.latency.origin.p99.toFixed(1) + ' ms' : '—', 'stat-origin-p99'),
    card('Redis memory', redis ? (redis.usedMemory / 1048576).toFixed(1) + ' MB' : 'embedded', 'stat-memory'),
    card('Redis keys', redis ? String(redis.keys) : '—', 'stat-keys'),
    card('Breakers', Object.keys(circuits).length ? (open ? open + ' not closed' : 'all closed') : '—', 'stat-breakers'),
  );

  const pts = (d.trend && d.trend.points) || [];
  const xs = pts.map((p) => p.t / 1000);
  chart('hitRate', [{ label: 'hit rate', value: (_u, v) => (v == null ? '—' : pct(v)) }], [xs, pts.map((p) => p.hitRate)]);
  chart('requests', [{ label: 'requests' }, { label: 'origin calls' }], [xs, pts.map((p) => p.requests), pts.map((p) => p.originCalls)]);
  const lat = [];
  const latSeries = [];
  for (const src of ['l1', 'l2', 'origin']) {
    for (const q of ['p50', 'p99']) {
      latSeries.push({ label: src + ' ' + q, dash: q === 'p99' ? [6, 4] : undefined });
      lat.push(pts.map((p) => (p.latency[src].count ? p.latency[src][q] : null)));
    }
  }
  chart('latency', latSeries, [xs, ...lat]);
  const tl = d.timeline || [];
  const tx = tl.map((p) => p.t / 1000);
  chart('memory', [{ label: 'memory MB' }, { label: 'keys', scale: 'keys' }], [tx, tl.map((p) => (p.usedMemory == null ? null : p.usedMemory / 1048576)), tl.map((p) => (p.keys == null ? null : p.keys))], [{}, { size: 50, label: 'MB' }, { scale: 'keys', side: 1, size: 60, label: 'keys', grid: { show: false } }]);
  const names = [...new Set(tl.flatMap((p) => Object.keys(p.circuits)))].slice(0, 6);
  const level = { closed: 0, 'half-open': 1, half_open: 1, open: 2 };
  chart('breaker', names.length ? names.map((n) => ({ label: n, paths: uPlot.paths.stepped({ align: 1 }) })) : [{ label: 'no breaker' }], [tx, ...(names.length ? names.map((n) => tl.map((p) => (p.circuits[n] === undefined ? null : (level[p.circuits[n]] ?? 2)))) : [tx.map(() => null)])]);

  const alerts = d.alerts ? [...d.alerts.active, ...d.alerts.history.filter((a) => a.status !== 'firing')] : [];
  const seen = new Set();
  table('alerts', ['status', 'severity', 'message', 'fired', 'ack'], alerts.filter((a) => !seen.has(a.id) && seen.add(a.id)).map((a) => [
    h('span', { class: 'badge ' + a.status, text: a.status }),
    a.severity,
    a.message,
    fmtTime(a.firedAt),
    a.acknowledgedAt
      ? h('span', { class: 'acked', 'data-alert': a.id, text: 'acknowledged by ' + a.acknowledgedBy })
      : h('button', { ...adminAttrs(), 'data-alert': a.id, class: 'admin-action ack', on: { click: () => action('acknowledge', () => api('POST', '/alerts/' + encodeURIComponent(a.id) + '/acknowledge')) }, text: 'Acknowledge' }),
  ]), d.alerts ? 'No alerts.' : 'Alerts are not configured.');
  table('top', ['key', 'hits', 'misses', 'hit rate'], (d.topQueries || []).slice(0, 10).map((k) => [h('code', { text: k.key }), String(k.hits), String(k.misses), pct(k.hitRate)]), 'No traffic yet.');
  table('invalidations', ['when', 'kind', 'what', 'count', 'by'], (d.invalidations || []).slice(0, 10).map((r) => [fmtTime(r.at), r.kind, h('code', { text: String(r.target) }), String(r.count), String(r.who)]), 'No invalidations yet.');
  table('entities', ['tenant', 'entity', 'requests', 'hits', 'hit rate', 'origin calls', 'invalidations'], (d.entities || []).map((e) => [
    e.tenant, h('code', { text: e.entity }), String(e.requests), String(e.hits), pct(e.hitRate), String(e.originCalls), String(e.invalidations),
  ]), 'No traffic in the last hour yet.');
  renderWarming(d.warming && d.warming.queue);
}

// the warming queue: adminWarming's { mode, queues, failed, keys } as tables, any other shape as key / value rows
function renderWarming(w) {
  const el = document.getElementById('warming');
  if (!w) return el.replaceChildren(h('p', { class: 'muted', text: 'Warming is not configured.' }));
  if (w.error) return el.replaceChildren(h('p', { class: 'muted', text: 'queue unavailable: ' + w.error }));
  if (!Array.isArray(w.queues)) {
    return table('warming', ['', ''], Object.entries(w).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]), 'Empty.');
  }
  const cols = ['origin', 'waiting', 'active', 'completed', 'failed', 'delayed', 'throughputPerMinute'];
  const parts = [];
  if (w.mode) parts.push(h('p', { class: 'muted', id: 'warming-mode', text: 'mode: ' + w.mode }));
  parts.push(h('div', { id: 'warming-queues' }));
  if (w.failed && w.failed.length) {
    parts.push(h('h3', { text: 'Failed jobs' }), h('div', { id: 'warming-failed' }));
  }
  if (w.keys && w.keys.length) parts.push(h('p', { class: 'muted', id: 'warming-keys', text: 'warmable keys (' + w.keyCount + '): ' + w.keys.slice(0, 10).join(', ') + (w.keyCount > 10 ? ', …' : '') }));
  el.replaceChildren(...parts);
  table('warming-queues', ['origin', 'waiting', 'active', 'completed', 'failed', 'delayed', 'per min'], w.queues.map((q) => cols.map((c) => String(q[c] ?? '—'))), 'No queue yet.');
  if (w.failed && w.failed.length) table('warming-failed', ['key', 'error', 'attempts', 'when'], w.failed.slice(0, 10).map((f) => [h('code', { text: f.key }), f.error, String(f.attempts), fmtTime(f.failedAt)]), '');
}

// live numbers between refreshes: server-sent events read with fetch (it can send the bearer header)
async function live() {
  if (state.live) state.live.abort();
  const ac = new AbortController();
  state.live = ac;
  try {
    const res = await fetch(prefix + '/dashboard/events', { headers: { authorization: 'Bearer ' + state.token }, signal: ac.signal });
    if (!res.ok || !res.body) return;
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const msg = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = msg.split('\n').find((l) => l.startsWith('data: '));
        if (data) onLive(JSON.parse(data.slice(6)));
      }
    }
  } catch {
    // aborted or the server went away: the periodic refresh goes on
  }
}

function onLive(o) {
  const set = (id, v) => { const el = document.querySelector('#' + id + ' .value'); if (el) el.textContent = v; };
  set('stat-requests', String(o.requests));
  set('stat-hitrate', pct(o.hitRate));
  set('stat-origin-p99', o.p99.origin.toFixed(1) + ' ms');
  const states = Object.values(o.circuits || {});
  if (states.length) set('stat-breakers', states.some((s) => s !== 'closed') ? states.filter((s) => s !== 'closed').length + ' not closed' : 'all closed');
  const live = document.getElementById('live');
  if (live) live.textContent = 'live ' + fmtTime(o.t);
}

async function refresh() {
  clearTimeout(state.timer);
  try {
    const d = await api('GET', '/dashboard/data');
    state.data = d;
    render(d);
    state.timer = setTimeout(refresh, Number(new URLSearchParams(location.search).get('refresh')) || d.refreshMs || 30000);
  } catch (err) {
    if (err.status === 401) return logout();
    toast('refresh failed: ' + err.message, false);
    state.timer = setTimeout(refresh, 30000);
  }
}

if (state.token) void login(state.token);
else renderLogin();
