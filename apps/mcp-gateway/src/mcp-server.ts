import { timingSafeEqual, createHash } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { CacheTarget } from './cache-port';
import type { CallContext, ToolResult, ToolRunner } from './tool-runner';

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
type Headers = Record<string, string | string[] | undefined>;

export const GATEWAY_VERSION = '0.1.0';

/** Reads one header (first value) from the request info the SDK hands to handlers. */
export function headerOf(headers: Headers | undefined, name: string): string | undefined {
  const v = headers?.[name.toLowerCase()];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

/** Timing-safe token comparison (hashing first makes the lengths equal). */
export function tokenEquals(given: string | undefined, expected: string | undefined): boolean {
  if (!given || !expected) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** True when the headers carry the admin token (`Authorization: Bearer <t>` or `X-Admin-Token: <t>`). */
export function isAdminRequest(headers: Headers | undefined, adminToken: string | undefined): boolean {
  if (!adminToken) return false;
  const auth = headerOf(headers, 'authorization');
  const bearer = auth?.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : undefined;
  return tokenEquals(bearer, adminToken) || tokenEquals(headerOf(headers, 'x-admin-token'), adminToken);
}

export interface McpServerOptions {
  runner: ToolRunner;
  /** Whether the cache admin tools are registered for this session. */
  admin: boolean;
  /** Caller identity of a request (credential + tenant). */
  context: (extra: Extra) => CallContext;
  /** Re-checks the admin permission on every admin call (HTTP: the request's headers). */
  adminCheck: (extra: Extra) => boolean;
}

const targetSchema = z
  .object({
    tag: z.string().min(1).optional().describe('Invalidate every entry carrying this tag, e.g. job:job-1'),
    entity: z.string().min(1).optional().describe('Invalidate a namespace: every entry of this entity (e.g. job)'),
    operation: z.string().min(1).optional().describe('With entity: only this operation (e.g. list)'),
    tenant: z.string().min(1).optional().describe('Only this tenant / instance (default: all)'),
  })
  .refine((v) => v.tag !== undefined || v.entity !== undefined, { message: 'give a tag or an entity' })
  .refine((v) => v.operation === undefined || v.entity !== undefined, { message: 'operation needs an entity', path: ['operation'] });

/**
 * Builds one MCP server (one per Streamable HTTP session, or one for stdio) exposing the
 * manifest's tools — input JSON schemas are turned into zod schemas so the SDK validates
 * arguments and answers an error naming the bad field — plus, for admins, `cache_stats`
 * and `cache_invalidate`.
 */
export function createMcpServer(opts: McpServerOptions): McpServer {
  const { runner } = opts;
  const server = new McpServer(
    { name: `stratacache-gateway-${runner.manifest.name}`, version: GATEWAY_VERSION },
    {
      capabilities: { tools: {} },
      instructions: runner.manifest.description
        ? `${runner.manifest.description} Reads are cached; writes invalidate the affected reads.`
        : undefined,
    },
  );
  for (const tool of runner.manifest.tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputZod as z.ZodObject,
        annotations: {
          readOnlyHint: tool.kind === 'read',
          destructiveHint: tool.request.method === 'DELETE',
          idempotentHint: tool.kind === 'read' || tool.request.method === 'PUT' || tool.request.method === 'DELETE',
          openWorldHint: false,
        },
      },
      async (args: unknown, extra: Extra) =>
        (await runner.call(tool, (args ?? {}) as Record<string, unknown>, opts.context(extra))) as ToolResult & { content: [] },
    );
  }
  if (opts.admin) registerAdminTools(server, opts);
  return server;
}

function denied(): ToolResult {
  return { content: [{ type: 'text', text: 'forbidden: the cache tools need the admin token' }], isError: true };
}

function registerAdminTools(server: McpServer, opts: McpServerOptions): void {
  const { runner } = opts;
  server.registerTool(
    'cache_stats',
    {
      description: 'Cache statistics of the gateway: hit rate, origin calls, stale answers, invalidations, store health. Admin only.',
      inputSchema: z.object({}),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (_args: unknown, extra: Extra) => {
      if (!opts.adminCheck(extra)) return denied() as never;
      const [cache, health] = await Promise.all([runner.cache.stats(), runner.cache.health()]);
      const c = runner.counters;
      const body = { gateway: { ...c, hitRate: c.reads ? c.cacheHits / c.reads : 0 }, cache, health };
      return { content: [{ type: 'text', text: JSON.stringify(body, null, 2) }] };
    },
  );
  server.registerTool(
    'cache_invalidate',
    {
      description: 'Invalidate cached reads by tag (e.g. job:job-1) or by namespace (entity [+ operation]). Admin only.',
      inputSchema: targetSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args: z.infer<typeof targetSchema>, extra: Extra) => {
      if (!opts.adminCheck(extra)) return denied() as never;
      const target: CacheTarget =
        args.tag !== undefined ? { tag: args.tag } : args.operation !== undefined ? { entity: args.entity!, operation: args.operation } : { entity: args.entity! };
      let inv;
      try {
        inv = await runner.applyTargets([target], args.tenant);
      } catch (err) {
        return { content: [{ type: 'text', text: `cache_invalidate refused: ${(err as Error).message}` }], isError: true };
      }
      const body = { ok: inv.ok, invalidated: inv.applied, failed: inv.failed, reasons: inv.reasons, tenant: args.tenant ?? null, target };
      return { content: [{ type: 'text', text: JSON.stringify(body) }], ...(inv.ok ? {} : { isError: true }) };
    },
  );
}
