import { describe, expect, it } from 'vitest';
import { attemptContext } from '../../test/fixtures.js';
import { Cancellation, runAttempt } from '../execute.js';
import { createShellHandler, MAX_ARG_STRLEN, STDERR_TAIL_BYTES, stderrTail } from './shell.js';

const ctx = attemptContext;

const handler = createShellHandler({ maxStdoutBytes: 1000, env: { PATH: process.env.PATH } });

/** One attempt of a shell task, as the worker runs it. */
const attempt = (input: unknown) =>
  runAttempt({
    handler,
    input: input as never,
    ctx,
    timeoutMs: 10_000,
    cancel: new Cancellation(),
    maxOutputBytes: 100_000,
  });

/** A command of exactly `bytes` UTF-8 bytes that prints `ok`: the padding is a shell comment. */
const commandOf = (bytes: number, pad = 'x') => {
  const head = 'echo ok #';
  const count = (bytes - head.length) / Buffer.byteLength(pad);
  expect(Number.isInteger(count)).toBe(true);
  return head + pad.repeat(count);
};

const HINT = 'pass large values through a file or URL that the command reads, or use an http task';

describe('stderrTail', () => {
  const lines = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => `line-${String(from + i).padStart(4, '0')}`).join('\n');

  it('keeps a short stderr whole, without its trailing newline', () => {
    expect(stderrTail(Buffer.from('oops\nmore\n'))).toBe('oops\nmore');
  });

  it('starts a cut stderr at a line, not inside one', () => {
    // 10-byte lines ("line-0001\n"): the last 2048 bytes start 8 bytes into a line.
    const text = stderrTail(Buffer.from(`${lines(1, 1000)}\n`));
    expect(text.startsWith('line-')).toBe(true);
    expect(text.endsWith('line-1000')).toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(STDERR_TAIL_BYTES);
    expect(text).toBe(lines(797, 1000));
  });

  it('keeps the whole tail when the cut falls on a line boundary', () => {
    // 2048 = 16 lines of 128 bytes.
    const line = (n: number) => `${String(n).padStart(127, '-')}\n`;
    const buf = Buffer.from(Array.from({ length: 20 }, (_, i) => line(i)).join(''));
    expect(stderrTail(buf)).toBe(
      Array.from({ length: 16 }, (_, i) => line(i + 4))
        .join('')
        .trimEnd(),
    );
  });

  it('keeps the end of one long line', () => {
    expect(stderrTail(Buffer.from(`${'x'.repeat(5000)}\n`))).toBe('x'.repeat(STDERR_TAIL_BYTES - 1));
  });
});

describe('shell handler output limit', () => {
  it('kills a command printing more than the limit and names the setting that raises it', async () => {
    expect(await attempt({ command: 'head -c 5000 /dev/zero; echo done >&2' })).toEqual({
      ok: false,
      error: 'stdout exceeded the limit of 1000 bytes (RELAY_MAX_OUTPUT_BYTES); the command was killed',
      retryable: false,
    });
  });
});

describe.runIf(process.platform === 'linux')('shell handler exec size limits (Linux)', () => {
  it('runs a command one byte under MAX_ARG_STRLEN (the limit counts its terminating NUL)', async () => {
    expect(await attempt({ command: commandOf(MAX_ARG_STRLEN - 1) })).toEqual({ ok: true, output: '"ok"' });
  });

  it.each([
    ['at MAX_ARG_STRLEN', commandOf(MAX_ARG_STRLEN), '131,072'],
    ['of 200 KB', commandOf(204_812), '204,812'],
    // 65,541 characters but 131,072 bytes: the limit is on UTF-8 bytes.
    ['of two-byte characters', `echo ok #x${'é'.repeat(65_531)}`, '131,072'],
  ])('fails a command %s for good, naming field, size and limit', async (_name, command, size) => {
    expect(await attempt({ command })).toEqual({
      ok: false,
      error: `with.command is ${size} bytes after templating; Linux passes at most 131,071 bytes in one argument: ${HINT}`,
      retryable: false,
    });
  });

  it('passes an env value whose NAME=value string is one byte under MAX_ARG_STRLEN', async () => {
    const big = 'v'.repeat(MAX_ARG_STRLEN - 1 - 'BIG='.length);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
    expect(await attempt({ command: 'printf %s "${#BIG}"', env: { BIG: big } })).toEqual({
      ok: true,
      output: String(big.length),
    });
  });

  it('fails an env value over MAX_ARG_STRLEN for good, naming the variable', async () => {
    const result = await attempt({ command: 'echo ok', env: { SMALL: 'a', BIG: 'v'.repeat(200_000) } });
    expect(result).toEqual({
      ok: false,
      error: `with.env.BIG is 200,004 bytes after templating, counting "BIG="; Linux passes at most 131,071 bytes in one environment string: ${HINT}`,
      retryable: false,
    });
  });

  it.each([
    ['with.env.X', { command: 'echo "$X"', env: { X: 'a\u0000b' } }],
    [
      'the value of reference 0 of with.command (RELAY_REF_0)',
      { command: 'echo "$RELAY_REF_0"', env: { RELAY_REF_0: 'a\u0000b' } },
    ],
    ['with.command', { command: 'echo a\u0000b' }],
  ])('fails a NUL in %s for good, naming it', async (field, input) => {
    expect(await attempt(input)).toEqual({
      ok: false,
      error: `${field} contains a NUL character (\\u0000), which a program argument or environment string cannot hold`,
      retryable: false,
    });
  });

  it('turns spawn E2BIG (strings that fit one by one, over ARG_MAX in total) into a clear permanent error', async () => {
    // 80 x 100 KB = 8 MB: over the kernel's cap of 6 MiB, whatever the stack limit.
    const env = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`V${i}`, 'v'.repeat(100_000)]));
    const result = await attempt({ command: 'echo ok', env });
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(!result.ok && result.error).toMatch(
      /^with\.command and with\.env are 8,\d{3},\d{3} bytes in total after templating; Linux passes at most ARG_MAX \(a quarter of the stack size limit, 2,097,152 bytes by default\) to a new program: pass large values/,
    );
  });
});

describe('shell handler environment', () => {
  it("gives the command the attempt's ids, which with.env cannot override", async () => {
    const result = await attempt({
      command: 'printf "%s|%s|%s" "$RELAY_RUN_ID" "$RELAY_ATTEMPT" "$MINE"',
      env: { RELAY_RUN_ID: 'spoof', RELAY_ATTEMPT: 99, MINE: 'x' },
    });
    expect(result).toEqual({ ok: true, output: JSON.stringify(`${ctx.runId}|${ctx.attempt}|x`) });
  });
});
