import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runStatusFrom, type TaskRunSummary } from './run-status.js';
import { type RunState, TASK_STATES, type TaskState } from './states.js';

const t = (status: TaskState, attempt = 1, maxAttempts = 1, retryable?: boolean): TaskRunSummary =>
  retryable === undefined ? { status, attempt, maxAttempts } : { status, attempt, maxAttempts, retryable };

describe('runStatusFrom', () => {
  it.each<[string, TaskRunSummary[], boolean, RunState]>([
    ['all succeeded', [t('SUCCESS'), t('SUCCESS')], false, 'SUCCESS'],
    ['all succeeded, cancel came too late', [t('SUCCESS')], true, 'SUCCESS'],
    ['no tasks', [], false, 'SUCCESS'],
    ['some still pending', [t('SUCCESS'), t('PENDING', 0)], false, 'RUNNING'],
    ['failed with attempts left: a retry follows', [t('FAILED', 1, 3), t('PENDING', 0)], false, 'RUNNING'],
    ['failed on the last attempt', [t('FAILED', 3, 3), t('PENDING', 0)], false, 'FAILED'],
    ['failed past the last attempt', [t('FAILED', 4, 3)], false, 'FAILED'],
    ['failed, not retryable (rejected approval)', [t('FAILED', 0, 3, false)], false, 'FAILED'],
    ['failed for good wins over cancel', [t('FAILED', 1, 1), t('RUNNING')], true, 'FAILED'],
    ['cancel requested', [t('RUNNING'), t('PENDING', 0)], true, 'CANCELLED'],
    ['cancel requested while a retry is pending', [t('FAILED', 1, 2)], true, 'CANCELLED'],
    ['sweep done after cancel', [t('SUCCESS'), t('CANCELLED', 0)], true, 'CANCELLED'],
    ['blocked awaiting approval', [t('SUCCESS'), t('BLOCKED', 0)], false, 'RUNNING'],
  ])('%s -> %s', (_name, tasks, cancelRequested, expected) => {
    expect(runStatusFrom(tasks, { cancelRequested })).toBe(expected);
  });

  it('is SUCCESS exactly when every task succeeded, and never RUNNING after a final failure', () => {
    const task = fc.record({
      status: fc.constantFrom(...TASK_STATES),
      attempt: fc.nat({ max: 4 }),
      maxAttempts: fc.integer({ min: 1, max: 4 }),
      retryable: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(task, { maxLength: 6 }), fc.boolean(), (tasks, cancelRequested) => {
        const status = runStatusFrom(tasks, { cancelRequested });
        expect(status === 'SUCCESS').toBe(tasks.every((x) => x.status === 'SUCCESS'));
        const failedForGood = tasks.some(
          (x) => x.status === 'FAILED' && (!x.retryable || x.attempt >= x.maxAttempts),
        );
        if (status !== 'SUCCESS') expect(status === 'FAILED').toBe(failedForGood);
        if (status === 'RUNNING') expect(cancelRequested).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
