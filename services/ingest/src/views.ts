import { taskSummary } from '@relay/workflow';
import type { DecisionRecord, RunRecord, TaskRunRecord, WorkflowRecord } from './repository.js';

/** `GET /workflows/:id`. */
export function presentWorkflow(workflow: WorkflowRecord) {
  return {
    id: workflow.id,
    name: workflow.name,
    version: workflow.version,
    definition: workflow.definition,
    tasks: taskSummary(workflow.definition),
    createdAt: workflow.createdAt.toISOString(),
    updatedAt: workflow.updatedAt.toISOString(),
  };
}

/** The `output` column holds JSON text; the API answers with the JSON value (null when absent). */
export function parseOutput(output: string | null): unknown {
  if (output === null) return null;
  try {
    return JSON.parse(output);
  } catch {
    // A writer that stored plain text: show the text rather than fail the whole request.
    return output;
  }
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

/**
 * `GET /runs/:id`. Tasks follow the pinned definition's order; a task the scheduler has not created a
 * task_run for yet is listed as PENDING with attempt 0, or as CANCELLED once the run has finished (a run
 * cancelled before its RunStarted was applied never gets task runs). Task runs outside the definition
 * (should not happen) are appended in task id order so nothing stored is hidden.
 */
export function presentRun(
  run: RunRecord,
  taskRuns: TaskRunRecord[],
  decisions: ReadonlyMap<string, DecisionRecord> = new Map(),
) {
  const byTask = new Map(taskRuns.map((taskRun) => [taskRun.taskId, taskRun]));
  const presentTaskRun = (taskRun: TaskRunRecord) => presentTask(taskRun, decisions.get(taskRun.taskId));
  const order = run.taskOrder ?? [];
  const listed = new Set(order);
  const unstarted = run.status === 'RUNNING' ? 'PENDING' : 'CANCELLED';
  const tasks = [
    ...order.map((taskId) => presentTaskRun(byTask.get(taskId) ?? unstartedTaskRun(taskId, unstarted))),
    ...taskRuns.filter((taskRun) => !listed.has(taskRun.taskId)).map(presentTaskRun),
  ];
  return {
    id: run.id,
    workflowId: run.workflowId,
    workflowVersion: run.workflowVersion,
    status: run.status,
    input: run.input ?? null,
    error: run.error,
    cancelRequested: run.cancelRequestedAt !== null,
    startedAt: run.startedAt.toISOString(),
    finishedAt: iso(run.finishedAt),
    tasks,
  };
}

function unstartedTaskRun(taskId: string, status: 'PENDING' | 'CANCELLED'): TaskRunRecord {
  return {
    taskId,
    status,
    attempt: 0,
    output: null,
    error: null,
    startedAt: null,
    finishedAt: null,
  };
}

/** One task of `GET /runs/:id`; `decision` only on a task that required approval and has one. */
function presentTask(taskRun: TaskRunRecord, decision: DecisionRecord | undefined) {
  return {
    taskId: taskRun.taskId,
    status: taskRun.status,
    attempt: taskRun.attempt,
    output: parseOutput(taskRun.output),
    error: taskRun.error,
    startedAt: iso(taskRun.startedAt),
    finishedAt: iso(taskRun.finishedAt),
    ...(decision
      ? {
          decision: {
            decision: decision.decision === 'APPROVED' ? 'approved' : 'rejected',
            by: decision.by,
            reason: decision.reason,
            decidedAt: decision.decidedAt.toISOString(),
          },
        }
      : {}),
  };
}
