import type { UserConfig } from 'vitest/config';
export declare function strataVitest(opts?: { redis?: boolean; /** lower TS 5 standard decorators in test files */ decorators?: boolean; overrides?: UserConfig }): UserConfig;
