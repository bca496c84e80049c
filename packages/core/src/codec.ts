import {
  brotliCompressSync,
  brotliDecompressSync,
  constants as zlibConstants,
  deflateRawSync,
  gunzipSync,
  gzipSync,
  inflateRawSync,
} from 'node:zlib';
import { Packr } from 'msgpackr';
import { CacheOptionsError, StratacacheError } from './errors';

/**
 * Value <-> bytes for the cache stores.
 *
 * Wire format (version 1):
 *
 * ```
 * byte 0   0xC1                      magic: never valid UTF-8 and "never used" in MessagePack,
 *                                    so plain JSON/text or raw MessagePack written by another
 *                                    app can never be mistaken for an entry
 * byte 1   vvv ff ccc                vvv = format version (1), ff = payload format (0 = MessagePack),
 *                                    ccc = compression (0 none, 1 deflate-raw, 2 gzip, 3 brotli)
 * byte 2…  payload                   MessagePack (msgpackr), possibly compressed
 * ```
 *
 * No checksum: see README-codec.md for the measurement behind that decision.
 */

/** Compression algorithms the codec can write. Every id stays decodable forever. */
export type CompressionAlgorithm = 'none' | 'deflate' | 'gzip' | 'brotli';

export interface CodecOptions {
  /**
   * Encoded payloads of at least this many bytes are compressed (and the compressed form is kept
   * only when it is actually smaller). Default `1024`. `Infinity` disables compression; `0`
   * compresses everything.
   */
  compressThreshold?: number;
  /** `'auto'` (default: the measured best, currently `'deflate'`), a named algorithm, or `'none'`. */
  compression?: 'auto' | CompressionAlgorithm;
  /**
   * zlib level (deflate/gzip, 1–9) or brotli quality (0–11). Default: deflate/gzip 1, brotli 1
   * (the measured sweet spot for cache entries: see README-codec.md).
   */
  compressionLevel?: number;
  /**
   * A compressed entry that would inflate to more than this many bytes is rejected as corrupt
   * (decompression-bomb guard). Default 64 MiB.
   */
  maxDecompressedBytes?: number;
}

export interface Codec {
  /** Encodes a value. Throws {@link EncodeError} (`E_CACHE_ENCODE`) for values that cannot be serialised (symbols, cycles). */
  encode(value: unknown): Buffer;
  /**
   * Decodes bytes written by {@link Codec.encode} (any version of this library, any compression).
   * Throws {@link CorruptEntryError} (`E_CACHE_CORRUPT`) — and never any other error — on a
   * corrupted, truncated, foreign or unknown-version buffer. Callers treat that as a miss.
   */
  decode(buf: Buffer | Uint8Array): unknown;
}

/** Options of the built-in codec after defaults and validation. */
export interface ResolvedCodecOptions {
  readonly compressThreshold: number;
  readonly compression: CompressionAlgorithm;
  readonly compressionLevel: number;
  readonly maxDecompressedBytes: number;
}

/** The built-in codec: {@link Codec} plus its resolved options. */
export interface MsgpackCodec extends Codec {
  readonly options: ResolvedCodecOptions;
}

/** A stored entry could not be decoded (corrupt, truncated, foreign, or written by an unknown version). Callers treat it as a miss. */
export class CorruptEntryError extends StratacacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_CACHE_CORRUPT', message, options);
  }
}

/** A value cannot be serialised (a symbol, a circular reference, nesting too deep, …). */
export class EncodeError extends StratacacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_CACHE_ENCODE', message, options);
  }
}

/** What the 2-byte header of an entry says, or `undefined` when it is not an entry of this codec. */
export interface EntryHeader {
  version: number;
  format: 'msgpack';
  compression: CompressionAlgorithm;
  /** Header + payload size in bytes. */
  size: number;
}

export const CODEC_MAGIC = 0xc1;
export const CODEC_VERSION = 1;
export const CODEC_HEADER_BYTES = 2;

const FORMAT_MSGPACK = 0;
const COMPRESSION_IDS: Record<CompressionAlgorithm, number> = { none: 0, deflate: 1, gzip: 2, brotli: 3 };
const COMPRESSION_BY_ID: readonly (CompressionAlgorithm | undefined)[] = ['none', 'deflate', 'gzip', 'brotli'];

/** The algorithm `'auto'` resolves to, chosen by measurement (bench/codec.ts, README-codec.md). */
export const AUTO_COMPRESSION: CompressionAlgorithm = 'deflate';
const DEFAULT_LEVEL: Record<CompressionAlgorithm, number> = { none: 0, deflate: 1, gzip: 1, brotli: 1 };
const DEFAULT_THRESHOLD = 1024;
const DEFAULT_MAX_DECOMPRESSED = 64 * 1024 * 1024;
/** Uncompressed payloads up to this size are decoded from a reused buffer (no per-read allocation). */
const SCRATCH_BYTES = 16 * 1024;

