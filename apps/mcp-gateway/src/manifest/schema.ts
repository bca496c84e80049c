import { DURATION_HINT, parseDuration } from '@stratacache/breaker';
import { z } from 'zod';

/** Reserved names: the agent-facing cache tools added by the gateway itself. */
export const RESERVED_TOOL_NAMES = ['cache_stats', 'cache_invalidate'] as const;

/** A duration in the manifest: milliseconds, or `'250ms'`, `'.5s'`, `'30s'`, `'5m'`, `'2h'`, `'1d'`. Parsed to ms by the workspace's one parser (`parseDuration`). */
export const durationSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: typeof v === 'number' ? `duration must be a non-negative number of milliseconds (got ${v})` : `invalid duration "${v}" (expected ${DURATION_HINT})`,
    });
    return z.NEVER;
  }
  return ms;
});

const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*$/i, 'must start with a letter and contain only letters, digits, "_" or "-"');

/** An invalidation target: a tag, a namespace (entity [+ operation]), or one exact read (tool + args). */
export const invalidationTargetSchema = z.union([
  z.strictObject({ tag: z.string().min(1) }),
  z.strictObject({ entity: identifier, operation: identifier.optional() }),
]);
export type InvalidationTarget = z.infer<typeof invalidationTargetSchema>;

const jsonSchemaObject = z.looseObject({
  type: z.literal('object', { error: 'a tool input schema must be a JSON schema with type: object' }),
  properties: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  required: z.array(z.string()).optional(),
});

const requestSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  /** Path template relative to the upstream base URL; `{name}` is replaced by the (URL-encoded) argument. */
  path: z.string().startsWith('/', 'must start with "/"'),
  /** Query parameters: a list of argument names, or `{ queryName: argumentName }`. */
  query: z.union([z.array(z.string()), z.record(z.string(), z.string())]).optional(),
  /**
   * Request body of a write: `args` (every argument not used in the path), a list of argument
   * names, or `{ bodyField: argumentName }`.
   */
  body: z.union([z.literal('args'), z.array(z.string()), z.record(z.string(), z.string())]).optional(),
  /** Override the upstream timeout for this call. */
  timeout: durationSchema.optional(),
});

const cacheSchema = z.strictObject({
  entity: identifier,
  operation: identifier,
  /** Arguments that identify the cached response (default: every argument of the input schema). */
  key: z.array(z.string()).optional(),
  ttl: durationSchema.optional(),
  /** How long an expired value may still be served when the upstream fails (needs the tiered layer). */
  grace: durationSchema.optional(),
  /** Tag templates, e.g. `job:{id}`; `{name}` is replaced by the argument. */
  tags: z.array(z.string().min(1)).default([]),
  /** `caller`: the response depends on the caller's credential; the key is scoped by an HMAC of it. */
  scope: z.enum(['shared', 'caller']).optional(),
});

export const toolSchema = z.strictObject({
  name: identifier.max(64),
  description: z.string().min(1),
  title: z.string().optional(),
  input: jsonSchemaObject.default({ type: 'object', properties: {} }),
  request: requestSchema,
  /** Reads only: how the response is cached. Omit to pass the read through uncached. */
  cache: cacheSchema.optional(),
  /** Writes only: what the write makes stale. Templates use the tool arguments and `{result.<field>}`. */
  invalidates: z.array(invalidationTargetSchema).default([]),
});
export type ManifestTool = z.infer<typeof toolSchema>;

export const webhookRuleSchema = z.strictObject({
  /** Templates use `{resource_id}`, `{resource_type}`, `{event}` and `{data.<field>}` of the payload. */
  invalidates: z.array(invalidationTargetSchema).min(1),
});

export const manifestSchema = z.strictObject({
  version: z.literal(1, { error: 'version must be 1' }),
  name: identifier,
  description: z.string().optional(),
  upstream: z
    .strictObject({
      /** Default base URL; the `UPSTREAM_URL` env var wins. */
      baseUrl: z.url().optional(),
      /** Header the caller's credential is sent upstream in (default `X-Api-Key`). */
      authHeader: z.string().min(1).default('X-Api-Key'),
      timeout: durationSchema.default(5000),
      /** Retries of idempotent reads (GET) on network errors, timeouts and 5xx. */
      retries: z.number().int().min(0).max(5).default(2),
    })
    .default({ authHeader: 'X-Api-Key', timeout: 5000, retries: 2 }),
  defaults: z
    .strictObject({
      ttl: durationSchema.default(60_000),
      grace: durationSchema.default(600_000),
      scope: z.enum(['shared', 'caller']).default('shared'),
    })
    .default({ ttl: 60_000, grace: 600_000, scope: 'shared' }),
  tools: z.array(toolSchema).min(1, 'a manifest declares at least one tool'),
  webhooks: z
    .strictObject({
      /** Accepted `:source` values of `POST /webhooks/:source` (default: the manifest name). */
      sources: z.array(identifier).optional(),
      /** Event name (`job.updated`), wildcard (`job.*`, `*`) → invalidations. Every matching rule applies. */
      events: z.record(z.string().min(1), webhookRuleSchema),
    })
    .optional(),
});

export type ManifestInput = z.input<typeof manifestSchema>;
export type Manifest = z.infer<typeof manifestSchema>;
