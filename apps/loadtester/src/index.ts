// Programmatic use of the load tester (tests, other tools).
export { runScenario, type RunResult } from './run';
export { SCENARIOS, findScenario } from './scenarios';
export { parseCommand, parseDurationMs, DEFAULTS, LIMITS, UsageError, type RunOptions } from './options';
export { runLoad, type LoadMode, type LoadSpec, type LoadResult, type Operation } from './driver';
export { Recorder, type Outcome, type SeriesPoint, type LatencySummary } from './recorder';
export { startStack, type Stack, type StackOptions } from './stack';
export { zipfSampler, prng } from './zipf';
export { isLoopbackHost, requireLoopback, TargetError } from './loopback';
export { renderHtml, chartData } from './report/html';
export { latencySvg } from './report/svg';
export { latencyPng } from './report/png';
export { buildReport, summaryLines, type Report } from './report/report';
export { main, helpText, OPTION_HELP } from './main';
export type { Scenario, ScenarioContext, ScenarioOutcome, Check } from './scenario';
