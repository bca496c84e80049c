import { afterEach, describe, expect, it } from 'vitest';
import { Cached, CacheService, InvalidateCache, WarmUp, cached, setDefaultCache, setWarmUpRegistry, warmUp } from '../src/index';
import type { CacheLayer, FactoryContext, GetOrSetOptions, InvalidateResult, InvalidateSpec, InvalidateTarget } from '../src/index';

describe('cached() and TS5 standard decorators (MemoryStore)', () => {
  const caches: CacheService[] = [];
  const make = () => {
    const c = new CacheService({ prefix: `dec${caches.length}` });
    caches.push(c);
    return c;
  };
  afterEach(async () => {
    setDefaultCache(undefined);
    for (const c of caches.splice(0)) await c.close();
  });

  it('cached() wraps a function: key from args, single-flight, this forwarded, errors not cached', async () => {
    const cache = make();
    let calls = 0;
    const repo = {
      base: 10,
      async load(id: number) {
        calls++;
        return { id, v: this.base + id };
      },
    };
    const load = cached(repo.load, { cache, key: (id) => ({ entity: 'things', operation: 'byId', params: id }), ttl: '1m', tags: (id) => [`thing:${id}`] });
    const bound = load.bind(repo);
    const [a, b] = await Promise.all([bound(1), bound(1)]);
    expect(a).toEqual({ id: 1, v: 11 });
    expect(b).toEqual(a);
    expect(await bound(1)).toEqual(a);
    expect(calls).toBe(1);
    expect(await cache.get(cache.keys.build('things', 'byId', 1))).toEqual(a);
    await cache.invalidateTag('thing:1');
    await bound(1);
    expect(calls).toBe(2);

    let fails = 0;
    const flaky = cached(
      async (x: string) => {
        if (fails++ === 0) throw new Error('first call fails');
        return x.toUpperCase();
      },
      { cache, key: (x) => `flaky:${x}` },
    );
    await expect(flaky('a')).rejects.toThrow('first call fails');
    expect(await flaky('a')).toBe('A');
  });

  it('cached() without a cache uses the default cache, or rejects with E_CACHE_NOT_CONFIGURED', async () => {
    const fn = cached(async (x: number) => x * 2, { key: (x) => `dbl:${x}` });
    await expect(fn(2)).rejects.toMatchObject({ code: 'E_CACHE_NOT_CONFIGURED' });
    const cache = make();
    setDefaultCache(cache);
    expect(await fn(2)).toBe(4);
    expect(await cache.get('dbl:2')).toBe(4);
  });

  it('@Cached, @InvalidateCache and @WarmUp', async () => {
    const cache = make();
    const calls: string[] = [];
    class JobsService {
      constructor(private readonly db: Map<number, string>) {}

      @Cached({ cache, entity: 'jobs', operation: 'list', ttl: '5m' })
      async list(params: { status?: string; page?: number }): Promise<string[]> {
        calls.push(`list:${JSON.stringify(params)}`);
        return [...this.db.values()].filter((v) => !params.status || v.startsWith(params.status));
      }

      @Cached({ cache: () => cache, entity: 'jobs', operation: 'detail', tags: (id: number) => [`job:${id}`] })
      async detail(id: number): Promise<string | null> {
        calls.push(`detail:${id}`);
        return this.db.get(id) ?? null;
      }

      @InvalidateCache({ cache, namespace: { entity: 'jobs', operation: 'list' }, tags: (id: number) => [`job:${id}`] })
      async update(id: number, value: string): Promise<void> {
        this.db.set(id, value);
      }

      @InvalidateCache({ cache, pattern: 'jobs:*' })
      async failingWrite(): Promise<void> {
        throw new Error('write failed');
      }

      @WarmUp
      async warmLists(): Promise<void> {
        await this.list({ status: 'open' });
      }

      @WarmUp
      async warmBroken(): Promise<void> {
        throw new Error('cannot warm');
      }
    }
    const svc = new JobsService(new Map([[1, 'open-a'], [2, 'closed-b']]));
    const report = await warmUp(svc);
    expect(report.ran).toEqual(['warmLists']);
    expect(report.failed.map((f) => f.method)).toEqual(['warmBroken']);
    expect(calls).toEqual(['list:{"status":"open"}']);

    expect(await svc.list({ status: 'open' })).toEqual(['open-a']); // warmed: hit
    expect(await svc.list({ page: 2, status: 'open' })).toEqual(['open-a']); // different params → miss
    expect(await svc.detail(1)).toBe('open-a');
    expect(await svc.detail(1)).toBe('open-a');
    expect(calls).toHaveLength(3);

    await svc.update(1, 'open-a2');
    expect(await svc.list({ status: 'open' })).toEqual(['open-a2']);
    expect(await svc.detail(1)).toBe('open-a2');
    expect(calls).toHaveLength(5);

    const stored = async () => (await cache.store.get(cache.keys.build('jobs', 'detail', 1))) !== undefined;
    const before = await stored();
    await expect(svc.failingWrite()).rejects.toThrow('write failed');
    expect(await stored()).toBe(before); // nothing invalidated on failure
  });

  it('cached() and the decorators accept any layer through CacheLayer (a TieredCache-shaped object)', async () => {
    // Shaped like TieredCache: no `keys`, relative keys get its own prefix, a richer factory context,
    // and `invalidate` takes exactly one target at a time.
    class TieredLike {
      readonly data = new Map<string, unknown>();
      readonly targets: InvalidateTarget[] = [];
      private full(key: string) {
        return key.startsWith('tier:') ? key : `tier:${key}`;
      }
      async getOrSet<T>(key: string, factory: (ctx: FactoryContext & { signal: AbortSignal; staleValue: T | undefined }) => T | Promise<T>, _opts?: GetOrSetOptions & { forceFresh?: boolean }): Promise<T> {
        const k = this.full(key);
        if (this.data.has(k)) return this.data.get(k) as T;
        const ctx = { key: k, signal: new AbortController().signal, staleValue: undefined, setTtl() {}, setTags() {}, skip: () => undefined as T };
        const v = await factory(ctx);
        this.data.set(k, v);
        return v;
      }
      async invalidate(target: InvalidateTarget): Promise<InvalidateResult> {
        if (Object.keys(target).length !== 1) throw new Error('exactly one target');
        this.targets.push(target);
        let deleted = 0;
        if (target.key !== undefined) deleted = this.data.delete(this.full(target.key)) ? 1 : 0;
        if (target.namespace !== undefined) {
          const p = `tier:${target.namespace.entity}:${target.namespace.operation ?? ''}`;
          for (const k of [...this.data.keys()]) if (k.startsWith(p)) deleted += this.data.delete(k) ? 1 : 0;
        }
        return { deleted, barriers: target.tag !== undefined || target.namespace !== undefined ? 1 : 0, ok: true };
      }
    }
    const tier = new TieredLike();
    const layer: CacheLayer = tier; // compile-time: the structural interface fits
    let calls = 0;
    const load = cached(async (id: number) => ({ id, n: ++calls }), { cache: layer, key: (id) => ({ entity: 'things', operation: 'byId', params: id }) });
    expect(await load(1)).toEqual({ id: 1, n: 1 });
    expect(await load(1)).toEqual({ id: 1, n: 1 });
    expect([...tier.data.keys()]).toEqual(['tier:things:byId:1']); // built relative to the layer's prefix

    setDefaultCache(tier);
    class Repo {
      @Cached({ entity: 'jobs', operation: 'detail' })
      async detail(id: number): Promise<string> {
        calls++;
        return `job-${id}`;
      }

      @InvalidateCache({ namespace: 'jobs:detail', tags: ['jobs'], keys: (id: number) => [`other:${id}`] })
      async update(_id: number): Promise<void> {}
    }
    const repo = new Repo();
    expect(await repo.detail(7)).toBe('job-7');
    expect(await repo.detail(7)).toBe('job-7');
    expect(calls).toBe(2);
    await repo.update(7);
    expect(tier.targets).toEqual([{ key: 'other:7' }, { tag: 'jobs' }, { namespace: { entity: 'jobs', operation: 'detail' } }]);
    expect(await repo.detail(7)).toBe('job-7');
    expect(calls).toBe(3);

    // the same decorators on a CacheService: one spec → the same single targets, same results
    const cache = make();
    const spy: InvalidateTarget[] = [];
    const real = cache.invalidate.bind(cache);
    cache.invalidate = (t: InvalidateSpec) => (spy.push(t as InvalidateTarget), real(t));
    setDefaultCache(cache);
    await repo.detail(8);
    await repo.update(8);
    expect(spy).toEqual([{ key: 'other:8' }, { tag: 'jobs' }, { namespace: { entity: 'jobs', operation: 'detail' } }]);
    expect(await cache.get(cache.keys.build('jobs', 'detail', 8))).toBeUndefined();
  });

  it('decorator options are validated eagerly', () => {
    expect(() => Cached({} as never)).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
    expect(() => InvalidateCache({})).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
  });
});

it('warmUp() hands @WarmUp methods to the registry installed with setWarmUpRegistry, and runs them itself once removed', async () => {
  const ran: string[] = [];
  class Svc {
    @WarmUp
    async a(): Promise<void> {
      ran.push('a');
    }
  }
  const seen: string[][] = [];
  const registry = async (_i: object, tasks: readonly { name: string; run: () => unknown }[]) => {
    seen.push(tasks.map((t) => t.name));
    for (const t of tasks) await t.run();
    return { ran: tasks.map((t) => `via:${t.name}`), failed: [] };
  };
  expect(setWarmUpRegistry(registry)).toBeUndefined();
  expect(await warmUp(new Svc())).toEqual({ ran: ['via:a'], failed: [] });
  expect(seen).toEqual([['a']]);
  expect(setWarmUpRegistry(undefined)).toBe(registry);
  expect(await warmUp(new Svc())).toEqual({ ran: ['a'], failed: [] });
  expect(ran).toEqual(['a', 'a']);
});
