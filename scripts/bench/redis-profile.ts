import type { Redis } from 'ioredis';

/** Calls per command (lower case) from INFO commandstats. */
export async function readCommandCalls(redis: Redis): Promise<Map<string, number>> {
  const text = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls.set(match[1] as string, Number(match[2]));
  }
  return calls;
}

/** Per-command call deltas between two readings, largest first, dropping zeros. */
export function diffCalls(before: Map<string, number>, after: Map<string, number>): [string, number][] {
  const out: [string, number][] = [];
  for (const [cmd, n] of after) {
    const delta = n - (before.get(cmd) ?? 0);
    if (delta > 0) out.push([cmd, delta]);
  }
  return out.sort((a, b) => b[1] - a[1]);
}
