import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { GatewayConfig } from './config';
import type { GatewayCache } from './cache-port';
import { createGatewayCache } from './cache';
import { ConfigError } from './errors';
import { loadManifest, type CompiledManifest } from './manifest/load';
import { registerMcpHttp } from './mcp-http';
import { ToolCatalog } from './tool-catalog';
import { ToolRunner } from './tool-runner';
import { UpstreamClient } from './upstream';
import { webhookRoutes } from './webhooks/receiver';
import { MemoryReplayGuard } from './webhooks/replay-guard';

/** Everything a plugin (e.g. the future admin API / dashboard) may use. */
export interface GatewayContext {
  config: GatewayConfig;
  manifest: CompiledManifest;
  cache: GatewayCache;
  runner: ToolRunner;
  /** The tools (lists, compiled validators, the one `tools/call`), built once and shared by every session. */
  catalog: ToolCatalog;
  logger: Logger;
}

export interface GatewayOptions {
  /** Use this manifest instead of loading `config.manifestPath`. */
  manifest?: CompiledManifest;
  /** Use this cache instead of building one from the config (tests, embedding). */
  cache?: GatewayCache;
  /** Where logs go (default stdout). Tests pass a stream to capture them. */
  logDestination?: DestinationStream;
  /** Extra Fastify plugins registered with the gateway context: the hook for the admin API / dashboard. */
  plugins?: ((app: FastifyInstance, ctx: GatewayContext) => Promise<void> | void)[];
  /** Called after a webhook was applied. */
  onWebhookApplied?: (info: { event: string; targets: number; ms: number }) => void;
}

export interface Gateway extends GatewayContext {
  app: FastifyInstance;
  /** Base URL after `listen()`. */
  url: string;
  listen(port?: number, host?: string): Promise<string>;
  /** Number of open MCP sessions. */
  sessionCount(): number;
  /** Drains in-flight MCP calls (up to `drainMs`, default `DRAIN_TIMEOUT_MS`), then closes sessions, HTTP server and cache. */
  close(opts?: { drainMs?: number }): Promise<void>;
}

