import { StratacacheError } from '@stratacache/core';

/** Invalid options or arguments given to the warming package. */
export class WarmingOptionsError extends StratacacheError {
  constructor(message: string) {
    super('E_WARMING_OPTIONS', message);
  }
}

/** A warm job names a key that no declared entry or loader of this process can load (it fails without retry). */
export class UnknownWarmKeyError extends StratacacheError {
  constructor(key: string) {
    super('E_WARMING_UNKNOWN_KEY', `no declared entry or loader for ${JSON.stringify(key)} in this process`);
  }
}

/** The cache refused the warmed value (`set` resolved `{ ok: false }`): the job fails and is retried. */
export class WarmWriteError extends StratacacheError {
  constructor(key: string, reason: string) {
    super('E_WARMING_WRITE', `cache write of ${JSON.stringify(key)} failed (${reason})`);
  }
}

/** The Warmer was used after `close()`. */
export class WarmerClosedError extends StratacacheError {
  constructor() {
    super('E_WARMING_CLOSED', 'warmer is closed');
  }
}
