#!/usr/bin/env node
/**
 * `pnpm start` / `node apps/mcp-gateway/dist/start.js [--stdio]`
 *
 * Starts the gateway (Streamable HTTP on PORT, or stdio with `--stdio`). When UPSTREAM_URL is
 * unset it also starts the bundled demo CRM upstream, wired to send signed webhooks to the
 * gateway. Uses Redis when REDIS_URL is set, else the embedded in-process store.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { describeStores, loadConfig, type GatewayConfig } from './config';
import type { AdminToken } from '@stratacache/fastify';
import { gatewayAdmin } from './admin';
import { createDemoUpstream, DEMO_API_KEYS, type DemoUpstream } from './demo-upstream';
import { GatewayError } from './errors';
import { createGateway, createGatewayContext, type Gateway } from './gateway';
import { runStdio } from './stdio';

const HELP = `stratacache MCP gateway

Usage: node dist/start.js [--stdio] [--help]

  --stdio   serve MCP over stdin/stdout instead of Streamable HTTP
  --help    this text

Environment: PORT, HOST, UPSTREAM_URL, UPSTREAM_API_KEY, REDIS_URL, MANIFEST, WEBHOOK_SECRET,
ADMIN_TOKEN, READ_TOKEN, KEY_SECRET, CACHE_PREFIX, CREDENTIAL_HEADER, TENANT_HEADER, LOG_LEVEL, STDIO_ADMIN,
DEMO_LATENCY, DEMO_PORT (see apps/mcp-gateway/README.md).`;

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const stdio = argv.includes('--stdio');
  // stdout is the protocol channel in stdio mode: everything human goes to stderr
  const say = (s: string): void => {
    (stdio ? process.stderr : process.stdout).write(`${s}\n`);
  };
  const env = { ...process.env };
  const demo = !env['UPSTREAM_URL'];
  const generated: string[] = [];
  if (demo) {
    if (!env['WEBHOOK_SECRET']) {
      env['WEBHOOK_SECRET'] = randomBytes(24).toString('hex');
      generated.push('WEBHOOK_SECRET');
    }
    if (!env['ADMIN_TOKEN'] && !stdio) {
      env['ADMIN_TOKEN'] = `admin-${randomBytes(12).toString('hex')}`;
      generated.push('ADMIN_TOKEN');
    }
    if (!env['UPSTREAM_API_KEY']) env['UPSTREAM_API_KEY'] = DEMO_API_KEYS.alice;
    if (!env['KEY_SECRET']) env['KEY_SECRET'] = randomBytes(32).toString('hex');
    env['UPSTREAM_URL'] = 'http://127.0.0.1:1'; // placeholder, replaced once the demo listens
  }
  let config: GatewayConfig = loadConfig(env);

  let upstream: DemoUpstream | undefined;
  let gateway: Gateway | undefined;
  let stdioHandle: { close(): Promise<void> } | undefined;
  let closing = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) {
      say(`\n${signal} again: exiting now`);
      process.exit(1);
    }
    closing = true;
    say(`\n${signal}: shutting down…`);
    // in-flight calls get DRAIN_TIMEOUT_MS; closing the rest must not hang the exit
    const force = setTimeout(() => process.exit(1), config.drainTimeoutMs + 5_000);
    force.unref();
    await stdioHandle?.close().catch(() => undefined);
    await gateway?.close().catch(() => undefined);
    await upstream?.close().catch(() => undefined);
    clearTimeout(force);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (demo) {
    upstream = createDemoUpstream({
      webhookTargets: [],
      logger: false,
    });
    const demoPort = Number(env['DEMO_PORT'] ?? 0);
    let url: string;
    try {
      url = await upstream.listen(Number.isInteger(demoPort) ? demoPort : 0, '127.0.0.1');
    } catch (err) {
      throw listenError(err, '127.0.0.1', demoPort, 'DEMO_PORT');
    }
    config = { ...config, upstreamUrl: url };
  }

  if (stdio) {
    // logs go to stderr: readable lines when stderr is a terminal
    const logFormat = config.logFormat === 'auto' ? (process.stderr.isTTY ? 'pretty' : 'json') : config.logFormat;
    const ctx = await createGatewayContext({ ...config, logFormat }, { logDestination: pino.destination(2) });
    stdioHandle = await runStdio(ctx, env['TENANT']);
    say(`stratacache gateway (stdio) — ${ctx.manifest.tools.length} tools, cache: ${ctx.cache.layer} on ${ctx.cache.storeKind}${demo ? `, demo upstream ${config.upstreamUrl}` : ''}`);
    process.stdin.on('end', () => void shutdown('stdin closed'));
    return;
  }

  // the admin API + dashboard (@stratacache/fastify) next to the gateway: ADMIN_TOKEN is its admin
  // token, READ_TOKEN (generated when unset) its read token
  if (!env['READ_TOKEN']) {
    env['READ_TOKEN'] = `read-${randomBytes(16).toString('hex')}`;
    generated.push('READ_TOKEN');
  }
  const adminTokens: AdminToken[] = [{ token: env['READ_TOKEN'], role: 'read' }];
  if (config.adminToken && config.adminToken.length >= 16) adminTokens.push({ token: config.adminToken, role: 'admin' });
  gateway = await createGateway(config, { plugins: [gatewayAdmin({ tokens: adminTokens })] });
  let gwUrl: string;
  try {
    gwUrl = await gateway.listen();
  } catch (err) {
    throw listenError(err, config.host, config.port, 'PORT');
  }
  if (upstream && config.webhookSecret) {
    const source = (gateway.manifest.webhooks?.sources ?? [gateway.manifest.name])[0];
    upstream.data.webhooks.push({
      id: 'webhook-gateway',
      url: `${gwUrl}/webhooks/${source}`,
      secret: config.webhookSecret,
      events: ['*'],
      created_at: new Date().toISOString(),
    });
  }
  const mcpUrl = `${gwUrl}/mcp`;
  const webhookUrl = `${gwUrl}/webhooks/${(gateway.manifest.webhooks?.sources ?? [gateway.manifest.name])[0]}`;
  const lines = [
    '',
    `  stratacache MCP gateway — manifest "${gateway.manifest.name}" (${gateway.manifest.tools.length} tools)`,
    `  cache       ${gateway.cache.layer} on ${describeStores(config)}`,
    `  MCP         ${mcpUrl}   (Streamable HTTP)`,
    `  webhooks    ${webhookUrl}`,
    `  health      ${gwUrl}/healthz`,
    `  dashboard   ${gwUrl}/cache/dashboard   (admin API ${gwUrl}/cache/…, OpenAPI ${gwUrl}/cache/docs, metrics ${gwUrl}/metrics)`,
    `  read token  ${generated.includes('READ_TOKEN') ? `${env['READ_TOKEN']}   (generated for this run; log in to the dashboard with it)` : '(READ_TOKEN from your environment)'}`,
  ];
  if (upstream) {
    lines.push(
      `  demo CRM    ${upstream.url}   (latency ${process.env['DEMO_LATENCY'] ?? '300-800'} ms, stats at ${upstream.url}/__stats)`,
      `              callers without ${config.credentialHeader} act as ${DEMO_API_KEYS.alice}; other keys: ${DEMO_API_KEYS.bob}, ${DEMO_API_KEYS.admin}`,
    );
  }
  if (generated.includes('ADMIN_TOKEN')) lines.push(`  admin token ${config.adminToken}   (generated for this run; unlocks cache_stats / cache_invalidate and the dashboard's admin actions)`);
  if (config.webhookSecret) {
    const printed = generated.includes('WEBHOOK_SECRET');
    if (printed) lines.push(`  webhook secret ${config.webhookSecret}   (generated for this run; HMAC-SHA256 key of X-Signature)`);
    const what = upstream ? 'invalidates job-1 everywhere; add -H "x-instance: acme" for one tenant' : 'event job.updated; WEBHOOK_SECRET from your environment';
    lines.push('', `  Send a signed test webhook (${what}):`, `    ${signedWebhookCurl(webhookUrl, printed ? config.webhookSecret : undefined)}`);
  }
  lines.push(
    '',
    '  Connect an MCP client:',
    `    npx @modelcontextprotocol/inspector   → transport "Streamable HTTP", URL ${mcpUrl}`,
    `    curl -si ${mcpUrl} -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \\`,
    `      -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"0"}}}'`,
    '',
    '  Ctrl-C to stop.',
    '',
  );
  say(lines.join('\n'));
}

/** A shell command that signs and sends a `job.updated` webhook (openssl computes the HMAC, so it never expires). */
function signedWebhookCurl(url: string, secret: string | undefined): string {
  const key = secret === undefined ? '"$WEBHOOK_SECRET"' : `'${secret}'`;
  return (
    `body='{"event":"job.updated","resource_type":"job","resource_id":"job-1"}'; t=$(date +%s); ` +
    `sig=$(printf '%s' "$t.$body" | openssl dgst -sha256 -hmac ${key} | sed 's/^.* //'); ` +
    `curl -s ${url} -H 'content-type: application/json' -H "x-signature: t=$t,v1=$sig" -d "$body"; echo`
  );
}

/** A listen failure in one line: which port, which variable sets it (EADDRINUSE, EACCES, …). */
function listenError(err: unknown, host: string, port: number, variable: string): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE') return new GatewayError('E_PORT_IN_USE', `port ${port} on ${host} is already in use: set ${variable} to another port (${variable}=0 picks a free one)`);
  if (code === 'EACCES') return new GatewayError('E_PORT_IN_USE', `port ${port} on ${host} needs privileges: set ${variable} to a port above 1023`);
  if (code === 'EADDRNOTAVAIL') return new GatewayError('E_PORT_IN_USE', `address ${host} is not available on this machine: check HOST`);
  return err;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof GatewayError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`fatal: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
