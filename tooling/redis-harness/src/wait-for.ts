import { HarnessError } from './errors';

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Pause between attempts (default 50 ms). */
  intervalMs?: number;
  /** Describes what is awaited; used in the timeout error. */
  message?: string;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `fn` until it returns (or resolves to) a truthy value and resolves with it. Thrown errors
 * count as "not yet". Rejects with `ERR_TIMEOUT` (carrying the last error) when the deadline passes.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitForOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new HarnessError('ERR_OPTIONS', `waitFor: timeoutMs must be a non-negative number, got ${String(timeoutMs)}`);
  }
  if (!Number.isFinite(intervalMs) || intervalMs < 0) {
    throw new HarnessError('ERR_OPTIONS', `waitFor: intervalMs must be a non-negative number, got ${String(intervalMs)}`);
  }
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const what = opts.message ?? 'condition';
      const detail = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new HarnessError('ERR_TIMEOUT', `waitFor: ${what} not met within ${timeoutMs} ms${detail}`, {
        cause: lastError,
      });
    }
    await sleep(intervalMs);
  }
}
