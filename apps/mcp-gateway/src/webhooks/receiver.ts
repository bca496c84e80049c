import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CompiledManifest } from '../manifest/load';
import type { InvalidationTarget } from '../manifest/schema';
import type { InvalidationOutcome } from '../cache-port';
import { resolveTargets, type ToolRunner } from '../tool-runner';
import type { ReplayGuard } from './replay-guard';
import { SIGNATURE_HEADER, verifySignature } from './signature';

export interface WebhookReceiverOptions {
  runner: ToolRunner;
  manifest: CompiledManifest;
  /** Shared secret; undefined = webhooks disabled (503). */
  secret: string | undefined;
  toleranceSec: number;
  /** Replay memory (Redis-backed when the cache is on Redis, else in-process). */
  replayGuard: ReplayGuard;
  /** Header naming the tenant (webhooks without it invalidate every tenant). */
  tenantHeader: string;
  /** Called after a webhook was applied (tests, metrics). */
  onApplied?: (info: { event: string; targets: number; ms: number }) => void;
}

const payloadSchema = z.object({
  event: z.string().min(1).max(200),
  resource_type: z.string().min(1).max(200),
  resource_id: z.union([z.string().min(1).max(500), z.number()]),
  data: z.record(z.string(), z.unknown()).optional(),
});

/** Rules of the manifest matching an event: exact name, `prefix.*` wildcards and `*`. */
export function matchRules(manifest: CompiledManifest, event: string): InvalidationTarget[] {
  const out: InvalidationTarget[] = [];
  for (const [pattern, rule] of Object.entries(manifest.webhooks?.events ?? {})) {
    const hit = pattern === '*' || pattern === event || (pattern.endsWith('.*') && event.startsWith(pattern.slice(0, -1)));
    if (hit) out.push(...rule.invalidates);
  }
  return out;
}

/**
 * `POST /webhooks/:source`: verifies `X-Signature: t=<unix>,v1=<hex>` (HMAC-SHA256 over
 * `${t}.${rawBody}`, 5 min replay window, timing-safe, each signature accepted once),
 * then maps `{event, resource_type, resource_id, data}` to invalidations per the manifest.
 * 401 bad/old/replayed signature, 400 bad body, 404 unknown source, 503 no secret configured.
 */
export async function webhookRoutes(app: FastifyInstance, opts: WebhookReceiverOptions): Promise<void> {
  const sources = new Set(opts.manifest.webhooks?.sources ?? [opts.manifest.name]);

  // raw body: the signature covers the exact bytes
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));

  app.post<{ Params: { source: string } }>('/webhooks/:source', async (req, reply) => {
    const started = performance.now();
    if (!sources.has(req.params.source)) return reply.code(404).send({ error: 'unknown_source', message: `unknown webhook source "${req.params.source}"` });
    if (!opts.secret) return reply.code(503).send({ error: 'webhooks_disabled', message: 'WEBHOOK_SECRET is not configured' });
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const sigHeader = req.headers[SIGNATURE_HEADER];
    const sig = Array.isArray(sigHeader) ? sigHeader[0] : sigHeader;
    const check = verifySignature(opts.secret, sig, raw, { toleranceSec: opts.toleranceSec });
    if (!check.ok) {
      req.log.warn({ source: req.params.source, reason: check.reason }, 'webhook signature refused');
      return reply.code(401).send({ error: 'invalid_signature', reason: check.reason });
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return reply.code(400).send({ error: 'bad_request', message: 'body is not valid JSON' });
    }
    const parsed = payloadSchema.safeParse(json);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
      return reply.code(400).send({ error: 'bad_request', message: `invalid webhook body: ${fields.join('; ')}` });
    }
    const tenantH = req.headers[opts.tenantHeader];
    const tenant = (Array.isArray(tenantH) ? tenantH[0] : tenantH) || undefined;
    if (tenant !== undefined) {
      try {
        opts.runner.cache.validateTenant?.(tenant);
      } catch (err) {
        return reply.code(400).send({ error: 'bad_request', message: (err as Error).message });
      }
    }
    // one delivery = the canonical (timestamp, verified signature) pair, whatever the header's
    // spelling (hex case, spaces, extra v1= entries); remembered only once the body and tenant
    // are accepted, for the whole window in which the timestamp is valid (±tolerance)
    const id = `${req.params.source}:${check.timestamp}:${check.signature}`;
    if (!(await opts.replayGuard.firstDelivery(id, 2 * opts.toleranceSec * 1000 + 1000))) {
      req.log.warn({ source: req.params.source, reason: 'replayed' }, 'webhook signature refused');
      return reply.code(401).send({ error: 'invalid_signature', reason: 'replayed' });
    }

    const p = parsed.data;
    const rules = matchRules(opts.manifest, p.event);
    const vars = { event: p.event, resource_type: p.resource_type, resource_id: String(p.resource_id), data: p.data ?? {} };
    const targets = resolveTargets(rules, vars);
    opts.runner.counters.webhooks++;
    let inv: InvalidationOutcome;
    try {
      inv = await opts.runner.applyTargets(targets, tenant);
    } catch (err) {
      await opts.replayGuard.forget(id);
      return reply.code(400).send({ error: 'bad_request', message: (err as Error).message });
    }
    // not applied everywhere: the delivery is forgotten and 503 asks the sender to retry it
    if (!inv.ok) await opts.replayGuard.forget(id);
    const ms = performance.now() - started;
    opts.onApplied?.({ event: p.event, targets: targets.length, ms });
    req.log[inv.ok ? 'info' : 'error'](
      { source: req.params.source, event: p.event, tenant: tenant ?? '*', targets: targets.length, failed: inv.failed, reasons: inv.reasons, ms: Math.round(ms * 10) / 10 },
      inv.ok ? 'webhook applied' : 'webhook applied with failed invalidations',
    );
    // 503 when the store did not take some targets (a retry re-applies them all, idempotently)
    if (!inv.ok) reply.header('retry-after', '5');
    return reply.code(!inv.ok ? 503 : rules.length ? 200 : 202).send({
      ok: inv.ok,
      matched: rules.length > 0,
      invalidated: inv.applied,
      failed: inv.failed,
      ...(inv.ok ? {} : { reasons: inv.reasons }),
      tenant: tenant ?? null,
      targets,
    });
  });
}
