import type { DelayedSet } from '@relay/bus';
import { createLogger } from '@relay/runtime';
import { describe, expect, it } from 'vitest';
import { startDelayedPoller } from './delayed-poller.js';

const never = () => new Promise<never>(() => {});

describe('startDelayedPoller', () => {
  it('stops at once while its read of the delayed set never answers (Redis unreachable)', async () => {
    const delayed: DelayedSet = { nextDueAtMs: never, popDue: never, add: never };
    const poller = startDelayedPoller({
      delayed,
      dispatch: async () => {},
      logger: createLogger({ service: 'dispatcher', level: 'silent' }),
    });
    const stopped = poller.stop().then(() => 'stopped');
    const timeout = new Promise((resolve) => setTimeout(resolve, 2000, 'still waiting'));
    expect(await Promise.race([stopped, timeout])).toBe('stopped');
  });
});
