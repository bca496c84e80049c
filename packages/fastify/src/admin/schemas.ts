/** JSON schemas of the admin routes: validation (clear 400s) and the OpenAPI document at once. */

const str = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength }) as const;

export const errorSchema = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
  required: ['statusCode', 'error', 'message'],
} as const;

export const invalidateResultSchema = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, deleted: { type: 'integer' }, barriers: { type: 'integer' }, reason: { type: 'string' } },
  required: ['ok', 'deleted', 'barriers'],
} as const;

const anyObject = { type: 'object', additionalProperties: true } as const;

/** Exactly one of key / pattern / tag / namespace (+ optional operation with namespace). */
export const invalidateBody = {
  type: 'object',
  additionalProperties: false,
  properties: { key: str(1024), pattern: str(1024), tag: str(256), namespace: str(256), operation: str(256) },
  oneOf: [
    { required: ['key'], not: { anyOf: [{ required: ['pattern'] }, { required: ['tag'] }, { required: ['namespace'] }, { required: ['operation'] }] } },
    { required: ['pattern'], not: { anyOf: [{ required: ['key'] }, { required: ['tag'] }, { required: ['namespace'] }, { required: ['operation'] }] } },
    { required: ['tag'], not: { anyOf: [{ required: ['key'] }, { required: ['pattern'] }, { required: ['namespace'] }, { required: ['operation'] }] } },
    { required: ['namespace'], not: { anyOf: [{ required: ['key'] }, { required: ['pattern'] }, { required: ['tag'] }] } },
  ],
} as const;

export const warmingBody = {
  type: 'object',
  additionalProperties: false,
  required: ['keys'],
  properties: { keys: { type: 'array', minItems: 1, maxItems: 1000, items: str(1024) } },
} as const;

export const optimizeBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { dryRun: { type: 'boolean' } },
} as const;

export const acknowledgeParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:#-]+$' } },
} as const;

export const limitQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 } },
} as const;

export const rangeQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { range: { type: 'string', enum: ['1h', '24h', '7d', '30d'], default: '1h' } },
} as const;

export const performanceQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { range: { type: 'string', enum: ['1h', '24h', '7d', '30d'], default: '24h' } },
} as const;

export const emptyQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

/** Common response map: the declared success shape plus JSON errors. */
export function responses(ok: object, codes: number[] = []): Record<string, object> {
  const r: Record<string, object> = { 200: ok, 400: errorSchema, 401: errorSchema, 429: errorSchema };
  for (const c of codes) r[String(c)] = errorSchema;
  return r;
}

export { anyObject };
