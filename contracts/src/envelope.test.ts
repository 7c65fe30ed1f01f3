import { describe, expect, it } from 'vitest';
import {
  createEnvelope,
  EVENT_VERSION,
  MAX_EVENT_BYTES,
  parseEnvelope,
  serializeEnvelope,
} from './envelope.js';
import { InvalidEventError } from './errors.js';
import { EVENT_TYPES } from './events.js';
import { EXAMPLE_EVENT_DATA, exampleEnvelope } from './examples.js';

const meta = { id: 'evt-1', occurredAt: '2024-05-01T12:00:00.000Z', source: 'worker' };
const attempt = { runId: 'run-1', taskId: 'charge', taskRunId: 'run-1:charge', attempt: 1 };

/** An example envelope of `type` whose data is replaced by `data`. */
function withData(type: (typeof EVENT_TYPES)[number], data: unknown): unknown {
  return { ...exampleEnvelope(type), data };
}

function reasonOf(raw: unknown): string {
  const result = parseEnvelope(raw);
  if (result.ok) throw new Error(`expected a rejection of ${JSON.stringify(raw)}`);
  return result.reason;
}

describe('parseEnvelope accepts', () => {
  it.each(EVENT_TYPES)('a valid %s as an object and as JSON text', (type) => {
    const envelope = exampleEnvelope(type);
    expect(parseEnvelope(envelope)).toEqual({ ok: true, event: envelope });
    expect(parseEnvelope(JSON.stringify(envelope))).toEqual({ ok: true, event: envelope });
  });

  it.each([
    ['RunCancelRequested without reason', 'RunCancelRequested', { runId: 'r' }],
    ['TaskApproved without by', 'TaskApproved', { runId: 'r', taskId: 't' }],
    ['TaskRejected without by nor reason', 'TaskRejected', { runId: 'r', taskId: 't' }],
    [
      'TaskReady without notBefore',
      'TaskReady',
      { runId: 'r', taskId: 't', taskRunId: 'r:t', queue: 'default' },
    ],
    ['RunFinished without error', 'RunFinished', { runId: 'r', workflowId: 'w', status: 'SUCCESS' }],
    ['HeartbeatMissed FAILED', 'HeartbeatMissed', { ...attempt, outcome: 'FAILED' }],
    ['a 4096-char error', 'TaskFailed', { ...attempt, error: 'e'.repeat(4096), retryable: false }],
    [
      'ids at their longest',
      'TaskSucceeded',
      { ...attempt, taskId: `a${'b'.repeat(127)}`, runId: 'r'.repeat(256) },
    ],
    ['a task id with . _ -', 'TaskApproved', { runId: 'r', taskId: '0a.b_c-d' }],
    [
      'an offset timestamp',
      'TaskReady',
      { ...EXAMPLE_EVENT_DATA.TaskReady, notBefore: '2024-05-01T14:00:00+02:00' },
    ],
    ['non-ASCII text', 'TaskFailed', { ...attempt, error: 'échec ✗ 💥', retryable: true }],
  ] as const)('%s', (_name, type, data) => {
    expect(parseEnvelope(withData(type, data))).toMatchObject({ ok: true, event: { type, data } });
  });
});

