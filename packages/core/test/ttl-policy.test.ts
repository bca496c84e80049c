import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CacheOptionsError } from '../src/errors';
import { TtlPolicy, type TtlRule } from '../src/ttl-policy';

const S = 1000;

describe('TtlPolicy', () => {
  it('defaults to 5 minutes, no jitter', () => {
    const p = new TtlPolicy();
    expect(p.resolve('anything')).toBe(300 * S);
    expect(p.describe('anything')).toEqual({ ttlMs: 300 * S, jitter: 0, rule: 'default' });
    expect(new TtlPolicy({ defaultTtl: '1m' }).resolve('x')).toBe(60 * S);
    expect(() => new TtlPolicy({ defaultTtl: 0 })).toThrow(/defaultTtl must be > 0/);
    expect(new TtlPolicy({ rules: [{ entity: 'x', ttl: 0 }] }).resolve('x:get:1')).toBe(0); // a rule may say "do not cache"
  });

  it('pattern rules from the requirements: query:* 300 s, static:* 86400 s', () => {
    const p = new TtlPolicy({
      prefix: 'crm',
      defaultTtl: '60s',
      rules: [
        { pattern: 'query:*', ttl: '300s' },
        { pattern: 'static:*', ttl: 86_400 * S },
      ],
    });
    expect(p.resolve('crm:query:search:q=leak')).toBe(300 * S);
    expect(p.resolve('crm:static:countries:')).toBe(86_400 * S);
    expect(p.resolve('crm:jobs:list:all:all:0:100')).toBe(60 * S);
    expect(p.resolve('query:search:x')).toBe(300 * S); // no prefix on the key
  });

  it('specificity: explicit > entity+operation > entity > operation > longest literal-prefix glob > default', () => {
    const rules: TtlRule[] = [
      { pattern: '*', ttl: 1 },
      { pattern: 'jobs:*', ttl: 2 },
      { pattern: 'jobs:list:*', ttl: 3 },
      { operation: 'list', ttl: 4 },
      { entity: 'jobs', ttl: 5 },
      { entity: 'jobs', operation: 'list', ttl: 6 },
    ];
    // add them in every order: the outcome must not depend on insertion order
    for (const order of [rules, [...rules].reverse(), [rules[3]!, rules[0]!, rules[5]!, rules[1]!, rules[4]!, rules[2]!]]) {
      const p = new TtlPolicy({ prefix: 'crm', defaultTtl: 99, rules: order });
      expect(p.resolve('crm:jobs:list:open', { ttl: 7 })).toBe(7);
      expect(p.describe('crm:jobs:list:open', { ttl: '7ms' }).rule).toBe('explicit');
      expect(p.resolve('crm:jobs:list:open')).toBe(6);
      expect(p.resolve('crm:jobs:detail:1')).toBe(5);
      expect(p.resolve('crm:contacts:list:1')).toBe(4);
      expect(p.resolve('crm:contacts:get:1')).toBe(1);
    }
    const globs = new TtlPolicy({ rules: [rules[0]!, rules[1]!, rules[2]!] });
    expect(globs.resolve('jobs:list:1')).toBe(3);
    expect(globs.resolve('jobs:detail:1')).toBe(2);
    expect(globs.resolve('other:x:1')).toBe(1);
    expect(new TtlPolicy({ rules: [rules[1]!] }).resolve('other:x')).toBe(300 * S);
  });

  it('property: the most specific present rule wins, whatever the insertion order', () => {
    const all: (TtlRule & { rank: number })[] = [
      { pattern: '*', ttl: 1, rank: 1 },
      { pattern: 'jobs:*', ttl: 2, rank: 2 },
      { pattern: 'jobs:list:*', ttl: 3, rank: 3 },
      { operation: 'list', ttl: 4, rank: 4 },
      { entity: 'jobs', ttl: 5, rank: 5 },
      { entity: 'jobs', operation: 'list', ttl: 6, rank: 6 },
    ];
    fc.assert(
      fc.property(fc.shuffledSubarray(all), fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }), (subset, explicit) => {
        const p = new TtlPolicy({ prefix: 'crm', defaultTtl: 99, rules: subset.map(({ rank: _r, ...r }) => r) });
        const best = subset.reduce((m, r) => Math.max(m, r.rank), 0);
        const want = explicit ?? (best === 0 ? 99 : best);
        expect(p.resolve('crm:jobs:list:open', explicit === undefined ? undefined : { ttl: explicit })).toBe(want);
      }),
      { numRuns: 300 },
    );
  });

  it('hint entity/operation win over what the key looks like', () => {
    const p = new TtlPolicy({ rules: [{ entity: 'jobs', operation: 'list', ttl: 10 }, { pattern: 'jobs:list', ttl: 20 }] });
    expect(p.resolve('opaque-key', { entity: 'jobs', operation: 'list' })).toBe(10);
    const globOnly = new TtlPolicy({ rules: [{ pattern: 'jobs:list', ttl: 20 }] });
    expect(globOnly.resolve('opaque-key', { entity: 'jobs', operation: 'list' })).toBe(20);
  });

  it('equal specificity: longer pattern, then the rule added last, wins', () => {
    const p = new TtlPolicy({ rules: [{ pattern: 'a:*', ttl: 1 }, { pattern: 'a:*:x', ttl: 2 }] });
    expect(p.resolve('a:b:x')).toBe(2);
    const q = new TtlPolicy({ rules: [{ entity: 'a', ttl: 1 }] });
    q.addRule({ entity: 'a', ttl: 2 });
    expect(q.resolve('a:b')).toBe(2);
  });

  it('setTtl replaces or adds (entity, entity:operation, pattern)', () => {
    const p = new TtlPolicy({ rules: [{ entity: 'jobs', ttl: '1m', jitter: 0 }] });
    p.setTtl('jobs', '2m');
    expect(p.resolve('jobs:detail:1')).toBe(120 * S);
    expect(p.listRules()).toEqual([{ entity: 'jobs', ttl: '2m', jitter: 0 }]);
    p.setTtl('jobs:list', 5 * S);
    expect(p.resolve('jobs:list:x')).toBe(5 * S);
    p.setTtl('query:*', '30s');
    expect(p.resolve('query:q:1')).toBe(30 * S);
    p.setTtl('query:*', '40s');
    expect(p.listRules()).toHaveLength(3);
    expect(p.resolve('query:q:1')).toBe(40 * S);
    expect(() => p.setTtl('', 1)).toThrow(CacheOptionsError);
    expect(() => p.setTtl('jobs', '-1s')).toThrow(CacheOptionsError);
  });

  it('applies jitter from the policy or the rule, deterministic with a custom random', () => {
    const lo = new TtlPolicy({ defaultTtl: 1000, jitter: 0.1, random: () => 0 });
    const hi = new TtlPolicy({ defaultTtl: 1000, jitter: 0.1, random: () => 0.999999 });
    expect(lo.resolve('k')).toBe(900);
    expect(hi.resolve('k')).toBe(1100);
    expect(lo.resolve('k', { ttl: 2000 })).toBe(1800); // explicit TTLs are jittered too
    const rule = new TtlPolicy({ jitter: 0.5, random: () => 0, rules: [{ entity: 'a', ttl: 1000, jitter: 0 }] });
    expect(rule.resolve('a:b')).toBe(1000);
    expect(rule.resolve('b:c', { ttl: 1000 })).toBe(500);
    expect(new TtlPolicy({ jitter: 1, random: () => 0 }).resolve('x', { ttl: 10 })).toBe(1); // never 0 from jitter
    expect(new TtlPolicy({ jitter: 1, random: () => 0 }).resolve('x', { ttl: 0 })).toBe(0);
    expect(new TtlPolicy({ jitter: 0.2, random: () => Number.NaN }).resolve('x', { ttl: 100 })).toBe(100);
  });

  it('property: jitter stays within ±fraction', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 * 86_400_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (ttl, jitter, r) => {
          const p = new TtlPolicy({ jitter, random: () => r });
          const out = p.resolve('k', { ttl });
          expect(Number.isInteger(out)).toBe(true);
          expect(out).toBeGreaterThanOrEqual(Math.max(1, Math.floor(ttl * (1 - jitter))));
          expect(out).toBeLessThanOrEqual(Math.ceil(ttl * (1 + jitter)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: with real randomness the spread covers both sides', () => {
    const p = new TtlPolicy({ defaultTtl: 100_000, jitter: 0.2 });
    const samples = Array.from({ length: 2000 }, () => p.resolve('k'));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(80_000);
    expect(Math.max(...samples)).toBeLessThanOrEqual(120_000);
    expect(Math.min(...samples)).toBeLessThan(95_000);
    expect(Math.max(...samples)).toBeGreaterThan(105_000);
  });

  it('validates options and rules with CacheOptionsError', () => {
    const bad: unknown[] = [
      { defaultTtl: -1 },
      { defaultTtl: 'soon' },
      { jitter: 1.5 },
      { jitter: -0.1 },
      { jitter: Number.NaN },
      { random: 5 },
      { rules: 'x' },
      { rules: [{ ttl: 1 }] },
      { rules: [{ pattern: 'a:*', entity: 'a', ttl: 1 }] },
      { rules: [{ entity: '', ttl: 1 }] },
      { rules: [{ entity: 'a' }] },
      { rules: [{ entity: 'a', ttl: '5 minutes' }] },
      { rules: [{ entity: 'a', ttl: 1, jitter: 2 }] },
      { prefix: '' },
      null,
    ];
    for (const o of bad) expect(() => new TtlPolicy(o as never)).toThrow(CacheOptionsError);
    try {
      new TtlPolicy({ rules: [{ entity: 'a', ttl: 'x' }] });
    } catch (e) {
      expect((e as Error).message).toMatch(/rules\[0\]\.ttl/);
    }
    expect(() => new TtlPolicy().resolve('k', { ttl: 'never' })).toThrow(/ttl/);
  });
});
