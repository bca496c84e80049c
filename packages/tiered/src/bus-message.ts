/**
 * Wire format of invalidation-bus messages. One UTF-8 string, no JSON:
 *
 *   <version '1'> <type char> <sender id (10 chars)> <part> ( '\u0000' <part> )*
 *
 * Types: `d` keys deleted, `s` keys set elsewhere (mark the L1 copy stale; doubles as the
 * "leader is done" notification for cross-process stampede followers), `t` tags invalidated,
 * `n` namespace invalidated (parts: entity[, operation]), `p` glob pattern invalidated, `c` clear.
 * A message for one key of 20 characters is 33 bytes.
 */
export type BusMessageType = 'd' | 's' | 't' | 'n' | 'p' | 'c';

export interface BusMessage {
  type: BusMessageType;
  sender: string;
  parts: string[];
}

export const SENDER_ID_LENGTH = 10;
const VERSION = '1';
/** Separates the parts of a message. */
export const BUS_PART_SEP = '\u0000';
const SEP = BUS_PART_SEP;
const TYPES = new Set<string>(['d', 's', 't', 'n', 'p', 'c']);

export function newSenderId(): string {
  let id = '';
  while (id.length < SENDER_ID_LENGTH) id += Math.random().toString(36).slice(2);
  return id.slice(0, SENDER_ID_LENGTH);
}

export function encodeBusMessage(type: BusMessageType, sender: string, parts: readonly string[]): string {
  return VERSION + type + sender + parts.join(SEP);
}

/** Reads only the sender id (for cheap self-echo rejection). */
export function busMessageSender(raw: string): string {
  return raw.slice(2, 2 + SENDER_ID_LENGTH);
}

/** Returns undefined for a malformed or foreign message (ignored, counted). */
export function decodeBusMessage(raw: string): BusMessage | undefined {
  if (raw.length < 2 + SENDER_ID_LENGTH || raw[0] !== VERSION) return undefined;
  const type = raw[1] as string;
  if (!TYPES.has(type)) return undefined;
  const body = raw.slice(2 + SENDER_ID_LENGTH);
  return {
    type: type as BusMessageType,
    sender: raw.slice(2, 2 + SENDER_ID_LENGTH),
    parts: body.length === 0 ? [] : body.split(SEP),
  };
}
