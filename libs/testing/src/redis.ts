import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { TestingError } from './errors.js';

/** Default Redis for tests: `REDIS_URL`, else the local server. */
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * A key prefix no other test uses: `relaytest:<label>:<16 hex chars>`. Pass it as `RELAY_PREFIX` and
 * delete its keys with {@link deleteRedisPrefix} afterwards. Characters of `label` outside
 * `[A-Za-z0-9._-]` become `-`, so the prefix never holds a glob character.
 */
export function uniquePrefix(label = 'test'): string {
  const safe = label.replace(/[^A-Za-z0-9._-]/g, '-') || 'test';
  return `relaytest:${safe}:${randomBytes(8).toString('hex')}`;
}

/** An ioredis client for tests (`REDIS_URL` or the local server); `quit()` it in afterAll. */
export function createTestRedis(url = process.env.REDIS_URL ?? DEFAULT_TEST_REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: 3 });
}

/**
 * Deletes every key starting with `prefix` (SCAN MATCH prefix* + UNLINK, so a large test leaves
 * no blocking DEL behind) and returns how many were deleted. Refuses an empty prefix, which would
 * match every key of the shared server.
 */
export async function deleteRedisPrefix(redis: Redis, prefix: string): Promise<number> {
  if (prefix.length === 0)
    throw new TestingError('deleteRedisPrefix: refusing an empty prefix (it matches every key)');
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) deleted += await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}
