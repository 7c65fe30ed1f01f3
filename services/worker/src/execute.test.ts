import { MAX_JSON_DEPTH } from '@relay/workflow';
import { describe, expect, it } from 'vitest';
import { attemptContext } from '../test/fixtures.js';
import { NonRetryableError } from './errors.js';
import {
  Cancellation,
  errorText,
  nestsDeeperThan,
  runAttempt,
  serializeOutput,
  UNPRINTABLE_ERROR,
} from './execute.js';
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

describe('runAttempt: settling and logging', () => {
  it('reports the handler settling before the attempt resolves, or later when it outlives an abort', async () => {
    const order: string[] = [];
    const settled = () => order.push('settled');
    const spec = { input: null, ctx, timeoutMs: null, maxOutputBytes: 1000, onSettled: settled };
    await runAttempt({ ...spec, handler: async () => 1, cancel: new Cancellation() });
    order.push('resolved');
    await runAttempt({ ...spec, handler: () => 2, cancel: new Cancellation() });
    order.push('resolved');
    await runAttempt({
      ...spec,
      handler: () => {
        throw new Error('sync');
      },
      cancel: new Cancellation(),
    });
    order.push('resolved');
    expect(order).toEqual(['settled', 'resolved', 'settled', 'resolved', 'settled', 'resolved']);

    order.length = 0;
    let finish: () => void = () => {};
    const stubborn = runAttempt({
      ...spec,
      timeoutMs: 10,
      handler: () => new Promise<void>((resolve) => (finish = resolve)),
      cancel: new Cancellation(),
    });
    expect(await stubborn).toMatchObject({ ok: false, error: 'timed out after 10ms' });
    expect(order).toEqual([]);
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['settled']);
  });

  it("logs an unexpected error's stack, not the worker's own errors", async () => {
    const warned: unknown[] = [];
    const logger = { warn: (obj: { err: unknown }) => warned.push(obj.err) } as unknown as typeof ctx.logger;
    const spec = { input: null, ctx: { ...ctx, logger }, timeoutMs: null, maxOutputBytes: 1000 };
    const bug = new TypeError('x is not a function');
    const result = await runAttempt({
      ...spec,
      handler: async () => {
        throw bug;
      },
      cancel: new Cancellation(),
    });
    expect(result).toEqual({ ok: false, error: 'x is not a function', retryable: true });
    await runAttempt({
      ...spec,
      handler: async () => {
        throw new NonRetryableError('card declined');
      },
      cancel: new Cancellation(),
    });
    expect(warned).toEqual([bug]);
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
    [new Error('outer', { cause: new Error('inner root cause') }), 'outer: inner root cause'],
    [new Error('a', { cause: new Error('b', { cause: new TypeError('c') }) }), 'a: b: c'],
    [new Error('fetch failed: ECONNRESET', { cause: new Error('ECONNRESET') }), 'fetch failed: ECONNRESET'],
    [new Error('upstream', { cause: { code: 'E42' } }), 'upstream: {"code":"E42"}'],
    [new AggregateError([new Error('a'), 'b'], 'all failed'), 'all failed: a; b'],
    [new AggregateError([new Error('a')]), 'AggregateError: a'],
    [new AggregateError([], 'none'), 'none'],
    [Symbol('s'), 'Symbol(s)'],
    [Object.create(null), '[object Object]'],
  ])('gives %o as %j', (thrown, expected) => {
    expect(errorText(thrown)).toBe(expected);
  });

  it('gives text for an Error whose message or name is not a string', () => {
    // Object.assign(new Error('HTTP 400'), await res.json()) of a validation error: once a TypeError in
    // the result write that wedged the worker's every later result.
    const validation = Object.assign(new Error('HTTP 400'), { message: ['name must be a string'] });
    expect(errorText(validation)).toBe('["name must be a string"]');
    expect(errorText(Object.assign(new Error('x'), { message: 42, name: 7 }))).toBe('42');
    expect(errorText(Object.assign(new Error(''), { name: undefined }))).toBe('Error');
  });

  it.each([
    [
      'an Error whose message getter throws',
      Object.defineProperty(new Error('x'), 'message', {
        get() {
          throw new Error('no');
        },
      }),
    ],
    [
      'a Proxy that throws on every read',
      new Proxy(
        {},
        {
          get() {
            throw new Error('no');
          },
        },
      ),
    ],
  ])('never throws, for %s', (_name, thrown) => {
    expect(errorText(thrown)).toBe(UNPRINTABLE_ERROR);
  });

  it('is what a failed attempt records for a thrown plain object', async () => {
    expect(
      await attempt(async () => {
        throw { code: 'E_DECLINED' };
      }),
    ).toEqual({ ok: false, error: '{"code":"E_DECLINED"}', retryable: true });
  });
});

describe('serializeOutput', () => {
  /** `depth` arrays, one inside the other, around `inner`. */
  const nested = (depth: number, inner: unknown = 1): unknown => {
    let value = inner;
    for (let i = 0; i < depth; i += 1) value = [value];
    return value;
  };
  const TOO_DEEP = {
    ok: false,
    error: `output nests deeper than ${MAX_JSON_DEPTH} levels of lists and mappings`,
    retryable: false,
  };

  it('stores an output nesting up to MAX_JSON_DEPTH levels', () => {
    expect(serializeOutput(nested(MAX_JSON_DEPTH), 1_000_000)).toMatchObject({ ok: true });
    expect(serializeOutput({ a: nested(MAX_JSON_DEPTH - 1) }, 1_000_000)).toMatchObject({ ok: true });
  });

  it.each([MAX_JSON_DEPTH + 1, 1000, 100_000])('fails an output nesting %d levels for good', (depth) => {
    expect(serializeOutput(nested(depth), 10_000_000)).toEqual(TOO_DEEP);
  });

  it('says circular, not too deep, of a circular output', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(serializeOutput(loop, 1000)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^output is not JSON-serializable: Converting circular structure/),
    });
  });

  it('walks a wide output without trouble', () => {
    expect(nestsDeeperThan({ list: Array.from({ length: 200_000 }, (_, i) => ({ i })) }, 3)).toBe(false);
    expect(nestsDeeperThan({ list: [{ i: [1] }] }, 3)).toBe(true);
  });
});
