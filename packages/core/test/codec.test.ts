import { describe, expect, it } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import {
  CODEC_MAGIC,
  CorruptEntryError,
  EncodeError,
  createCodec,
  peekHeader,
  type CompressionAlgorithm,
} from '../src/codec';
import { CacheOptionsError, StratacacheError } from '../src/errors';

const codec = createCodec();
const rt = <T>(v: T, c = codec): unknown => c.decode(c.encode(v));

function corrupt(fn: () => unknown): CorruptEntryError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CorruptEntryError);
    expect((e as CorruptEntryError).code).toBe('E_CACHE_CORRUPT');
    expect(e).toBeInstanceOf(StratacacheError);
    return e as CorruptEntryError;
  }
  throw new Error('expected CorruptEntryError, nothing was thrown');
}

describe('codec round-trips', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['true', true],
    ['string', 'héllo ✓ 🎉'],
    ['empty string', ''],
    ['int', 42],
    ['negative', -7],
    ['float', 3.141592653589793],
    ['big safe int', Number.MAX_SAFE_INTEGER],
    ['NaN', Number.NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['array', [1, 'a', null, [2, [3]]]],
    ['object', { a: 1, b: { c: [1, 2, { d: 'e' }] } }],
  ])('%s', (_name, v) => {
    expect(rt(v)).toStrictEqual(v);
  });

  it('-0 comes back as 0 (documented)', () => {
    expect(Object.is(rt(-0), 0)).toBe(true);
  });

  it('Date (valid and invalid)', () => {
    const d = new Date('2024-05-06T07:08:09.123Z');
    const back = rt(d);
    expect(back).toBeInstanceOf(Date);
    expect((back as Date).getTime()).toBe(d.getTime());
    expect(Number.isNaN((rt(new Date(Number.NaN)) as Date).getTime())).toBe(true);
    expect(rt({ d: new Date(Number.NaN) })).toStrictEqual({ d: new Date(Number.NaN) });
  });

  it('Map with any key types stays a Map, distinct from a plain object', () => {
    const m = new Map<unknown, unknown>([
      ['a', 1],
      [2, 'two'],
      [{ k: 1 }, [1]],
      [null, new Map([['x', new Set([1])]])],
    ]);
    const back = rt(m) as Map<unknown, unknown>;
    expect(back).toBeInstanceOf(Map);
    expect(back).toStrictEqual(m);
    expect(rt({ a: 1 })).not.toBeInstanceOf(Map);
    expect(rt(new Map())).toStrictEqual(new Map());
    expect(rt({})).toStrictEqual({});
  });

  it('Set', () => {
    const s = new Set([1, 'a', { b: 2 }, null]);
    expect(rt(s)).toStrictEqual(s);
  });

  it('BigInt, small and huge, positive and negative', () => {
    for (const b of [0n, 5n, -5n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n, 2n ** 521n - 1n, -(10n ** 200n)]) {
      expect(rt(b)).toBe(b);
    }
    expect(rt({ id: 12345678901234567890n })).toStrictEqual({ id: 12345678901234567890n });
  });

  it('Buffer comes back as a Buffer (a copy); Uint8Array as Uint8Array', () => {
    const b = Buffer.from('binary\u0000data');
    const back = rt(b);
    expect(Buffer.isBuffer(back)).toBe(true);
    expect((back as Buffer).equals(b)).toBe(true);
    const u = new Uint8Array([1, 2, 3]);
    const ub = rt(u) as Uint8Array;
    expect(ub).toBeInstanceOf(Uint8Array);
    expect([...ub]).toEqual([1, 2, 3]);
    expect(rt(Buffer.alloc(0))).toStrictEqual(Buffer.alloc(0));
  });

  it('decoded buffers never alias the stored entry', () => {
    const entry = codec.encode({ blob: Buffer.from('abcdef') });
    const copy = Buffer.from(entry);
    const v = codec.decode(entry) as { blob: Buffer };
    v.blob.fill(0);
    expect(entry.equals(copy)).toBe(true);
    expect((codec.decode(entry) as { blob: Buffer }).blob.toString()).toBe('abcdef');
  });

  it('typed arrays, RegExp, Error', () => {
    expect(rt(new Float64Array([1.5, -0, Number.NaN]))).toStrictEqual(new Float64Array([1.5, -0, Number.NaN]));
    expect(rt(new Int32Array([-1, 7]))).toStrictEqual(new Int32Array([-1, 7]));
    const re = rt(/a+b/gi) as RegExp;
    expect(re).toBeInstanceOf(RegExp);
    expect(re.source).toBe('a+b');
    expect(re.flags).toBe('gi');
    const err = rt(new TypeError('boom')) as Error;
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('boom');
  });

  it('undefined inside arrays and objects is kept', () => {
    expect(rt([undefined, 1, undefined])).toStrictEqual([undefined, 1, undefined]);
    const o = rt({ a: undefined, b: 1 }) as Record<string, unknown>;
    expect(Object.keys(o)).toEqual(['a', 'b']);
    expect(o.a).toBeUndefined();
  });

  it('lossy like JSON: class instances become plain objects, functions become undefined', () => {
    class Job {
      id = 1;
      get label(): string {
        return 'x';
      }
    }
    const back = rt(new Job());
    expect(back).toStrictEqual({ id: 1 });
    expect(rt({ f: () => 1, a: 1 })).toStrictEqual({ f: undefined, a: 1 });
  });

  it('a __proto__ own key cannot pollute prototypes', () => {
    const evil = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
    const back = rt(evil) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(back.ok).toBe(1);
  });

  it('null-prototype objects come back as plain objects', () => {
    const o = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    expect(rt(o)).toStrictEqual({ a: 1 });
  });

  it('many distinct object shapes in one value (more than msgpackr record slots)', () => {
    const v = Array.from({ length: 300 }, (_, i) => ({ [`k${i}`]: i, [`j${i % 7}`]: 'x', shared: i }));
    expect(rt(v)).toStrictEqual(v);
    const wide = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`key${i}`, i]));
    expect(rt(wide)).toStrictEqual(wide);
  });

  it('independent codec instances (other processes) decode each other', () => {
    const a = createCodec();
    const b = createCodec();
    const v1 = { x: 1, y: [{ p: 1 }, { p: 2 }] };
    const v2 = { q: 'other', r: { x: 1, y: 2 } };
    const e1 = a.encode(v1);
    const e2 = a.encode(v2);
    expect(b.decode(e2)).toStrictEqual(v2);
    expect(b.decode(e1)).toStrictEqual(v1);
    expect(b.decode(e2)).toStrictEqual(v2);
  });
});

