import type { Redis } from 'ioredis';
import { InvalidBusOptionError, UnexpectedReplyError } from './errors.js';
import { defineScript, runScript } from './script.js';
import type { DelayedSet } from './types.js';

/**
 * Pops due members atomically, so two pollers never pop the same member.
 * KEYS[1]: the delayed sorted set (score = due time in ms)
 * ARGV[1]: now in ms (members with score <= now are due)
 * ARGV[2]: max members to pop
 * returns: the popped members, earliest due first
 */
const POP_DUE = defineScript(`
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
-- ZREM in chunks: unpack() of a very large table would overflow the Lua stack.
for i = 1, #members, 500 do
  redis.call('ZREM', KEYS[1], unpack(members, i, math.min(i + 499, #members)))
end
return members
`);

/** The delayed set stored at `key` (see DelayedSet). */
export function createDelayedSet(redis: Redis, key: string): DelayedSet {
  return {
    async add(items) {
      if (items.length === 0) return;
      const args: (string | number)[] = [];
      for (const { member, dueAtMs } of items) {
        if (!Number.isFinite(dueAtMs))
          throw new InvalidBusOptionError('dueAtMs', `not a finite number for ${member}`);
        args.push(dueAtMs, member);
      }
      await redis.zadd(key, ...args);
    },
    async popDue(nowMs, limit) {
      if (!Number.isInteger(limit) || limit <= 0) {
        throw new InvalidBusOptionError('limit', `expected a positive integer, got ${limit}`);
      }
      const reply = await runScript(redis, POP_DUE, [key], [nowMs, limit]);
      if (!Array.isArray(reply) || !reply.every((m) => typeof m === 'string')) {
        throw new UnexpectedReplyError('popDue', 'not a list of members');
      }
      return reply;
    },
    async nextDueAtMs() {
      const first = await redis.zrange(key, 0, 0, 'WITHSCORES');
      return first[1] === undefined ? null : Number(first[1]);
    },
  };
}
