import { describe, expect, it } from 'vitest';
import { createSleeper } from './sleeper.js';

describe('createSleeper', () => {
  it('resolves at its deadline', async () => {
    const sleeper = createSleeper();
    const t0 = Date.now();
    await sleeper.until(t0 + 30);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(29);
  });

  it('ends the current sleep on wake(), and wake() without a sleep does nothing', async () => {
    const sleeper = createSleeper();
    sleeper.wake();
    const t0 = Date.now();
    const sleeping = sleeper.until(t0 + 10_000);
    sleeper.wake();
    await sleeping;
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('wakeIfAfter ends only a sleep that would last past the given time', async () => {
    const sleeper = createSleeper();
    const t0 = Date.now();
    let ended = false;
    const sleeping = sleeper.until(t0 + 200).then(() => {
      ended = true;
    });
    sleeper.wakeIfAfter(t0 + 500);
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false);
    sleeper.wakeIfAfter(t0 + 50);
    await sleeping;
    expect(Date.now() - t0).toBeLessThan(150);
  });
});
