import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptEntryError, createCodec } from '../src/codec';

/** What the codec promises to give back (see createCodec docs): -0 -> 0, null-prototype -> plain, `__proto__` key -> `__proto_`. */
function expected(v: unknown): unknown {
  if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(expected);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [expected(k), expected(x)]));
  if (v instanceof Set) return new Set([...v].map(expected));
  if (v instanceof Date || ArrayBuffer.isView(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    Object.defineProperty(out, k === '__proto__' ? '__proto_' : k, {
      value: expected((v as Record<string, unknown>)[k]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

const rich = fc.anything({
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withNullPrototype: true,
  withUnicodeString: true,
  maxDepth: 4,
});
const extras = fc.oneof(
  fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
  fc.date(),
  fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u)),
  fc.array(fc.tuple(fc.string(), fc.oneof(fc.integer(), fc.date(), fc.bigInt()))).map((e) => new Map(e)),
  fc.array(fc.oneof(fc.string(), fc.integer())).map((a) => new Set(a)),
);
const value = fc.oneof(rich, extras, fc.array(fc.oneof(rich, extras), { maxLength: 5 }), fc.dictionary(fc.string(), extras));

function onlyCorrupt(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof CorruptEntryError)) throw new Error(`decode threw ${String(e)} instead of CorruptEntryError`, { cause: e });
  }
}

describe('codec properties', () => {
  const codecs = {
    default: createCodec(),
    'always compressed (deflate)': createCodec({ compressThreshold: 0 }),
    'always compressed (brotli)': createCodec({ compressThreshold: 0, compression: 'brotli' }),
    none: createCodec({ compression: 'none' }),
  };

  for (const [name, codec] of Object.entries(codecs)) {
    it(`round-trips arbitrary values: ${name}`, () => {
      fc.assert(
        fc.property(value, (v) => {
          const back = codec.decode(codec.encode(v));
          expect(back).toStrictEqual(expected(v));
          // Buffers come back as Buffers wherever they are
          if (Buffer.isBuffer(v)) expect(Buffer.isBuffer(back)).toBe(true);
        }),
        { numRuns: name === 'default' ? 300 : 80 },
      );
    });
  }

  it('decode of arbitrary bytes throws nothing but CorruptEntryError', () => {
    const codec = createCodec();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => onlyCorrupt(() => codec.decode(Buffer.from(bytes)))), {
      numRuns: 500,
    });
  });

  it('decode of a valid header + arbitrary payload throws nothing but CorruptEntryError', () => {
    const codec = createCodec();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ minLength: 1, maxLength: 256 }), (alg, bytes) => {
        const buf = Buffer.concat([Buffer.from([0xc1, (1 << 5) | alg]), bytes]);
        onlyCorrupt(() => codec.decode(buf));
      }),
      { numRuns: 1000 },
    );
  });

  it('truncated encodings are always rejected', () => {
    const codec = createCodec({ compressThreshold: 64 });
    fc.assert(
      fc.property(value, fc.nat(), (v, cut) => {
        const e = codec.encode(v);
        const n = cut % e.length;
        expect(() => codec.decode(e.subarray(0, n))).toThrow(CorruptEntryError);
      }),
      { numRuns: 200 },
    );
  });

  it('bit flips anywhere never throw anything but CorruptEntryError; in the magic or version they are always detected', () => {
    const codec = createCodec({ compressThreshold: 64 });
    fc.assert(
      fc.property(value, fc.nat(), fc.integer({ min: 0, max: 7 }), (v, pos, bit) => {
        const e = Buffer.from(codec.encode(v));
        const i = pos % e.length;
        e[i] = e[i]! ^ (1 << bit);
        onlyCorrupt(() => codec.decode(e));
        if (i === 0 || (i === 1 && bit >= 5)) expect(() => codec.decode(e)).toThrow(CorruptEntryError);
      }),
      { numRuns: 400 },
    );
    // and the codec still works after all that
    expect(codec.decode(codec.encode({ ok: [1, 2, 3] }))).toStrictEqual({ ok: [1, 2, 3] });
  });
});