describe('parseEnvelope rejects, naming the field', () => {
  const failed = EXAMPLE_EVENT_DATA.TaskFailed;
  it.each([
    [
      'a string attempt',
      withData('TaskFailed', { ...failed, attempt: '1' }),
      'data.attempt: expected number',
    ],
    ['attempt 0', withData('TaskFailed', { ...failed, attempt: 0 }), 'data.attempt: must be >= 1'],
    [
      'a fractional attempt',
      withData('TaskSucceeded', { ...attempt, attempt: 1.5 }),
      'data.attempt: must be an integer',
    ],
    [
      'a missing field',
      withData('TaskSucceeded', { runId: 'r', taskId: 't', taskRunId: 'r:t' }),
      'data.attempt: required',
    ],
    [
      'an unknown data field',
      withData('TaskSucceeded', { ...attempt, output: 1 }),
      'data.output: unknown field',
    ],
    ['an unknown envelope field', { ...exampleEnvelope('RunStarted'), extra: 1 }, 'extra: unknown field'],
    [
      'an invalid task id',
      withData('TaskApproved', { runId: 'r', taskId: 'Ship' }),
      'data.taskId: must match',
    ],
    [
      'a too long task id',
      withData('TaskApproved', { runId: 'r', taskId: 'a'.repeat(129) }),
      'data.taskId: must match',
    ],
    [
      'an invalid queue',
      withData('TaskReady', { ...EXAMPLE_EVENT_DATA.TaskReady, queue: 'a:b' }),
      'data.queue: must match',
    ],
    [
      'an empty runId',
      withData('RunStarted', { ...EXAMPLE_EVENT_DATA.RunStarted, runId: '' }),
      'data.runId: must not be empty',
    ],
    [
      'a 257-char runId',
      withData('RunStarted', { ...EXAMPLE_EVENT_DATA.RunStarted, runId: 'r'.repeat(257) }),
      'data.runId: must be at most 256',
    ],
    [
      'workflowVersion 0',
      withData('RunStarted', { ...EXAMPLE_EVENT_DATA.RunStarted, workflowVersion: 0 }),
      'data.workflowVersion: must be >= 1',
    ],
    [
      'a 4097-char error',
      withData('TaskFailed', { ...failed, error: 'e'.repeat(4097) }),
      'data.error: must be at most 4096',
    ],
    [
      'a string retryable',
      withData('TaskFailed', { ...failed, retryable: 'yes' }),
      'data.retryable: expected boolean',
    ],
    [
      'an unknown outcome',
      withData('HeartbeatMissed', { ...attempt, outcome: 'LOST' }),
      'data.outcome: expected ("REQUEUED" | "FAILED")',
    ],
    [
      'an unknown run status',
      withData('RunFinished', { runId: 'r', workflowId: 'w', status: 'DONE' }),
      'data.status: expected',
    ],
    [
      'an empty abort list',
      withData('TaskAbortRequested', { runId: 'r', taskRunIds: [], reason: 'CANCELLED' }),
      'data.taskRunIds: must not be empty',
    ],
    [
      'a non-string abort id',
      withData('TaskAbortRequested', { runId: 'r', taskRunIds: ['a', 5], reason: 'CANCELLED' }),
      'data.taskRunIds.1: expected string',
    ],
    [
      '101 abort ids',
      withData('TaskAbortRequested', { runId: 'r', taskRunIds: Array(101).fill('r:t'), reason: 'CANCELLED' }),
      'data.taskRunIds: must hold at most 100',
    ],
    [
      'an unknown abort reason',
      withData('TaskAbortRequested', { runId: 'r', taskRunIds: ['r:t'], reason: 'BORED' }),
      'data.reason: expected',
    ],
    [
      'a date-only notBefore',
      withData('TaskReady', { ...EXAMPLE_EVENT_DATA.TaskReady, notBefore: '2024-05-01' }),
      'data.notBefore: must be an ISO 8601 timestamp',
    ],
    [
      'a bad occurredAt',
      { ...exampleEnvelope('RunStarted'), occurredAt: 'yesterday' },
      'occurredAt: must be an ISO 8601 timestamp',
    ],
    ['a missing id', { ...exampleEnvelope('RunStarted'), id: undefined }, 'id: required'],
    ['an empty source', { ...exampleEnvelope('RunStarted'), source: '' }, 'source: must not be empty'],
    ['data that is not an object', withData('RunStarted', 'run-1'), 'data: expected Object'],
    ['missing data', withData('RunStarted', undefined), 'data: required'],
    ['an array', [exampleEnvelope('RunStarted')], 'envelope: expected a JSON object but received an array'],
    ['null', null, 'envelope: expected a JSON object but received null'],
    ['a number', 42, 'envelope: expected a JSON object but received number'],
    ['undefined', undefined, 'envelope: expected a JSON object but received undefined'],
    ['JSON text of a string', '"hello"', 'envelope: expected a JSON object but received string'],
    ['JSON text of an array', '[]', 'envelope: expected a JSON object but received an array'],
  ])('%s', (_name, raw, reason) => {
    expect(reasonOf(raw)).toContain(reason);
    // JSON text takes the compiled fast path first; a rejection must read as the object's does.
    if (typeof raw === 'object' && raw !== null) expect(reasonOf(JSON.stringify(raw))).toBe(reasonOf(raw));
  });

  it('lists several failing fields in one reason', () => {
    const reason = reasonOf(withData('TaskFailed', { ...failed, attempt: 'x', retryable: 1, taskId: 'X' }));
    expect(reason).toContain('data.attempt: expected number');
    expect(reason).toContain('data.retryable: expected boolean');
    expect(reason).toContain('data.taskId: must match');
  });

  it.each([
    ['the envelope id', { ...exampleEnvelope('RunStarted'), id: 'a\u0000b' }, 'id'],
    ['the source', { ...exampleEnvelope('RunStarted'), source: 'ingest\u0000' }, 'source'],
    ['a data string', withData('TaskFailed', { ...failed, error: 'boom\u0000' }), 'data.error'],
    [
      'an optional string',
      withData('TaskRejected', { runId: 'r', taskId: 't', reason: '\u0000' }),
      'data.reason',
    ],
    [
      'an array item',
      withData('TaskAbortRequested', { runId: 'r', taskRunIds: ['r:\u0000'], reason: 'CANCELLED' }),
      'data.taskRunIds.0',
    ],
  ])('a NUL byte in %s', (_name, raw, path) => {
    expect(reasonOf(raw)).toBe(`${path}: must not contain a NUL byte`);
    expect(reasonOf(JSON.stringify(raw))).toBe(`${path}: must not contain a NUL byte`);
  });

  it.each([
    [
      'an unknown type',
      { ...exampleEnvelope('RunStarted'), type: 'RunExploded' },
      'type: unknown event type "RunExploded"',
    ],
    ['a missing type', { ...exampleEnvelope('RunStarted'), type: undefined }, 'type: required'],
    [
      'a lower-case type',
      { ...exampleEnvelope('RunStarted'), type: 'runstarted' },
      'type: unknown event type "runstarted"',
    ],
  ])('%s', (_name, raw, reason) => {
    expect(reasonOf(raw)).toBe(reason);
  });

  it.each([
    [2, 'version: unsupported version 2; this build reads version 1'],
    [0, 'version: unsupported version 0; this build reads version 1'],
    ['1', 'version: unsupported version "1"; this build reads version 1'],
  ])('version %j, reporting only the version even when data differs', (version, reason) => {
    expect(reasonOf({ ...exampleEnvelope('TaskFailed'), version, data: { shape: 'of v2' } })).toBe(reason);
  });

  it('a missing version', () => {
    const { version: _omitted, ...rest } = exampleEnvelope('RunStarted');
    expect(reasonOf(rest)).toBe('version: required');
  });

  it.each([
    ['empty text', ''],
    ['truncated JSON', JSON.stringify(exampleEnvelope('RunStarted')).slice(0, -1)],
    ['plain text', 'RunStarted run-1'],
  ])('non-JSON: %s', (_name, raw) => {
    expect(reasonOf(raw)).toMatch(/^not valid JSON: /);
  });

  it('an object that cannot be serialized', () => {
    expect(reasonOf({ ...exampleEnvelope('RunStarted'), id: 1n })).toMatch(/^not serializable to JSON: /);
  });
});

