import type { JsonValue } from '@relay/template';
import { parseDuration } from './duration.js';
import type { DocPathSegment, RawIssue } from './path.js';
import { TASK_DEFAULTS } from './rules.js';
import type { TaskDocument, WorkflowDocument } from './schema.js';
import type { Backoff, TaskDefinition, WorkflowDefinition } from './types.js';

type BackoffDocument = NonNullable<TaskDocument['backoff']>;

function ms(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = parseDuration(value);
  return parsed.ok ? parsed.ms : undefined;
}

/** Field-wise merge: task backoff, then defaults.backoff, then the built-in default. */
function mergeBackoff(
  task: BackoffDocument | null | undefined,
  defaults: BackoffDocument | null | undefined,
): Backoff {
  return {
    initialMs: ms(task?.initial) ?? ms(defaults?.initial) ?? TASK_DEFAULTS.backoff.initialMs,
    factor: task?.factor ?? defaults?.factor ?? TASK_DEFAULTS.backoff.factor,
    maxMs: ms(task?.max) ?? ms(defaults?.max) ?? TASK_DEFAULTS.backoff.maxMs,
  };
}

/**
 * Applies defaults to a structurally valid document (docs/ARCHITECTURE.md): durations in ms,
 * tasks in document order, needs as given. Also reports a backoff whose max is below its initial
 * delay, which only the merged values reveal.
 */
export function normalizeWorkflow(doc: WorkflowDocument): {
  definition: WorkflowDefinition;
  issues: RawIssue[];
} {
  const defaults = doc.defaults ?? {};
  const issues: RawIssue[] = [];
  const tasks: TaskDefinition[] = Object.entries(doc.tasks).map(([id, raw]) => {
    const task: TaskDocument = raw ?? {};
    const backoff = mergeBackoff(task.backoff, defaults.backoff);
    if (backoff.maxMs < backoff.initialMs) {
      const path: DocPathSegment[] = task.backoff ? ['tasks', id, 'backoff'] : ['defaults', 'backoff'];
      const maxWritten = task.backoff?.max !== undefined || defaults.backoff?.max !== undefined;
      issues.push({
        path,
        message: maxWritten
          ? `max (${backoff.maxMs}ms) must not be less than initial (${backoff.initialMs}ms)`
          : `initial (${backoff.initialMs}ms) is over the default max (${backoff.maxMs}ms); set max as well`,
      });
    }
    return {
      id,
      needs: [...(task.needs ?? [])],
      type: task.type ?? TASK_DEFAULTS.type,
      with: structuredClone((task.with ?? {}) as { [key: string]: JsonValue }),
      retries: task.retries ?? defaults.retries ?? TASK_DEFAULTS.retries,
      backoff,
      timeoutMs: ms(task.timeout) ?? ms(defaults.timeout) ?? TASK_DEFAULTS.timeoutMs,
      queue: task.queue ?? defaults.queue ?? TASK_DEFAULTS.queue,
      requiresApproval: task.requires_approval ?? TASK_DEFAULTS.requiresApproval,
    };
  });
  const on: WorkflowDefinition['on'] = {};
  if (doc.on?.event !== undefined) on.event = doc.on.event;
  if (doc.on?.schedule !== undefined) on.schedule = doc.on.schedule.trim().split(/\s+/).join(' ');
  const definition: WorkflowDefinition = { id: doc.id, name: doc.name ?? doc.id, on, tasks };
  return { definition, issues };
}
