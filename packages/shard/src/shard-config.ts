import type { ClusterOptions, Cluster, Redis, RedisOptions } from 'ioredis';
import { ShardConfigError } from './errors';
import { redactUrl } from './redact';

/** TLS settings for `rediss://` URLs, Cluster nodes and Sentinel-managed servers. */
export interface ShardTlsConfig {
  /** Trusted CA certificate(s), PEM. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate (mutual TLS), PEM. */
  cert?: string | Buffer;
  /** Client private key (mutual TLS), PEM. */
  key?: string | Buffer;
  /** SNI server name; defaults to the host name. */
  servername?: string;
  /** Verify the server certificate. Default `true`; set `false` only for local testing. */
  rejectUnauthorized?: boolean;
}

/** A `host:port` string or `{ host, port }`. */
export type HostPort = string | { host: string; port: number };

/** Standalone Redis given by URL: `redis://[user:pass@]host[:port][/db]` or `rediss://…` (TLS). */
export interface UrlConnectionConfig {
  url: string;
  /** TLS options; only allowed with `rediss://`. */
  tls?: ShardTlsConfig;
  /** Extra ioredis options merged over the fast-fail defaults. */
  redisOptions?: RedisOptions;
}

/** Redis Cluster through ioredis `Cluster`. */
export interface ClusterConnectionConfig {
  cluster: {
    /** Startup nodes (any subset of the cluster): `'host:port'`, `redis://host:port` or `{ host, port }`. */
    nodes: HostPort[];
    /** Where reads go: `'master'` (default), `'slave'` or `'all'`. */
    scaleReads?: 'master' | 'slave' | 'all';
    /** Options for every node connection (password, username, tls, connectTimeout…). */
    redisOptions?: ClusterOptions['redisOptions'];
    /** TLS for every node connection (shortcut for `redisOptions.tls`). */
    tls?: ShardTlsConfig;
    /** Any other ioredis `ClusterOptions`, merged over the fast-failover defaults. */
    clusterOptions?: Omit<ClusterOptions, 'redisOptions' | 'scaleReads'>;
  };
}

/** A master/replica group monitored by Redis Sentinel, through ioredis' Sentinel support. */
export interface SentinelConnectionConfig {
  sentinel: {
    /** Sentinel addresses: `'host:port'` or `{ host, port }`. */
    sentinels: HostPort[];
    /** Master group name (`sentinel monitor <name> …`). */
    name: string;
    /** Connect to the master (default) or a replica. */
    role?: 'master' | 'slave';
    /** Password / ACL user of the Redis servers. */
    password?: string;
    username?: string;
    /** Password / ACL user of the Sentinels themselves. */
    sentinelPassword?: string;
    sentinelUsername?: string;
    db?: number;
    /** TLS to the Redis servers. */
    tls?: ShardTlsConfig;
    /** TLS to the Sentinels (sets `enableTLSForSentinelMode`). */
    sentinelTls?: ShardTlsConfig;
    /** Extra ioredis options merged over the fast-failover defaults. */
    redisOptions?: RedisOptions;
  };
}

/** Embedded in-process store (no Redis), the C9 default. */
export interface MemoryConnectionConfig {
  memory: true;
}

/** Bring your own ioredis client (the router will not close it unless `owned: true`). */
export interface ClientConnectionConfig {
  client: Redis | Cluster;
  /** Close the client on `router.close()`. Default `false`. */
  owned?: boolean;
}

/** One of the supported connection forms — exactly one of `url`, `cluster`, `sentinel`, `memory`, `client`. */
export type ConnectionConfig =
  | UrlConnectionConfig
  | ClusterConnectionConfig
  | SentinelConnectionConfig
  | MemoryConnectionConfig
  | ClientConnectionConfig;

/** The kind of a validated connection config. */
export type ConnectionKind = 'url' | 'cluster' | 'sentinel' | 'memory' | 'client';

const KINDS: readonly ConnectionKind[] = ['url', 'cluster', 'sentinel', 'memory', 'client'];