function headerByte(compressionId: number): number {
  return (CODEC_VERSION << 5) | (FORMAT_MSGPACK << 3) | compressionId;
}

/** Reads the header of an entry without decoding it. Never throws. */
export function peekHeader(buf: Buffer | Uint8Array): EntryHeader | undefined {
  if (!(buf instanceof Uint8Array) || buf.length < CODEC_HEADER_BYTES + 1 || buf[0] !== CODEC_MAGIC) return undefined;
  const b = buf[1] ?? 0;
  const version = b >>> 5;
  const format = (b >>> 3) & 0b11;
  const compression = COMPRESSION_BY_ID[b & 0b111];
  if (version !== CODEC_VERSION || format !== FORMAT_MSGPACK || compression === undefined) return undefined;
  return { version, format: 'msgpack', compression, size: buf.length };
}

/** msgpackr options that round-trip Date, Map (any keys), Set, BigInt (any size), Buffer, typed arrays, RegExp, Error. */
function newPackr(): Packr {
  return new Packr({
    // records (self-describing, inline structure definitions per message) keep plain objects
    // distinct from Maps; no shared structures, so every entry decodes in any process.
    useRecords: true,
    mapsAsObjects: false,
    moreTypes: true,
    useBigIntExtension: true,
    structuredClone: false,
    // decoded Buffers are copies: a caller mutating one can never corrupt a stored entry
    copyBuffers: true,
  });
}

function validateOptions(opts: CodecOptions): ResolvedCodecOptions {
  if (opts === null || typeof opts !== 'object') throw new CacheOptionsError('codec options must be an object');
  const threshold = opts.compressThreshold ?? DEFAULT_THRESHOLD;
  if (typeof threshold !== 'number' || Number.isNaN(threshold) || threshold < 0) {
    throw new CacheOptionsError(`compressThreshold must be a number of bytes >= 0 (or Infinity to disable), got ${String(threshold)}`);
  }
  const requested = opts.compression ?? 'auto';
  if (requested !== 'auto' && !(requested in COMPRESSION_IDS)) {
    throw new CacheOptionsError(
      `compression must be one of 'auto', 'none', 'deflate', 'gzip', 'brotli', got ${JSON.stringify(requested)}`,
    );
  }
  const compression: CompressionAlgorithm = requested === 'auto' ? AUTO_COMPRESSION : requested;
  const level = opts.compressionLevel ?? DEFAULT_LEVEL[compression];
  const [min, max] = compression === 'brotli' ? [0, 11] : compression === 'none' ? [0, 0] : [1, 9];
  if (opts.compressionLevel !== undefined && compression === 'none') {
    throw new CacheOptionsError(`compressionLevel has no meaning with compression 'none'`);
  }
  if (!Number.isInteger(level) || level < min || level > max) {
    throw new CacheOptionsError(`compressionLevel for '${compression}' must be an integer ${min}..${max}, got ${String(level)}`);
  }
  const maxOut = opts.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED;
  if (!Number.isInteger(maxOut) || maxOut < 1) {
    throw new CacheOptionsError(`maxDecompressedBytes must be a positive integer, got ${String(maxOut)}`);
  }
  return {
    compressThreshold: compression === 'none' ? Infinity : threshold,
    compression,
    compressionLevel: level,
    maxDecompressedBytes: maxOut,
  };
}

type Compressor = (payload: Buffer) => Buffer;

function compressorFor(alg: CompressionAlgorithm, level: number): Compressor | undefined {
  switch (alg) {
    case 'deflate':
      return (p) => deflateRawSync(p, { level });
    case 'gzip':
      return (p) => gzipSync(p, { level });
    case 'brotli':
      return (p) =>
        brotliCompressSync(p, {
          params: {
            [zlibConstants.BROTLI_PARAM_QUALITY]: level,
            [zlibConstants.BROTLI_PARAM_SIZE_HINT]: p.length,
          },
        });
    case 'none':
      return undefined;
  }
}

function decompress(alg: CompressionAlgorithm, body: Buffer, maxOutputLength: number): Buffer {
  switch (alg) {
    case 'deflate':
      return inflateRawSync(body, { maxOutputLength });
    case 'gzip':
      return gunzipSync(body, { maxOutputLength });
    case 'brotli':
      return brotliDecompressSync(body, { maxOutputLength });
    case 'none':
      return body;
  }
}

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Creates a codec. Pure and synchronous; one instance can be shared by every store.
 *
 * Round-trips: `null`, `undefined` (top level and inside arrays/objects), booleans, strings,
 * numbers (including `NaN`, `±Infinity`; `-0` comes back as `0`), `BigInt` of any size, `Date`
 * (including invalid dates), `Map` (any key types), `Set`, `Buffer` (comes back as `Buffer`),
 * `Uint8Array` and other typed arrays (same class), `ArrayBuffer`, `RegExp`, `Error` (message and
 * name), plain objects and arrays nested arbitrarily.
 *
 * Lossy, like `JSON.stringify`: class instances come back as plain objects (own enumerable
 * properties), functions become `undefined`, a `__proto__` own key is renamed `__proto_`
 * (prototype-pollution guard), object prototypes are not kept.
 *
 * Refused with {@link EncodeError}: symbols, circular references, nesting deeper than the stack.
 */
