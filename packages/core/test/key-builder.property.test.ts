import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyBuilder, globMatch, unescapeKeyPart } from '../src/key-builder';

const kb = new KeyBuilder({ prefix: 'crm', defaults: { 'jobs:list': { status: 'all', type: 'all', offset: 0, limit: 100 } } });
const short = new KeyBuilder({ prefix: 't', maxIdentifierLength: 32 });

/** Any user input: strings of every kind, glob and separator characters heavily represented. */
const userString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('*', '?', '[', ']', '\\', ':', '%', '{', '}', '=', ',', '(', ')', '~', 'a', '^', '-') }),
  fc.string(),
  // lone and paired UTF-16 surrogates (unit 'binary' only yields well-formed strings)
  fc.string({ unit: fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uD83D', '\uDE00', 'a', '*', '%') }),
);
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
const entityName = fc.oneof(fc.constantFrom('jobs', 'contacts', 'estimates'), fc.string({ minLength: 1 }));
const paramValue = fc.oneof(
  userString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.date(),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 4 }),
  fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer()), { maxKeys: 4 }),
);
const params = fc.dictionary(userString, paramValue, { maxKeys: 8 });

/** Same params with keys inserted in another order. */
function shuffled(p: Record<string, unknown>, seed: number): Record<string, unknown> {
  const keys = Object.keys(p);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = (seed + i * 7919) % (i + 1);
    [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) Object.defineProperty(out, k, { value: p[k], enumerable: true, writable: true, configurable: true });
  return out;
}

describe('KeyBuilder properties', () => {
  it('never throws for valid entity/operation and arbitrary string or params identifiers', () => {
    fc.assert(
      fc.property(entityName, entityName, fc.oneof(userString, params, fc.integer(), fc.array(paramValue)), (e, o, id) => {
        const key = kb.build(e, o, id as never);
        expect(typeof key).toBe('string');
        expect(key.startsWith('crm:')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('build is independent of params key order', () => {
    fc.assert(
      fc.property(fc.constantFrom(['jobs', 'list'], ['contacts', 'search']), params, fc.nat(), ([e, o], p, seed) => {
        expect(kb.build(e, o, shuffled(p, seed))).toBe(kb.build(e, o, p));
      }),
      { numRuns: 300 },
    );
  });

  it('built keys contain no raw glob character outside the prefix, and no hash-tag brace', () => {
    fc.assert(
      fc.property(entityName, entityName, fc.oneof(userString, params), (e, o, id) => {
        const key = kb.build(e, o, id as never);
        expect(/[*?[\]\\{}]/.test(key)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('a built key matches only its own exact glob (user input can never widen a pattern)', () => {
    fc.assert(
      fc.property(entityName, entityName, userString, userString, (e, o, a, b) => {
        const ka = kb.build(e, o, a);
        const kbb = kb.build(e, o, b);
        // keys are glob-literal, so a key is its own exact glob
        expect(globMatch(ka, ka)).toBe(true);
        expect(globMatch(ka, kbb)).toBe(ka === kbb);
        expect(ka === kbb).toBe(a === b);
        // a prefix glob built from escaped user input only matches keys whose identifier starts with that input
        fc.pre(kb.escape(b).length <= 100); // not hashed: the whole identifier is readable
        // a lone high surrogate at the end of `a` is escaped, but not when `b` continues it into a pair
        fc.pre(isWellFormed(a));
        const glob = kb.pattern(e, o, `${kb.escape(a)}*`);
        expect(globMatch(glob, kbb)).toBe(b.startsWith(a) || kbb === ka);
      }),
      { numRuns: 500 },
    );
  });

  it('entity/operation from user input only match their own namespace pattern', () => {
    fc.assert(
      fc.property(userString.filter((s) => s.length > 0), userString.filter((s) => s.length > 0), (e1, e2) => {
        const k2 = kb.build(e2, 'list', 1);
        expect(globMatch(kb.pattern(e1), k2)).toBe(e1 === e2);
        expect(globMatch(kb.pattern(e1, 'list'), k2)).toBe(e1 === e2);
      }),
      { numRuns: 300 },
    );
  });

  it('parse(build(x)) round-trips', () => {
    fc.assert(
      fc.property(entityName, entityName, userString, (e, o, id) => {
        const key = kb.build(e, o, id);
        const p = kb.parse(key);
        expect(p).toBeDefined();
        expect(p!.prefix).toBe('crm');
        expect(p!.entity).toBe(e);
        expect(p!.operation).toBe(o);
        if (!p!.hashed) expect(p!.identifier).toBe(id);
        expect(`crm:${kb.escape(p!.entity)}:${kb.escape(p!.operation)}:${p!.rawIdentifier}`).toBe(key);
      }),
      { numRuns: 500 },
    );
  });

  it('escape is reversible and produces no special character', () => {
    fc.assert(
      fc.property(userString, (s) => {
        const esc = kb.escape(s);
        expect(unescapeKeyPart(esc)).toBe(s);
        expect(/[:*?[\]\\{}]/.test(esc)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('long identifiers: bounded length, deterministic, distinct inputs give distinct keys', () => {
    fc.assert(
      fc.property(userString, userString, (a, b) => {
        const ka = short.build('e', 'o', a);
        const kb2 = short.build('e', 'o', b);
        expect(short.parse(ka)!.rawIdentifier.length).toBeLessThanOrEqual(32);
        expect(short.build('e', 'o', a)).toBe(ka);
        if (a !== b) expect(ka).not.toBe(kb2);
      }),
      { numRuns: 500 },
    );
  });

  it('parse never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(userString, userString.map((s) => `crm:${s}`)), (s) => {
        const p = kb.parse(s);
        if (p) expect(s.startsWith('crm:')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
