import { describe, expect, it } from 'vitest';
import { CacheOptionsError } from '../src/errors';
import { KeyBuilder, KeyError, escapeKeyPart, globLiteralPrefix, globMatch, unescapeKeyPart } from '../src/key-builder';

const kb = new KeyBuilder({
  prefix: 'crm',
  defaults: { 'jobs:list': { status: 'all', type: 'all', offset: 0, limit: 100 } },
});

describe('KeyBuilder.build', () => {
  it('builds {prefix}:{entity}:{operation}:{identifier}', () => {
    expect(kb.build('jobs', 'detail', 42)).toBe('crm:jobs:detail:42');
    expect(kb.build('jobs', 'detail', 'J-100')).toBe('crm:jobs:detail:J-100');
    expect(kb.prefix).toBe('crm');
  });

  it('fills defaults positionally, in declaration order (all:all:0:100)', () => {
    expect(kb.build('jobs', 'list')).toBe('crm:jobs:list:all:all:0:100');
    expect(kb.build('jobs', 'list', {})).toBe('crm:jobs:list:all:all:0:100');
    expect(kb.build('jobs', 'list', { limit: 100, status: 'all' })).toBe('crm:jobs:list:all:all:0:100');
    expect(kb.build('jobs', 'list', { status: 'open', limit: 20 })).toBe('crm:jobs:list:open:all:0:20');
    expect(kb.build('jobs', 'list', { status: undefined })).toBe('crm:jobs:list:all:all:0:100');
  });

  it('is independent of params key order; extra params are sorted key=value', () => {
    const a = kb.build('jobs', 'list', { q: 'leak', status: 'open', assignee: 7 });
    const b = kb.build('jobs', 'list', { assignee: 7, status: 'open', q: 'leak' });
    expect(a).toBe(b);
    expect(a).toBe('crm:jobs:list:open:all:0:100:assignee=7:q=leak');
    expect(kb.build('contacts', 'search', { b: 2, a: 1 })).toBe('crm:contacts:search:a=1:b=2');
  });

  it('undefined means "not given", null is kept as ~n, strings and numbers normalise alike', () => {
    expect(kb.build('c', 'o', { a: undefined, b: 1 })).toBe('crm:c:o:b=1');
    expect(kb.build('c', 'o', { a: null })).toBe('crm:c:o:a=~n');
    expect(kb.build('c', 'o', { a: 'null' })).toBe('crm:c:o:a=null');
    expect(kb.build('c', 'o', { n: 1 })).toBe(kb.build('c', 'o', { n: '1' }));
    expect(kb.build('c', 'o', { n: -0 })).toBe('crm:c:o:n=0');
    expect(kb.build('c', 'o', { t: true })).toBe('crm:c:o:t=true');
    expect(kb.build('c', 'o', { id: 9007199254740993n })).toBe('crm:c:o:id=9007199254740993');
  });

  it('serialises nested values stably', () => {
    expect(kb.build('c', 'o', { f: { z: 1, a: [1, 'x'] } })).toBe('crm:c:o:f=(a=(1,x),z=1)');
    expect(kb.build('c', 'o', { f: { a: [1, 'x'], z: 1 } })).toBe('crm:c:o:f=(a=(1,x),z=1)');
    expect(kb.build('c', 'o', { s: new Set(['b', 'a']) })).toBe('crm:c:o:s=(a,b)');
    expect(kb.build('c', 'o', { d: new Date('2024-01-02T03:04:05.000Z') })).toBe('crm:c:o:d=2024-01-02T03%3A04%3A05.000Z');
    expect(kb.build('c', 'o', { e: {}, a: [] })).toBe('crm:c:o:a=():e=(=)');
    expect(kb.build('c', 'o', { b: Buffer.from([1, 255]) })).toBe('crm:c:o:b=~x01ff');
    expect(kb.build('c', 'o', { a: [undefined, null] })).toBe('crm:c:o:a=(~u,~n)');
    expect(kb.build('c', 'o', ['open', 20])).toBe('crm:c:o:open:20');
    expect(kb.build('c', 'o', new Map([['b', 1], ['a', 2]]) as never)).toBe('crm:c:o:a=2:b=1');
  });

  it('escapes separators and glob characters in every part', () => {
    expect(kb.build('jobs', 'detail', 'a:b*c?[d]\\e')).toBe('crm:jobs:detail:a%3Ab%2Ac%3F%5Bd%5D%5Ce');
    expect(kb.build('a:b', 'c*', 'x')).toBe('crm:a%3Ab:c%2A:x');
    expect(kb.build('c', 'o', { 'k=v': 'x,y' })).toBe('crm:c:o:k%3Dv=x%2Cy');
    expect(kb.build('c', 'o', '{tag}')).toBe('crm:c:o:%7Btag%7D');
    expect(kb.build('c', 'o', '100%')).toBe('crm:c:o:100%25');
  });

  it('hashes long identifiers, keeping a readable head, deterministically', () => {
    const long = 'x'.repeat(500);
    const key = kb.build('docs', 'get', long);
    const id = key.slice('crm:docs:get:'.length);
    expect(id.length).toBeLessThanOrEqual(128);
    expect(id.startsWith('x'.repeat(100))).toBe(true);
    expect(id).toMatch(/~h[A-Za-z0-9_-]{22}$/);
    expect(kb.build('docs', 'get', long)).toBe(key);
    expect(new KeyBuilder({ prefix: 'crm' }).build('docs', 'get', long)).toBe(key);
    expect(kb.build('docs', 'get', `${long}y`)).not.toBe(key);
    expect(kb.parse(key)?.hashed).toBe(true);
    expect(kb.parse(kb.build('docs', 'get', 'short'))?.hashed).toBe(false);
    // the head never ends in half an escape sequence
    const esc = new KeyBuilder({ prefix: 'p', maxIdentifierLength: 40 });
    for (let pad = 0; pad < 5; pad++) {
      const k = esc.build('e', 'o', `${'a'.repeat(pad)}${'*'.repeat(60)}`);
      const raw = esc.parse(k)!.rawIdentifier;
      expect(raw.length).toBeLessThanOrEqual(40);
      expect(raw.replace(/~h[A-Za-z0-9_-]{22}$/, '')).toMatch(/^a*(%2A)*$/);
    }
    const off = new KeyBuilder({ prefix: 'p', maxIdentifierLength: Infinity });
    expect(off.build('e', 'o', long)).toBe(`p:e:o:${long}`);
  });

  it('throws KeyError for empty or non-string entity/operation and unsupported values', () => {
    for (const [e, o] of [
      ['', 'list'],
      ['jobs', ''],
      [undefined, 'list'],
      ['jobs', 5],
      [null, null],
    ] as [unknown, unknown][]) {
      expect(() => kb.build(e as string, o as string)).toThrow(KeyError);
    }
    try {
      kb.build('', 'x');
    } catch (err) {
      expect((err as KeyError).code).toBe('E_CACHE_KEY');
      expect((err as Error).message).toMatch(/entity must be a non-empty string/);
    }
    expect(() => kb.build('c', 'o', { f: () => 1 })).toThrow(KeyError);
    expect(() => kb.build('c', 'o', { s: Symbol('x') })).toThrow(KeyError);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    expect(() => kb.build('c', 'o', cyc)).toThrow(/circular/);
    // the same object twice is not a cycle
    const shared = { a: 1 };
    expect(kb.build('c', 'o', { x: shared, y: shared })).toBe('crm:c:o:x=(a=1):y=(a=1)');
  });
});