/** Paths redacted from every log line: credentials and tokens never reach the logs. */
export function redactPaths(config: Pick<GatewayConfig, 'credentialHeader'>): string[] {
  const hs = ['authorization', 'x-api-key', 'x-admin-token', 'x-signature', 'cookie', config.credentialHeader];
  return [...new Set(hs)].flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`, `request.headers["${h}"]`]).concat(['credential', 'apiKey', 'token']);
}

/**
 * Creates the pino logger of the gateway (redacting credentials). Without a destination it
 * writes to stdout: short readable lines (pino-pretty, synchronous) when `logFormat` is `pretty`,
 * or `auto` and stdout is a TTY; JSON lines otherwise.
 */
export function createLogger(
  config: Pick<GatewayConfig, 'credentialHeader' | 'logLevel'> & Partial<Pick<GatewayConfig, 'logFormat'>>,
  destination?: DestinationStream,
  tty: boolean = process.stdout.isTTY === true,
): Logger {
  const opts = { level: config.logLevel, redact: { paths: redactPaths(config), censor: '[redacted]' } };
  const format = config.logFormat ?? 'auto';
  if (format === 'pretty' || (format === 'auto' && tty && destination === undefined)) {
    return pino(
      opts,
      pretty({
        sync: true,
        colorize: tty,
        singleLine: true,
        translateTime: 'SYS:HH:MM:ss',
        // the request line's fields are in its message already
        ignore: 'pid,hostname,reqId,http',
        ...(destination ? { destination: destination as unknown as NodeJS.WritableStream } : {}),
      }),
    );
  }
  return destination ? pino(opts, destination) : pino(opts);
}

/** Manifest, cache, upstream client and tool runner, without any transport (used by HTTP and stdio). */
export async function createGatewayContext(
  config: GatewayConfig,
  opts: Pick<GatewayOptions, 'manifest' | 'cache' | 'logDestination'> = {},
): Promise<GatewayContext> {
  const manifest = opts.manifest ?? loadManifest(config.manifestPath);
  const baseUrl = config.upstreamUrl ?? manifest.upstream.baseUrl;
  if (!baseUrl) throw new ConfigError([{ variable: 'UPSTREAM_URL', message: 'required (the manifest has no upstream.baseUrl)' }]);
  const logger = createLogger(config, opts.logDestination);
  const cache = opts.cache ?? (await createGatewayCache(config, logger, { softTimeoutMs: config.softTimeoutMs }));
  const upstream = new UpstreamClient({
    baseUrl,
    authHeader: manifest.upstream.authHeader,
    timeoutMs: manifest.upstream.timeout,
    retries: manifest.upstream.retries,
  });
  const runner = new ToolRunner(manifest, upstream, cache, {
    keySecret: config.keySecret,
    fallbackCredential: config.upstreamApiKey,
    logger,
    resultJson: config.resultJson,
  });
  if (config.keySecretGenerated) {
    logger.warn('KEY_SECRET is not set: generated one for this process (caller-scoped cache entries are not shared across restarts or instances)');
  }
  return { config, manifest, cache, runner, catalog: new ToolCatalog(runner), logger };
}

/**
 * Builds the gateway: Fastify app with the MCP Streamable HTTP endpoint (`/mcp`, sessions),
 * the webhook receiver (`POST /webhooks/:source`) and `GET /healthz`.
 */
export async function createGateway(config: GatewayConfig, opts: GatewayOptions = {}): Promise<Gateway> {
  const ctx = await createGatewayContext(config, opts);
  const { manifest, cache, runner, catalog, logger } = ctx;
  const debugLines = logger.isLevelEnabled('debug');
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as unknown as FastifyBaseLogger,
    forceCloseConnections: true,
    logController: new LogController({ disableRequestLogging: true }),
    // no per-request child logger on the MCP hot path below debug (its request lines are debug only)
    childLoggerFactory(parent, bindings, childOpts, rawReq) {
      if (!debugLines && rawReq.url !== undefined && rawReq.url.startsWith('/mcp')) return parent;
      return parent.child(bindings, childOpts);
    },
  });
  // request logging is ours (below); server errors are still logged, once
  app.addHook('onError', async (req, _reply, err) => {
    if (((err as { statusCode?: number }).statusCode ?? 500) < 500) return;
    req.log.error({ err: { message: err.message, code: (err as { code?: string }).code } }, `${req.method} ${req.url.split('?')[0]} failed`);
  });
  // one short line per request (instead of Fastify's two): `POST /webhooks/crm 200 3.1ms`; /mcp at
  // debug only, and then decided once: below debug the MCP hot path does no logging work at all
  app.addHook('onResponse', (req, reply, done) => {
    if (!debugLines && req.routeOptions.url === '/mcp') return done();
    const path = req.url.split('?')[0] ?? req.url;
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    req.log[path === '/mcp' ? 'debug' : 'info']({ http: { method: req.method, path, status: reply.statusCode, ms } }, `${req.method} ${path} ${reply.statusCode} ${ms}ms`);
    done();
  });
  const mcp = await registerMcpHttp(app, { config, catalog, logger });

  app.get('/healthz', async (_req, reply) => {
    const health = await cache.health().catch((err: Error) => ({ ok: false, error: err.message }));
    return reply.code(200).send({ ok: true, cache: { layer: cache.layer, store: cache.storeKind, ...health }, sessions: mcp.sessionCount() });
  });
  app.get('/', async () => ({
    name: `stratacache-gateway-${manifest.name}`,
    mcp: '/mcp',
    webhooks: `/webhooks/${(manifest.webhooks?.sources ?? [manifest.name])[0]}`,
    tools: manifest.tools.map((t) => t.name),
    cache: { layer: cache.layer, store: cache.storeKind },
  }));

  const replayGuard = cache.replayGuard?.() ?? new MemoryReplayGuard();
  await app.register(webhookRoutes, {
    runner,
    manifest,
    secret: config.webhookSecret,
    toleranceSec: config.webhookToleranceSec,
    replayGuard,
    tenantHeader: config.tenantHeader,
    onApplied: opts.onWebhookApplied,
  });
  for (const plugin of opts.plugins ?? []) await app.register(async (scope) => plugin(scope, ctx));

  let closed = false;
  const gateway: Gateway = {
    ...ctx,
    app,
    url: '',
    async listen(port = config.port, host = config.host) {
      await app.listen({ port, host });
      const addr = app.server.address();
      const p = typeof addr === 'object' && addr ? addr.port : port;
      gateway.url = `http://${host}:${p}`;
      return gateway.url;
    },
    sessionCount: () => mcp.sessionCount(),
    async close(closeOpts: { drainMs?: number } = {}) {
      if (closed) return;
      closed = true;
      // in-flight calls get up to DRAIN_TIMEOUT_MS, then a JSON-RPC error; then sessions close
      await mcp.close(closeOpts.drainMs ?? config.drainTimeoutMs);
      await app.close();
      if (!opts.cache) await cache.close();
    },
  };
  return gateway;
}
