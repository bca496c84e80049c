import { StrataCacheError } from './errors';

export interface KeyBuilderOptions {
  prefix: string;
  separator?: ':';
  maxIdentifierLength?: number;
  defaults?: Record<string, Record<string, unknown>>;
}

export interface ParsedKey {
  prefix: string;
  entity: string;
  operation: string;
  identifier: string;
}

export type KeyIdentifier = string | number | Record<string, unknown> | unknown[];

/** Invalid key part (empty entity/operation, non-string, …). */
export class KeyError extends StrataCacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_CACHE_KEY', message, options);
  }
}

export class KeyBuilder {
  readonly prefix: string;
  constructor(opts: KeyBuilderOptions) {
    this.prefix = opts.prefix;
  }
  build(_entity: string, _operation: string, _identifier?: KeyIdentifier): string {
    throw new Error('not implemented yet');
  }
  identifier(_params: KeyIdentifier, _entity?: string, _operation?: string): string {
    throw new Error('not implemented yet');
  }
  pattern(_entity?: string, _operation?: string, _identifierGlob?: string): string {
    throw new Error('not implemented yet');
  }
  escape(_part: string): string {
    throw new Error('not implemented yet');
  }
  namespace(_entity: string, _operation?: string): string {
    throw new Error('not implemented yet');
  }
  parse(_key: string): ParsedKey | undefined {
    throw new Error('not implemented yet');
  }
}
