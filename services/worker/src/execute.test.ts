import { describe, expect, it } from 'vitest';
import { attemptContext } from '../test/fixtures.js';
import { NonRetryableError } from './errors.js';
import { Cancellation, errorText, runAttempt } from './execute.js';
import type { Handler } from './types.js';

const ctx = attemptContext;

const attempt = (handler: Handler, cancel = new Cancellation(), timeoutMs: number | null = null) =>
  runAttempt({ handler, input: null, ctx, timeoutMs, cancel, maxOutputBytes: 1000 });

describe('runAttempt', () => {
  it('returns the output and makes no signal for a handler that never reads it', async () => {
    const cancel = new Cancellation();
    expect(await attempt(async () => ({ ok: 1 }), cancel)).toEqual({ ok: true, output: '{"ok":1}' });
    expect((cancel as unknown as { controller: unknown }).controller).toBeUndefined();
  });

  it('ends an attempt whose handler ignores its signal when it is aborted', async () => {
    const cancel = new Cancellation();
    const result = attempt(() => new Promise(() => {}), cancel);
    cancel.abort(new Error('SUPERSEDED'));
    expect(await result).toEqual({ ok: false, error: 'aborted: SUPERSEDED', retryable: true });
  });

  it('aborts the signal a handler reads, before or after the abort', async () => {
    const seen: boolean[] = [];
    const cancel = new Cancellation();
    const result = attempt(
      (_input, c) =>
        new Promise((_, reject) => {
          seen.push(c.signal.aborted);
          c.signal.addEventListener('abort', () => reject(new Error('stopped')));
        }),
      cancel,
    );
    cancel.abort(new Error('CANCELLED'));
    expect(await result).toMatchObject({ ok: false, error: 'aborted: CANCELLED' });
    const late = new Cancellation();
    late.abort(new Error('gone'));
    expect(late.signal.aborted).toBe(true);
    expect(seen).toEqual([false]);
  });

  it('times out, and keeps a handler error and its retryability otherwise', async () => {
    expect(await attempt(() => new Promise(() => {}), new Cancellation(), 20)).toEqual({
      ok: false,
      error: 'timed out after 20ms',
      retryable: true,
    });
    expect(
      await attempt(async () => {
        throw new NonRetryableError('card declined');
      }),
    ).toEqual({ ok: false, error: 'card declined', retryable: false });
  });
});

describe('errorText', () => {
  const circular: Record<string, unknown> = { a: 1 };
  circular.self = circular;
  it.each([
    [new Error('boom'), 'boom'],
    [new TypeError(''), 'TypeError'],
    [{ message: 'quota exceeded', code: 429 }, 'quota exceeded'],
    [{ code: 'E_DECLINED', detail: 'card declined' }, '{"code":"E_DECLINED","detail":"card declined"}'],
    [{}, '[object Object]'],
    [circular, '[object Object]'],
    [{ n: 10n }, '[object Object]'],
    ['plain text', 'plain text'],
    [42, '42'],
    [null, 'null'],
    [undefined, 'undefined'],
  ])('gives %o as %j', (thrown, expected) => {
    expect(errorText(thrown)).toBe(expected);
  });

  it('is what a failed attempt records for a thrown plain object', async () => {
    expect(
      await attempt(async () => {
        throw { code: 'E_DECLINED' };
      }),
    ).toEqual({ ok: false, error: '{"code":"E_DECLINED"}', retryable: true });
  });
});
