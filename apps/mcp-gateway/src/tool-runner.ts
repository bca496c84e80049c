import type { Logger } from 'pino';
import { mergeOutcomes, type CacheTarget, type GatewayCache, type InvalidationOutcome, type ReadSource } from './cache-port';
import { credentialScope } from './credentials';
import { GatewayError, UpstreamError } from './errors';
import type { CompiledManifest, CompiledTool } from './manifest/load';
import type { InvalidationTarget } from './manifest/schema';
import { renderTemplate } from './manifest/template';
import type { UpstreamClient } from './upstream';
import { encodePathValue, PathError } from './upstream-path';
import { answerOf, textOf, type JsonFormat, type ToolAnswer } from './tool-answer';

/** Who is calling: taken from HTTP headers (Streamable HTTP) or the environment (stdio). */
export interface CallContext {
  /** The caller's upstream credential (never logged, never in a key in clear). */
  credential?: string | undefined;
  tenant?: string | undefined;
}

export type { ToolResult } from './tool-answer';

export interface GatewayCounters {
  reads: number;
  cacheHits: number;
  originCalls: number;
  staleServed: number;
  writes: number;
  /** (shard, target) invalidations applied. */
  invalidations: number;
  /** (shard, target) invalidations the store did not take (reported, never muted). */
  invalidationFailures: number;
  upstreamErrors: number;
  webhooks: number;
}

/** Renders manifest invalidation targets with `vars`; targets with a missing placeholder are skipped. */
export function resolveTargets(targets: InvalidationTarget[], vars: Record<string, unknown>): CacheTarget[] {
  const out: CacheTarget[] = [];
  for (const t of targets) {
    if ('tag' in t) {
      const tag = renderTemplate(t.tag, vars);
      if (tag !== undefined) out.push({ tag });
    } else {
      const entity = renderTemplate(t.entity, vars);
      const operation = t.operation === undefined ? undefined : renderTemplate(t.operation, vars);
      if (entity !== undefined && (t.operation === undefined || operation !== undefined)) {
        out.push(operation === undefined ? { entity } : { entity, operation });
      }
    }
  }
  return out;
}

/** Renders a request path template; each value goes through {@link encodePathValue}. */
export function renderPath(template: string, args: Record<string, unknown>): string | undefined {
  return renderTemplate(template, args, (value, name) => encodePathValue(name, value));
}

/** The line added to a write's answer when its invalidations failed. */
export function invalidationWarning(o: InvalidationOutcome): string {
  return `warning: ${o.failed} of ${o.failed + o.applied} cache invalidations failed (${o.reasons.join(', ') || 'unknown'}); cached reads may be stale until their TTL`;
}

/**
 * A cached read holds the JSON string literal of its text (serialised once, when the origin
 * answered). Entries written by an older gateway hold the upstream value itself.
 */
const isLiteral = (v: unknown): v is string => typeof v === 'string' && v.length >= 2 && v.charCodeAt(0) === 34;

/** A read the gateway can warm on its own (see {@link ToolRunner.warmables}). */
export interface WarmableRead {
  tool: string;
  entity: string;
  operation: string;
  /** Key parameters of the call (defaults applied). */
  params: Record<string, unknown>;
  ttlMs: number;
  graceMs: number;
  tags: string[];
  /** The upstream answer as the cache stores it (its JSON text literal). */
  fetch(): Promise<string>;
}

/**
 * Executes manifest tools: reads through the cache, writes straight to the upstream
 * (exactly once) followed by the invalidations the manifest declares.
 */
export class ToolRunner {
  readonly counters: GatewayCounters = {
    reads: 0,
    cacheHits: 0,
    originCalls: 0,
    staleServed: 0,
    writes: 0,
    invalidations: 0,
    invalidationFailures: 0,
    upstreamErrors: 0,
    webhooks: 0,
  };

  /** HMAC scope of credentials the upstream accepted recently -> until when (epoch ms). */
  private readonly verified = new Map<string, number>();

  constructor(
    readonly manifest: CompiledManifest,
    private readonly upstream: UpstreamClient,
    readonly cache: GatewayCache,
    private readonly opts: {
      keySecret: string;
      fallbackCredential?: string | undefined;
      logger: Logger;
      /** How long a credential the upstream accepted may read shared cache entries without a new upstream check. Default 5 min. */
      credentialCheckTtlMs?: number;
      /** JSON text of results: `compact` (default) or `pretty` (2-space indented). */
      resultJson?: JsonFormat;
    },
  ) {
    this.format = opts.resultJson ?? 'compact';
    for (const t of manifest.tools) this.byName.set(t.name, t);
  }

  private readonly format: JsonFormat;
  private readonly byName = new Map<string, CompiledTool>();

