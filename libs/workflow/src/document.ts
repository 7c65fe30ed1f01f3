import { Document, isScalar, isSeq, visit } from 'yaml';
import { TASK_DEFAULTS } from './rules.js';
import type { TaskDefinition, WorkflowDefinition } from './types.js';

const UNITS: ReadonlyArray<readonly [suffix: string, ms: number]> = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** `ms` as the workflow YAML writes a duration: the largest unit that divides it (`90s`, `2m`, `1500ms`). */
export function formatDuration(ms: number): string {
  if (ms > 0) {
    for (const [suffix, size] of UNITS) if (ms % size === 0) return `${ms / size}${suffix}`;
  }
  return `${ms}ms`;
}

function taskDocument(task: TaskDefinition): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (task.needs.length > 0) out.set('needs', [...task.needs]);
  out.set('type', task.type);
  if (Object.keys(task.with).length > 0) out.set('with', task.with);
  if (task.retries !== TASK_DEFAULTS.retries) out.set('retries', task.retries);
  const { initialMs, factor, maxMs } = task.backoff;
  const defaults = TASK_DEFAULTS.backoff;
  if (initialMs !== defaults.initialMs || factor !== defaults.factor || maxMs !== defaults.maxMs) {
    out.set(
      'backoff',
      new Map<string, unknown>([
        ['initial', formatDuration(initialMs)],
        ['factor', factor],
        ['max', formatDuration(maxMs)],
      ]),
    );
  }
  if (task.timeoutMs !== null) out.set('timeout', formatDuration(task.timeoutMs));
  if (task.queue !== TASK_DEFAULTS.queue) out.set('queue', task.queue);
  if (task.requiresApproval) out.set('requires_approval', true);
  return out;
}

/**
 * A normalized definition as workflow YAML that `POST /workflows` (and `relay apply`) takes back as
 * the same definition: task order kept (a Map, so ids like `10` do not move ahead as object keys
 * would), durations in their largest exact unit, every value a task does not take from the
 * defaults written out on the task itself (no `defaults:` block).
 */
export function workflowToYaml(def: WorkflowDefinition): string {
  const root = new Map<string, unknown>([['id', def.id]]);
  if (def.name !== def.id) root.set('name', def.name);
  const on = new Map<string, unknown>();
  if (def.on.event !== undefined) on.set('event', def.on.event);
  if (def.on.schedule !== undefined) on.set('schedule', def.on.schedule);
  if (on.size > 0) root.set('on', on);
  root.set('tasks', new Map(def.tasks.map((task) => [task.id, taskDocument(task)])));
  const doc = new Document(root);
  // `needs: [a, b]`, as workflows are usually written.
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === 'needs' && isSeq(pair.value)) pair.value.flow = true;
    },
  });
  // No line folding: a long command or URL stays on its line, as it was written.
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
