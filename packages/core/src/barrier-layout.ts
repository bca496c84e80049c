import { keySlot } from './node-breakers';

const SLOTS = 16_384;
/** Slots kept clear of a range's edges (where `redis-cli --cluster create` may put the boundary ±1). */
const MARGIN = 2;
/** Variants tried per copy before giving up on placing it in its range. */
const MAX_TRIES = 256;
/** Bound of the memo of copy placements (cleared when full). */
const MAX_MEMO = 10_000;

/**
 * Where the copies of a barrier live on a Cluster (`clusterBarrierCopies`, default 3; 1 elsewhere).
 *
 * Copy 0 is the barrier key itself (`{prefix}:__ns:{entity}[:{op}]`, `{prefix}:__tag:{tag}`), so an
 * instance that writes or reads only copy 0 still sees the others' invalidations. Copy `i ≥ 1` is
 * `{prefix}:__ns.{i}:{{j}~{entity}}[:{op}]` / `{prefix}:__tag.{i}:{j}~{tag}`: its own key kind (it can
 * never equal another barrier's key) and a variant number `j`, the first (from 0) that puts the copy's
 * slot in the `i`-th next of `n` equal slot ranges after copy 0's range. The keys depend only on the
 * entity (or tag), never on the topology, so every instance computes the same ones; on a Cluster whose
 * masters own equal contiguous slot ranges (`redis-cli --cluster create` with `n` masters, or a
 * multiple of `n`) the `n` copies sit on `n` different masters. A copy that cannot be moved out of
 * another copy's slot (a hash tag in the prefix or the tag) is left out.
 */
export class BarrierLayout {
  private readonly memo = new Map<string, readonly number[]>();

  constructor(readonly copies: number) {}

  /** Namespace barrier keys of `entity` (escaped) and `operation`, copy 0 first; all copies of one entity share their copy's slot with its operation barriers. */
  ns(prefixColon: string, entity: string, operation: string | undefined): string[] {
    const op = operation === undefined ? '' : `:${operation}`;
    const first = `${prefixColon}__ns:{${entity}}${op}`;
    if (this.copies === 1) return [first];
    // the slot depends on the hash tag only: placements are per entity (op barriers follow their entity)
    const js = this.place(`n\u0000${prefixColon}${entity}`, `${prefixColon}__ns:{${entity}}`, (i, j) => `${prefixColon}__ns.${i}:{${j}~${entity}}`);
    const out = [first];
    for (let i = 1; i < js.length; i++) if ((js[i] as number) >= 0) out.push(`${prefixColon}__ns.${i}:{${js[i] as number}~${entity}}${op}`);
    return out;
  }

  /** Tag barrier keys of `tag`, copy 0 first. */
  tag(prefixColon: string, tag: string): string[] {
    const first = `${prefixColon}__tag:${tag}`;
    if (this.copies === 1) return [first];
    const key = (i: number, j: number) => `${prefixColon}__tag.${i}:${j}~${tag}`;
    const js = this.place(`t\u0000${prefixColon}${tag}`, first, key);
    const out = [first];
    for (let i = 1; i < js.length; i++) if ((js[i] as number) >= 0) out.push(key(i, js[i] as number));
    return out;
  }

  /** Variant number per copy (index 0 unused), -1 for a copy left out; memoised per barrier. */
  private place(id: string, first: string, variant: (i: number, j: number) => string): readonly number[] {
    const known = this.memo.get(id);
    if (known !== undefined) return known;
    const n = this.copies;
    const s0 = keySlot(first);
    const r0 = Math.floor((s0 * n) / SLOTS);
    const used = new Set([s0]);
    const js = [0];
    for (let i = 1; i < n; i++) {
      const r = (r0 + i) % n;
      const lo = Math.floor((r * SLOTS) / n) + MARGIN;
      const hi = Math.floor(((r + 1) * SLOTS) / n) - MARGIN;
      let pick = -1;
      for (let j = 0; j < MAX_TRIES && pick === -1; j++) {
        const s = keySlot(variant(i, j));
        if (s >= lo && s < hi && !used.has(s)) pick = j;
      }
      if (pick === -1) {
        // no variant lands in the range (a hash tag fixes the slot): keep variant 0 if it is a slot of its own
        const s = keySlot(variant(i, 0));
        if (!used.has(s)) pick = 0;
      }
      if (pick !== -1) used.add(keySlot(variant(i, pick)));
      js.push(pick);
    }
    if (this.memo.size >= MAX_MEMO) this.memo.clear();
    this.memo.set(id, js);
    return js;
  }
}

/**
 * The max of a barrier's copies: `groups` are the copies (each a list of keys in one slot, read
 * together), `value(key)` a key's barrier, or undefined when it could not be read. A copy counts only
 * if all its keys were read; Infinity when no copy could be read (the barrier is unknown).
 */
export function maxOverCopies(groups: readonly (readonly string[])[], value: (key: string) => number | undefined): number {
  let max = -1;
  for (const g of groups) {
    let m = 0;
    let ok = true;
    for (const k of g) {
      const v = value(k);
      if (v === undefined) {
        ok = false;
        break;
      }
      if (v > m) m = v;
    }
    if (ok && m > max) max = m;
  }
  return max === -1 ? Infinity : max;
}
