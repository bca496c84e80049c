/** What the warming routes need (the warming package implements it). */
export interface AdminWarming {
  /** Queues (or runs) warming of these keys. */
  warm(keys: string[]): unknown;
  /** Queue state: waiting, active, completed, failed… */
  stats(): unknown;
}