  /**
   * HMAC scope of a credential, memoised: an agent calls with the same key in a loop and one
   * HMAC-SHA256 per call was 5 % of a cache hit. In process memory only (never persisted or
   * logged), at most 1,000 credentials (cleared when full).
   */
  private readonly scopes = new Map<string, string>();
  private scopeOf(credential: string | undefined): string {
    if (!credential) return credentialScope(this.opts.keySecret, credential);
    let scope = this.scopes.get(credential);
    if (scope === undefined) {
      if (this.scopes.size >= 1000) this.scopes.clear();
      scope = credentialScope(this.opts.keySecret, credential);
      this.scopes.set(credential, scope);
    }
    return scope;
  }

  /** JSON string literal of an upstream value's text. */
  private literal(value: unknown): string {
    return JSON.stringify(textOf(value, this.format));
  }

  /**
   * A cached entry is served only to a credential the upstream accepted recently (any successful
   * upstream call with it); otherwise that read also goes to the upstream, which checks the
   * credential — so an unknown or revoked key never reads cached data it could not read upstream.
   */
  private isVerified(scope: string): boolean {
    const until = this.verified.get(scope);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.verified.delete(scope);
    return false;
  }

  private markVerified(scope: string): void {
    if (this.verified.size >= 10_000) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.delete(scope);
    this.verified.set(scope, Date.now() + (this.opts.credentialCheckTtlMs ?? 300_000));
  }

  tool(name: string): CompiledTool | undefined {
    return this.byName.get(name);
  }

  private buildRequest(tool: CompiledTool, args: Record<string, unknown>) {
    // every path argument is one segment: dot segments in any spelling are refused here, and the
    // upstream client checks the resolved URL against the template again (upstream-path.ts)
    const path = renderPath(tool.request.path, args);
    if (path === undefined) throw new PathError(`missing path argument of ${tool.name}`);
    const query: Record<string, string | number | boolean> = {};
    const q = tool.request.query;
    if (q) {
      const pairs: [string, string][] = Array.isArray(q) ? q.map((a) => [a, a]) : Object.entries(q);
      for (const [name, arg] of pairs) {
        const v = args[arg];
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') query[name] = v;
      }
    }
    let body: unknown;
    const b = tool.request.body;
    if (b === 'args') {
      body = Object.fromEntries(Object.entries(args).filter(([k, v]) => !tool.pathParams.includes(k) && v !== undefined));
    } else if (b !== undefined) {
      const pairs: [string, string][] = Array.isArray(b) ? b.map((a) => [a, a]) : Object.entries(b);
      body = Object.fromEntries(pairs.filter(([, arg]) => args[arg] !== undefined).map(([field, arg]) => [field, args[arg]]));
    } else if (tool.kind === 'write' && tool.request.method !== 'DELETE') {
      body = {};
    }
    return { method: tool.request.method, path, template: tool.request.path, query, body, timeoutMs: tool.request.timeout };
  }

  /**
   * Runs one tool (arguments already validated). Upstream problems become tool errors
   * (`isError: true`) carrying the upstream message. The answer is kept serialised (see tool-answer.ts).
   */
  async call(tool: CompiledTool, args: Record<string, unknown>, ctx: CallContext): Promise<ToolAnswer> {
    const credential = ctx.credential ?? this.opts.fallbackCredential;
    try {
      return tool.kind === 'read' ? await this.read(tool, args, credential, ctx.tenant) : await this.write(tool, args, credential);
    } catch (err) {
      return this.errorResult(tool, err);
    }
  }

  private async read(tool: CompiledTool, args: Record<string, unknown>, credential: string | undefined, tenant: string | undefined): Promise<ToolAnswer> {
    this.counters.reads++;
    const req = this.buildRequest(tool, args);
    const scope = this.scopeOf(credential);
    // the cache stores the serialised text (a JSON string literal): a hit is never re-serialised
    const fetchOrigin = async (): Promise<string> => {
      this.counters.originCalls++;
      const res = await this.upstream.request({ ...req, credential });
      this.markVerified(scope);
      return this.literal(res.data);
    };
    if (!tool.cache) return { literals: [await fetchOrigin()], _meta: { 'stratacache/source': 'origin' } };
    const params: Record<string, unknown> = {};
    for (const k of tool.keyFields) if (args[k] !== undefined) params[k] = args[k];
    // caller-scoped responses: the key carries an HMAC of the credential, never the credential
    if (tool.scope === 'caller') params['_scope'] = scope;
    const tags = tool.cache.tags.map((t) => renderTemplate(t, args)).filter((t): t is string => t !== undefined);
    const { value, source } = await this.cache.read<unknown>(
      { entity: tool.cache.entity, operation: tool.cache.operation, params, ttlMs: tool.ttlMs, graceMs: tool.graceMs, tags, tenant },
      fetchOrigin,
    );
    if (source !== 'origin' && !this.isVerified(scope)) {
      // a credential the upstream has not accepted recently never reads cached data: ask the upstream
      return { literals: [await fetchOrigin()], _meta: { 'stratacache/source': 'origin' } };
    }
    if (source === 'cache') this.counters.cacheHits++;
    if (source === 'stale') this.counters.staleServed++;
    return { literals: [isLiteral(value) ? value : this.literal(value)], _meta: { 'stratacache/source': source satisfies ReadSource } };
  }

