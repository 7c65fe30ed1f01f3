import { describe, expect, it } from 'vitest';
import { createThrottle } from './throttle.js';

describe('createThrottle', () => {
  it('emits the first event of each kind, then one per interval with the count swallowed', () => {
    const decide = createThrottle(1000);
    const steps: [string, number, boolean, number][] = [
      ['ECONNREFUSED', 0, true, 0],
      ['ECONNREFUSED', 10, false, 1],
      ['ETIMEDOUT', 20, true, 0],
      ['ECONNREFUSED', 999, false, 2],
      ['ECONNREFUSED', 1000, true, 2],
      ['ECONNREFUSED', 1500, false, 1],
      ['ETIMEDOUT', 1020, true, 0],
    ];
    for (const [kind, now, emit, suppressed] of steps) {
      expect(decide(kind, now), `${kind} at ${now}`).toEqual({ emit, suppressed });
    }
  });
});
