/**
 * Cheap, bounded estimate of the in-memory footprint of a value in bytes, used to bound L1 by
 * bytes when the encoded size is not known. Strings count 2 bytes per UTF-16 unit; numbers 8;
 * objects add a small header per property. The walk visits at most `budget` nodes and
 * extrapolates beyond that, so it is O(1)-bounded for huge values. An object reached twice is
 * counted once (the identity set is made only past the first 32 objects: below that a shared
 * reference may count twice, an over-estimate bounded by the walk's budget).
 */
export function estimateSize(value: unknown, budget = 2_000): number {
  let nodes = 0;
  let bytes = 0;
  const stack: unknown[] = [value];
  let objects = 0;
  let seen: Set<object> | undefined;
  while (stack.length > 0) {
    const v = stack.pop();
    if (++nodes > budget) {
      // extrapolate: remaining stack entries cost about the average so far
      bytes += Math.ceil((bytes / nodes) * (stack.length + 1));
      break;
    }
    switch (typeof v) {
      case 'string':
        bytes += 16 + v.length * 2;
        break;
      case 'number':
      case 'boolean':
      case 'undefined':
      case 'symbol':
        bytes += 8;
        break;
      case 'bigint':
        bytes += 16 + Math.ceil(v.toString(16).length / 2);
        break;
      case 'object': {
        if (v === null) {
          bytes += 8;
          break;
        }
        if (++objects > 32) {
          seen ??= new Set<object>();
          if (seen.has(v)) break;
          seen.add(v);
        }
        if (ArrayBuffer.isView(v)) {
          bytes += 48 + v.byteLength;
        } else if (v instanceof Date) {
          bytes += 24;
        } else if (Array.isArray(v)) {
          bytes += 32 + v.length * 8;
          for (let i = 0; i < v.length; i++) stack.push(v[i]);
        } else if (v instanceof Map) {
          bytes += 48 + v.size * 24;
          for (const [k, x] of v) stack.push(k, x);
        } else if (v instanceof Set) {
          bytes += 48 + v.size * 16;
          for (const x of v) stack.push(x);
        } else {
          bytes += 32;
          for (const k in v as Record<string, unknown>) {
            bytes += 16 + k.length * 2;
            stack.push((v as Record<string, unknown>)[k]);
          }
        }
        break;
      }
      default:
        bytes += 8;
    }
  }
  return Math.max(1, bytes);
}
