import { StrataCacheError } from './errors';

export type CompressionAlgorithm = 'none' | 'deflate' | 'gzip' | 'brotli';

export interface CodecOptions {
  /** Payloads of at least this many encoded bytes are compressed. Default 1024. `Infinity` disables compression. */
  compressThreshold?: number;
  /** `'auto'` (default) picks the measured best; `'none'` disables compression. */
  compression?: 'auto' | CompressionAlgorithm;
}

export interface Codec {
  encode(value: unknown): Buffer;
  /** Throws {@link CorruptEntryError} on a corrupted, truncated, foreign or unknown-version buffer. */
  decode(buf: Buffer): unknown;
}

/** A stored entry could not be decoded (corrupt, truncated, foreign, or written by an unknown version). Callers treat it as a miss. */
export class CorruptEntryError extends StrataCacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_CACHE_CORRUPT', message, options);
  }
}

export function createCodec(_opts?: CodecOptions): Codec {
  throw new Error('not implemented yet');
}
