import { timingSafeEqual, createHash } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type ListToolsResult, type ServerNotification, type ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { answerResult } from './tool-answer';
import type { ToolCatalog } from './tool-catalog';
import type { CallContext } from './tool-runner';

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
  catalog: ToolCatalog;
  /** Whether the cache admin tools are listed and callable in this session. */
  admin: boolean;
  /** Caller identity of a request (credential + tenant). */
  context: (extra: Extra) => CallContext;
  /** Re-checks the admin permission on every admin call (HTTP: the request's headers). */
  adminCheck: (extra: Extra) => boolean;
}

/**
 * Builds one MCP server (one per Streamable HTTP session, or one for stdio). It is the SDK's
 * low-level `Server` with two handlers over the shared {@link ToolCatalog} — nothing per tool
 * is built per session: `tools/list` answers the catalog's precomputed list, `tools/call` runs
 * the catalog's compiled validator and the tool.
 */
export function createMcpServer(opts: McpServerOptions): Server {
  const { catalog } = opts;
  const manifest = catalog.runner.manifest;
  const server = new Server(
    { name: `stratacache-gateway-${manifest.name}`, version: GATEWAY_VERSION },
    {
      capabilities: { tools: {} },
      instructions: manifest.description ? `${manifest.description} Reads are cached; writes invalidate the affected reads.` : undefined,
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => catalog.list(opts.admin) as ListToolsResult);
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const answer = await catalog.call(req.params.name, req.params.arguments, {
      context: opts.context(extra),
      sessionAdmin: opts.admin,
      isAdmin: () => opts.adminCheck(extra),
    });
    return answerResult(answer);
  });
  return server;
}
