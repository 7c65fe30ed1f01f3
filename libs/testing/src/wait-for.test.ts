import { describe, expect, it } from 'vitest';
import { WaitForTimeoutError } from './errors.js';
import { waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('resolves to the first truthy value', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls += 1;
        return calls >= 3 ? { calls } : undefined;
      },
      { intervalMs: 5 },
    );
    expect(value).toEqual({ calls: 3 });
  });

  it('keeps polling while the probe throws or returns a falsy value', async () => {
    const answers: (() => unknown)[] = [
      () => {
        throw new Error('not yet');
      },
      () => 0,
      () => '',
      async () => 'done',
    ];
    let i = 0;
    expect(await waitFor(() => answers[i++]?.(), { intervalMs: 1 })).toBe('done');
  });

  it('times out with the message and the last value', async () => {
    const started = Date.now();
    const error = await waitFor(() => ({ ready: false }).ready, {
      timeoutMs: 100,
      intervalMs: 10,
      message: 'run r1 did not finish',
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WaitForTimeoutError);
    expect((error as Error).message).toBe('run r1 did not finish (waited 100ms; last value: false)');
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('times out with the last error of a failing probe', async () => {
    const error = await waitFor(
      () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 50, intervalMs: 10 },
    ).catch((err: unknown) => err);
    expect((error as Error).message).toBe('condition not met (waited 50ms; last error: connection refused)');
    expect((error as WaitForTimeoutError).lastError).toBeInstanceOf(Error);
  });

  it('abandons a probe that hangs past the deadline', async () => {
    const started = Date.now();
    const error = await waitFor(() => new Promise<boolean>(() => {}), { timeoutMs: 80 }).catch(
      (err: unknown) => err,
    );
    expect((error as Error).message).toMatch(/still running at the deadline/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
