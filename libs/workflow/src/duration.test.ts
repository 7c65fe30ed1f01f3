import { describe, expect, it } from 'vitest';
import { MAX_DURATION_MS, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['0ms', 0],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['0.1s', 100],
    ['0.5m', 30_000],
    ['596h', 596 * 3_600_000],
  ])('%s -> %i ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each([
    ['-1s', 'must not be negative (got "-1s")'],
    ['10', 'must be a duration like 500ms, 10s, 5m or 1h (got "10")'],
    ['10 s', 'must be a duration like 500ms, 10s, 5m or 1h (got "10 s")'],
    ['1m30s', 'must be a duration like 500ms, 10s, 5m or 1h (got "1m30s")'],
    ['1d', 'must be a duration like 500ms, 10s, 5m or 1h (got "1d")'],
    ['.5s', 'must be a duration like 500ms, 10s, 5m or 1h (got ".5s")'],
    ['1S', 'must be a duration like 500ms, 10s, 5m or 1h (got "1S")'],
    ['', 'must be a duration like 500ms, 10s, 5m or 1h (got "")'],
    ['0.5ms', 'must be a whole number of milliseconds (got "0.5ms")'],
    ['597h', `must be at most ${MAX_DURATION_MS}ms, about 24.8 days (got "597h")`],
  ])('rejects %j', (text, reason) => {
    expect(parseDuration(text)).toEqual({ ok: false, reason });
  });

  it.each([
    [30, 'must be a duration like 500ms, 10s, 5m or 1h (a bare number has no unit)'],
    [null, 'must be a duration like 500ms, 10s, 5m or 1h'],
    [true, 'must be a duration like 500ms, 10s, 5m or 1h'],
  ])('rejects the non-string %j', (value, reason) => {
    expect(parseDuration(value)).toEqual({ ok: false, reason });
  });
});