describe('MAX_EVENT_BYTES', () => {
  /** The JSON text of a TaskFailed envelope exactly `bytes` long, padded in `data.error`. */
  function textOfSize(bytes: number): string {
    const base = JSON.stringify(withData('TaskFailed', { ...EXAMPLE_EVENT_DATA.TaskFailed, error: '' }));
    return base.replace('"error":""', `"error":"${'x'.repeat(bytes - base.length)}"`);
  }

  it('rejects text one byte over the limit, counting UTF-8 bytes, before parsing it', () => {
    expect(reasonOf(textOfSize(MAX_EVENT_BYTES + 1))).toBe(
      `event too large: ${MAX_EVENT_BYTES + 1} bytes (max ${MAX_EVENT_BYTES})`,
    );
    const multiByte = `{"pad":"${'é'.repeat(MAX_EVENT_BYTES / 2)}"}`; // fewer chars than bytes
    expect(multiByte.length).toBeLessThan(MAX_EVENT_BYTES);
    expect(reasonOf(multiByte)).toMatch(/^event too large: /);
  });

  it('measures an object by its JSON serialization', () => {
    const raw = { ...exampleEnvelope('RunStarted'), pad: 'x'.repeat(MAX_EVENT_BYTES) };
    expect(reasonOf(raw)).toMatch(/^event too large: \d+ bytes \(max 65536\)$/);
  });

  it('lets text at the limit through to the schema check', () => {
    const text = textOfSize(MAX_EVENT_BYTES);
    expect(new TextEncoder().encode(text).length).toBe(MAX_EVENT_BYTES);
    expect(reasonOf(text)).toContain('data.error: must be at most 4096 characters');
  });
});

describe('createEnvelope', () => {
  it('builds a current-version envelope that parses back to itself', () => {
    const event = createEnvelope('TaskSucceeded', attempt, meta);
    expect(event).toEqual({ ...meta, type: 'TaskSucceeded', version: EVENT_VERSION, data: attempt });
    expect(parseEnvelope(serializeEnvelope(event))).toEqual({ ok: true, event });
  });

  it.each([
    ['invalid data', 'TaskSucceeded', { ...attempt, attempt: 0 }, meta, 'data.attempt: must be >= 1'],
    [
      'an invalid occurredAt',
      'TaskSucceeded',
      attempt,
      { ...meta, occurredAt: 'now' },
      'occurredAt: must be',
    ],
    [
      'a NUL byte',
      'TaskFailed',
      { ...attempt, error: 'a\u0000', retryable: true },
      meta,
      'data.error: must not contain a NUL byte',
    ],
  ] as const)('throws InvalidEventError naming the field on %s', (_name, type, data, eventMeta, reason) => {
    const build = () => createEnvelope(type, data as never, eventMeta);
    expect(build).toThrow(InvalidEventError);
    expect(build).toThrow(reason);
    try {
      build();
    } catch (err) {
      expect(err).toMatchObject({ name: 'InvalidEventError', eventType: type });
      expect((err as InvalidEventError).reason).toContain(reason);
    }
  });
});
