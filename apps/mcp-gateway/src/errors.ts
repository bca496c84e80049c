import { StratacacheError } from '@stratacache/breaker';

/** Base class of the gateway's errors; `code` is stable and listed in `docs/errors.md`. */
export class GatewayError extends StratacacheError {}

export interface ManifestIssue {
  /** Dotted path of the offending field, e.g. `tools[2].request.path`. */
  path: string;
  message: string;
  /** 1-based line and column in the manifest file (0 when unknown). */
  line: number;
  column: number;
}

/** The manifest is unreadable or invalid (`E_MANIFEST_INVALID`); `issues` carry line numbers. */
export class ManifestError extends GatewayError {
  readonly issues: ManifestIssue[];
  readonly source: string;
  constructor(source: string, issues: ManifestIssue[]) {
    const lines = issues.map((i) => `  ${source}:${i.line}:${i.column} ${i.path}: ${i.message}`);
    super('E_MANIFEST_INVALID', `invalid manifest ${source} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.issues = issues;
    this.source = source;
  }
}

/** An environment variable is missing or invalid (`E_GATEWAY_CONFIG`). */
export class ConfigError extends GatewayError {
  readonly issues: { variable: string; message: string }[];
  constructor(issues: { variable: string; message: string }[]) {
    super('E_GATEWAY_CONFIG', `invalid gateway configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}`);
    this.issues = issues;
  }
}

export type UpstreamErrorCode = 'E_UPSTREAM_HTTP' | 'E_UPSTREAM_TIMEOUT' | 'E_UPSTREAM_NETWORK';

/** A call to the upstream API failed: an HTTP error status, a timeout or a network error. */
export class UpstreamError extends GatewayError {
  /** HTTP status when the upstream answered, else undefined. */
  readonly status: number | undefined;
  /** Message taken from the upstream's error body (`message` / `error` field) when available. */
  readonly upstreamMessage: string | undefined;
  constructor(code: UpstreamErrorCode, message: string, opts: { status?: number; upstreamMessage?: string; cause?: unknown } = {}) {
    super(code, message, { cause: opts.cause });
    this.status = opts.status;
    this.upstreamMessage = opts.upstreamMessage;
  }
  /** 4xx: the caller's request is wrong; never retried, never served stale. */
  get isClientError(): boolean {
    return this.status !== undefined && this.status >= 400 && this.status < 500;
  }
}
