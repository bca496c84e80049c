import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { GatewayContext } from './gateway';
import { createMcpServer } from './mcp-server';

/**
 * Serves the manifest's tools over stdio (one local client). The upstream credential comes
 * from `UPSTREAM_API_KEY`; the admin tools are exposed only with `STDIO_ADMIN=true`.
 * Logs must go to stderr in this mode (stdout carries the protocol).
 */
export async function runStdio(ctx: GatewayContext, tenant?: string): Promise<{ server: Server; close(): Promise<void> }> {
  const server = createMcpServer({
    catalog: ctx.catalog,
    admin: ctx.config.stdioAdmin,
    context: () => ({ credential: ctx.config.upstreamApiKey, tenant }),
    adminCheck: () => ctx.config.stdioAdmin,
  });
  const transport = new StdioServerTransport();
  await server.connect(transport);
  return {
    server,
    async close() {
      await server.close();
    },
  };
}