describe('codec errors', () => {
  it('symbols and cycles are refused with EncodeError, and the codec keeps working', () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    for (const bad of [Symbol('s'), { s: Symbol('s') }, cyc]) {
      try {
        codec.encode(bad);
        throw new Error('should have thrown');
      } catch (e) {
        expect(e).toBeInstanceOf(EncodeError);
        expect((e as EncodeError).code).toBe('E_CACHE_ENCODE');
      }
      expect(rt({ still: 'works', n: [1, 2] })).toStrictEqual({ still: 'works', n: [1, 2] });
    }
  });

  it('rejects foreign, empty, short and wrong-version buffers with CorruptEntryError', () => {
    corrupt(() => codec.decode(Buffer.alloc(0)));
    corrupt(() => codec.decode(Buffer.from([CODEC_MAGIC])));
    corrupt(() => codec.decode(Buffer.from([CODEC_MAGIC, 0x20])));
    expect(corrupt(() => codec.decode(Buffer.from('{"a":1}'))).message).toMatch(/magic/);
    corrupt(() => codec.decode(Buffer.from('"just a json string"')));
    corrupt(() => codec.decode(Buffer.from([0x81, 0xa1, 0x61, 0x01]))); // raw msgpack {a:1} from another app
    const ok = codec.encode({ a: 1 });
    const v2 = Buffer.from(ok);
    v2[1] = (2 << 5) | (v2[1]! & 0x1f);
    expect(corrupt(() => codec.decode(v2)).message).toMatch(/version 2/);
    const fmt = Buffer.from(ok);
    fmt[1] = fmt[1]! | 0b11000;
    expect(corrupt(() => codec.decode(fmt)).message).toMatch(/format/);
    const comp = Buffer.from(ok);
    comp[1] = (comp[1]! & ~0b111) | 0b111;
    expect(corrupt(() => codec.decode(comp)).message).toMatch(/compression id 7/);
    for (const bad of [null, undefined, 'string', 42, {}] as unknown[]) corrupt(() => codec.decode(bad as Buffer));
  });

  it('trailing garbage and truncation are detected', () => {
    const ok = codec.encode({ a: 'x'.repeat(50), b: [1, 2, 3] });
    corrupt(() => codec.decode(Buffer.concat([ok, Buffer.from([0x01])])));
    for (let n = 0; n < ok.length; n++) corrupt(() => codec.decode(ok.subarray(0, n)));
  });

  it('a decompression bomb is refused', () => {
    const small = createCodec({ maxDecompressedBytes: 1000 });
    const bomb = Buffer.concat([Buffer.from([CODEC_MAGIC, (1 << 5) | 1]), deflateRawSync(Buffer.alloc(1_000_000))]);
    expect(corrupt(() => small.decode(bomb)).message).toMatch(/decompress/);
  });

  it('peekHeader', () => {
    expect(peekHeader(codec.encode('x'))).toEqual({ version: 1, format: 'msgpack', compression: 'none', size: 4 });
    expect(peekHeader(codec.encode('y'.repeat(5000)))?.compression).toBe('deflate');
    expect(peekHeader(Buffer.from('{}'))).toBeUndefined();
    expect(peekHeader('nope' as unknown as Buffer)).toBeUndefined();
  });
});

