import { afterEach, describe, expect, it } from 'vitest';
import { Cached, CacheService, InvalidateCache, WarmUp, cached, setDefaultCache, warmUp } from '../src/index';

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

    const before = (await cache.store.has(cache.keys.build('jobs', 'detail', 1)));
    await expect(svc.failingWrite()).rejects.toThrow('write failed');
    expect(await cache.store.has(cache.keys.build('jobs', 'detail', 1))).toBe(before); // nothing invalidated on failure
  });

  it('decorator options are validated eagerly', () => {
    expect(() => Cached({} as never)).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
    expect(() => InvalidateCache({})).toThrowError(expect.objectContaining({ code: 'E_CACHE_OPTIONS' }));
  });
});
