import { toMs, type Duration } from './duration';
import { CacheOptionsError } from './errors';
import { globLiteralPrefix, globMatch } from './key-builder';

/**
 * One TTL rule. Give either `pattern`, or `entity` (optionally with `operation`), or `operation` alone.
 * - `pattern` is a Redis-style glob matched against the key without its prefix
 *   (`jobs:list:all:all:0:100`) and against `{entity}:{operation}`: `'query:*'`, `'static:*'`, `'jobs:list'`.
 */
export interface TtlRule {
  pattern?: string;
  entity?: string;
  operation?: string;
  /** Milliseconds or a duration string (`'5m'`). `0` = do not cache matching keys (the value is served, not stored). */
  ttl: Duration;
  /** ± fraction (0..1) applied to this rule's TTL; overrides the policy's `jitter`. */
  jitter?: number;
}

export interface TtlPolicyOptions {
  /** TTL when no rule matches. Default 5 minutes. Must be > 0 (use a rule with `ttl: 0` for keys that must not be cached). */
  defaultTtl?: Duration;
  rules?: TtlRule[];
  /** Default ± jitter fraction (0..1) applied to every resolved TTL, explicit ones included. Default 0. */
  jitter?: number;
  /** Random source in [0, 1) for jitter (tests). Default `Math.random`. */
  random?: () => number;
  /** Key prefix (as in `KeyBuilder`) stripped before pattern rules are matched. Without it, keys are matched as given. */
  prefix?: string;
}

export interface TtlHint {
  entity?: string;
  operation?: string;
  /** An explicit TTL for this call: wins over every rule. */
  ttl?: Duration;
  /** Jitter fraction for this call, overriding the rule's and the policy's; `0` = exactly the TTL. */
  jitter?: number;
}

export interface TtlDescription {
  /** The TTL before jitter. */
  ttlMs: number;
  /** The jitter fraction that `resolve` applies on top. */
  jitter: number;
  rule: TtlRule | 'default' | 'explicit';
}

interface CompiledRule {
  rule: TtlRule;
  kind: 'entity-operation' | 'entity' | 'operation' | 'pattern';
  ttlMs: number;
  jitter: number | undefined;
  literalLength: number;
  order: number;
}