describe('KeyBuilder other methods', () => {
  it('namespace()', () => {
    expect(kb.namespace('jobs')).toBe('crm:jobs');
    expect(kb.namespace('jobs', 'list')).toBe('crm:jobs:list');
    expect(kb.namespace('a*', 'b?')).toBe('crm:a%2A:b%3F');
    expect(() => kb.namespace('')).toThrow(KeyError);
  });

  it('pattern()', () => {
    expect(kb.pattern()).toBe('crm:*');
    expect(kb.pattern('jobs')).toBe('crm:jobs:*');
    expect(kb.pattern('jobs', 'list')).toBe('crm:jobs:list:*');
    expect(kb.pattern(undefined, 'list')).toBe('crm:*:list:*');
    expect(kb.pattern('jobs', undefined, 'open:*')).toBe('crm:jobs:*:open:*');
    expect(kb.pattern('jobs', 'list', `${kb.escape('op*n')}:*`)).toBe('crm:jobs:list:op%2An:*');
    expect(kb.pattern('*')).toBe('crm:%2A:*');
    const keys = [kb.build('jobs', 'list'), kb.build('jobs', 'detail', 1), kb.build('jobsx', 'list'), kb.build('contacts', 'list')];
    expect(keys.filter((k) => globMatch(kb.pattern('jobs'), k))).toEqual([keys[0], keys[1]]);
    expect(keys.filter((k) => globMatch(kb.pattern('jobs', 'list'), k))).toEqual([keys[0]]);
    expect(keys.filter((k) => globMatch(kb.pattern(undefined, 'list'), k))).toEqual([keys[0], keys[2], keys[3]]);
  });

  it('parse() reverses build()', () => {
    expect(kb.parse('crm:jobs:list:all:all:0:100')).toEqual({
      prefix: 'crm',
      entity: 'jobs',
      operation: 'list',
      identifier: 'all:all:0:100',
      rawIdentifier: 'all:all:0:100',
      hashed: false,
    });
    const k = kb.build('a:b', 'c*d', 'x:y%z');
    expect(kb.parse(k)).toMatchObject({ entity: 'a:b', operation: 'c*d', identifier: 'x:y%z' });
    expect(kb.parse(kb.build('e', 'o'))).toMatchObject({ identifier: '' });
    for (const bad of ['other:jobs:list:1', 'crm:jobs', 'crm:jobs:', 'crm::x:1', 'crm', '', 'crm:jobs:list']) {
      expect(kb.parse(bad)).toBeUndefined();
    }
    expect(kb.parse(42 as unknown as string)).toBeUndefined();
    expect(kb.parse('crm:a%ZZ:b:%')).toMatchObject({ entity: 'a%ZZ', identifier: '%' });
  });

  it('prefix with a colon works', () => {
    const v = new KeyBuilder({ prefix: 'app:v2' });
    const k = v.build('jobs', 'detail', 7);
    expect(k).toBe('app:v2:jobs:detail:7');
    expect(v.parse(k)).toMatchObject({ prefix: 'app:v2', entity: 'jobs', operation: 'detail', identifier: '7' });
  });

  it('escape / unescape', () => {
    expect(kb.escape('a*b?c[d]e\\f:g{h}%')).toBe('a%2Ab%3Fc%5Bd%5De%5Cf%3Ag%7Bh%7D%25');
    expect(unescapeKeyPart(escapeKeyPart('\u0000\u001f\u007f~=,()'))).toBe('\u0000\u001f\u007f~=,()');
    expect(escapeKeyPart('a\uD800b')).toBe('a%uD800b');
    expect(unescapeKeyPart('a%uD800b')).toBe('a\uD800b');
    expect(escapeKeyPart('😀 é')).toBe('😀 é');
    expect(() => kb.escape(1 as unknown as string)).toThrow(KeyError);
  });

  it('validates options', () => {
    for (const bad of [
      {},
      { prefix: '' },
      { prefix: 'a*' },
      { prefix: 'a[b]' },
      { prefix: ':a' },
      { prefix: 'a:' },
      { prefix: 'a', separator: '/' },
      { prefix: 'a', maxIdentifierLength: 10 },
      { prefix: 'a', maxIdentifierLength: 50.5 },
      { prefix: 'a', defaults: { jobs: {} } },
      { prefix: 'a', defaults: { 'jobs:list': 5 } },
      null,
    ]) {
      expect(() => new KeyBuilder(bad as never)).toThrow(CacheOptionsError);
    }
  });
});