describe('codec compression', () => {
  const big = {
    items: Array.from({ length: 200 }, (_, i) => ({ id: i, status: 'scheduled', note: 'customer reported leak under sink' })),
  };

  it('compresses at or above the threshold (default 1024 bytes), keeps small entries plain', () => {
    expect(codec.options).toEqual({ compressThreshold: 1024, compression: 'deflate', compressionLevel: 1, maxDecompressedBytes: 64 * 1024 * 1024 });
    const plain = createCodec({ compression: 'none' });
    const raw = plain.encode(big);
    const packed = codec.encode(big);
    expect(packed.length).toBeLessThan(raw.length / 2);
    expect(peekHeader(packed)?.compression).toBe('deflate');
    expect(codec.decode(packed)).toStrictEqual(big);
    expect(peekHeader(codec.encode({ small: true }))?.compression).toBe('none');
  });

  it('keeps the uncompressed form when compression does not help', () => {
    const noise = Buffer.from(Array.from({ length: 4096 }, (_, i) => (Math.sin(i) * 1e6) & 0xff));
    const e = codec.encode(noise);
    expect(peekHeader(e)?.compression).toBe('none');
    expect(codec.decode(e)).toStrictEqual(noise);
  });

  it.each(['none', 'deflate', 'gzip', 'brotli'] as CompressionAlgorithm[])('%s writes entries every codec can read', (alg) => {
    const c = createCodec({ compression: alg, compressThreshold: 0 });
    const e = c.encode(big);
    expect(peekHeader(e)?.compression).toBe(alg);
    expect(c.decode(e)).toStrictEqual(big);
    // old entries stay readable whatever the reader is configured to write
    for (const reader of [createCodec(), createCodec({ compression: 'none' }), createCodec({ compression: 'brotli' })]) {
      expect(reader.decode(e)).toStrictEqual(big);
    }
  });

  it('Infinity threshold disables compression', () => {
    const c = createCodec({ compressThreshold: Infinity });
    expect(peekHeader(c.encode(big))?.compression).toBe('none');
  });

  it('validates options', () => {
    const bad: unknown[] = [
      { compressThreshold: -1 },
      { compressThreshold: Number.NaN },
      { compressThreshold: '1kb' },
      { compression: 'zstd' },
      { compression: 'gzip', compressionLevel: 0 },
      { compression: 'brotli', compressionLevel: 12 },
      { compression: 'none', compressionLevel: 1 },
      { compressionLevel: 1.5 },
      { maxDecompressedBytes: 0 },
      null,
    ];
    for (const o of bad) expect(() => createCodec(o as never)).toThrow(CacheOptionsError);
    expect(createCodec({ compression: 'brotli', compressionLevel: 4 }).options.compressionLevel).toBe(4);
  });
});
