import type { Duration } from './duration';

export interface TtlRule {
  pattern?: string;
  entity?: string;
  operation?: string;
  ttl: Duration;
  jitter?: number;
}

export interface TtlPolicyOptions {
  defaultTtl?: Duration;
  rules?: TtlRule[];
  jitter?: number;
  random?: () => number;
}

export interface TtlHint {
  entity?: string;
  operation?: string;
  ttl?: Duration;
}

export interface TtlDescription {
  ttlMs: number;
  rule: TtlRule | 'default' | 'explicit';
}

export class TtlPolicy {
  constructor(_opts?: TtlPolicyOptions) {}
  resolve(_key: string, _hint?: TtlHint): number {
    throw new Error('not implemented yet');
  }
  describe(_key: string, _hint?: TtlHint): TtlDescription {
    throw new Error('not implemented yet');
  }
  addRule(_rule: TtlRule): void {
    throw new Error('not implemented yet');
  }
  setTtl(_entityOrPattern: string, _ttl: Duration): void {
    throw new Error('not implemented yet');
  }
}