describe('globMatch (Redis semantics)', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything:at:all', true],
    ['a*', 'abc', true],
    ['a*', 'bac', false],
    ['*c', 'abc', true],
    ['a*c', 'ac', true],
    ['a*c', 'abxc', true],
    ['a*c', 'abxcd', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['[abc]x', 'bx', true],
    ['[abc]x', 'dx', false],
    ['[^abc]x', 'dx', true],
    ['[^abc]x', 'ax', false],
    ['[a-c]', 'b', true],
    ['[c-a]', 'b', true],
    ['[a-c]', 'd', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['[\\]]', ']', true],
    ['ab\\', 'ab\\', true],
    ['a[bc', 'ab', true],
    ['crm:jobs:*', 'crm:jobs:list:1', true],
    ['crm:jobs:*', 'crm:jobsx:list:1', false],
    ['*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000), false],
  ])('%j vs %j -> %s', (p, s, m) => {
    expect(globMatch(p, s)).toBe(m);
  });

  it('globLiteralPrefix', () => {
    expect(globLiteralPrefix('query:*')).toBe('query:');
    expect(globLiteralPrefix('a\\*b*')).toBe('a*b');
    expect(globLiteralPrefix('[ab]c')).toBe('');
    expect(globLiteralPrefix('plain')).toBe('plain');
  });
});