const KIND_RANK: Record<CompiledRule['kind'], number> = { 'entity-operation': 4, entity: 3, operation: 2, pattern: 1 };
const GLOB_RE = /[*?[]/;

function checkJitter(j: unknown, name: string): number {
  if (typeof j !== 'number' || !Number.isFinite(j) || j < 0 || j > 1) {
    throw new CacheOptionsError(`${name} must be a fraction between 0 and 1 (e.g. 0.1 for ±10 %), got ${String(j)}`);
  }
  return j;
}

/** TTL of a write when neither the call, a TTL rule nor `defaultTtl` gives one: 5 minutes. Upper layers use it as their fallback too. */
export const DEFAULT_TTL_MS = 300_000;

/**
 * Resolves the TTL of a key. Precedence: explicit `hint.ttl` > entity+operation rule > entity rule >
 * operation rule > pattern rule with the longest literal prefix (ties: longer pattern, then the
 * rule added last) > `defaultTtl`. Jitter (the call's, else the rule's, else the policy's) is applied
 * last — to explicit TTLs too. All values are milliseconds. `0` means "do not cache this value"
 * everywhere (CacheService, TieredCache) and passes through unchanged (never jittered).
 */
export class TtlPolicy {
  readonly defaultTtlMs: number;
  readonly jitter: number;
  private readonly random: () => number;
  private readonly prefix: string | undefined;
  private rules: CompiledRule[] = [];
  private counter = 0;

  constructor(opts: TtlPolicyOptions = {}) {
    if (opts === null || typeof opts !== 'object') throw new CacheOptionsError('TtlPolicy options must be an object');
    this.defaultTtlMs = toMs(opts.defaultTtl ?? DEFAULT_TTL_MS, 'defaultTtl');
    if (this.defaultTtlMs === 0) {
      throw new CacheOptionsError('defaultTtl must be > 0 ms (0 would cache nothing by default); use a TTL rule with ttl 0 for keys that must not be cached');
    }
    this.jitter = checkJitter(opts.jitter ?? 0, 'jitter');
    if (opts.random !== undefined && typeof opts.random !== 'function') throw new CacheOptionsError('random must be a function returning [0, 1)');
    this.random = opts.random ?? Math.random;
    if (opts.prefix !== undefined && (typeof opts.prefix !== 'string' || opts.prefix.length === 0)) {
      throw new CacheOptionsError('prefix must be a non-empty string');
    }
    this.prefix = opts.prefix;
    if (opts.rules !== undefined && !Array.isArray(opts.rules)) throw new CacheOptionsError('rules must be an array of TtlRule');
    (opts.rules ?? []).forEach((r, i) => this.addRule(r, `rules[${i}]`));
  }

  /** The TTL in ms for `key`, jitter applied. */
  resolve(key: string, hint?: TtlHint): number {
    const d = this.describe(key, hint);
    return this.applyJitter(d.ttlMs, d.jitter);
  }

  /** Which rule decides the TTL of `key`, and its TTL before jitter. */
  describe(key: string, hint?: TtlHint): TtlDescription {
    const j = hint?.jitter === undefined ? undefined : checkJitter(hint.jitter, 'jitter');
    if (hint?.ttl !== undefined) return { ttlMs: toMs(hint.ttl, 'ttl'), jitter: j ?? this.jitter, rule: 'explicit' };
    const best = this.match(typeof key === 'string' ? key : String(key), hint);
    if (!best) return { ttlMs: this.defaultTtlMs, jitter: j ?? this.jitter, rule: 'default' };
    return { ttlMs: best.ttlMs, jitter: j ?? best.jitter ?? this.jitter, rule: best.rule };
  }

  /** Adds a rule (validated). A later rule wins over an earlier one of equal specificity. */
  addRule(rule: TtlRule, name = 'rule'): void {
    this.rules.push(this.compile(rule, name));
  }

  /**
   * Sets the TTL for an entity (`'jobs'`), an entity+operation (`'jobs:list'`) or a glob pattern
   * (`'query:*'`): replaces the TTL of the rule with the same selector, or adds one. Used by adaptive-TTL advice.
   */
  setTtl(entityOrPattern: string, ttl: Duration): void {
    if (typeof entityOrPattern !== 'string' || entityOrPattern.length === 0) {
      throw new CacheOptionsError('setTtl: selector must be a non-empty entity, "entity:operation" or glob pattern');
    }
    let rule: TtlRule;
    if (GLOB_RE.test(entityOrPattern)) rule = { pattern: entityOrPattern, ttl };
    else {
      const i = entityOrPattern.indexOf(':');
      rule =
        i === -1
          ? { entity: entityOrPattern, ttl }
          : i > 0 && i < entityOrPattern.length - 1 && entityOrPattern.indexOf(':', i + 1) === -1
            ? { entity: entityOrPattern.slice(0, i), operation: entityOrPattern.slice(i + 1), ttl }
            : { pattern: entityOrPattern, ttl };
    }
    const existing = this.rules.findIndex(
      (c) => c.rule.pattern === rule.pattern && c.rule.entity === rule.entity && c.rule.operation === rule.operation,
    );
    if (existing === -1) {
      this.addRule(rule, 'setTtl');
      return;
    }
    const old = this.rules[existing] as CompiledRule;
    const compiled = this.compile({ ...old.rule, ttl }, 'setTtl');
    this.rules[existing] = { ...compiled, order: old.order };
  }

  /** A copy of the current rules, in the order they were added. */
  listRules(): TtlRule[] {
    return [...this.rules].sort((a, b) => a.order - b.order).map((c) => ({ ...c.rule }));
  }

  private compile(rule: TtlRule, name: string): CompiledRule {
    if (rule === null || typeof rule !== 'object') throw new CacheOptionsError(`${name} must be an object`);
    const { pattern, entity, operation } = rule;
    for (const [k, v] of [
      ['pattern', pattern],
      ['entity', entity],
      ['operation', operation],
    ] as const) {
      if (v !== undefined && (typeof v !== 'string' || v.length === 0)) {
        throw new CacheOptionsError(`${name}.${k} must be a non-empty string`);
      }
    }
    if (pattern !== undefined && (entity !== undefined || operation !== undefined)) {
      throw new CacheOptionsError(`${name}: give either pattern or entity/operation, not both`);
    }
    if (pattern === undefined && entity === undefined && operation === undefined) {
      throw new CacheOptionsError(`${name}: needs a pattern, an entity or an operation`);
    }
    if (rule.ttl === undefined) throw new CacheOptionsError(`${name}.ttl is required`);
    const ttlMs = toMs(rule.ttl, `${name}.ttl`);
    const jitter = rule.jitter === undefined ? undefined : checkJitter(rule.jitter, `${name}.jitter`);
    const kind: CompiledRule['kind'] =
      pattern !== undefined ? 'pattern' : entity !== undefined ? (operation !== undefined ? 'entity-operation' : 'entity') : 'operation';
    return {
      rule: { ...rule },
      kind,
      ttlMs,
      jitter,
      literalLength: pattern === undefined ? 0 : globLiteralPrefix(pattern).length,
      order: this.counter++,
    };
  }

  private match(key: string, hint?: TtlHint): CompiledRule | undefined {
    let subject = key;
    if (this.prefix !== undefined && key.startsWith(`${this.prefix}:`)) subject = key.slice(this.prefix.length + 1);
    let entity = hint?.entity;
    let operation = hint?.operation;
    if (entity === undefined || operation === undefined) {
      const parts = subject.split(':', 2);
      entity ??= parts[0];
      operation ??= parts[1];
    }
    const eo = entity !== undefined && operation !== undefined ? `${entity}:${operation}` : undefined;
    let best: CompiledRule | undefined;
    for (const c of this.rules) {
      const r = c.rule;
      let ok: boolean;
      switch (c.kind) {
        case 'entity-operation':
          ok = r.entity === entity && r.operation === operation;
          break;
        case 'entity':
          ok = r.entity === entity;
          break;
        case 'operation':
          ok = r.operation === operation;
          break;
        case 'pattern':
          ok = globMatch(r.pattern as string, subject) || (eo !== undefined && globMatch(r.pattern as string, eo));
          break;
      }
      if (ok && (best === undefined || better(c, best))) best = c;
    }
    return best;
  }

  private applyJitter(ttlMs: number, jitter: number): number {
    if (jitter === 0 || ttlMs === 0) return ttlMs;
    let r = Number(this.random());
    if (!Number.isFinite(r)) r = 0.5;
    r = Math.min(Math.max(r, 0), 1);
    const out = Math.round(ttlMs * (1 + jitter * (2 * r - 1)));
    return Math.max(1, out);
  }
}

function better(a: CompiledRule, b: CompiledRule): boolean {
  if (KIND_RANK[a.kind] !== KIND_RANK[b.kind]) return KIND_RANK[a.kind] > KIND_RANK[b.kind];
  if (a.kind === 'pattern') {
    if (a.literalLength !== b.literalLength) return a.literalLength > b.literalLength;
    const al = (a.rule.pattern as string).length;
    const bl = (b.rule.pattern as string).length;
    if (al !== bl) return al > bl;
  }
  return a.order > b.order;
}
