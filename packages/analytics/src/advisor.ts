import type { TtlPolicy } from '@stratacache/core';
import type { Collector, CollectorObserver, InvalidationObservation } from './collector';
import { ORIGIN_CALLS, RES_MISS, SRC_ORIGIN } from './counters';
import { NONE } from './labels';

/** Bounds of the advisor's memory (documented in the README). */
export const ADVISOR_LIMITS = {
  /** Entities (selectors) whose invalidations are tracked. */
  entities: 200,
  /** Invalidation samples kept per entity. */
  samples: 32,
  /** Keys whose last write time is remembered (to measure the age of a key at its invalidation). */
  setTimes: 10_000,
  /** Bits of the per-entity distinct-miss-key sketch (linear counting; 1 KB each). */
  sketchBits: 8_192,
} as const;

export type RecommendationKind = 'ttl_up' | 'ttl_down' | 'normalize_keys' | 'warm';

export interface Recommendation {
  kind: RecommendationKind;
  /** TTL selector (`entity` or `entity:operation`), or the entity. */
  entity: string;
  /** warm: the key. */
  key?: string;
  currentTtlMs?: number;
  suggestedTtlMs?: number;
  reason: string;
  evidence: Record<string, number>;
}

export interface AdvisorOptions {
  /** The policy whose TTLs are compared (and changed by adaptive TTL). */
  ttlPolicy: TtlPolicy;
  /** Invalidation samples needed before TTL advice. Default 5. */
  minSamples?: number;
  /** |TTL − measured interval| / interval beyond which TTL advice is given. Default 0.25. */
  tolerance?: number;
  /** normalize_keys: distinct keys among misses at least this. Default 1000. */
  uniqueKeysMin?: number;
  /** normalize_keys: distinct miss keys / misses at least this (keys rarely asked twice). Default 0.8. */
  uniqueRatioMin?: number;
  /** warm: how many candidates. Default 10. */
  warmCandidates?: number;
}

class Track {
  readonly samples: number[] = [];
  last = 0;
  readonly sketch = new Uint8Array(ADVISOR_LIMITS.sketchBits / 8);
  zeroBits: number = ADVISOR_LIMITS.sketchBits;
  misses = 0;
  add(ms: number): void {
    this.samples.push(ms);
    if (this.samples.length > ADVISOR_LIMITS.samples) this.samples.shift();
  }
  median(): number {
    const s = [...this.samples].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? 0;
  }
  /** Linear-counting estimate of the distinct keys seen. */
  distinct(): number {
    const m = ADVISOR_LIMITS.sketchBits;
    return this.zeroBits === 0 ? m * Math.log(m) : -m * Math.log(this.zeroBits / m);
  }
}

/**
 * Measures how long entries of each entity live before they are invalidated — the interval between
 * invalidations of the entity (namespace / pattern / tag), or for key invalidations the key's age
 * since its last write — and compares it with the TTL in force: TTL up when entries expire long
 * before they are invalidated, down when they are invalidated well before expiry. Also flags entities
 * whose misses are almost all distinct keys (normalise the key) and suggests warming candidates
 * from the top-K. Observers are O(1); memory is bounded by {@link ADVISOR_LIMITS}.
 */
export class Advisor implements CollectorObserver {
  readonly ttlPolicy: TtlPolicy;
  private readonly tracks = new Map<string, Track>();
  private readonly setTimes = new Map<string, number>();
  private readonly minSamples: number;
  private readonly tolerance: number;
  private readonly uniqueKeysMin: number;
  private readonly uniqueRatioMin: number;
  private readonly warmCandidates: number;

  constructor(
    private readonly collector: Collector,
    o: AdvisorOptions,
  ) {
    this.ttlPolicy = o.ttlPolicy;
    this.minSamples = o.minSamples ?? 5;
    this.tolerance = o.tolerance ?? 0.25;
    this.uniqueKeysMin = o.uniqueKeysMin ?? 1_000;
    this.uniqueRatioMin = o.uniqueRatioMin ?? 0.8;
    this.warmCandidates = o.warmCandidates ?? 10;
  }

  private track(entity: string): Track | undefined {
    let t = this.tracks.get(entity);
    if (t === undefined) {
      if (this.tracks.size >= ADVISOR_LIMITS.entities) return undefined;
      t = new Track();
      this.tracks.set(entity, t);
    }
    return t;
  }

  set(_tenant: string, _entity: string, key: string): void {
    if (this.setTimes.size >= ADVISOR_LIMITS.setTimes && !this.setTimes.has(key)) {
      const oldest = this.setTimes.keys().next().value;
      if (oldest !== undefined) this.setTimes.delete(oldest);
    }
    this.setTimes.delete(key);
    this.setTimes.set(key, Date.now());
  }

