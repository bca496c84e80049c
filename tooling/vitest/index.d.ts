import type { UserConfig } from 'vitest/config';
export declare function strataVitest(opts?: { redis?: boolean; overrides?: UserConfig }): UserConfig;
