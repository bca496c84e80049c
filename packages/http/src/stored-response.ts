import { headerValue, type CapturedResponse } from './request';

/** What is stored per cached response (compact field names: it is encoded with every entry). */
export interface StoredResponse {
  /** Format version. */
  v: 1;
  /** Status code. */
  s: number;
  /** Selected headers, `[name, value]` with lower-case names. */
  h: [string, string][];
  /** Body bytes. */
  b: Buffer;
  /** When it was produced (epoch ms, this process's clock). */
  t: number;
  /** When it stops being fresh for this route (epoch ms): past it a served copy is `STALE`. */
  e: number;
}

export function toStored(res: CapturedResponse, body: Buffer, storeHeaders: ReadonlySet<string>, now: number, ttlMs: number): StoredResponse {
  const h: [string, string][] = [];
  for (const name of storeHeaders) {
    const v = headerValue(res.headers, name);
    if (v !== undefined) h.push([name, v]);
  }
  return { v: 1, s: res.status, h, b: body, t: now, e: now + ttlMs };
}

/** A stored value read back (any shape): a StoredResponse, or `undefined` when it is not one. */
export function asStored(v: unknown): StoredResponse | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const r = v as Omit<Partial<StoredResponse>, 'b'> & { b?: unknown };
  if (r.v !== 1 || typeof r.s !== 'number' || !Array.isArray(r.h) || typeof r.t !== 'number' || typeof r.e !== 'number') return undefined;
  let b: Buffer;
  if (Buffer.isBuffer(r.b)) b = r.b;
  else if (r.b instanceof Uint8Array) b = Buffer.from(r.b.buffer, r.b.byteOffset, r.b.byteLength);
  else if (typeof r.b === 'string') b = Buffer.from(r.b, 'utf8');
  else return undefined;
  return { v: 1, s: r.s, h: r.h, b, t: r.t, e: r.e };
}

/** `_cache` metadata added to JSON object bodies. */
export interface CacheMetadata {
  hit: boolean;
  /** `l1`, `l2` (or the store), `origin` (the handler ran), `stale`. */
  source: 'l1' | 'l2' | 'origin' | 'stale';
  key: string;
}

/** The body with `_cache` added when it is a JSON object (by content type and shape); else the body unchanged. */
export function withMetadata(body: Buffer, contentType: string | undefined, meta: CacheMetadata): Buffer {
  if (contentType === undefined || !/[/+]json\b/i.test(contentType)) return body;
  // cheap shape check before parsing: an object body starts with '{'
  let i = 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
  if (body[i] !== 0x7b) return body;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return body;
    (parsed as Record<string, unknown>)._cache = meta;
    return Buffer.from(JSON.stringify(parsed), 'utf8');
  } catch {
    return body;
  }
}
