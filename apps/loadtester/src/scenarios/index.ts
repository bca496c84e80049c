import type { Scenario } from '../scenario';
import { failover } from './failover';
import { mixed } from './mixed';
import { redisDown } from './redis-down';
import { soak } from './soak';
import { stampede } from './stampede';
import { zipf } from './zipf';

export const SCENARIOS: readonly Scenario[] = [zipf, mixed, stampede, redisDown, failover, soak];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
