import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script with its SHA1, run with EVALSHA (EVAL once when Redis does not know it yet). */
export interface LuaScript {
  source: string;
  sha: string;
}

/** Prepares a Lua script for {@link runScript}. */
export function defineScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Runs `script` with EVALSHA, falling back to EVAL on NOSCRIPT (after a Redis restart or SCRIPT FLUSH). */
export async function runScript(
  redis: Redis,
  script: LuaScript,
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(script.source, keys.length, ...keys, ...args);
  }
}
