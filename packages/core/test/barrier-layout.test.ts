import { startStandalone } from '@stratacache/redis-harness';
import { describe, expect, it } from 'vitest';
import { BarrierLayout, maxOverCopies } from '../src/barrier-layout';
import { CacheOptionsError, CacheService } from '../src/index';
import { keySlot } from '../src/node-breakers';

const third = (k: string) => Math.floor((keySlot(k) * 3) / 16_384);

describe('BarrierLayout (barrier copies on a Cluster)', () => {
  it('one copy: the barrier keys as before', () => {
    const l = new BarrierLayout(1);
    expect(l.ns('sc:', 'jobs', undefined)).toEqual(['sc:__ns:{jobs}']);
    expect(l.ns('sc:', 'jobs', 'list')).toEqual(['sc:__ns:{jobs}:list']);
    expect(l.tag('sc:', 'user:1')).toEqual(['sc:__tag:user:1']);
  });

  it('three copies: copy 0 is the old key; the copies sit in three different thirds of the slots; deterministic', () => {
    const l = new BarrierLayout(3);
    for (let e = 0; e < 200; e++) {
      const entity = `e${e}`;
      const ent = l.ns('sc:', entity, undefined);
      const op = l.ns('sc:', entity, 'list');
      expect(ent[0]).toBe(`sc:__ns:{${entity}}`);
      expect(op[0]).toBe(`sc:__ns:{${entity}}:list`);
      expect(new Set(ent.map(third)).size).toBe(3);
      // an operation barrier shares its copy's slot with the entity barrier (one MGET per copy)
      expect(op.map(keySlot)).toEqual(ent.map(keySlot));
      // the keys depend only on the entity: another instance computes the same ones
      expect(new BarrierLayout(3).ns('sc:', entity, 'list')).toEqual(op);
      const tag = l.tag('sc:', `t${e}`);
      expect(tag[0]).toBe(`sc:__tag:t${e}`);
      expect(new Set(tag.map(third)).size).toBe(3);
    }
  });

  it('a copy can never be another barrier: copies have their own key kind', () => {
    const l = new BarrierLayout(3);
    const keys = new Set<string>();
    for (const entity of ['a', 'a~1', '0~a', 'b']) for (const k of l.ns('sc:', entity, undefined)) keys.add(k);
    expect(keys.size).toBe(12);
    for (const k of l.ns('sc:', 'a', undefined).slice(1)) expect(k).toMatch(/^sc:__ns\.[12]:\{\d+~a\}$/);
  });

  it('a hash tag in the prefix fixes the slot: the copies are left out', () => {
    const l = new BarrierLayout(3);
    expect(l.ns('{app}:', 'jobs', undefined)).toEqual(['{app}:__ns:{jobs}']);
    expect(l.tag('sc:', '{x}')).toEqual(['sc:__tag:{x}']);
  });

  it('maxOverCopies: the max over the copies that were read; Infinity when none was', () => {
    const vals = new Map([
      ['a0', 5],
      ['a1', 9],
      ['b0', 7],
    ]);
    const get = (k: string) => vals.get(k);
    expect(maxOverCopies([['a0', 'a1'], ['b0', 'b1']], get)).toBe(9); // copy b incomplete: not counted
    expect(maxOverCopies([['b0'], ['x']], get)).toBe(7);
    expect(maxOverCopies([['x'], ['y']], get)).toBe(Infinity);
  });
});

describe('clusterBarrierCopies', () => {
  it('is validated, and ignored on a standalone Redis (one barrier key per namespace)', async () => {
    expect(() => new CacheService({ clusterBarrierCopies: 0 })).toThrow(CacheOptionsError);
    expect(() => new CacheService({ clusterBarrierCopies: 1.5 })).toThrow(CacheOptionsError);
    const server = await startStandalone();
    const cache = new CacheService({ redis: server.url, prefix: 'bl', clusterBarrierCopies: 3 });
    try {
      await cache.set(cache.keys.build('jobs', 'list', 1), 1);
      expect((await cache.invalidateNamespace('jobs')).ok).toBe(true);
      const keys = (await server.cli('KEYS', 'bl:__*')).split('\n').filter(Boolean);
      expect(keys).toEqual(['bl:__ns:{jobs}']);
      expect(await cache.get(cache.keys.build('jobs', 'list', 1))).toBeUndefined();
    } finally {
      await cache.close();
      await server.close();
    }
  });
});
