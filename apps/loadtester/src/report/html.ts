// The self-contained HTML report: the figures, three charts (latency over time, percentile curve,
// hit rate over time) drawn by uPlot, which is inlined at build time (no CDN, works offline).
// The page exposes `window.__charts` ({ id, title, data }) so tests can read what was drawn.
import uplotJs from 'uplot/dist/uPlot.iife.min.js?raw';
import uplotCss from 'uplot/dist/uPlot.min.css?raw';
import type { Report } from './report';
import { faultWindow, summaryLines } from './report';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** JSON safe inside <script>. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

/** x of the percentile curve: number of nines, log10(1 / (1 − p)); 100 is drawn just past 99.999. */
export function nines(percentile: number): number {
  if (percentile >= 100) return 5.5;
  const v = Math.round(-Math.log10(1 - percentile / 100) * 1000) / 1000;
  return v === 0 ? 0 : v; // no -0 (JSON has none)
}

export function chartData(r: Report): { id: string; title: string; data: (number | null)[][] }[] {
  const t = r.series.map((p) => p.tMs / 1000);
  return [
    { id: 'latency', title: 'Latency over time (ms per interval)', data: [t, r.series.map((p) => p.p50Ms), r.series.map((p) => p.p99Ms), r.series.map((p) => p.maxMs)] },
    { id: 'percentiles', title: 'Latency by percentile (ms)', data: [r.percentileCurve.map((p) => nines(p.percentile)), r.percentileCurve.map((p) => p.ms)] },
    { id: 'hitrate', title: 'Hit rate (%) and errors per interval', data: [t, r.series.map((p) => (p.hitRate === null ? null : Math.round(p.hitRate * 1000) / 10)), r.series.map((p) => p.errors)] },
  ];
}

const PAGE_SCRIPT = `
(function () {
  var charts = JSON.parse(document.getElementById('chart-data').textContent);
  var fault = JSON.parse(document.getElementById('fault-data').textContent);
  // shades the fault window (redis-down, failover) on the time charts
  var shade = function (u) {
    if (!fault) return;
    var x0 = u.valToPos(fault.fromMs / 1000, 'x', true), x1 = u.valToPos(fault.toMs / 1000, 'x', true);
    u.ctx.save(); u.ctx.fillStyle = 'rgba(254,202,202,0.5)';
    u.ctx.fillRect(x0, u.bbox.top, Math.max(2, x1 - x0), u.bbox.height); u.ctx.restore();
  };
  var width = Math.min(1000, document.body.clientWidth - 32);
  var fmtNines = function (u, vals) { return vals.map(function (v) { return v >= 5.5 ? 'max' : (100 - 100 * Math.pow(10, -v)).toPrecision(Math.max(2, Math.ceil(v) + 1)) + '%'; }); };
  var specs = {
    latency: { scales: { x: { time: false } }, axes: [{ label: 's' }, { label: 'ms' }], series: [{ label: 's' }, { label: 'p50', stroke: '#2563eb' }, { label: 'p99', stroke: '#ea580c' }, { label: 'max', stroke: '#9ca3af' }] },
    percentiles: { scales: { x: { time: false } }, axes: [{ label: 'percentile', values: fmtNines }, { label: 'ms' }], series: [{ label: 'nines' }, { label: 'latency', stroke: '#7c3aed', points: { show: true } }] },
    hitrate: { scales: { x: { time: false }, pct: { range: [0, 100] }, n: {} }, axes: [{ label: 's' }, { scale: 'pct', label: '%' }, { scale: 'n', side: 1, label: 'errors', grid: { show: false } }], series: [{ label: 's' }, { label: 'hit rate %', stroke: '#16a34a', scale: 'pct', spanGaps: false }, { label: 'errors', stroke: '#dc2626', scale: 'n' }] }
  };
  window.__charts = charts.map(function (c) {
    var el = document.getElementById('chart-' + c.id);
    var opts = Object.assign({ title: c.title, width: width, height: 300 }, specs[c.id]);
    if (c.id !== 'percentiles') opts.hooks = { drawClear: [shade] };
    var u = new uPlot(opts, c.data, el);
    return { id: c.id, title: c.title, data: c.data, plot: u };
  });
  document.body.setAttribute('data-charts', String(window.__charts.length));
})();
`;

export function renderHtml(r: Report): string {
  const l = r.latencyMs;
  const rows: [string, string][] = [
    ['scenario', `${r.scenario} (${r.mode})`],
    ['target', r.target],
    ['started', r.startedAt],
    ['requests', `${r.requests} in ${(r.durationMs / 1000).toFixed(1)} s`],
    ['throughput', `${r.throughputRps} req/s`],
    ['latency (ms)', `p50 ${l.p50} · p95 ${l.p95} · p99 ${l.p99} · p99.9 ${l.p999} · max ${l.max}`],
    ['hit rate', r.hitRate === null ? 'n/a' : `${(r.hitRate * 100).toFixed(1)}%`],
    ['origin calls', `${r.originCalls ?? 'n/a'} for ${r.reads} reads (avoided ${r.originCallsAvoidedPct === null ? 'n/a' : `${r.originCallsAvoidedPct}%`})`],
    ['errors', `${r.errors}${Object.keys(r.errorsByType).length ? ` — ${Object.entries(r.errorsByType).map(([k, v]) => `${k} ×${v}`).join(', ')}` : ''}`],
    ['check', `${r.check.passed ? 'PASS' : 'FAIL'}: ${r.check.reason}`],
  ];
  const details = Object.entries(r.details).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(JSON.stringify(v))}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stratacache-load: ${esc(r.scenario)} ${esc(r.startedAt)}</title>
<style>${uplotCss}
body{font:14px system-ui,sans-serif;margin:16px;color:#111827}
table{border-collapse:collapse;margin:8px 0 16px}th,td{text-align:left;padding:3px 10px;border-bottom:1px solid #e5e7eb;vertical-align:top}
.pass{color:#15803d}.fail{color:#b91c1c}section{margin:16px 0}</style></head>
<body>
<h1>stratacache-load · ${esc(r.scenario)} · <span class="${r.check.passed ? 'pass' : 'fail'}">${r.check.passed ? 'PASS' : 'FAIL'}</span></h1>
<table id="summary">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
${details ? `<h2>Scenario details</h2><table id="details">${details}</table>` : ''}
${faultWindow(r) ? `<p id="fault">Shaded on the time charts: ${esc(faultWindow(r)!.label)}, ${faultWindow(r)!.fromMs}–${faultWindow(r)!.toMs} ms.</p>` : ''}
<section id="chart-latency"></section>
<section id="chart-percentiles"></section>
<section id="chart-hitrate"></section>
<pre id="text-summary">${esc(summaryLines(r).join('\n'))}</pre>
<script id="chart-data" type="application/json">${scriptJson(chartData(r))}</script>
<script id="fault-data" type="application/json">${scriptJson(faultWindow(r))}</script>
<script id="report-data" type="application/json">${scriptJson(r)}</script>
<script>${uplotJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
