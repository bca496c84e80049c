const MAP_MUTATORS = ['set', 'delete', 'clear'] as const;
const SET_MUTATORS = ['add', 'delete', 'clear'] as const;
const DATE_MUTATORS = Object.getOwnPropertyNames(Date.prototype).filter((n) => n.startsWith('set'));

function frozenMutator(name: string): () => never {
  return () => {
    throw new TypeError(`Cannot call ${name}() on a value frozen by TieredCache (l1.freeze); copy it first (or use l1.clone)`);
  };
}

/** Makes the mutating methods of a Map / Set / Date instance throw (own properties shadowing the prototype's). */
function lockMethods(v: object, names: readonly string[]): void {
  for (const n of names) Object.defineProperty(v, n, { value: frozenMutator(n), enumerable: false, writable: false, configurable: false });
}

/**
 * `l1.freeze`: plain objects and arrays are `Object.freeze`d (assignment throws in strict mode,
 * is ignored in sloppy mode); Map, Set and Date instances get mutating methods that always throw
 * (`set`/`delete`/`clear`, `add`/`delete`/`clear`, `setX`) and their keys/values are frozen too.
 * Not covered: typed arrays and Buffers (cannot be frozen), class instances' private fields, and
 * calls through the prototype (`Map.prototype.set.call(m, …)`). Depth is capped at 64.
 */
export function deepFreeze(v: unknown, depth = 0): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v) || depth > 64 || ArrayBuffer.isView(v)) return;
  if (v instanceof Map) {
    lockMethods(v, MAP_MUTATORS);
    for (const [k, x] of v) {
      deepFreeze(k, depth + 1);
      deepFreeze(x, depth + 1);
    }
  } else if (v instanceof Set) {
    lockMethods(v, SET_MUTATORS);
    for (const x of v) deepFreeze(x, depth + 1);
  } else if (v instanceof Date) {
    lockMethods(v, DATE_MUTATORS);
  }
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k], depth + 1);
}
