// The main chart (latency over time: p50 and p99 per interval, errors marked) as a standalone SVG,
// for the PNG (rendered by @resvg/resvg-js, whose binary ships in its npm package).
import { faultWindow, type Report } from './report';

const W = 960;
const H = 420;
const PAD = { l: 64, r: 24, t: 48, b: 48 };

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function latencySvg(r: Report): string {
  const s = r.series;
  const xMax = Math.max(1, s.at(-1)?.tMs ?? 1);
  const yMax = niceMax(Math.max(...s.map((p) => p.p99Ms), 0.001));
  const x = (t: number): number => PAD.l + (t / xMax) * (W - PAD.l - PAD.r);
  const y = (v: number): number => H - PAD.b - (v / yMax) * (H - PAD.t - PAD.b);
  const line = (key: 'p50Ms' | 'p99Ms'): string => s.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.tMs).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
  const grid: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    grid.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`);
    grid.push(`<text x="${PAD.l - 8}" y="${y(v) + 4}" text-anchor="end" font-size="12" fill="#374151">${+v.toFixed(3)}</text>`);
  }
  for (let k = 0; k <= 5; k++) {
    const t = (xMax * k) / 5;
    grid.push(`<text x="${x(t)}" y="${H - PAD.b + 18}" text-anchor="middle" font-size="12" fill="#374151">${(t / 1000).toFixed(1)} s</text>`);
  }
  const fw = faultWindow(r);
  const band = fw
    ? `<rect x="${x(fw.fromMs)}" y="${PAD.t}" width="${Math.max(2, x(Math.min(fw.toMs, xMax)) - x(fw.fromMs))}" height="${H - PAD.t - PAD.b}" fill="#fecaca" fill-opacity="0.5"/><text x="${x(fw.fromMs) + 4}" y="${PAD.t + 14}" font-size="12" fill="#991b1b">${esc(fw.label)}</text>`
    : '';
  const errs = s.filter((p) => p.errors > 0).map((p) => `<circle cx="${x(p.tMs)}" cy="${y(p.p99Ms)}" r="4" fill="#dc2626"/>`);
  const title = `${r.scenario}: latency over time (ms) — p50 ${r.latencyMs.p50}, p99 ${r.latencyMs.p99}, ${r.throughputRps} req/s, ${r.check.passed ? 'PASS' : 'FAIL'}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">
<rect width="${W}" height="${H}" fill="#ffffff"/>
<text x="${PAD.l}" y="28" font-size="16" fill="#111827">${esc(title)}</text>
${band}
${grid.join('\n')}
<line x1="${PAD.l}" x2="${PAD.l}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="#9ca3af"/>
<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}" stroke="#9ca3af"/>
<path d="${line('p50Ms')}" fill="none" stroke="#2563eb" stroke-width="2"/>
<path d="${line('p99Ms')}" fill="none" stroke="#ea580c" stroke-width="2"/>
${errs.join('\n')}
<rect x="${W - PAD.r - 170}" y="${PAD.t}" width="12" height="3" fill="#2563eb"/><text x="${W - PAD.r - 152}" y="${PAD.t + 5}" font-size="12" fill="#111827">p50 per interval</text>
<rect x="${W - PAD.r - 170}" y="${PAD.t + 16}" width="12" height="3" fill="#ea580c"/><text x="${W - PAD.r - 152}" y="${PAD.t + 21}" font-size="12" fill="#111827">p99 per interval</text>
</svg>`;
}
