import { UnexpectedReplyError } from './errors.js';

/** A stream entry as Redis returned it, before validation. */
export interface RawEntry {
  stream: string;
  id: string;
  /** Flat field/value list (`[f1, v1, f2, v2, ...]`). */
  fields: string[];
}

/** Parsed XAUTOCLAIM reply. */
export interface AutoClaimPage {
  /** Cursor for the next call; `0-0` when the scan is complete. */
  cursor: string;
  entries: RawEntry[];
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Parses one `[id, [field, value, ...]]` item; entries deleted while pending come back with null fields. */
function parseEntry(command: string, stream: string, item: unknown): RawEntry | null {
  if (!Array.isArray(item) || typeof item[0] !== 'string') {
    throw new UnexpectedReplyError(command, `entry of ${stream} is not [id, fields]`);
  }
  const fields: unknown = item[1];
  if (fields === null || fields === undefined) return null;
  if (!isStringArray(fields)) {
    throw new UnexpectedReplyError(command, `fields of ${stream} ${item[0]} are not strings`);
  }
  return { stream, id: item[0], fields };
}

/** Parses an XREAD / XREADGROUP reply (`null` on timeout) into entries, in reply order. */
export function parseReadReply(command: string, reply: unknown): RawEntry[] {
  if (reply === null || reply === undefined) return [];
  if (!Array.isArray(reply)) throw new UnexpectedReplyError(command, 'not an array');
  const out: RawEntry[] = [];
  for (const streamReply of reply) {
    if (!Array.isArray(streamReply) || typeof streamReply[0] !== 'string' || !Array.isArray(streamReply[1])) {
      throw new UnexpectedReplyError(command, 'stream item is not [stream, entries]');
    }
    const stream = streamReply[0];
    for (const item of streamReply[1] as unknown[]) {
      const entry = parseEntry(command, stream, item);
      if (entry) out.push(entry);
    }
  }
  return out;
}

/** Parses an XAUTOCLAIM reply (`[cursor, entries, deletedIds]` on Redis 7). */
export function parseAutoClaimReply(stream: string, reply: unknown): AutoClaimPage {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string' || !Array.isArray(reply[1])) {
    throw new UnexpectedReplyError('XAUTOCLAIM', 'not [cursor, entries, ...]');
  }
  const entries: RawEntry[] = [];
  for (const item of reply[1] as unknown[]) {
    const entry = parseEntry('XAUTOCLAIM', stream, item);
    if (entry) entries.push(entry);
  }
  return { cursor: reply[0], entries };
}

/** Delivery count from an `XPENDING key group id id 1` reply, or null when the entry is no longer pending. */
export function parsePendingDeliveries(reply: unknown): number | null {
  if (!Array.isArray(reply)) throw new UnexpectedReplyError('XPENDING', 'not an array');
  const first: unknown = reply[0];
  if (first === undefined) return null;
  if (!Array.isArray(first) || typeof first[3] !== 'number') {
    throw new UnexpectedReplyError('XPENDING', 'item is not [id, consumer, idle, deliveries]');
  }
  return first[3];
}

/** Value of `field` in a flat field/value list, or undefined. */
export function findField(fields: ReadonlyArray<string>, field: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === field) return fields[i + 1];
  }
  return undefined;
}

/** Compares two stream ids (`ms-seq`) numerically: negative when a < b. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map((part) => BigInt(part));
  const [bMs = 0n, bSeq = 0n] = b.split('-').map((part) => BigInt(part));
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}
