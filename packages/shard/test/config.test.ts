import { describe, expect, it } from 'vitest';
import {
  ShardConfigError,
  createRedisConnection,
  describeConnection,
  redactUrl,
  validateConnectionConfig,
} from '../src/index';

function err(fn: () => unknown): ShardConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ShardConfigError);
    return e as ShardConfigError;
  }
  throw new Error('expected a ShardConfigError');
}

describe('redactUrl', () => {
  it.each([
    ['redis://user:s3cret@host:6379/0', 'redis://user:***@host:6379/0'],
    ['rediss://:s3cret@host', 'rediss://:***@host'],
    ['redis://s3cret@host', 'redis://***@host'],
    ['redis://host:6379', 'redis://host:6379'],
    ['redis://u:p@ss@host/1', 'redis://u:***@host/1'],
    ['redis://host?password=s3cret&db=1', 'redis://host?password=***&db=1'],
    ['not a url u:s3cret@x', 'not a url u:***@x'],
  ])('%s -> %s', (input, out) => {
    expect(redactUrl(input)).toBe(out);
  });
});

describe('validateConnectionConfig', () => {
  it('accepts every form', () => {
    expect(validateConnectionConfig({ url: 'redis://localhost:6380/2' })).toBe('url');
    expect(validateConnectionConfig({ url: 'rediss://h:6380', tls: { ca: 'PEM', servername: 'h', rejectUnauthorized: true } })).toBe('url');
    expect(validateConnectionConfig({ cluster: { nodes: ['127.0.0.1:7000', { host: '127.0.0.1', port: 7001 }, 'redis://h:7002'], scaleReads: 'slave' } })).toBe('cluster');
    expect(validateConnectionConfig({ sentinel: { sentinels: ['127.0.0.1:26379'], name: 'mymaster', role: 'slave' } })).toBe('sentinel');
    expect(validateConnectionConfig({ memory: true })).toBe('memory');
  });

  it('malformed URL: code, reason, path, and no password in the message', () => {
    const e = err(() => validateConnectionConfig({ url: 'redis://user:hunter2@:::bad' }, 'shards.stamford'));
    expect(e.code).toBe('E_SHARD_CONFIG');
    expect(e.reason).toBe('malformed-url');
    expect(e.path).toBe('shards.stamford.url');
    expect(e.message).not.toContain('hunter2');
    expect(e.message).toContain('user:***@');
    expect(e.cause).toBeUndefined();
  });

  it('unknown scheme is rejected with a hint and redacted', () => {
    const e = err(() => validateConnectionConfig({ url: 'http://admin:hunter2@h:80' }));
    expect(e.reason).toBe('unknown-scheme');
    expect(e.message).toMatch(/redis:\/\/ or rediss:\/\//);
    expect(e.message).not.toContain('hunter2');
  });

  it('non-numeric db path is malformed', () => {
    expect(err(() => validateConnectionConfig({ url: 'redis://h/abc' })).reason).toBe('malformed-url');
  });

  it('both url and cluster -> conflicting-options', () => {
    const e = err(() => validateConnectionConfig({ url: 'redis://h', cluster: { nodes: ['h:1'] } }));
    expect(e.reason).toBe('conflicting-options');
    expect(e.message).toMatch(/"url" and "cluster"/);
  });

  it('nothing given -> missing-option; non-object -> invalid-option', () => {
    expect(err(() => validateConnectionConfig({})).reason).toBe('missing-option');
    expect(err(() => validateConnectionConfig('redis://h')).reason).toBe('invalid-option');
  });

  it('cluster: empty nodes, bad node, bad scaleReads', () => {
    expect(err(() => validateConnectionConfig({ cluster: { nodes: [] } })).path).toBe('connection.cluster.nodes');
    expect(err(() => validateConnectionConfig({ cluster: { nodes: ['h:99999'] } })).reason).toBe('invalid-option');
    expect(err(() => validateConnectionConfig({ cluster: { nodes: ['h:1 2'] } })).reason).toBe('malformed-url');
    expect(err(() => validateConnectionConfig({ cluster: { nodes: ['h:1'], scaleReads: 'replica' } })).path).toBe('connection.cluster.scaleReads');
  });

  it('sentinel: missing name, bad role, no sentinels', () => {
    expect(err(() => validateConnectionConfig({ sentinel: { sentinels: ['h:26379'] } })).path).toBe('connection.sentinel.name');
    expect(err(() => validateConnectionConfig({ sentinel: { sentinels: ['h:26379'], name: 'm', role: 'replica' } })).reason).toBe('invalid-option');
    expect(err(() => validateConnectionConfig({ sentinel: { sentinels: [], name: 'm' } })).reason).toBe('missing-option');
  });

  it('tls: only with rediss://, known keys only, cert needs key', () => {
    expect(err(() => validateConnectionConfig({ url: 'redis://h', tls: {} })).reason).toBe('conflicting-options');
    expect(err(() => validateConnectionConfig({ url: 'rediss://h', tls: { verify: false } })).path).toBe('connection.tls.verify');
    expect(err(() => validateConnectionConfig({ url: 'rediss://h', tls: { cert: 'x' } })).reason).toBe('missing-option');
    expect(err(() => validateConnectionConfig({ url: 'rediss://h', tls: { rejectUnauthorized: 'no' } })).reason).toBe('invalid-option');
  });

  it('memory must be true; client must look like ioredis', () => {
    expect(err(() => validateConnectionConfig({ memory: 'yes' })).reason).toBe('invalid-option');
    expect(err(() => validateConnectionConfig({ client: {} })).path).toBe('connection.client');
  });
});

describe('describeConnection', () => {
  it('never shows passwords', () => {
    expect(describeConnection({ url: 'redis://u:pw@h:1/0' })).toBe('redis://u:***@h:1/0');
    expect(describeConnection({ cluster: { nodes: ['a:1', { host: 'b', port: 2 }] } })).toBe('cluster(a:1,b:2)');
    expect(describeConnection({ sentinel: { sentinels: ['s:26379'], name: 'm', password: 'pw' } })).toBe('sentinel(m@s:26379)');
    expect(describeConnection({ memory: true })).toBe('memory');
  });
});

describe('createRedisConnection', () => {
  it('builds lazy clients of the right kind with fast-failover settings and TLS', async () => {
    const r = createRedisConnection({ url: 'rediss://u:pw@example.invalid:6380/3', tls: { ca: 'CA', rejectUnauthorized: false } }, { lazyConnect: true });
    expect(r.options.tls).toMatchObject({ ca: 'CA', rejectUnauthorized: false, servername: 'example.invalid' });
    expect(r.options.db).toBe(3);
    expect(r.options.maxRetriesPerRequest).toBe(1);
    r.disconnect();

    const c = createRedisConnection({ cluster: { nodes: ['127.0.0.1:1'], scaleReads: 'slave', redisOptions: { password: 'pw' } } }, { lazyConnect: true });
    expect(c.isCluster).toBe(true);
    const co = c.options;
    expect(co.scaleReads).toBe('slave');
    expect(co.retryDelayOnFailover).toBe(100);
    expect(co.retryDelayOnClusterDown).toBe(100);
    expect(co.slotsRefreshTimeout).toBe(1000);
    expect(co.redisOptions?.password).toBe('pw');
    c.disconnect();

    const s = createRedisConnection({ sentinel: { sentinels: ['127.0.0.1:1'], name: 'mymaster', role: 'slave' } }, { lazyConnect: true });
    expect(s.options.name).toBe('mymaster');
    expect(s.options.role).toBe('slave');
    expect((s.options as { failoverDetector?: boolean }).failoverDetector).toBe(true);
    expect(typeof s.options.sentinelRetryStrategy).toBe('function');
    s.disconnect();
  });

  it('rejects memory configs and invalid configs', () => {
    expect(() => createRedisConnection({ memory: true } as never)).toThrow(ShardConfigError);
    expect(() => createRedisConnection({ url: 'mongodb://h' })).toThrow(/unsupported scheme/);
  });
});
