import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createDemoUpstream, type DemoUpstream } from '../src/demo-upstream';
import type { WebhookTarget } from '../src/demo-upstream';
import { loadConfig, type GatewayConfig } from '../src/config';
import { createGateway, type Gateway, type GatewayOptions } from '../src/gateway';

export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const ALICE = 'demo-key-alice';
export const BOB = 'demo-key-bob';

export interface Stack {
  upstream: DemoUpstream;
  gateway: Gateway;
  config: GatewayConfig;
  logs: string[];
  targets: WebhookTarget[];
  connect(headers?: Record<string, string>): Promise<Client>;
  close(): Promise<void>;
}

export async function startStack(opts: { redisUrl?: string; env?: Record<string, string>; gateway?: GatewayOptions; prefix?: string; latency?: number } = {}): Promise<Stack> {
  const targets: WebhookTarget[] = [];
  const upstream = createDemoUpstream({ latency: opts.latency ?? 0, webhookTargets: targets });
  const upstreamUrl = await upstream.listen();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const config = loadConfig({
    UPSTREAM_URL: upstreamUrl,
    WEBHOOK_SECRET,
    ADMIN_TOKEN,
    KEY_SECRET: 'test-key-secret-0123456789',
    LOG_LEVEL: 'debug',
    CACHE_PREFIX: opts.prefix ?? `gwt${Math.random().toString(36).slice(2, 8)}`,
    ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}),
    ...opts.env,
  });
  const gateway = await createGateway(config, { logDestination: sink, ...opts.gateway });
  const url = await gateway.listen(0, '127.0.0.1');
  targets.push({ url: `${url}/webhooks/crm`, secret: WEBHOOK_SECRET });
  const clients: Client[] = [];
  return {
    upstream,
    gateway,
    config,
    logs,
    targets,
    async connect(headers = { 'x-api-key': ALICE }) {
      const client = new Client({ name: 'gateway-test', version: '0.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) await c.close().catch(() => undefined);
      await gateway.close();
      await upstream.close();
    },
  };
}

export interface CallOutcome {
  text: string;
  isError: boolean;
  source: string | undefined;
  json: unknown;
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallOutcome> {
  const r = (await client.callTool({ name, arguments: args })) as { content: { type: string; text?: string }[]; isError?: boolean; _meta?: Record<string, unknown> };
  const text = r.content.map((c) => c.text ?? '').join('\n');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { text, isError: r.isError === true, source: r._meta?.['stratacache/source'] as string | undefined, json };
}

export function routeCount(up: DemoUpstream, route: string): number {
  return up.stats().byRoute[route] ?? 0;
}
