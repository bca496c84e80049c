import { describe, expect, it } from 'vitest';
import { CacheService, DEFAULT_TTL_MS, parseNamespace } from '../src/index';

describe('parseNamespace (the one namespace-of-key parser)', () => {
  it('entity + operation, entity only, none', () => {
    expect(parseNamespace('sc:jobs:list:p=1', 'sc')).toEqual({ entity: 'jobs', operation: 'list' });
    expect(parseNamespace('sc:jobs:42', 'sc')).toEqual({ entity: 'jobs' });
    expect(parseNamespace('sc:jobs::x', 'sc')).toEqual({ entity: 'jobs' });
    expect(parseNamespace('sc:plain', 'sc')).toBeUndefined();
    expect(parseNamespace('sc::x:y', 'sc')).toBeUndefined();
    expect(parseNamespace('my:app:users:byId:7', 'my:app')).toEqual({ entity: 'users', operation: 'byId' });
  });

  it('is what CacheService groups stats by, and DEFAULT_TTL_MS is its default TTL', async () => {
    const cache = new CacheService({ prefix: 'nsp' });
    await cache.set('jobs:list:1', 1);
    await cache.get('jobs:list:1');
    expect(Object.keys(cache.stats().byNamespace)).toEqual(['jobs:list']);
    expect(cache.ttlPolicy.defaultTtlMs).toBe(DEFAULT_TTL_MS);
    await cache.close();
  });
});
