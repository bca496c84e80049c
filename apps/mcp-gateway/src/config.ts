import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors';

/** Path of the bundled demo manifest (works from `src/` with tsx and from `dist/` after the build). */
export function defaultManifestPath(): string {
  for (const rel of ['../manifests/crm.yaml', '../../manifests/crm.yaml']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return 'manifests/crm.yaml';
}

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
const optionalSecret = (min: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v))
    .pipe(z.string().min(min, `must be at least ${min} characters`).optional());
const header = z
  .string()
  .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
  .transform((v) => v.toLowerCase());

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  UPSTREAM_URL: z.url().optional(),
  UPSTREAM_API_KEY: optionalSecret(1),
  REDIS_URL: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional()),
  MANIFEST: z.string().min(1).optional(),
  WEBHOOK_SECRET: optionalSecret(16),
  WEBHOOK_TOLERANCE_SEC: z.coerce.number().int().min(1).max(3600).default(300),
  ADMIN_TOKEN: optionalSecret(16),
  KEY_SECRET: optionalSecret(16),
  CACHE_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "-", "." only').default('gw'),
  CREDENTIAL_HEADER: header.default('x-api-key'),
  TENANT_HEADER: header.default('x-instance'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  RESULT_JSON: z.enum(['compact', 'pretty']).default('compact'),
  STDIO_ADMIN: bool.default(false),
  CACHE_LAYER: z.enum(['tiered', 'core']).default('tiered'),
  SHARDS: z.string().optional(),
  ALLOWED_ORIGINS: z.string().optional(),
  SESSION_IDLE_SEC: z.coerce.number().int().min(1).max(86_400).default(300),
  DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  SOFT_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  MAX_SESSIONS: z.coerce.number().int().min(1).max(100_000).default(1000),
  TENANT_SHARDS: z.string().optional(),
});

const SHARD_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Parses `id=value,id2=value2` lists (SHARDS, TENANT_SHARDS). */
function parsePairs(raw: string | undefined, variable: string, issues: { variable: string; message: string }[]): [string, string][] {
  if (raw === undefined || raw.trim() === '') return [];
  const out: [string, string][] = [];
  for (const part of raw.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    const id = eq > 0 ? p.slice(0, eq).trim() : '';
    const value = eq > 0 ? p.slice(eq + 1).trim() : '';
    if (!SHARD_ID.test(id) || !value) {
      issues.push({ variable, message: `expected "id=value,…" with ids of letters, digits, "_", "-", "." (bad entry #${out.length + 1})` });
      continue;
    }
    out.push([id, value]);
  }
  return out;
}

export interface GatewayConfig {
  port: number;
  host: string;
  /** Base URL of the REST API (falls back to the manifest's `upstream.baseUrl`). */
  upstreamUrl: string | undefined;
  /** Credential used upstream when the caller sends none (stdio mode, demos). */
  upstreamApiKey: string | undefined;
  /** Redis URL; unset = the embedded in-process store. */
  redisUrl: string | undefined;
  manifestPath: string;
  /** Secret of `POST /webhooks/:source`; unset = webhooks disabled (503). */
  webhookSecret: string | undefined;
  webhookToleranceSec: number;
  /** Bearer token that unlocks the cache admin tools; unset = admin tools disabled. */
  adminToken: string | undefined;
  /** Server secret of the credential HMAC used in caller-scoped cache keys. */
  keySecret: string;
  /** True when `keySecret` was generated at start (caller-scoped entries are not shared across restarts/instances). */
  keySecretGenerated: boolean;
  cachePrefix: string;
  /** Incoming header carrying the caller's upstream credential (lower-case). */
  credentialHeader: string;
  /** Incoming header naming the tenant / instance (lower-case). */
  tenantHeader: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `auto`: short readable lines (pino-pretty) when the log stream is a TTY, JSON lines otherwise. */
  logFormat: 'auto' | 'pretty' | 'json';
  /** JSON text of tool results: `compact` (default) or `pretty` (2-space indented). */
  resultJson: 'compact' | 'pretty';
  /** Expose the admin cache tools in stdio mode (local, trusted process). */
  stdioAdmin: boolean;
  /** `tiered` (L1 + L2, default) or `core` (L2 only). */
  cacheLayer: 'tiered' | 'core';
  /**
   * Shards: id -> Redis URL, or `memory` for the embedded store. Always has a `default` shard
   * (REDIS_URL, else memory) unless SHARDS defines its own; tenants not mapped use `defaultShard`.
   */
  shards: Record<string, string>;
  /** Tenant (X-Instance value) -> shard id. */
  tenantShards: Record<string, string>;
  defaultShard: string;
  /** Browser origins allowed to call `/mcp` besides localhost (DNS-rebinding protection). */
  allowedOrigins: string[];
  /** MCP sessions without a request for this long are closed. */
  sessionIdleSec: number;
  /** Open MCP sessions at most; at the cap the least recently used idle one is closed, else `initialize` gets 503. */
  maxSessions: number;
  /** At shutdown, how long in-flight MCP calls may take before they are answered with a JSON-RPC error. */
  drainTimeoutMs: number;
  /**
   * When an expired value within grace exists: how long a read waits for the upstream before it
   * is answered with that stale value (the refresh goes on in the background). 0 = at once.
   */
  softTimeoutMs: number;
}

