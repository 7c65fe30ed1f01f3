import type { Redis } from 'ioredis';
import { PublishError } from './errors.js';

/** Max bytes of the raw entry kept in a dead letter. */
export const DEAD_LETTER_RAW_MAX_BYTES = 8 * 1024;

/** A stream entry to move to the dead-letter stream and ack. */
export interface DeadLetter {
  stream: string;
  id: string;
  reason: string;
  /** The entry's payload as read (the `event` field, or every field when it is missing). */
  raw: string;
}

/** Cuts `raw` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(raw: string, maxBytes = DEAD_LETTER_RAW_MAX_BYTES): string {
  const bytes = Buffer.from(raw, 'utf8');
  if (bytes.length <= maxBytes) return raw;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8');
}

/**
 * Writes each letter to `deadStream` (fields reason, stream, id, raw, group, consumer) and XACKs the
 * original entry, in one MULTI so an entry is never acked without its dead letter.
 */
export async function deadLetterEntries(
  redis: Redis,
  letters: ReadonlyArray<DeadLetter>,
  target: { deadStream: string; group: string; consumer: string; maxLen: number },
): Promise<void> {
  if (letters.length === 0) return;
  const multi = redis.multi();
  for (const letter of letters) {
    multi.xadd(
      target.deadStream,
      'MAXLEN',
      '~',
      target.maxLen,
      '*',
      'reason',
      letter.reason,
      'stream',
      letter.stream,
      'id',
      letter.id,
      'raw',
      truncateUtf8(letter.raw),
      'group',
      target.group,
      'consumer',
      target.consumer,
    );
    multi.xack(letter.stream, target.group, letter.id);
  }
  const results = await multi.exec();
  const failures = (results ?? []).filter(([err]) => err);
  if (!results || failures.length > 0) {
    throw new PublishError(
      failures.map(([err]) => ({ stream: target.deadStream, message: err?.message ?? 'MULTI aborted' })),
    );
  }
}
