import { afterAll, describe, expect, it } from 'vitest';
import { TestingError } from './errors.js';
import { createTestRedis, deleteRedisPrefix, uniquePrefix } from './redis.js';

const redis = createTestRedis();
const prefixes: string[] = [];
function prefix(label: string): string {
  const value = uniquePrefix(label);
  prefixes.push(value);
  return value;
}

afterAll(async () => {
  for (const value of prefixes) await deleteRedisPrefix(redis, value);
  await redis.quit();
});

describe('uniquePrefix', () => {
  it.each([
    ['ingest', /^relaytest:ingest:[0-9a-f]{16}$/],
    [undefined, /^relaytest:test:[0-9a-f]{16}$/],
    ['a b*c?[d]', /^relaytest:a-b-c--d-:[0-9a-f]{16}$/],
  ])('%s -> %s', (label, pattern) => {
    expect(uniquePrefix(label)).toMatch(pattern);
  });

  it('never repeats', () => {
    const values = new Set(Array.from({ length: 1000 }, () => uniquePrefix('x')));
    expect(values.size).toBe(1000);
  });
});

describe('deleteRedisPrefix', () => {
  it('deletes every key under the prefix, across many SCAN pages, and nothing else', async () => {
    const mine = prefix('mine');
    const other = prefix('other');
    const pipeline = redis.pipeline();
    for (let i = 0; i < 2500; i += 1) pipeline.set(`${mine}:k${i}`, '1');
    pipeline.xadd(`${mine}:runs`, '*', 'event', '{}');
    pipeline.set(`${other}:keep`, '1');
    await pipeline.exec();

    expect(await deleteRedisPrefix(redis, mine)).toBe(2501);
    expect(await redis.exists(`${mine}:k0`, `${mine}:k2499`, `${mine}:runs`)).toBe(0);
    expect(await redis.get(`${other}:keep`)).toBe('1');
    expect(await deleteRedisPrefix(redis, mine)).toBe(0);
  });

  it('matches glob characters of the prefix literally', async () => {
    const base = prefix('glob');
    await redis.set(`${base}:x:key`, '1');
    await redis.set(`${base}:[x]:key`, '1');
    expect(await deleteRedisPrefix(redis, `${base}:[x]`)).toBe(1);
    expect(await redis.get(`${base}:x:key`)).toBe('1');
  });

  it('refuses an empty prefix', async () => {
    await expect(deleteRedisPrefix(redis, '')).rejects.toBeInstanceOf(TestingError);
  });
});
