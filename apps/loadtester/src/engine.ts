// The load engine without the reports (no chart assets): what other workspace tools (the root
// bench) import as `@stratacache/loadtester/engine`.
export { runLoad, type LoadMode, type LoadSpec, type LoadResult, type Operation } from './driver';
export { Recorder, type Outcome, type SeriesPoint, type LatencySummary } from './recorder';
export { startStack, type Stack, type StackOptions } from './stack';
export { DEMO_API_KEYS } from '@stratacache/mcp-gateway';
