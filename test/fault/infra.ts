import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { waitFor } from '@relay/testing';
import type { Redis } from 'ioredis';

const run = promisify(execFile);

/** Every key of `prefix` (SCAN MATCH prefix*). */
export async function listPrefixKeys(redis: Redis, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Deletes every key of `prefix` (streams, groups, delayed set): Redis "loses its data" for one fleet. */
export async function flushPrefix(redis: Redis, prefix: string): Promise<number> {
  const keys = await listPrefixKeys(redis, prefix);
  return keys.length > 0 ? redis.del(...keys) : 0;
}

/** The stream keys of `prefix`. */
export async function listStreams(redis: Redis, prefix: string): Promise<string[]> {
  const keys = await listPrefixKeys(redis, prefix);
  const types = await Promise.all(keys.map((k) => redis.type(k)));
  return keys.filter((_, i) => types[i] === 'stream').sort();
}

/**
 * Delivers every event twice: reads each stream of `prefix` (XRANGE - +) and appends each entry again
 * (XADD *, same fields). Returns how many entries were appended per stream.
 */
export async function replayStreams(redis: Redis, prefix: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const stream of await listStreams(redis, prefix)) {
    const entries = await redis.xrange(stream, '-', '+');
    for (const [, fields] of entries) await redis.xadd(stream, '*', ...fields);
    counts.set(stream, entries.length);
  }
  return counts;
}

/** Restarts the local Redis without persistence (its data is lost) and waits for PING. */
export async function restartRedis(): Promise<void> {
  await run('redis-cli', ['-h', '127.0.0.1', 'shutdown', 'nosave']).catch(() => undefined);
  await run('redis-server', [
    '--daemonize',
    'yes',
    '--bind',
    '127.0.0.1',
    '--port',
    '6379',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await waitFor(async () => (await run('redis-cli', ['-h', '127.0.0.1', 'ping'])).stdout.trim() === 'PONG', {
    timeoutMs: 15_000,
    intervalMs: 50,
    message: 'redis did not answer PING after restart',
  });
}

/** Restarts the local Postgres cluster and waits for pg_isready. */
export async function restartPostgres(): Promise<void> {
  const [version] = readdirSync('/etc/postgresql');
  if (!version) throw new Error('restartPostgres: no cluster under /etc/postgresql');
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], { timeout: 60_000 });
  await waitFor(
    async () => {
      await run('pg_isready', ['-h', '127.0.0.1', '-p', '5432']);
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 100, message: 'postgres not ready after restart' },
  );
}

/**
 * Whether this machine lets the fault phase restart the local Postgres and Redis (as CI's does: root,
 * Debian's pg_ctlcluster, redis-server on PATH). Elsewhere (e.g. servers in Docker) the restart tests are
 * skipped with this reason; `RELAY_TEST_RESTARTS=0` skips them anywhere.
 */
export function localRestartsUnavailable(): string | null {
  if (process.env.RELAY_TEST_RESTARTS === '0') return 'RELAY_TEST_RESTARTS=0';
  if (process.getuid?.() !== 0) return 'restarting the local servers needs root';
  const onPath = (cmd: string) =>
    (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(`${dir}/${cmd}`));
  if (!existsSync('/etc/postgresql') || !onPath('pg_ctlcluster')) return 'no local pg_ctlcluster cluster';
  if (!onPath('redis-server')) return 'no local redis-server';
  return null;
}

/**
 * True when every consumer group of every stream of `prefix` has read everything (lag 0) and acked
 * it (pending 0): the duplicates or replays appended so far have all been handled.
 */
export async function streamsDrained(redis: Redis, prefix: string): Promise<boolean> {
  for (const stream of await listStreams(redis, prefix)) {
    const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
    for (const group of groups) {
      const field = (name: string) => group[group.indexOf(name) + 1];
      if (Number(field('pending')) !== 0 || Number(field('lag') ?? 0) !== 0) return false;
    }
  }
  return true;
}
