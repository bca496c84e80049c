/**
 * Codec benchmark: msgpackr vs JSON, compression candidates, checksum cost.
 *
 *   pnpm exec tsx bench/codec.ts            # alone
 *   pnpm bench                              # via bench/index.ts (calls runCodecBench)
 *
 * Optional native candidates (snappy, lz4-napi) are measured when they can be resolved from this
 * package or from the folder in CODEC_BENCH_MODULES (e.g. a scratch `npm install snappy lz4-napi`).
 * Figures are ratios against a baseline measured in the same run; nothing here is asserted.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import {
  brotliCompressSync,
  brotliDecompressSync,
  constants as zc,
  deflateRawSync,
  gunzipSync,
  gzipSync,
  inflateRawSync,
} from 'node:zlib';
import * as zlib from 'node:zlib';
import { Packr } from 'msgpackr';
import { createCodec } from '../src/codec';

const BUDGET_MS = Number(process.env.CODEC_BENCH_MS ?? 150);

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ['scheduled', 'in_progress', 'completed', 'cancelled', 'on_hold', 'estimate_sent'];
const TYPES = ['repair', 'install', 'maintenance', 'inspection', 'emergency'];
const FIRST = ['Anna', 'Ben', 'Carla', 'Dev', 'Elena', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jon'];
const LAST = ['Smith', 'Garcia', 'Nguyen', 'Okafor', 'Rossi', 'Kowalski', 'Dubois', 'Tanaka'];
const STREETS = ['Main St', 'Oak Ave', 'Elm Rd', 'Harbor Blvd', 'Maple Ct', 'Cedar Ln'];
const CITIES = ['Stamford', 'Guilford', 'Norwalk', 'Milford', 'Madison'];
const WORDS =
  'customer reported leak under kitchen sink replaced valve checked pressure scheduled follow up visit parts ordered warranty approved technician arrived on site photos attached invoice pending'.split(
    ' ',
  );

/** A CRM "job" record like the ones an MCP server caches (list endpoints return arrays of them). */
export function makeJob(r: () => number, id: number): Record<string, unknown> {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;
  const words = (n: number): string => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  const created = Date.UTC(2024, 0, 1) + Math.floor(r() * 3e10);
  return {
    id,
    jobNumber: `J-${String(100000 + id)}`,
    status: pick(STATUSES),
    type: pick(TYPES),
    priority: Math.floor(r() * 5),
    customer: {
      id: 1000 + Math.floor(r() * 5000),
      name: `${pick(FIRST)} ${pick(LAST)}`,
      email: `user${Math.floor(r() * 1e6)}@example.com`,
      phone: `+1-203-555-${String(Math.floor(r() * 10000)).padStart(4, '0')}`,
    },
    address: { line1: `${1 + Math.floor(r() * 999)} ${pick(STREETS)}`, city: pick(CITIES), state: 'CT', zip: `06${String(Math.floor(r() * 1000)).padStart(3, '0')}` },
    assignedTo: Math.floor(r() * 40),
    createdAt: new Date(created).toISOString(),
    updatedAt: new Date(created + Math.floor(r() * 1e9)).toISOString(),
    total: Math.round(r() * 500000) / 100,
    tags: Array.from({ length: Math.floor(r() * 4) }, () => pick(['vip', 'repeat', 'warranty', 'commercial', 'residential'])),
    notes: words(5 + Math.floor(r() * 20)),
  };
}

/** `{ total, offset, limit, items: Job[] }` whose JSON is about `targetBytes` long. */
export function makeFixture(targetBytes: number, seed = 42): Record<string, unknown> {
  const r = rng(seed);
  const items: Record<string, unknown>[] = [];
  const page = { total: 0, offset: 0, limit: 100, items };
  while (JSON.stringify(page).length < targetBytes) {
    items.push(makeJob(r, items.length + 1));
    page.total = items.length;
  }
  if (items.length > 1 && JSON.stringify(page).length > targetBytes * 1.15) items.pop();
  page.total = items.length;
  return page;
}

