import { describe, expect, it } from 'vitest';
import { decideFailure, type FailureReport } from './failures.js';
import type { TaskRunContext } from './repository.js';

const row: TaskRunContext = {
  id: 'r:a',
  runId: 'r',
  taskId: 'a',
  workflowId: 'wf',
  workflowVersion: 1,
  attempt: 1,
  status: 'FAILED',
  maxAttempts: 3,
  queue: 'default',
  error: 'boom',
  runStatus: 'RUNNING',
};
const report: FailureReport = {
  taskRunId: 'r:a',
  attempt: 1,
  retryable: true,
  error: 'reported',
  deliveries: 1,
};
const backoff = { initialMs: 1000, factor: 2, maxMs: 60_000 };
const random = () => 0.999;

describe('decideFailure', () => {
  it.each([
    { name: 'retries with attempts left', r: {}, row: {}, kind: 'retry' },
    { name: 'fails when not retryable', r: { retryable: false }, row: {}, kind: 'fail' },
    { name: 'fails when attempts are exhausted', r: { attempt: 3 }, row: { attempt: 3 }, kind: 'fail' },
    { name: 'ignores another attempt', r: { attempt: 1 }, row: { attempt: 2 }, kind: 'stale' },
    { name: 'ignores a row that is not FAILED', r: {}, row: { status: 'READY' }, kind: 'stale' },
    { name: 'ignores a run that is over', r: {}, row: { runStatus: 'CANCELLED' }, kind: 'stale' },
  ])('$name', ({ r, row: rowPatch, kind }) => {
    expect(decideFailure({ ...report, ...r }, { ...row, ...rowPatch }, backoff, random).kind).toBe(kind);
  });

  it('draws the retry delay from the task backoff and fences on the attempt', () => {
    // Attempt 2: base delay 1000 * 2 = 2000 ms, upward jitter in [2000, 2200].
    expect(decideFailure({ ...report, attempt: 2 }, { ...row, attempt: 2 }, backoff, () => 0)).toEqual({
      kind: 'retry',
      request: { id: 'r:a', attempt: 2, delayMs: 2000 },
    });
    const late = decideFailure({ ...report, attempt: 2 }, { ...row, attempt: 2 }, backoff, random);
    expect(late.kind === 'retry' && late.request.delayMs).toBe(2200);
  });

  it("words the run error with the row's error first", () => {
    expect(decideFailure({ ...report, retryable: false }, row, backoff, random)).toEqual({
      kind: 'fail',
      ending: { runId: 'r', status: 'FAILED', error: 'task a failed: boom', cause: 'r:a' },
    });
    expect(
      decideFailure({ ...report, retryable: false }, { ...row, error: null }, backoff, random),
    ).toMatchObject({
      ending: { error: 'task a failed: reported' },
    });
  });
});
