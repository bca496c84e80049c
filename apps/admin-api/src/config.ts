import { randomBytes } from 'node:crypto';
import { parseTokens, type AdminToken } from '@stratacache/fastify';

export interface AdminApiConfig {
  /** Redis URL, or undefined for the embedded in-process store. */
  redisUrl: string | undefined;
  port: number;
  host: string;
  /** Cache key prefix (the same as the apps whose cache this server administers). */
  prefix: string;
  tokens: AdminToken[];
  /** Tokens generated for this run (no ADMIN_TOKENS / READ_TOKEN / ADMIN_TOKEN given): printed once at start. */
  generated: boolean;
  logLevel: string;
  flushIntervalMs: number;
  refreshMs: number;
  /** BullMQ key prefix of the warming queues (the Warmer's default `sc:warm`): the same as the apps' warmers. */
  warmingPrefix: string;
}

export class AdminConfigError extends Error {
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'AdminConfigError';
  }
}

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new AdminConfigError(name, `must be an integer in ${min}..${max} (got ${JSON.stringify(raw)})`);
  return n;
}

/**
 * Configuration from the environment: REDIS_URL, PORT (8090), HOST (127.0.0.1), CACHE_PREFIX (sc),
 * ADMIN_TOKENS (`read:<token>,admin:<token>`) or READ_TOKEN / ADMIN_TOKEN, LOG_LEVEL (info),
 * ANALYTICS_FLUSH_MS (10000), DASHBOARD_REFRESH_MS (30000), WARMING_PREFIX (sc:warm).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AdminApiConfig {
  let tokens: AdminToken[] = [];
  try {
    if (env['ADMIN_TOKENS']) tokens = parseTokens(env['ADMIN_TOKENS']);
  } catch (err) {
    throw new AdminConfigError('ADMIN_TOKENS', (err as Error).message);
  }
  if (env['READ_TOKEN']) tokens.push({ token: env['READ_TOKEN'], role: 'read' });
  if (env['ADMIN_TOKEN']) tokens.push({ token: env['ADMIN_TOKEN'], role: 'admin' });
  for (const t of tokens) if (t.token.length < 16) throw new AdminConfigError('ADMIN_TOKENS', `every token needs at least 16 characters (a ${t.role} token has ${t.token.length})`);
  const generated = tokens.length === 0;
  if (generated) {
    tokens = [
      { token: `read-${randomBytes(16).toString('hex')}`, role: 'read' },
      { token: `admin-${randomBytes(16).toString('hex')}`, role: 'admin' },
    ];
  }
  const prefix = env['CACHE_PREFIX'] || 'sc';
  if (/[\s{}]/.test(prefix)) throw new AdminConfigError('CACHE_PREFIX', 'no spaces or braces');
  const warmingPrefix = env['WARMING_PREFIX'] || 'sc:warm';
  if (/\s/.test(warmingPrefix) || warmingPrefix.length > 100) throw new AdminConfigError('WARMING_PREFIX', '1–100 characters, no spaces');
  return {
    redisUrl: env['REDIS_URL'] || undefined,
    port: int(env, 'PORT', 8090, 0, 65535),
    host: env['HOST'] || '127.0.0.1',
    prefix,
    tokens,
    generated,
    logLevel: env['LOG_LEVEL'] || 'info',
    flushIntervalMs: int(env, 'ANALYTICS_FLUSH_MS', 10_000, 0, 3_600_000),
    refreshMs: int(env, 'DASHBOARD_REFRESH_MS', 30_000, 1_000, 3_600_000),
    warmingPrefix,
  };
}