/** Accepts a string like `'host:port'` / `redis://host:port` or an object. */
export function parseHostPort(value: unknown, path: string): { host: string; port: number } {
  if (typeof value === 'string') {
    const s = value.trim();
    if (/^rediss?:\/\//i.test(s)) {
      const u = parseRedisUrl(s, path);
      return { host: u.hostname, port: u.port ? Number(u.port) : 6379 };
    }
    const m = /^(\[[^\]]+\]|[^:\s/]+)(?::(\d+))?$/.exec(s);
    if (!m) {
      throw new ShardConfigError('malformed-url', path, `expected "host:port", got "${redactUrl(s)}"`);
    }
    const port = m[2] === undefined ? 6379 : Number(m[2]);
    checkPort(port, path);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  }
  if (value && typeof value === 'object') {
    const o = value as { host?: unknown; port?: unknown };
    if (typeof o.host !== 'string' || o.host.length === 0) {
      throw new ShardConfigError('missing-option', `${path}.host`, 'host must be a non-empty string');
    }
    const port = o.port === undefined ? 6379 : o.port;
    if (typeof port !== 'number') {
      throw new ShardConfigError('invalid-option', `${path}.port`, 'port must be a number');
    }
    checkPort(port, `${path}.port`);
    return { host: o.host, port };
  }
  throw new ShardConfigError('invalid-option', path, 'expected "host:port" or { host, port }');
}

function checkPort(port: number, path: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ShardConfigError('invalid-option', path, `port must be an integer in 1..65535, got ${port}`);
  }
}

/** Parse and check a `redis://` / `rediss://` URL; errors are redacted. */
export function parseRedisUrl(url: string, path: string): URL {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new ShardConfigError('malformed-url', path, 'URL must be a non-empty string');
  }
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    // Never attach the URL TypeError as cause: its `input` property holds the raw (secret) URL.
    throw new ShardConfigError('malformed-url', path, `malformed Redis URL "${redactUrl(url)}"`);
  }
  const scheme = parsed.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') {
    throw new ShardConfigError(
      'unknown-scheme',
      path,
      `unsupported scheme "${scheme}:" in "${redactUrl(url)}" (expected redis:// or rediss://; use { cluster } or { sentinel } for those topologies)`,
    );
  }
  if (!parsed.hostname) {
    throw new ShardConfigError('malformed-url', path, `missing host in "${redactUrl(url)}"`);
  }
  if (parsed.port) checkPort(Number(parsed.port), path);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new ShardConfigError('malformed-url', path, `database must be a number, got "/${db}" in "${redactUrl(url)}"`);
  }
  return parsed;
}

function checkTls(tls: unknown, path: string): void {
  if (tls === undefined) return;
  if (!tls || typeof tls !== 'object' || Array.isArray(tls)) {
    throw new ShardConfigError('invalid-option', path, 'tls must be an object { ca, cert, key, servername, rejectUnauthorized }');
  }
  const allowed = new Set(['ca', 'cert', 'key', 'servername', 'rejectUnauthorized']);
  for (const k of Object.keys(tls)) {
    if (!allowed.has(k)) {
      throw new ShardConfigError('invalid-option', `${path}.${k}`, `unknown TLS option (allowed: ${[...allowed].join(', ')})`);
    }
  }
  const t = tls as ShardTlsConfig;
  if (t.rejectUnauthorized !== undefined && typeof t.rejectUnauthorized !== 'boolean') {
    throw new ShardConfigError('invalid-option', `${path}.rejectUnauthorized`, 'must be a boolean');
  }
  if (t.servername !== undefined && typeof t.servername !== 'string') {
    throw new ShardConfigError('invalid-option', `${path}.servername`, 'must be a string');
  }
  if ((t.cert === undefined) !== (t.key === undefined)) {
    throw new ShardConfigError('missing-option', path, 'cert and key must be given together (mutual TLS)');
  }
}

/**
 * Validate one connection config and return its kind. Throws {@link ShardConfigError}
 * (`E_SHARD_CONFIG`) with the option path and a redacted message.
 */
