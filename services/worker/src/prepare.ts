import { WeightedLru } from '@relay/runtime';
import {
  findReferences,
  isJsonObject,
  type JsonValue,
  resolveShellCommand,
  resolveTemplates,
} from '@relay/template';
import { DEFAULT_DEFINITION_CACHE_TASKS } from './config.js';
import type { RunContext, TaskSpec, WorkerRepository } from './repository.js';
import type { ClaimedTask } from './types.js';

/** A claimed attempt ready to run, or the reason it cannot (fails for good unless `retryable`). */
export type PreparedTask =
  | { ok: true; claim: ClaimedTask; task: TaskSpec; input: JsonValue }
  | { ok: false; claim: ClaimedTask; task: TaskSpec | undefined; error: string; retryable?: boolean };

/** A pinned definition's tasks by id (a fan-out's definition holds thousands). */
export interface PinnedDefinition {
  tasks: Map<string, TaskSpec>;
}

/**
 * Pinned definitions by `workflowId@version`; versions never change once written, so entries never go
 * stale. An LRU bounded by the tasks it holds; one definition larger than the bound is kept alone.
 */
export class DefinitionCache {
  private readonly entries: WeightedLru<string, PinnedDefinition>;

  constructor(
    private readonly repo: Pick<WorkerRepository, 'loadDefinitions'>,
    maxTasks = DEFAULT_DEFINITION_CACHE_TASKS,
  ) {
    this.entries = new WeightedLru(maxTasks);
  }

  /** Number of cached definitions. */
  get size(): number {
    return this.entries.size;
  }

  /** The definitions of the given pairs, loading the missing ones in one query. */
  async getMany(
    pairs: readonly { workflowId: string; version: number }[],
  ): Promise<Map<string, PinnedDefinition>> {
    const out = new Map<string, PinnedDefinition>();
    const missing = new Map<string, { workflowId: string; version: number }>();
    for (const p of pairs) {
      const key = `${p.workflowId}@${p.version}`;
      const def = this.entries.get(key);
      if (def) out.set(key, def);
      else missing.set(key, p);
    }
    if (missing.size === 0) return out;
    // Taken from the loaded rows, not the cache: a big one may evict another of the same call.
    for (const row of await this.repo.loadDefinitions([...missing.values()])) {
      const key = `${row.workflowId}@${row.version}`;
      const def = { tasks: new Map(row.tasks.map((t) => [t.id, t])) };
      this.entries.set(key, def, row.tasks.length);
      out.set(key, def);
    }
    return out;
  }
}

/**
 * Resolves one task's `with`; the rest keep their JSON types. A shell command's references become
 * expansions of `RELAY_REF_<n>` variables whose values join `with.env` (resolveShellCommand): a
 * value never passes through the shell's parser. The stored input shows both.
 */
export function resolveTaskInput(
  task: TaskSpec,
  ctx: { input: JsonValue; tasks: Record<string, { output: JsonValue }> },
): JsonValue {
  if (task.type !== 'shell' || typeof task.with.command !== 'string') {
    return resolveTemplates(task.with, ctx, { at: 'with' });
  }
  const { command, ...rest } = task.with;
  const resolved = resolveTemplates(rest, ctx, { at: 'with' }) as Record<string, JsonValue>;
  const shell = resolveShellCommand(command, ctx, 'with.command');
  if (Object.keys(shell.env).length === 0) return { ...resolved, command: shell.command };
  const env = isJsonObject(resolved.env ?? null) ? (resolved.env as Record<string, JsonValue>) : {};
  return { ...resolved, command: shell.command, env: { ...env, ...shell.env } };
}

/** The ids of the tasks a `with` reads, and whether it reads anything at all (the run's input too). */
interface WithReferences {
  taskIds: string[];
  any: boolean;
}

// Per task definition object (cached definitions are shared): `with` is scanned once, not per attempt.
const referenceCache = new WeakMap<TaskSpec, WithReferences>();

/** The references of a task's `with`. @throws TemplateSyntaxError for an invalid template. */
function referencesOf(task: TaskSpec): WithReferences {
  let refs = referenceCache.get(task);
  if (!refs) {
    const found = findReferences(task.with, 'with');
    refs = { taskIds: found.flatMap((r) => (r.taskId ? [r.taskId] : [])), any: found.length > 0 };
    referenceCache.set(task, refs);
  }
  return refs;
}

function parseOutput(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

// What a task without references resolves against: nothing in it is read.
const NO_CONTEXT: RunContext = { input: {}, outputs: {} };

/**
 * Loads what the claimed attempts need (pinned definitions, cached; run inputs and the referenced
 * upstream outputs, one query for the batch, none when no `with` has a reference) and resolves each
 * task's `with`.
 */
export async function prepareTasks(
  claims: readonly ClaimedTask[],
  deps: { repo: Pick<WorkerRepository, 'loadRunContexts'>; definitions: DefinitionCache },
): Promise<PreparedTask[]> {
  const defs = await deps.definitions.getMany(
    claims.map((c) => ({ workflowId: c.workflowId, version: c.workflowVersion })),
  );
  const staged: { claim: ClaimedTask; task: TaskSpec | undefined; error?: string; refs: string[] }[] = [];
  const wanted = new Set<string>();
  let needsContext = false;
  for (const claim of claims) {
    const def = defs.get(`${claim.workflowId}@${claim.workflowVersion}`);
    const task = def?.tasks.get(claim.taskId);
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
      const refs = referencesOf(task);
      for (const r of refs.taskIds) wanted.add(r);
      if (refs.any) needsContext = true;
      staged.push({ claim, task, refs: refs.taskIds });
    } catch (err) {
      staged.push({ claim, task, error: `template error: ${(err as Error).message}`, refs: [] });
    }
  }
  // Without a reference nothing reads the run (a claimed row's run exists: task_runs.run_id is a
  // foreign key), so a batch of reference-free tasks skips the query.
  let contexts: Map<string, RunContext> | undefined;
  if (needsContext) {
    const runIds = [...new Set(staged.filter((s) => !s.error).map((s) => s.claim.runId))];
    contexts = await deps.repo.loadRunContexts(runIds, [...wanted]);
  }
  return staged.map(({ claim, task, error, refs }): PreparedTask => {
    if (error !== undefined || !task) return { ok: false, claim, task, error: error ?? 'unknown task' };
    const run = contexts ? contexts.get(claim.runId) : NO_CONTEXT;
    if (!run) return { ok: false, claim, task, error: `run ${claim.runId} not found` };
    const tasks: Record<string, { output: JsonValue }> = {};
    for (const id of refs) {
      // Own keys only: a task may be named `constructor`.
      if (!Object.hasOwn(run.outputs, id)) continue;
      const text = run.outputs[id] as string | null;
      tasks[id] = { output: text === null ? null : parseOutput(text) };
    }
    try {
      return { ok: true, claim, task, input: resolveTaskInput(task, { input: run.input, tasks }) };
    } catch (err) {
      return { ok: false, claim, task, error: `template error: ${(err as Error).message}` };
    }
  });
}
