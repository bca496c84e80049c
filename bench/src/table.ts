// Results: rows of the side-by-side table, JSON and markdown output.
export const COLUMNS = ['stratacache', 'lru-cache (raw)', 'ioredis (raw)', 'ioredis (auto-pipelined)', 'BentoCache', 'cache-manager 7', 'cacheable'] as const;
export type Column = (typeof COLUMNS)[number];

export interface Row {
  bench: string;
  /** 'ops/s' (higher is better), 'µs', 'ms' or 'calls' (lower is better). */
  unit: 'ops/s' | 'µs' | 'ms' | 'calls' | 'req/s';
  values: Partial<Record<Column, number>>;
  goal: string;
  /** true = met, false = missed, undefined = information only. */
  pass: boolean | undefined;
  note?: string;
}

const higherIsBetter = (u: Row['unit']): boolean => u === 'ops/s' || u === 'req/s';

function fmt(v: number, unit: Row['unit']): string {
  if (unit === 'calls') return String(v);
  if (unit === 'ops/s' || unit === 'req/s') return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M/s` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k/s` : `${v.toFixed(0)}/s`;
  if (unit === 'µs') return v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(1)} µs`;
  return `${v.toFixed(2)} ms`;
}

/** A peer's cell: its figure and stratacache's advantage over it (> 1× = stratacache better). */
export function cell(row: Row, col: Column): string {
  const v = row.values[col];
  if (v === undefined) return '–';
  const s = row.values.stratacache;
  if (col === 'stratacache' || s === undefined || row.unit === 'calls' || v === 0 || s === 0) return fmt(v, row.unit);
  const adv = higherIsBetter(row.unit) ? s / v : v / s;
  return `${fmt(v, row.unit)} (${adv.toFixed(2)}×)`;
}

export function markdown(rows: Row[], meta: { date: string; machine: string; quick: boolean; seconds: number }): string {
  const used = COLUMNS.filter((c) => rows.some((r) => r.values[c] !== undefined));
  const lines = [
    `Measured ${meta.date} on ${meta.machine}${meta.quick ? ' (--quick: smoke figures, not for comparison)' : ''}, in ${meta.seconds.toFixed(0)} s. ` +
      'Peer cells: the peer\'s figure and (in brackets) stratacache\'s advantage over it, > 1× = stratacache better.',
    '',
    `| benchmark | ${used.join(' | ')} | goal | |`,
    `|---|${used.map(() => '---:').join('|')}|---|---|`,
  ];
  for (const r of rows) lines.push(`| ${r.bench} | ${used.map((c) => cell(r, c)).join(' | ')} | ${r.goal} | ${r.pass === undefined ? 'info' : r.pass ? 'met' : '**MISSED**'} |`);
  const missed = rows.filter((r) => r.pass === false);
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.bench}: ${r.note}`);
  if (notes.length > 0) lines.push('', ...notes);
  lines.push('');
  lines.push(missed.length === 0 ? 'Every goal was met in this run.' : `Goals missed in this run: ${missed.map((r) => `${r.bench} (goal ${r.goal}${r.note ? `; ${r.note}` : ''})`).join('; ')}.`);
  return lines.join('\n');
}
