import { z } from 'zod';
import type { CacheTarget } from './cache-port';
import type { CompiledTool } from './manifest/load';
import { answerOf, type ToolAnswer } from './tool-answer';
import type { CallContext, ToolRunner } from './tool-runner';

/** A `tools/list` entry (MCP `Tool`). */
export interface ToolDefinition {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: { type: 'object'; [k: string]: unknown };
  annotations?: Record<string, boolean>;
}

/** Who calls, as the catalog needs it: the caller's identity and the admin permission. */
export interface Caller {
  context: CallContext;
  /** The admin tools are listed and callable in this session (admin token at `initialize`). */
  sessionAdmin: boolean;
  /** Re-checks the admin permission on every admin call (HTTP: that request's headers). */
  isAdmin(): boolean;
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

/** The `McpError` text the SDK's tool errors carry (kept so answers read as before). */
const invalidParams = (message: string): ToolAnswer => answerOf([`MCP error -32602: ${message}`], { isError: true });
const denied = (): ToolAnswer => answerOf(['forbidden: the cache tools need the admin token'], { isError: true });

/**
 * The tools of one gateway, built once at start-up and shared by every session (HTTP) and by
 * stdio: the `tools/list` answers are computed once (the manifest's JSON schemas as they are),
 * every tool's argument validator is compiled once (manifest load), and `call` is the one
 * `tools/call` implementation both the SDK server and the HTTP fast path use.
 */
export class ToolCatalog {
  private readonly listUser: { tools: ToolDefinition[] };
  private readonly listAdmin: { tools: ToolDefinition[] };
  private readonly tools = new Map<string, CompiledTool>();

  constructor(readonly runner: ToolRunner) {
    const user = runner.manifest.tools.map((t): ToolDefinition => {
      this.tools.set(t.name, t);
      return {
        name: t.name,
        ...(t.title !== undefined ? { title: t.title } : {}),
        description: t.description,
        inputSchema: t.input,
        annotations: {
          readOnlyHint: t.kind === 'read',
          destructiveHint: t.request.method === 'DELETE',
          idempotentHint: t.kind === 'read' || t.request.method === 'PUT' || t.request.method === 'DELETE',
          openWorldHint: false,
        },
      };
    });
    const admin: ToolDefinition[] = [
      {
        name: 'cache_stats',
        description: 'Cache statistics of the gateway: hit rate, origin calls, stale answers, invalidations, store health. Admin only.',
        inputSchema: { type: 'object', properties: {} },
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      {
        name: 'cache_invalidate',
        description: 'Invalidate cached reads by tag (e.g. job:job-1) or by namespace (entity [+ operation]). Admin only.',
        inputSchema: z.toJSONSchema(targetSchema, { io: 'input' }) as ToolDefinition['inputSchema'],
        annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      },
    ];
    this.listUser = { tools: user };
    this.listAdmin = { tools: [...user, ...admin] };
  }

  /** The `tools/list` result of a session (computed once). */
  list(admin: boolean): { tools: ToolDefinition[] } {
    return admin ? this.listAdmin : this.listUser;
  }

  /** One `tools/call`: arguments validated by the tool's compiled validator, then run. Never rejects. */
  call(name: string, args: Record<string, unknown> | undefined, caller: Caller): Promise<ToolAnswer> {
    const tool = this.tools.get(name);
    if (tool) {
      const a = args ?? {};
      const bad = tool.validateInput(a);
      if (bad !== undefined) return Promise.resolve(invalidParams(`Input validation error: Invalid arguments for tool ${name}: ${bad}`));
      return this.runner.call(tool, a, caller.context);
    }
    return this.callAdmin(name, args, caller);
  }

  private async callAdmin(name: string, args: Record<string, unknown> | undefined, caller: Caller): Promise<ToolAnswer> {
    if (caller.sessionAdmin && (name === 'cache_stats' || name === 'cache_invalidate')) {
      if (!caller.isAdmin()) return denied();
      try {
        return name === 'cache_stats' ? await this.stats() : await this.invalidate(args ?? {});
      } catch (err) {
        return answerOf([(err as Error).message], { isError: true });
      }
    }
    return invalidParams(`Tool ${name} not found`);
  }

  private async stats(): Promise<ToolAnswer> {
    const { runner } = this;
    const [cache, health] = await Promise.all([runner.cache.stats(), runner.cache.health()]);
    const c = runner.counters;
    const body = { gateway: { ...c, hitRate: c.reads ? c.cacheHits / c.reads : 0 }, cache, health };
    return answerOf([JSON.stringify(body, null, 2)]);
  }

  private async invalidate(raw: Record<string, unknown>): Promise<ToolAnswer> {
    const parsed = targetSchema.safeParse(raw);
    if (!parsed.success) {
      const msg = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(arguments)'}: ${i.message}`).join('; ');
      return invalidParams(`Input validation error: Invalid arguments for tool cache_invalidate: ${msg}`);
    }
    const args = parsed.data;
    const target: CacheTarget =
      args.tag !== undefined ? { tag: args.tag } : args.operation !== undefined ? { entity: args.entity!, operation: args.operation } : { entity: args.entity! };
    let inv;
    try {
      inv = await this.runner.applyTargets([target], args.tenant);
    } catch (err) {
      return answerOf([`cache_invalidate refused: ${(err as Error).message}`], { isError: true });
    }
    const body = { ok: inv.ok, invalidated: inv.applied, failed: inv.failed, reasons: inv.reasons, tenant: args.tenant ?? null, target };
    return answerOf([JSON.stringify(body)], inv.ok ? {} : { isError: true });
  }
}