  /**
   * Reads a warmer can refresh without a caller: cached, `shared` tools whose input has no required
   * argument — the entry a call with no arguments (defaults applied) reads, on the default shard,
   * fetched with the fallback credential (`UPSTREAM_API_KEY`). The value is the one a read stores.
   */
  warmables(): WarmableRead[] {
    const out: WarmableRead[] = [];
    for (const tool of this.manifest.tools) {
      if (tool.kind !== 'read' || !tool.cache || tool.scope !== 'shared') continue;
      const args: Record<string, unknown> = {};
      if (tool.validateInput(args) !== undefined) continue; // a required argument
      let req: ReturnType<ToolRunner['buildRequest']>;
      try {
        req = this.buildRequest(tool, args);
      } catch {
        continue;
      }
      const params: Record<string, unknown> = {};
      for (const k of tool.keyFields) if (args[k] !== undefined) params[k] = args[k];
      const credential = this.opts.fallbackCredential;
      out.push({
        tool: tool.name,
        entity: tool.cache.entity,
        operation: tool.cache.operation,
        params,
        ttlMs: tool.ttlMs,
        graceMs: tool.graceMs,
        tags: tool.cache.tags.map((t) => renderTemplate(t, args)).filter((t): t is string => t !== undefined),
        fetch: async () => {
          this.counters.originCalls++;
          const res = await this.upstream.request({ ...req, credential });
          return this.literal(res.data);
        },
      });
    }
    return out;
  }

  private async write(tool: CompiledTool, args: Record<string, unknown>, credential: string | undefined): Promise<ToolAnswer> {
    this.counters.writes++;
    const req = this.buildRequest(tool, args);
    let data: unknown;
    try {
      // exactly once: the upstream client never retries a non-idempotent method
      data = (await this.upstream.request({ ...req, credential })).data;
      this.markVerified(this.scopeOf(credential));
    } catch (err) {
      // outcome unknown (timeout, network, 5xx): the write may have happened, so invalidate anyway
      if (err instanceof UpstreamError && !err.isClientError) await this.invalidate(tool.invalidates, { ...args, result: {} });
      throw err;
    }
    // every tenant / shard: tenants may read the same upstream data, so a write invalidates everywhere
    const inv = await this.invalidate(tool.invalidates, { ...args, result: data ?? {} });
    const literals = [data === null ? '"OK"' : this.literal(data)];
    // the write happened; a failed invalidation is said, never hidden
    if (!inv.ok) literals.push(JSON.stringify(invalidationWarning(inv)));
    return {
      literals,
      _meta: { 'stratacache/source': 'origin', 'stratacache/invalidated': inv.applied, 'stratacache/invalidation': inv },
    };
  }

  /** Resolves and applies invalidation targets (see {@link applyTargets}). */
  async invalidate(targets: InvalidationTarget[], vars: Record<string, unknown>, tenant?: string): Promise<InvalidationOutcome> {
    const resolved = resolveTargets(targets, vars);
    return this.applyTargets(resolved, tenant);
  }

  /**
   * Applies resolved targets (`tenant` undefined = every tenant). Failures are counted
   * (`invalidationFailures`), logged and returned in the outcome — never muted. Rejects only
   * for an invalid tenant (`TenantError`).
   */
  async applyTargets(resolved: CacheTarget[], tenant?: string): Promise<InvalidationOutcome> {
    if (resolved.length === 0) return mergeOutcomes(0, []);
    let out: InvalidationOutcome;
    try {
      out = await this.cache.invalidate(resolved, tenant);
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'E_TENANT_INVALID') throw err;
      const e = err as { message?: string; code?: string };
      out = { ok: false, targets: resolved.length, applied: 0, failed: resolved.length, reasons: [e.code ?? String(e.message ?? err).split('\n')[0]!] };
    }
    this.counters.invalidations += out.applied;
    this.counters.invalidationFailures += out.failed;
    if (!out.ok) {
      this.opts.logger.error({ targets: resolved.length, applied: out.applied, failed: out.failed, reasons: out.reasons, tenant: tenant ?? '*' }, 'cache invalidation failed');
    }
    return out;
  }

  private errorResult(tool: CompiledTool, err: unknown): ToolAnswer {
    if (err instanceof UpstreamError) {
      this.counters.upstreamErrors++;
      const msg = err.isClientError
        ? `upstream rejected ${tool.name} (${err.status}): ${err.upstreamMessage ?? err.message}`
        : `upstream unavailable for ${tool.name}: ${err.message}`;
      return answerOf([msg], { isError: true, _meta: { 'stratacache/error': err.code, 'stratacache/status': err.status } });
    }
    const e = err as Error;
    if (err instanceof GatewayError) {
      return answerOf([`${tool.name} refused: ${e.message}`], { isError: true, _meta: { 'stratacache/error': err.code } });
    }
    this.opts.logger.error({ tool: tool.name, err: { message: e.message, code: (e as { code?: string }).code } }, 'tool failed');
    return answerOf([`${tool.name} failed: ${e.message}`], { isError: true });
  }
}