/**
 * ops per second of `fn`: best of 3 rounds of BUDGET_MS/3 after a short warm-up (best-of damps the
 * noise of a shared machine; every figure is compared only with figures of the same run).
 */
function opsPerSec(fn: () => unknown): number {
  const warmEnd = performance.now() + Math.min(40, BUDGET_MS / 4);
  while (performance.now() < warmEnd) fn();
  let best = 0;
  for (let round = 0; round < 3; round++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    const end = t0 + BUDGET_MS / 3;
    while (t < end) {
      for (let i = 0; i < 4; i++) fn();
      n += 4;
      t = performance.now();
    }
    best = Math.max(best, (n * 1000) / (t - t0));
  }
  return best;
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const kb = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => String(c).padStart(widths[i]!)).join('  ')).join('\n');
}

interface Candidate {
  name: string;
  compress: (b: Buffer) => Buffer;
  decompress: (b: Buffer) => Buffer;
}

async function loadOptional(name: string): Promise<unknown> {
  const bases = [process.env.CODEC_BENCH_MODULES, import.meta.url].filter((x): x is string => Boolean(x));
  for (const base of bases) {
    try {
      const req = createRequire(base.startsWith('file:') ? base : pathToFileURL(`${base.replace(/\/$/, '')}/package.json`).href);
      const path = req.resolve(name);
      return await import(pathToFileURL(path).href);
    } catch {
      // not installed there
    }
  }
  return undefined;
}

async function candidates(): Promise<Candidate[]> {
  const list: Candidate[] = [];
  for (const level of [1, 6]) {
    list.push({ name: `deflateRaw-${level}`, compress: (b) => deflateRawSync(b, { level }), decompress: (b) => inflateRawSync(b) });
  }
  for (const level of [1, 6]) {
    list.push({ name: `gzip-${level}`, compress: (b) => gzipSync(b, { level }), decompress: (b) => gunzipSync(b) });
  }
  for (const q of [1, 2, 3, 4]) {
    list.push({
      name: `brotli-${q}`,
      compress: (b) => brotliCompressSync(b, { params: { [zc.BROTLI_PARAM_QUALITY]: q, [zc.BROTLI_PARAM_SIZE_HINT]: b.length } }),
      decompress: (b) => brotliDecompressSync(b),
    });
  }
  const snappy = (await loadOptional('snappy')) as
    | { compressSync(b: Buffer): Buffer; uncompressSync(b: Buffer, o?: { asBuffer: boolean }): Buffer | string }
    | undefined;
  if (snappy?.compressSync) {
    list.push({ name: 'snappy (native)', compress: (b) => snappy.compressSync(b), decompress: (b) => snappy.uncompressSync(b, { asBuffer: true }) as Buffer });
  }
  const lz4 = (await loadOptional('lz4-napi')) as
    | { compressSync(b: Buffer): Buffer; uncompressSync(b: Buffer): Buffer }
    | undefined;
  if (lz4?.compressSync) {
    list.push({ name: 'lz4-napi (native)', compress: (b) => lz4.compressSync(b), decompress: (b) => lz4.uncompressSync(b) });
  }
  return list;
}

