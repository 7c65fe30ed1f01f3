import { MAX_DURATION_MS } from '@relay/workflow';
import { describe, expect, it } from 'vitest';
import { NonRetryableError } from '../errors.js';
import { durationMs } from './sleep.js';

describe('sleep with.duration', () => {
  it.each([
    [0, 0],
    [1500, 1500],
    [MAX_DURATION_MS, MAX_DURATION_MS],
    ['250ms', 250],
    ['2s', 2000],
  ])('takes %j as %d ms', (value, ms) => {
    expect(durationMs(value)).toBe(ms);
  });

  it.each([
    [3_000_000_000, 'got 3000000000'],
    [MAX_DURATION_MS + 1, `got ${MAX_DURATION_MS + 1}`],
    [-5, 'got -5'],
    [1.5, 'got 1.5'],
    [Number.NaN, 'got NaN'],
  ])('fails %j for good, naming the field and the range', (value, got) => {
    const run = () => durationMs(value);
    expect(run).toThrow(NonRetryableError);
    expect(run).toThrow(
      `with.duration: a number of milliseconds must be a whole number from 0 to ${MAX_DURATION_MS} (about 24.8 days), ${got}`,
    );
  });

  it("fails a string past the limit with the duration parser's message", () => {
    expect(() => durationMs('1000h')).toThrow(/^with\.duration: must be at most 2147483647ms/);
  });
});
