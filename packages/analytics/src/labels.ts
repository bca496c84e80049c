/** Label value for everything folded away (unknown entity/tenant beyond the cap). */
export const OTHER = 'other';
/** Label value when an event carries no entity / tenant. */
export const NONE = 'none';

/**
 * Bounds label cardinality: the `known` values always keep their name; other values are admitted
 * first come until `max` distinct values are held, the rest fold into `'other'`. Values are
 * sanitised (no `|`, at most 64 characters) so they can be hash-field parts and Prometheus labels.
 */
export class LabelFolder {
  private readonly seen = new Map<string, string>();
  private readonly known: Set<string> | undefined;
  constructor(
    readonly max: number,
    known?: readonly string[],
  ) {
    this.known = known && known.length > 0 ? new Set(known) : undefined;
  }

  fold(value: string | undefined): string {
    if (value === undefined || value === '') return NONE;
    const hit = this.seen.get(value);
    if (hit !== undefined) return hit;
    let out: string;
    if (this.known !== undefined) out = this.known.has(value) ? clean(value) : OTHER;
    else out = this.seen.size < this.max ? clean(value) : OTHER;
    if (out !== OTHER || this.seen.size < this.max * 4) this.seen.set(value, out); // memo bounded too
    return out;
  }

  get size(): number {
    return this.seen.size;
  }
}

function clean(v: string): string {
  const s = v.length > 64 ? v.slice(0, 64) : v;
  return s.replace(/[|\n\r]/g, '_');
}
