import { describe, expect, it } from 'vitest';
import { isFinal, isRunState, isTaskState, remainingAttempts, type TaskState } from './states.js';

describe('isTaskState / isRunState', () => {
  it.each([
    ['PENDING', true, false],
    ['RUNNING', true, true],
    ['SUCCESS', true, true],
    ['BLOCKED', true, false],
    ['pending', false, false],
    ['', false, false],
    [42, false, false],
    [null, false, false],
  ])('%j: task %s, run %s', (value, task, run) => {
    expect(isTaskState(value)).toBe(task);
    expect(isRunState(value)).toBe(run);
  });
});

describe('isFinal', () => {
  it.each<[TaskState, number, boolean | undefined, boolean]>([
    ['SUCCESS', 3, undefined, true],
    ['CANCELLED', 3, undefined, true],
    ['FAILED', 0, undefined, true],
    ['FAILED', 1, undefined, false],
    ['FAILED', 1, false, true],
    ['FAILED', -1, true, true],
    ['RUNNING', 0, undefined, false],
    ['BLOCKED', 0, false, false],
  ])('%s with %d attempts left (retryable %s) -> %s', (state, left, retryable, expected) => {
    expect(isFinal(state, left, retryable)).toBe(expected);
  });
});

describe('remainingAttempts', () => {
  it.each([
    [0, 1, 1],
    [1, 1, 0],
    [1, 3, 2],
    [5, 3, 0],
  ])('attempt %d of %d -> %d left', (attempt, max, expected) => {
    expect(remainingAttempts(attempt, max)).toBe(expected);
  });
});
