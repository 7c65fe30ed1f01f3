import type { Redis } from 'ioredis';

/**
 * True when the stream or its group is gone: NOGROUP, or UNBLOCKED (Redis 7 ends a blocked
 * XREADGROUP with "UNBLOCKED the stream key no longer exists" when the stream is deleted).
 */
export function isNoGroupError(err: unknown): boolean {
  return err instanceof Error && (err.message.startsWith('NOGROUP') || err.message.startsWith('UNBLOCKED'));
}

/** True when Redis ended a blocked read because its stream was deleted. */
export function isStreamDeletedError(err: unknown): boolean {
  return (
    err instanceof Error && err.message.startsWith('UNBLOCKED') && err.message.includes('no longer exists')
  );
}

/**
 * Creates `group` on every stream (`XGROUP CREATE s g 0 MKSTREAM`), ignoring BUSYGROUP. Id 0 so an
 * event appended before the group existed (e.g. right after a Redis reset) is still delivered.
 */
export async function ensureGroups(
  redis: Redis,
  streams: ReadonlyArray<string>,
  group: string,
): Promise<void> {
  const pipeline = redis.pipeline();
  for (const stream of streams) pipeline.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  const results = await pipeline.exec();
  if (!results) throw new Error('XGROUP CREATE pipeline returned no result');
  for (const [err] of results) {
    if (err && !err.message.startsWith('BUSYGROUP')) throw err;
  }
}
