/** Machine-readable codes carried by every {@link HarnessError}. */
export type HarnessErrorCode =
  | 'ERR_REDIS_NOT_FOUND'
  | 'ERR_OPTIONS'
  | 'ERR_NO_FREE_PORT'
  | 'ERR_REDIS_START'
  | 'ERR_REDIS_CLI'
  | 'ERR_CLUSTER_CREATE'
  | 'ERR_TIMEOUT'
  | 'ERR_CLOSED';

/** Error thrown by the harness; `code` tells what went wrong. */
export class HarnessError extends Error {
  readonly code: HarnessErrorCode;

  constructor(code: HarnessErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HarnessError';
    this.code = code;
  }
}