export function createCodec(opts: CodecOptions = {}): MsgpackCodec {
  const options = validateOptions(opts);
  const packr = newPackr();
  const compress = compressorFor(options.compression, options.compressionLevel);
  const threshold = options.compressThreshold;
  const compressionId = COMPRESSION_IDS[options.compression];
  const plainHeader = headerByte(0);
  const compressedHeader = headerByte(compressionId);
  const maxOut = options.maxDecompressedBytes;
  // One scratch buffer per codec for uncompressed payloads (see decode).
  const scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  (scratch as Buffer & { dataView?: DataView }).dataView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);
  const scratchRange = { start: 0, end: 0 };

  function encode(value: unknown): Buffer {
    let payload: Buffer;
    try {
      payload = packr.pack(value);
    } catch (e) {
      throw new EncodeError(`value cannot be serialised: ${describeError(e)}`, { cause: e });
    }
    let body = payload;
    let h = plainHeader;
    if (compress !== undefined && payload.length >= threshold) {
      const c = compress(payload);
      if (c.length < payload.length) {
        body = c;
        h = compressedHeader;
      }
    }
    // Copy out of msgpackr's shared slab so a long-lived entry does not pin it.
    const out = Buffer.allocUnsafe(CODEC_HEADER_BYTES + body.length);
    out[0] = CODEC_MAGIC;
    out[1] = h;
    body.copy(out, CODEC_HEADER_BYTES);
    return out;
  }

  function decode(buf: Buffer | Uint8Array): unknown {
    if (!(buf instanceof Uint8Array)) {
      throw new CorruptEntryError(`entry is not a byte buffer (got ${buf === null ? 'null' : typeof buf})`);
    }
    if (buf.length < CODEC_HEADER_BYTES + 1) {
      throw new CorruptEntryError(`entry too short (${buf.length} bytes)`);
    }
    if (buf[0] !== CODEC_MAGIC) {
      throw new CorruptEntryError('entry was not written by stratacache (bad magic byte)');
    }
    const h = buf[1] ?? 0;
    const version = h >>> 5;
    if (version !== CODEC_VERSION) {
      throw new CorruptEntryError(`entry has unknown codec version ${version} (this build reads ${CODEC_VERSION})`);
    }
    const format = (h >>> 3) & 0b11;
    if (format !== FORMAT_MSGPACK) {
      throw new CorruptEntryError(`entry has unknown payload format ${format}`);
    }
    const alg = COMPRESSION_BY_ID[h & 0b111];
    if (alg === undefined) {
      throw new CorruptEntryError(`entry has unknown compression id ${h & 0b111}`);
    }
    const n = buf.length - CODEC_HEADER_BYTES;
    if (alg === 'none' && n <= SCRATCH_BYTES) {
      // Hot path: copy the payload into a reused buffer whose DataView msgpackr already caches, instead
      // of a new Buffer view + a new DataView (+ a property added to it) per read. Safe because unpack
      // is synchronous and never keeps a view of its source (copyBuffers; typed arrays are sliced).
      if (Buffer.isBuffer(buf)) buf.copy(scratch, 0, CODEC_HEADER_BYTES);
      else scratch.set(buf.subarray(CODEC_HEADER_BYTES));
      scratchRange.end = n;
      try {
        return packr.unpack(scratch, scratchRange);
      } catch (e) {
        throw new CorruptEntryError(`entry payload cannot be decoded: ${describeError(e)}`, { cause: e });
      }
    }
    const body = Buffer.from(buf.buffer, buf.byteOffset + CODEC_HEADER_BYTES, n);
    let payload: Buffer;
    try {
      payload = decompress(alg, body, maxOut);
    } catch (e) {
      throw new CorruptEntryError(`entry cannot be decompressed (${alg}): ${describeError(e)}`, { cause: e });
    }
    if (payload.length === 0) throw new CorruptEntryError('entry has an empty payload');
    try {
      return packr.unpack(payload);
    } catch (e) {
      throw new CorruptEntryError(`entry payload cannot be decoded: ${describeError(e)}`, { cause: e });
    }
  }

  return { encode, decode, options };
}
