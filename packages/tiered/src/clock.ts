/**
 * A 1 ms-resolution wall clock for the L1 hit path, the same trick as lru-cache's `ttlResolution`:
 * `Date.now()` is read once and reused until a 1 ms timer clears it. Inside one long synchronous
 * (or microtask-only) run the value does not advance, so an L1 copy can be served up to the length
 * of that run past its expiry; every I/O turn of the event loop refreshes it.
 */
let cached = 0;
const reset = (): void => {
  cached = 0;
};

export function coarseNow(): number {
  // (kept tiny so V8 inlines it into the hit path; the refresh is out of line)
  return cached !== 0 ? cached : refresh();
}

function refresh(): number {
  cached = Date.now();
  setTimeout(reset, 1).unref();
  return cached;
}