/**
 * Reads the gateway configuration from environment variables (see the README table),
 * validated with zod. Throws {@link ConfigError} (`E_GATEWAY_CONFIG`) naming every bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  const r = envSchema.safeParse(env);
  if (!r.success) {
    throw new ConfigError(r.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), message: i.message })));
  }
  const e = r.data;
  const issues: { variable: string; message: string }[] = [];
  const shards: Record<string, string> = {};
  for (const [id, url] of parsePairs(e.SHARDS, 'SHARDS', issues)) {
    if (url !== 'memory' && !/^rediss?:\/\//.test(url)) issues.push({ variable: 'SHARDS', message: `shard "${id}": expected redis://, rediss:// or memory` });
    shards[id] = url;
  }
  const defaultShard = Object.keys(shards).length === 0 || 'default' in shards || e.REDIS_URL ? 'default' : Object.keys(shards)[0]!;
  if (!('default' in shards) && (Object.keys(shards).length === 0 || e.REDIS_URL)) shards['default'] = e.REDIS_URL ?? 'memory';
  const tenantShards: Record<string, string> = {};
  for (const [tenant, shard] of parsePairs(e.TENANT_SHARDS, 'TENANT_SHARDS', issues)) {
    if (!(shard in shards)) issues.push({ variable: 'TENANT_SHARDS', message: `tenant "${tenant}" maps to unknown shard "${shard}" (shards: ${Object.keys(shards).join(', ')})` });
    tenantShards[tenant] = shard;
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    port: e.PORT,
    host: e.HOST,
    upstreamUrl: e.UPSTREAM_URL,
    upstreamApiKey: e.UPSTREAM_API_KEY,
    redisUrl: e.REDIS_URL,
    manifestPath: e.MANIFEST ?? defaultManifestPath(),
    webhookSecret: e.WEBHOOK_SECRET,
    webhookToleranceSec: e.WEBHOOK_TOLERANCE_SEC,
    adminToken: e.ADMIN_TOKEN,
    keySecret: e.KEY_SECRET ?? randomBytes(32).toString('hex'),
    keySecretGenerated: e.KEY_SECRET === undefined,
    cachePrefix: e.CACHE_PREFIX,
    credentialHeader: e.CREDENTIAL_HEADER,
    tenantHeader: e.TENANT_HEADER,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    resultJson: e.RESULT_JSON,
    stdioAdmin: e.STDIO_ADMIN,
    cacheLayer: e.CACHE_LAYER,
    shards,
    tenantShards,
    defaultShard,
    allowedOrigins: (e.ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    sessionIdleSec: e.SESSION_IDLE_SEC,
    maxSessions: e.MAX_SESSIONS,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    softTimeoutMs: e.SOFT_TIMEOUT_MS,
  };
}

/**
 * Names a Redis URL for humans: `host:port/db` (`rediss://` adds ` TLS`); user name and password
 * are never included.
 */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    const db = u.pathname.replace(/^\//, '') || '0';
    return `${u.hostname}:${u.port || '6379'}/${db}${u.protocol === 'rediss:' ? ' TLS' : ''}`;
  } catch {
    return 'redis (unparsable URL)';
  }
}

/** One line naming where the cache lives: the embedded store, one Redis, or the shards. */
export function describeStores(config: Pick<GatewayConfig, 'shards' | 'defaultShard'>): string {
  const entries = Object.entries(config.shards);
  const name = (url: string): string => (url === 'memory' ? 'embedded' : `Redis ${describeRedisUrl(url)}`);
  if (entries.length === 1 && entries[0]![1] === 'memory') return 'the embedded in-process store (set REDIS_URL for Redis)';
  if (entries.length === 1) return name(entries[0]![1]);
  return `shards ${entries.map(([id, url]) => `${id}${id === config.defaultShard ? '*' : ''}=${name(url)}`).join(', ')}`;
}
