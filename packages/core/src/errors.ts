/** Base class of every error thrown by stratacache packages. `code` is stable and documented. */
export class StrataCacheError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Invalid options or arguments passed to a public entry point. */
export class CacheOptionsError extends StrataCacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_CACHE_OPTIONS', message, options);
  }
}
