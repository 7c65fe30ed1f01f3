import { describe, expect, it } from 'vitest';
import { task, workflow } from '../test/fixtures.js';
import { compileDefinition, definitionKey } from './definitions.js';
import { DefinitionNotFoundError } from './errors.js';
import { dependentTaskRunIds, planPropagation } from './propagation.js';

const diamond = compileDefinition(
  'diamond',
  1,
  workflow('diamond', [
    task('a'),
    task('b', ['a']),
    task('c', ['a'], { requiresApproval: true }),
    task('d', ['b', 'c']),
  ]),
);
const defs = new Map([[definitionKey('diamond', 1), diamond]]);
const success = (runId: string, taskId: string) => ({
  runId,
  taskId,
  workflowId: 'diamond',
  workflowVersion: 1,
});

describe('compileDefinition', () => {
  it('computes dependents and distinct need counts once', () => {
    expect(diamond.dependents.get('a')).toEqual(['b', 'c']);
    expect(diamond.dependents.has('d')).toBe(false);
    const dup = compileDefinition('dup', 1, workflow('dup', [task('a'), task('b', ['a', 'a'])]));
    expect(dup.needCounts.get('b')).toBe(1);
  });
});

describe('planPropagation', () => {
  it.each([
    {
      name: 'a root fans out to its dependents, with their approval flag',
      successes: [success('r1', 'a')],
      dependents: [
        { id: 'r1:b', runId: 'r1', taskId: 'b', met: 1, requiresApproval: false },
        { id: 'r1:c', runId: 'r1', taskId: 'c', met: 1, requiresApproval: true },
      ],
      runs: [{ runId: 'r1', done: 1 }],
    },
    {
      name: 'two needs of one sink in one batch count twice on one row',
      successes: [success('r1', 'b'), success('r1', 'c')],
      dependents: [{ id: 'r1:d', runId: 'r1', taskId: 'd', met: 2, requiresApproval: false }],
      runs: [{ runId: 'r1', done: 2 }],
    },
    {
      name: 'runs are counted apart',
      successes: [success('r1', 'd'), success('r2', 'd'), success('r2', 'b')],
      dependents: [{ id: 'r2:d', runId: 'r2', taskId: 'd', met: 1, requiresApproval: false }],
      runs: [
        { runId: 'r1', done: 1 },
        { runId: 'r2', done: 2 },
      ],
    },
  ])('$name', ({ successes, dependents, runs }) => {
    expect(planPropagation(successes, defs)).toEqual({ dependents, runs });
  });

  it('aggregates a fan-in of 10,000 needs into one row in linear time', () => {
    const sources = Array.from({ length: 10_000 }, (_, i) => task(`s${i}`));
    const fanIn = compileDefinition(
      'fan',
      1,
      workflow('fan', [
        ...sources,
        task(
          'sink',
          sources.map((s) => s.id),
        ),
      ]),
    );
    const successes = sources.map((s) => ({
      runId: 'r',
      taskId: s.id,
      workflowId: 'fan',
      workflowVersion: 1,
    }));
    const started = performance.now();
    const plan = planPropagation(successes, new Map([[definitionKey('fan', 1), fanIn]]));
    expect(performance.now() - started).toBeLessThan(500);
    expect(plan).toEqual({
      dependents: [{ id: 'r:sink', runId: 'r', taskId: 'sink', met: 10_000, requiresApproval: false }],
      runs: [{ runId: 'r', done: 10_000 }],
    });
  });

  it('throws DefinitionNotFoundError when the pinned version is unknown', () => {
    expect(() => planPropagation([{ ...success('r', 'a'), workflowVersion: 9 }], defs)).toThrow(
      DefinitionNotFoundError,
    );
  });
});

describe('dependentTaskRunIds', () => {
  it('lists the task_run ids of the dependents, once each', () => {
    expect(dependentTaskRunIds([success('r', 'b'), success('r', 'c')], defs)).toEqual(['r:d']);
  });
});