/** Table-driven CRC-32 in JS (what a checksum would cost where zlib.crc32 is missing: Node < 20.15). */
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();
function crc32js(b: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export async function runCodecBench(): Promise<void> {
  const sizes = [1024, 10 * 1024, 100 * 1024];
  const packr = new Packr({ useRecords: true, mapsAsObjects: false, moreTypes: true, useBigIntExtension: true, structuredClone: false, copyBuffers: true });
  const codecPlain = createCodec({ compression: 'none' });
  const codecAuto = createCodec();
  console.log(`\n# codec benchmark (node ${process.version}, ${BUDGET_MS} ms per measurement, fixture: page of CRM job records)\n`);

  // 1. serialisation: msgpackr vs JSON
  const serRows: (string | number)[][] = [
    ['size', 'serializer', 'bytes', 'size/JSON', 'encode ops/s', 'enc ×JSON', 'decode ops/s', 'dec ×JSON'],
  ];
  for (const size of sizes) {
    const value = makeFixture(size);
    const json = Buffer.from(JSON.stringify(value));
    const jEnc = opsPerSec(() => Buffer.from(JSON.stringify(value)));
    const jDec = opsPerSec(() => JSON.parse(json.toString('utf8')));
    const row = (name: string, bytes: number, enc: number, dec: number): (string | number)[] => [
      kb(size),
      name,
      fmt(bytes),
      (bytes / json.length).toFixed(2),
      fmt(enc),
      (enc / jEnc).toFixed(2),
      fmt(dec),
      (dec / jDec).toFixed(2),
    ];
    serRows.push(row('JSON (baseline)', json.length, jEnc, jDec));
    const mp = Buffer.from(packr.pack(value));
    serRows.push(row('msgpackr', mp.length, opsPerSec(() => packr.pack(value)), opsPerSec(() => packr.unpack(mp))));
    const cp = codecPlain.encode(value);
    serRows.push(row('codec (no compression)', cp.length, opsPerSec(() => codecPlain.encode(value)), opsPerSec(() => codecPlain.decode(cp))));
    const ca = codecAuto.encode(value);
    serRows.push(row(`codec (auto: ${codecAuto.options.compression}-${codecAuto.options.compressionLevel})`, ca.length, opsPerSec(() => codecAuto.encode(value)), opsPerSec(() => codecAuto.decode(ca))));
  }
  console.log('## msgpackr vs JSON (ratios > 1 are better than JSON for ops/s, < 1 better for size)\n');
  console.log(table(serRows));

  // 2. compression candidates on the MessagePack payload (what the codec compresses)
  const cands = await candidates();
  const compRows: (string | number)[][] = [['size', 'algorithm', 'ratio', 'compress MB/s', 'decompress MB/s', 'comp ×deflate-1', 'decomp ×deflate-1']];
  for (const size of sizes) {
    const payload = Buffer.from(packr.pack(makeFixture(size)));
    let base: { c: number; d: number } | undefined;
    for (const cand of cands) {
      const compressed = cand.compress(payload);
      const back = cand.decompress(compressed);
      if (!back.equals(payload)) throw new Error(`${cand.name} did not round-trip`);
      const cMBs = (opsPerSec(() => cand.compress(payload)) * payload.length) / 1e6;
      const dMBs = (opsPerSec(() => cand.decompress(compressed)) * payload.length) / 1e6;
      base ??= { c: cMBs, d: dMBs };
      compRows.push([
        `${kb(payload.length)} mp`,
        cand.name,
        (payload.length / compressed.length).toFixed(2),
        fmt(cMBs, 1),
        fmt(dMBs, 1),
        (cMBs / base.c).toFixed(2),
        (dMBs / base.d).toFixed(2),
      ]);
    }
  }
  console.log('\n## compression candidates (ratio = original/compressed; MB/s of uncompressed bytes)\n');
  console.log(table(compRows));

  // 3. checksum cost relative to an uncompressed encode+decode
  const ckRows: (string | number)[][] = [['size', 'checksum', 'MB/s', 'cost vs encode+decode']];
  const zcrc = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
  for (const size of sizes) {
    const value = makeFixture(size);
    const enc = codecPlain.encode(value);
    const roundTrip = 1 / opsPerSec(() => codecPlain.decode(codecPlain.encode(value)));
    const add = (name: string, f: (b: Uint8Array) => number): void => {
      const per = 1 / opsPerSec(() => f(enc));
      ckRows.push([kb(size), name, fmt(enc.length / per / 1e6, 0), `${((per / roundTrip) * 100).toFixed(1)} %`]);
    };
    add('crc32 (JS table)', crc32js);
    if (zcrc) add('zlib.crc32 (Node >= 20.15)', zcrc);
  }
  console.log('\n## checksum cost (would be paid on encode and again on decode)\n');
  console.log(table(ckRows));
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  runCodecBench().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
