import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import {
  parseHostPort,
  parseRedisUrl,
  validateConnectionConfig,
  type ClusterConnectionConfig,
  type SentinelConnectionConfig,
  type ShardTlsConfig,
  type UrlConnectionConfig,
} from './shard-config';
import { ShardConfigError } from './errors';

/** Connection configs that produce an ioredis client (everything but `memory` and `client`). */
export type RedisConnectionConfig = UrlConnectionConfig | ClusterConnectionConfig | SentinelConnectionConfig;

/** Options of {@link createRedisConnection}. */
export interface CreateConnectionOptions {
  /** Do not connect until the first command. Default `false`. */
  lazyConnect?: boolean;
  /** `CLIENT SETNAME` for every connection (shows in `CLIENT LIST`). */
  connectionName?: string;
}

/** Exponential backoff capped at `max` ms, used for reconnects. */
function backoff(base: number, max: number): (times: number) => number {
  return (times) => Math.min(base * 2 ** Math.min(times - 1, 10), max);
}

/**
 * ioredis options for a standalone / Sentinel-managed connection tuned for a cache: fail fast
 * (one retry per request, short connect timeout) and reconnect quickly. The cache layer adds
 * its own operation timeout and circuit breaker on top.
 */
export const FAST_FAIL_REDIS_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  connectTimeout: 2_000,
  maxRetriesPerRequest: 1,
  enableOfflineQueue: true,
  retryStrategy: backoff(50, 1_000),
});

/**
 * ioredis `ClusterOptions` tuned for fast failover: retry a command 100 ms after a
 * `CLUSTERDOWN`/closed connection (while a replica is being promoted), refresh the slot map
 * quickly and periodically so the promoted replica is found without waiting for a MOVED.
 */
export const FAST_FAILOVER_CLUSTER_OPTIONS: Readonly<ClusterOptions> = Object.freeze({
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  retryDelayOnTryAgain: 100,
  retryDelayOnMoved: 0,
  maxRedirections: 16,
  slotsRefreshTimeout: 1_000,
  slotsRefreshInterval: 2_000,
  enableOfflineQueue: true,
  clusterRetryStrategy: backoff(100, 1_000),
});

/** Options for Sentinel mode: retry Sentinels quickly and watch `+switch-master` (failoverDetector). */
export const FAST_FAILOVER_SENTINEL_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  ...FAST_FAIL_REDIS_OPTIONS,
  sentinelRetryStrategy: backoff(100, 1_000),
  failoverDetector: true,
  sentinelCommandTimeout: 1_000,
});

function toTls(tls: ShardTlsConfig | undefined, host?: string): ConnectionOptions | undefined {
  if (!tls) return undefined;
  const out: ConnectionOptions = {};
  if (tls.ca !== undefined) out.ca = tls.ca;
  if (tls.cert !== undefined) out.cert = tls.cert;
  if (tls.key !== undefined) out.key = tls.key;
  // SNI must be a host name: never default it to an IP address (RFC 6066).
  const servername = tls.servername ?? (host !== undefined && isIP(host.replace(/^\[|\]$/g, '')) === 0 ? host : undefined);
  if (servername !== undefined) out.servername = servername;
  if (tls.rejectUnauthorized !== undefined) out.rejectUnauthorized = tls.rejectUnauthorized;
  return out;
}

/**
 * Build an ioredis client from a validated connection config:
 * - `{ url }` -> `new Redis(url)` (`rediss://` enables TLS with the given `tls` options),
 * - `{ cluster: { nodes, scaleReads, redisOptions } }` -> `new Cluster(nodes, …)`,
 * - `{ sentinel: { sentinels, name, role } }` -> `new Redis({ sentinels, name, role, … })`.
 *
 * Replication and failover are ioredis' and Redis' own (Cluster slot refresh, Sentinel
 * `+switch-master`); the factory only picks settings that make failover fast.
 * Throws {@link ShardConfigError} (`E_SHARD_CONFIG`) for an invalid config.
 */
export function createRedisConnection(config: ClusterConnectionConfig, options?: CreateConnectionOptions): Cluster;
export function createRedisConnection(config: UrlConnectionConfig | SentinelConnectionConfig, options?: CreateConnectionOptions): Redis;
export function createRedisConnection(config: RedisConnectionConfig, options?: CreateConnectionOptions): Redis | Cluster;
export function createRedisConnection(config: RedisConnectionConfig, options: CreateConnectionOptions = {}): Redis | Cluster {
  const kind = validateConnectionConfig(config);
  const common: RedisOptions = {};
  if (options.lazyConnect) common.lazyConnect = true;
  if (options.connectionName) common.connectionName = options.connectionName;

  if (kind === 'url') {
    const c = config as UrlConnectionConfig;
    const parsed = parseRedisUrl(c.url, 'connection.url');
    const opts: RedisOptions = { ...FAST_FAIL_REDIS_OPTIONS, ...common, ...c.redisOptions };
    if (parsed.protocol === 'rediss:') {
      opts.tls = { ...toTls(c.tls ?? {}, parsed.hostname), ...(c.redisOptions?.tls ?? {}) };
    }
    return new Redis(c.url.trim(), opts);
  }

  if (kind === 'cluster') {
    const c = (config as ClusterConnectionConfig).cluster;
    const nodes = c.nodes.map((n, i) => parseHostPort(n, `connection.cluster.nodes[${i}]`));
    const redisOptions: NonNullable<ClusterOptions['redisOptions']> = {
      connectTimeout: FAST_FAIL_REDIS_OPTIONS.connectTimeout!,
      maxRetriesPerRequest: 1,
      ...common,
      ...c.redisOptions,
    };
    const tls = toTls(c.tls);
    if (tls) redisOptions.tls = { ...tls, ...(c.redisOptions?.tls ?? {}) };
    const clusterOptions: ClusterOptions = {
      ...FAST_FAILOVER_CLUSTER_OPTIONS,
      ...(options.lazyConnect ? { lazyConnect: true } : {}),
      ...c.clusterOptions,
      scaleReads: c.scaleReads ?? 'master',
      redisOptions,
    };
    return new Cluster(nodes, clusterOptions);
  }

  if (kind === 'sentinel') {
    const s = (config as SentinelConnectionConfig).sentinel;
    const opts: RedisOptions = {
      ...FAST_FAILOVER_SENTINEL_OPTIONS,
      ...common,
      sentinels: s.sentinels.map((n, i) => parseHostPort(n, `connection.sentinel.sentinels[${i}]`)),
      name: s.name,
      role: s.role ?? 'master',
      ...s.redisOptions,
    };
    if (s.password !== undefined) opts.password = s.password;
    if (s.username !== undefined) opts.username = s.username;
    if (s.sentinelPassword !== undefined) opts.sentinelPassword = s.sentinelPassword;
    if (s.sentinelUsername !== undefined) opts.sentinelUsername = s.sentinelUsername;
    if (s.db !== undefined) opts.db = s.db;
    const tls = toTls(s.tls);
    if (tls) opts.tls = tls;
    const sentinelTls = toTls(s.sentinelTls);
    if (sentinelTls) {
      opts.enableTLSForSentinelMode = true;
      opts.sentinelTLS = sentinelTls;
    }
    return new Redis(opts);
  }

  throw new ShardConfigError(
    'invalid-option',
    'connection',
    `createRedisConnection() builds Redis clients only; "${kind}" shards are handled by ShardRouter`,
  );
}