export function validateConnectionConfig(config: unknown, path = 'connection'): ConnectionKind {
  if (!config || typeof config !== 'object' || Array.isArray(config)) {
    throw new ShardConfigError(
      'invalid-option',
      path,
      'expected an object with one of: url, cluster, sentinel, memory, client',
    );
  }
  const c = config as Record<string, unknown>;
  const present = KINDS.filter((k) => c[k] !== undefined);
  if (present.length === 0) {
    throw new ShardConfigError('missing-option', path, 'give one of: url, cluster, sentinel, memory, client');
  }
  if (present.length > 1) {
    throw new ShardConfigError(
      'conflicting-options',
      path,
      `give exactly one of url / cluster / sentinel / memory / client, got both ${present.map((p) => `"${p}"`).join(' and ')}`,
    );
  }
  const kind = present[0]!;
  switch (kind) {
    case 'url': {
      const u = parseRedisUrl(c.url as string, `${path}.url`);
      if (c.tls !== undefined && u.protocol !== 'rediss:') {
        throw new ShardConfigError('conflicting-options', `${path}.tls`, `tls options need a rediss:// URL, got "${redactUrl(c.url as string)}"`);
      }
      checkTls(c.tls, `${path}.tls`);
      checkObject(c.redisOptions, `${path}.redisOptions`);
      break;
    }
    case 'cluster': {
      const cl = c.cluster as Record<string, unknown>;
      checkObject(cl, `${path}.cluster`);
      if (!Array.isArray(cl.nodes) || cl.nodes.length === 0) {
        throw new ShardConfigError('missing-option', `${path}.cluster.nodes`, 'a Cluster needs at least one startup node');
      }
      cl.nodes.forEach((n, i) => parseHostPort(n, `${path}.cluster.nodes[${i}]`));
      if (cl.scaleReads !== undefined && !['master', 'slave', 'all'].includes(cl.scaleReads as string)) {
        throw new ShardConfigError('invalid-option', `${path}.cluster.scaleReads`, `must be 'master', 'slave' or 'all', got ${JSON.stringify(cl.scaleReads)}`);
      }
      checkObject(cl.redisOptions, `${path}.cluster.redisOptions`);
      checkObject(cl.clusterOptions, `${path}.cluster.clusterOptions`);
      checkTls(cl.tls, `${path}.cluster.tls`);
      break;
    }
    case 'sentinel': {
      const s = c.sentinel as Record<string, unknown>;
      checkObject(s, `${path}.sentinel`);
      if (!Array.isArray(s.sentinels) || s.sentinels.length === 0) {
        throw new ShardConfigError('missing-option', `${path}.sentinel.sentinels`, 'at least one Sentinel address is needed');
      }
      s.sentinels.forEach((n, i) => parseHostPort(n, `${path}.sentinel.sentinels[${i}]`));
      if (typeof s.name !== 'string' || s.name.length === 0) {
        throw new ShardConfigError('missing-option', `${path}.sentinel.name`, 'the master group name is required');
      }
      if (s.role !== undefined && s.role !== 'master' && s.role !== 'slave') {
        throw new ShardConfigError('invalid-option', `${path}.sentinel.role`, `must be 'master' or 'slave', got ${JSON.stringify(s.role)}`);
      }
      if (s.db !== undefined && (!Number.isInteger(s.db) || (s.db as number) < 0)) {
        throw new ShardConfigError('invalid-option', `${path}.sentinel.db`, 'must be a non-negative integer');
      }
      checkTls(s.tls, `${path}.sentinel.tls`);
      checkTls(s.sentinelTls, `${path}.sentinel.sentinelTls`);
      checkObject(s.redisOptions, `${path}.sentinel.redisOptions`);
      break;
    }
    case 'memory':
      if (c.memory !== true) {
        throw new ShardConfigError('invalid-option', `${path}.memory`, 'must be true');
      }
      break;
    case 'client': {
      const cl = c.client as { get?: unknown; set?: unknown } | null;
      if (!cl || typeof cl !== 'object' || typeof cl.get !== 'function' || typeof cl.set !== 'function') {
        throw new ShardConfigError('invalid-option', `${path}.client`, 'must be an ioredis Redis or Cluster instance');
      }
      break;
    }
  }
  return kind;
}

function checkObject(v: unknown, path: string): void {
  if (v === undefined) return;
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw new ShardConfigError('invalid-option', path, 'must be an object');
  }
}

/** A human-readable, password-free description of a connection (for health output and logs). */
export function describeConnection(config: ConnectionConfig): string {
  if ('url' in config && config.url !== undefined) return redactUrl(config.url);
  if ('cluster' in config && config.cluster) {
    return `cluster(${config.cluster.nodes.map((n) => fmtHostPort(n)).join(',')})`;
  }
  if ('sentinel' in config && config.sentinel) {
    return `sentinel(${config.sentinel.name}@${config.sentinel.sentinels.map((n) => fmtHostPort(n)).join(',')}${config.sentinel.role === 'slave' ? ',slave' : ''})`;
  }
  if ('memory' in config) return 'memory';
  return 'client';
}

function fmtHostPort(n: HostPort): string {
  return typeof n === 'string' ? redactUrl(n) : `${n.host}:${n.port}`;
}
