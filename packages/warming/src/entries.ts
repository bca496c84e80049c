import { globToRegExp, toMs } from '@stratacache/core';
import { WarmingOptionsError } from './errors';
import { DEFAULT_ORIGIN } from './options';
import type { InvalidationEventLike, WarmCache, WarmEntry, WarmLoader } from './types';

/** How a key is loaded and written: a declared entry or a loader, resolved by full key. */
export interface ResolvedWarm {
  key: string;
  origin: string;
  load: () => unknown;
  ttl: WarmEntry['ttl'];
  tags: readonly string[] | undefined;
  grace: WarmEntry['grace'];
}

interface Loader {
  re: RegExp;
  spec: WarmLoader;
}

/** A refresh schedule shared by the entries declared with it: `every:<ms>` or `cron:<pattern>`. */
export interface ScheduleSpec {
  id: string;
  everyMs?: number;
  cron?: string;
}

/** At most this many declared entries per Warmer (each holds a factory in memory). */
export const MAX_ENTRIES = 1_000_000;
/** At most this many loaders (each is tried in order for an undeclared key). */
export const MAX_LOADERS = 1_000;

/**
 * The declared keys and loaders of one Warmer, by canonical full key (the cache's `key()`), so an
 * invalidation event (which carries full keys) finds what to re-warm.
 */
export class EntryRegistry {
  readonly entries = new Map<string, WarmEntry>();
  private readonly loaders: Loader[] = [];
  readonly schedules = new Map<string, ScheduleSpec & { keys: Set<string> }>();
  readonly prefix: string;
  private readonly full: (key: string) => string;

  constructor(cache: WarmCache) {
    const f = cache.key?.bind(cache) ?? (cache.l2 ? (k: string) => cache.l2!.key(k) : (k: string) => k);
    this.full = f;
    // The prefix as the cache builds it: full('x') = `${prefix}:x`.
    const probe = f('x');
    this.prefix = probe.endsWith(':x') ? probe.slice(0, -2) : '';
  }

  fullKey(key: string): string {
    return this.full(key);
  }

  declare(entry: WarmEntry): string {
    if (typeof entry !== 'object' || entry === null || typeof entry.key !== 'string' || typeof entry.factory !== 'function') {
      throw new WarmingOptionsError('a warm entry needs { key: string, factory: function }');
    }
    const key = this.full(entry.key);
    if (!this.entries.has(key) && this.entries.size >= MAX_ENTRIES) throw new WarmingOptionsError(`at most ${MAX_ENTRIES} declared entries`);
    if (entry.every !== undefined && entry.cron !== undefined) throw new WarmingOptionsError(`${entry.key}: give every or cron, not both`);
    let spec: ScheduleSpec | undefined;
    if (entry.every !== undefined) {
      const everyMs = toMs(entry.every, `${entry.key}.every`);
      if (everyMs < 100) throw new WarmingOptionsError(`${entry.key}: every must be at least 100 ms`);
      if (entry.ttl !== undefined && everyMs >= toMs(entry.ttl, `${entry.key}.ttl`)) {
        throw new WarmingOptionsError(`${entry.key}: every (${everyMs} ms) must be shorter than ttl so the key never expires between refreshes`);
      }
      spec = { id: `every:${everyMs}`, everyMs };
    } else if (entry.cron !== undefined) {
      if (typeof entry.cron !== 'string' || entry.cron.trim().split(/\s+/).length < 5) throw new WarmingOptionsError(`${entry.key}: cron must have 5 or 6 fields`);
      spec = { id: `cron:${entry.cron.trim()}`, cron: entry.cron.trim() };
    }
    this.unschedule(key);
    this.entries.set(key, entry);
    if (spec !== undefined) {
      let s = this.schedules.get(spec.id);
      if (s === undefined) {
        s = { ...spec, keys: new Set() };
        this.schedules.set(spec.id, s);
      }
      s.keys.add(key);
    }
    return key;
  }

  private unschedule(key: string): void {
    for (const s of this.schedules.values()) s.keys.delete(key);
  }

  addLoader(loader: WarmLoader): void {
    if (typeof loader !== 'object' || loader === null || typeof loader.pattern !== 'string' || typeof loader.load !== 'function') {
      throw new WarmingOptionsError('a loader needs { pattern: string, load: function }');
    }
    if (this.loaders.length >= MAX_LOADERS) throw new WarmingOptionsError(`at most ${MAX_LOADERS} loaders`);
    const full = loader.pattern.startsWith(`${this.prefix}:`) || this.prefix === '' ? loader.pattern : `${this.prefix}:${loader.pattern}`;
    this.loaders.push({ re: globToRegExp(full), spec: loader });
  }

  /** The entry or loader for a full key, or undefined. */
  resolve(key: string): ResolvedWarm | undefined {
    const e = this.entries.get(key);
    if (e !== undefined) return { key, origin: e.origin ?? DEFAULT_ORIGIN, load: e.factory, ttl: e.ttl, tags: e.tags, grace: e.grace };
    for (const l of this.loaders) {
      if (l.re.test(key)) {
        const s = l.spec;
        return { key, origin: s.origin ?? DEFAULT_ORIGIN, load: () => s.load(key), ttl: s.ttl, tags: s.tags, grace: s.grace };
      }
    }
    return undefined;
  }

  /** Origin of a full key (the queue its job goes to). */
  originOf(key: string): string | undefined {
    return this.resolve(key)?.origin;
  }

  /** Declared keys an invalidation event affects (loaders' keys are re-warmed by key only). */
  affected(e: InvalidationEventLike): string[] {
    if (e.ok === false) return [];
    switch (e.kind) {
      case 'key':
        if (e.key === undefined) return [];
        return this.entries.has(e.key) || this.resolve(e.key) !== undefined ? [e.key] : [];
      case 'pattern': {
        if (e.target === undefined) return [];
        const re = globToRegExp(e.target);
        return [...this.entries.keys()].filter((k) => re.test(k));
      }
      case 'tag':
        return [...this.entries].filter(([, v]) => e.target !== undefined && v.tags?.includes(e.target)).map(([k]) => k);
      case 'namespace': {
        if (e.target === undefined) return [];
        const start = `${this.prefix}:${e.target}:`;
        return [...this.entries.keys()].filter((k) => k.startsWith(start));
      }
      case 'clear':
        return [...this.entries.keys()];
      default:
        return [];
    }
  }
}
