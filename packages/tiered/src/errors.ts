import { StratacacheError } from '@stratacache/core';

/** The factory did not settle within `hardTimeout`; its `signal` was aborted. Code `E_FACTORY_TIMEOUT`. */
export class FactoryTimeoutError extends StratacacheError {
  readonly key: string;
  readonly timeoutMs: number;
  constructor(key: string, timeoutMs: number) {
    super('E_FACTORY_TIMEOUT', `factory for key ${JSON.stringify(truncate(key))} did not settle within ${timeoutMs} ms (hardTimeout)`);
    this.key = key;
    this.timeoutMs = timeoutMs;
  }
}

/** The TieredCache was used after `close()`. Code `E_TIERED_CLOSED`. */
export class TieredClosedError extends StratacacheError {
  constructor() {
    super('E_TIERED_CLOSED', 'TieredCache is closed');
  }
}

function truncate(key: string): string {
  return key.length > 120 ? `${key.slice(0, 117)}...` : key;
}
