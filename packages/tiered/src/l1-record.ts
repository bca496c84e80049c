/** What L1 keeps per key. Times are epoch milliseconds on the local clock, except `createdAt`. */
export interface L1Record {
  value: unknown;
  /** The L1 copy is served without asking L2 until this time: min(storedAt + l1Ttl, expiresAt). 0 = marked stale. */
  freshUntil: number;
  /** When L1 received the copy (used for the bus-down trust bound). */
  storedAt: number;
  /** Logical expiry of the entry (same as in L2). */
  expiresAt: number;
  /** The entry may serve as a stale fallback until this time (>= expiresAt). */
  graceUntil: number;
  /** When the value was produced (from the L2 envelope, core's clock: compared with L2 entries). */
  createdAt: number;
  /** `createdAt` on the local clock, like the other times here (refresh-ahead on the hit path). */
  createdLocal: number;
  tags: readonly string[] | undefined;
  /** Size in bytes counted against `l1.maxBytes`. */
  size: number;
}
