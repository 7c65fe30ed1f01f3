import type { Redis } from 'ioredis';

/** XACKs delivered entries, one XACK per stream, pipelined. */
export async function ackEntries(
  redis: Redis,
  group: string,
  entries: ReadonlyArray<{ stream: string; id: string }>,
): Promise<void> {
  if (entries.length === 0) return;
  const byStream = new Map<string, string[]>();
  for (const entry of entries) {
    const ids = byStream.get(entry.stream) ?? [];
    ids.push(entry.id);
    byStream.set(entry.stream, ids);
  }
  const pipeline = redis.pipeline();
  for (const [stream, ids] of byStream) pipeline.xack(stream, group, ...ids);
  const results = await pipeline.exec();
  const failed = (results ?? []).find(([err]) => err);
  if (!results || failed) throw failed?.[0] ?? new Error('XACK pipeline returned no result');
}
