// What a scenario is, and the context the runner hands it.
import type { LoadMode, LoadResult, Operation } from './driver';
import type { RunOptions } from './options';
import type { Recorder } from './recorder';
import type { StackOptions } from './stack';
import { DEMO_API_KEYS } from '@stratacache/mcp-gateway';

export interface Check {
  passed: boolean;
  /** One line: why it passed or failed. */
  reason: string;
}

export interface ScenarioOutcome {
  /** What was loaded: the MCP URL, or a description of the in-process target. */
  target: string;
  /** Origin (upstream read / factory) calls during the measured load; null when unknown. */
  originCalls: number | null;
  /** Reads during the measured load (the denominator of "origin calls avoided"). */
  reads: number;
  check: Check;
  /** Scenario-specific figures (outage window, drift, …), copied into the report. */
  details: Record<string, unknown>;
}

export interface ScenarioContext {
  options: RunOptions;
  rec: Recorder;
  /** Runs the measured load with the run's mode and bounds (overrides win). */
  load(op: Operation, overrides?: { mode?: LoadMode; maxRequests?: number; durationMs?: number }): Promise<LoadResult>;
  log(line: string): void;
}

export interface Scenario {
  name: string;
  summary: string;
  /** The scenario's own check, for --help and the README. */
  checks: string;
  defaults?: Partial<RunOptions>;
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}

export function stackOptions(o: RunOptions, extra: Partial<StackOptions> = {}): StackOptions {
  return {
    url: o.url,
    upstreamUrl: o.upstreamUrl,
    redis: o.redis,
    sessions: o.sessions,
    upstreamLatencyMs: o.upstreamLatencyMs,
    apiKey: DEMO_API_KEYS.alice,
    requestTimeoutMs: o.timeoutMs,
    ...extra,
  };
}

/** The common checks: no failed request, plus whatever the scenario adds. */
export function firstFailure(conditions: [boolean, string][]): string | undefined {
  return conditions.find(([ok]) => !ok)?.[1];
}

export const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
