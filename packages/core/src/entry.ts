import { CorruptEntryError } from './codec';
import type { Codec } from './codec';

/**
 * The one entry envelope stored for every cached value (encoded once with the codec).
 * Redis gets the physical TTL: `graceUntil - now` when a grace period is set, else `expiresAt - now`.
 */
export interface CacheEntry<T = unknown> {
  value: T;
  /** When the value was produced (epoch ms, sub-ms fraction allowed). For getOrSet: when the factory *started*. Compared with tag/namespace barriers. */
  createdAt: number;
  /** Logical expiry (epoch ms): after it the entry is no longer fresh; `get` treats it as a miss. */
  expiresAt: number;
  /** End of the grace period (epoch ms) during which an upper layer may still serve it as stale. Absent = no grace. */
  graceUntil?: number;
  /** Tags, checked against tag barriers on read. */
  tags?: string[];
}

/** Marker of the envelope tuple; a buffer that decodes to anything else is foreign (→ corrupt). */
const MARK = 'sc1';

/**
 * Encodes an envelope as a compact tuple: `[mark, createdAt, expiresAt, graceUntil, tags, reserved, value]`.
 * The reserved slot (once a `gen` field nobody used) is written `null` and ignored on read, so entries
 * written by earlier versions still decode.
 */
export function encodeEntry(codec: Codec, e: CacheEntry): Buffer {
  return codec.encode([MARK, e.createdAt, e.expiresAt, e.graceUntil ?? 0, e.tags ?? null, null, e.value]);
}

/** Decodes an envelope; throws {@link CorruptEntryError} on anything that is not one. */
export function decodeEntry<T = unknown>(codec: Codec, bytes: Buffer): CacheEntry<T> {
  const t: unknown = codec.decode(bytes);
  if (!Array.isArray(t) || t.length !== 7 || t[0] !== MARK) {
    throw new CorruptEntryError('not a stratacache entry envelope');
  }
  const f = t as unknown[];
  const createdAt = f[1];
  const expiresAt = f[2];
  const graceUntil = f[3];
  const tags = f[4];
  const reserved = f[5];
  if (
    typeof createdAt !== 'number' ||
    typeof expiresAt !== 'number' ||
    typeof graceUntil !== 'number' ||
    !(tags === null || (Array.isArray(tags) && tags.every((x) => typeof x === 'string'))) ||
    !(reserved === null || typeof reserved === 'number')
  ) {
    throw new CorruptEntryError('malformed stratacache entry envelope');
  }
  const entry: CacheEntry<T> = { value: f[6] as T, createdAt, expiresAt };
  if (graceUntil > 0) entry.graceUntil = graceUntil;
  if (tags !== null) entry.tags = tags;
  return entry;
}
