import { LogHistogram } from './log-histogram';

/** Where a request was answered: the `source` label of `stratacache_requests_total`. */
export const SOURCES = ['l1', 'l2', 'origin', 'stale'] as const;
export type Source = (typeof SOURCES)[number];
/** The `result` label. */
export const RESULTS = ['hit', 'miss', 'stale'] as const;
export type Result = (typeof RESULTS)[number];

export const SRC_L1 = 0;
export const SRC_L2 = 1;
export const SRC_ORIGIN = 2;
export const SRC_STALE = 3;
export const RES_HIT = 0;
export const RES_MISS = 1;
export const RES_STALE = 2;

/** Slots of a {@link Row}: 12 request slots (source × result), then these. */
export const ORIGIN_CALLS = 12;
export const ORIGIN_ERRORS = 13;
export const BYTES = 14;
export const INVALIDATIONS = 15;
export const ROW_SLOTS = 16;

export function sourceIndex(s: string | undefined): number {
  switch (s) {
    case 'l1':
      return SRC_L1;
    case 'origin':
      return SRC_ORIGIN;
    case 'stale':
      return SRC_STALE;
    default:
      return SRC_L2;
  }
}

/** Counters of one (tenant, entity) pair. Cumulative; `sent` is what was flushed to the trend store. */
export class Row {
  readonly v = new Float64Array(ROW_SLOTS);
  readonly sent = new Float64Array(ROW_SLOTS);
  constructor(
    readonly tenant: string,
    readonly entity: string,
  ) {}
  requests(): number {
    let n = 0;
    for (let i = 0; i < 12; i++) n += this.v[i]!;
    return n;
  }
  hits(): number {
    return this.v[SRC_L1 * 3 + RES_HIT]! + this.v[SRC_L2 * 3 + RES_HIT]!;
  }
}

/** Per-tenant rows, with a memo from raw entity names to (folded) rows. */
export class TenantRows {
  readonly memo = new Map<string, Row>();
  readonly byLabel = new Map<string, Row>();
  constructor(readonly label: string) {}
}

/** Process-wide totals that are not per (tenant, entity). Cumulative. */
export class Totals {
  /** Served / round-trip latency per source (l1, l2, origin, stale). */
  readonly latency = [new LogHistogram(), new LogHistogram(), new LogHistogram(), new LogHistogram()];
  readonly invalidationsByKind = new Map<string, number>();
  readonly storeErrorsByOp = new Map<string, number>();
  /** Breaker transitions by new state. */
  readonly breakerTransitions = new Map<string, number>();
  /** Current circuit state per cache name (tenant label, or `'default'`). */
  readonly circuit = new Map<string, string>();
  writes = 0;
  deletes = 0;
  busMessages = 0;
  events = 0;
}

export function inc(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}