  invalidation(o: InvalidationObservation): void {
    if (!o.ok || o.entity === '*' || o.entity.startsWith('tag:')) return;
    const t = this.track(o.entity);
    if (t === undefined) return;
    if (o.kind === 'key') {
      const at = this.setTimes.get(o.target);
      if (at !== undefined) {
        t.add(o.at - at);
        this.setTimes.delete(o.target);
      }
      return;
    }
    if (t.last > 0) t.add(o.at - t.last);
    t.last = o.at;
  }

  miss(_tenant: string, entity: string, key: string): void {
    if (entity === NONE) return;
    const t = this.track(entity);
    if (t === undefined) return;
    t.misses++;
    const bit = fnv1a(key) % ADVISOR_LIMITS.sketchBits;
    const byte = bit >>> 3;
    const mask = 1 << (bit & 7);
    if ((t.sketch[byte]! & mask) === 0) {
      t.sketch[byte]! |= mask;
      t.zeroBits--;
    }
  }

  /** The measured invalidation interval (median, ms) of a selector, with its sample count. */
  interval(entity: string): { ms: number; samples: number } | undefined {
    const t = this.tracks.get(entity);
    return t === undefined || t.samples.length === 0 ? undefined : { ms: t.median(), samples: t.samples.length };
  }

  /** The TTL before jitter for a selector (`entity` or `entity:operation`). */
  currentTtl(selector: string): number {
    const i = selector.indexOf(':');
    const entity = i === -1 ? selector : selector.slice(0, i);
    const operation = i === -1 ? undefined : selector.slice(i + 1);
    return this.ttlPolicy.describe(`${entity}:${operation ?? '_'}:_`, operation === undefined ? { entity } : { entity, operation }).ttlMs;
  }

  recommendations(): Recommendation[] {
    const out: Recommendation[] = [];
    for (const [entity, t] of this.tracks) {
      if (t.samples.length >= this.minSamples) {
        const interval = t.median();
        const ttl = this.currentTtl(entity);
        const evidence = { intervalMs: interval, samples: t.samples.length, ttlMs: ttl };
        if (interval > 0 && ttl > interval * (1 + this.tolerance)) {
          out.push({ kind: 'ttl_down', entity, currentTtlMs: ttl, suggestedTtlMs: Math.round(interval), evidence, reason: `entries are invalidated after ~${fmtMs(interval)} (median of ${t.samples.length}), well before their TTL ${fmtMs(ttl)}` });
        } else if (interval > 0 && ttl < interval * (1 - this.tolerance)) {
          out.push({ kind: 'ttl_up', entity, currentTtlMs: ttl, suggestedTtlMs: Math.round(interval), evidence, reason: `entries expire after ${fmtMs(ttl)}, long before they are invalidated (~${fmtMs(interval)}, median of ${t.samples.length})` });
        }
      }
      const distinct = t.distinct();
      if (t.misses > 0 && distinct >= this.uniqueKeysMin && distinct / t.misses >= this.uniqueRatioMin) {
        out.push({ kind: 'normalize_keys', entity, evidence: { distinctMissKeys: Math.round(distinct), misses: t.misses }, reason: `~${Math.round(distinct)} distinct keys among ${t.misses} misses: keys are rarely reused — normalise identifiers (sort params, fill defaults, drop volatile fields)` });
      }
    }
    const warm = this.collector.topK
      .top(this.warmCandidates * 4)
      .filter((k) => k.misses + k.originCalls >= 2)
      .slice(0, this.warmCandidates);
    for (const k of warm) {
      out.push({ kind: 'warm', entity: entityOf(k.key), key: k.key, evidence: { requests: k.requests, misses: k.misses, originCalls: k.originCalls, avgOriginMs: k.avgOriginMs }, reason: `hot key (${k.requests} reads) loaded from the origin ${k.originCalls}× — warm it on start-up and after invalidation` });
    }
    return out;
  }

  /** Per-entity miss and origin counts from the collector (for reports). */
  entityMisses(): Record<string, { misses: number; originCalls: number }> {
    const out: Record<string, { misses: number; originCalls: number }> = {};
    for (const r of this.collector.rows()) {
      const e = (out[r.entity] ??= { misses: 0, originCalls: 0 });
      e.misses += r.v[SRC_ORIGIN * 3 + RES_MISS]!;
      e.originCalls += r.v[ORIGIN_CALLS]!;
    }
    return out;
  }
}

function entityOf(key: string): string {
  const p = key.split(':');
  return p.length >= 3 ? p[1]! : (p[0] ?? key);
}

export function fmtMs(ms: number): string {
  return ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : ms >= 1_000 ? `${(ms / 1_000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
