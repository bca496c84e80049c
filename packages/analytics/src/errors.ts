import { StratacacheError } from '@stratacache/core';

/** Invalid analytics options or alert rules (thrown at start-up, naming the offending path). Code `E_ANALYTICS_CONFIG`. */
export class AnalyticsConfigError extends StratacacheError {
  /** Path of the offending option, e.g. `alerts.rules[2].threshold`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super('E_ANALYTICS_CONFIG', `${path}: ${message}`);
    this.path = path;
  }
}
