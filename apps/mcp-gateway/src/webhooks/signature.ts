import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the webhook signature: `t=<unix seconds>,v1=<hex hmac>`. */
export const SIGNATURE_HEADER = 'x-signature';

/** Default replay window: a signature older (or further in the future) than this is refused. */
export const DEFAULT_TOLERANCE_SEC = 300;

/** HMAC-SHA256 hex of `${t}.${rawBody}` with `secret`. */
export function computeSignature(secret: string, timestampSec: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret)
    .update(`${timestampSec}.`)
    .update(rawBody)
    .digest('hex');
}

/** Builds the `X-Signature` header value for `rawBody` (used by the demo upstream and tests). */
export function signWebhook(secret: string, rawBody: string | Buffer, timestampSec = Math.floor(Date.now() / 1000)): string {
  return `t=${timestampSec},v1=${computeSignature(secret, timestampSec, rawBody)}`;
}

export type SignatureCheck =
  | {
      ok: true;
      timestamp: number;
      /** The verified signature, canonical (lower-case hex): with `timestamp`, the identity of the delivery. */
      signature: string;
    }
  | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'mismatch' };

/**
 * Verifies a `t=<unix>,v1=<hex>` signature over `${t}.${rawBody}`: the timestamp must be
 * within `toleranceSec` of now (replay window) and one of the `v1` values must match,
 * compared in constant time. Several `v1=` entries are accepted (secret rotation).
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  rawBody: string | Buffer,
  opts: { toleranceSec?: number; nowMs?: number } = {},
): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing' };
  let t: number | undefined;
  const sigs: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/i.test(v)) sigs.push(v.toLowerCase());
  }
  if (t === undefined || sigs.length === 0) return { ok: false, reason: 'malformed' };
  const now = (opts.nowMs ?? Date.now()) / 1000;
  if (Math.abs(now - t) > (opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return { ok: false, reason: 'expired' };
  const expected = Buffer.from(computeSignature(secret, t, rawBody), 'hex');
  let match = false;
  for (const s of sigs) {
    const got = Buffer.from(s, 'hex');
    // every candidate is compared (no early exit) so timing does not reveal which one matched
    if (got.length === expected.length && timingSafeEqual(got, expected)) match = true;
  }
  return match ? { ok: true, timestamp: t, signature: expected.toString('hex') } : { ok: false, reason: 'mismatch' };
}
