import { findReferences, type JsonValue, resolveTemplates } from '@relay/template';
import type { TaskDefinition, WorkflowDefinition } from '@relay/workflow';
import type { WorkerRepository } from './repository.js';
import type { ClaimedTask } from './types.js';

/** A claimed attempt ready to run, or the reason it cannot (fails for good unless `retryable`). */
export type PreparedTask =
  | { ok: true; claim: ClaimedTask; task: TaskDefinition; input: JsonValue }
  | { ok: false; claim: ClaimedTask; task: TaskDefinition | undefined; error: string; retryable?: boolean };

const DEFINITION_CACHE_MAX = 500;

/** Pinned definitions by `workflowId@version`; versions never change once written, so entries never go stale. */
export class DefinitionCache {
  private readonly entries = new Map<string, WorkflowDefinition>();

  constructor(private readonly repo: Pick<WorkerRepository, 'loadDefinitions'>) {}

  /** The definitions of the given pairs, loading the missing ones in one query. */
  async getMany(
    pairs: readonly { workflowId: string; version: number }[],
  ): Promise<Map<string, WorkflowDefinition>> {
    const missing = new Map<string, { workflowId: string; version: number }>();
    for (const p of pairs) {
      const key = `${p.workflowId}@${p.version}`;
      if (!this.entries.has(key)) missing.set(key, p);
    }
    for (const row of await this.repo.loadDefinitions([...missing.values()])) {
      if (this.entries.size >= DEFINITION_CACHE_MAX) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(`${row.workflowId}@${row.version}`, row.definition);
    }
    const out = new Map<string, WorkflowDefinition>();
    for (const p of pairs) {
      const key = `${p.workflowId}@${p.version}`;
      const def = this.entries.get(key);
      if (def) out.set(key, def);
    }
    return out;
  }
}

/** Resolves one task's `with`: a shell command's references become single quoted words; the rest keep types. */
export function resolveTaskInput(
  task: TaskDefinition,
  ctx: { input: JsonValue; tasks: Record<string, { output: JsonValue }> },
): JsonValue {
  if (task.type !== 'shell' || typeof task.with.command !== 'string') {
    return resolveTemplates(task.with, ctx, { at: 'with' });
  }
  const { command, ...rest } = task.with;
  const resolved = resolveTemplates(rest, ctx, { at: 'with' }) as Record<string, JsonValue>;
  return { ...resolved, command: resolveTemplates(command, ctx, { quote: 'shell', at: 'with.command' }) };
}

function parseOutput(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/**
 * Loads what the claimed attempts need (pinned definitions, cached; run inputs and the referenced
 * upstream outputs, one query for the batch) and resolves each task's `with`.
 */
export async function prepareTasks(
  claims: readonly ClaimedTask[],
  deps: { repo: Pick<WorkerRepository, 'loadRunContexts'>; definitions: DefinitionCache },
): Promise<PreparedTask[]> {
  const defs = await deps.definitions.getMany(
    claims.map((c) => ({ workflowId: c.workflowId, version: c.workflowVersion })),
  );
  const staged: { claim: ClaimedTask; task: TaskDefinition | undefined; error?: string; refs: string[] }[] =
    [];
  const wanted = new Set<string>();
  for (const claim of claims) {
    const def = defs.get(`${claim.workflowId}@${claim.workflowVersion}`);
    const task = def?.tasks.find((t) => t.id === claim.taskId);
    if (!def || !task) {
      const what = def ? `task "${claim.taskId}" is not in` : 'no definition found for';
      staged.push({
        claim,
        task,
        error: `${what} workflow ${claim.workflowId} version ${claim.workflowVersion}`,
        refs: [],
      });
      continue;
    }
    try {
      const refs = findReferences(task.with, 'with').flatMap((r) => (r.taskId ? [r.taskId] : []));
      for (const r of refs) wanted.add(r);
      staged.push({ claim, task, refs });
    } catch (err) {
      staged.push({ claim, task, error: `template error: ${(err as Error).message}`, refs: [] });
    }
  }
  const runIds = [...new Set(staged.filter((s) => !s.error).map((s) => s.claim.runId))];
  const contexts = await deps.repo.loadRunContexts(runIds, [...wanted]);
  return staged.map(({ claim, task, error, refs }): PreparedTask => {
    if (error !== undefined || !task) return { ok: false, claim, task, error: error ?? 'unknown task' };
    const run = contexts.get(claim.runId);
    if (!run) return { ok: false, claim, task, error: `run ${claim.runId} not found` };
    const tasks: Record<string, { output: JsonValue }> = {};
    for (const id of refs) {
      const text = run.outputs[id];
      if (text !== undefined) tasks[id] = { output: text === null ? null : parseOutput(text) };
    }
    try {
      return { ok: true, claim, task, input: resolveTaskInput(task, { input: run.input, tasks }) };
    } catch (err) {
      return { ok: false, claim, task, error: `template error: ${(err as Error).message}` };
    }
  });
}
