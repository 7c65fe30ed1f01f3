/**
 * Random workflows for the chaos soak, with the outcome each one implies. Pure: randomness comes from
 * the seeded generator passed in, so a failing soak is replayed with the same CHAOS_SEED.
 * @module
 */

/** A seeded PRNG (mulberry32) returning floats in [0, 1). */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How one task behaves: `failFirst` attempts exit 1, then it succeeds; `always` fails every attempt. */
export interface PlannedTask {
  id: string;
  needs: string[];
  kind: 'noop' | 'sleep' | 'flaky' | 'always';
  failFirst: number;
  retries: number;
}

/** A workflow and the status its run must end in. */
export interface PlannedWorkflow {
  id: string;
  tasks: PlannedTask[];
  expected: 'SUCCESS' | 'FAILED';
  yaml: string;
}

/**
 * Attempts a task gets beyond its planned failures: chaos kills cost attempts (a reaped attempt is
 * an attempt), and this slack keeps "succeeds eventually" true under the soak's kill rate.
 */
export const KILL_SLACK = 4;

const pick = (random: () => number, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

/** A random DAG of `minTasks`..`maxTasks` tasks with random fan-in/out and a failure plan. */
export function planWorkflow(
  id: string,
  random: () => number,
  opts: { minTasks: number; maxTasks: number; alwaysFailRate: number },
): PlannedWorkflow {
  const n = pick(random, opts.minTasks, opts.maxTasks);
  const tasks: PlannedTask[] = [];
  for (let i = 0; i < n; i += 1) {
    const needs = new Set<string>();
    if (i > 0) {
      const fanIn = pick(random, 0, Math.min(3, i));
      for (let k = 0; k < fanIn; k += 1) needs.add(`t${pick(random, Math.max(0, i - 8), i - 1)}`);
    }
    const roll = random();
    const kind = roll < 0.6 ? 'noop' : roll < 0.75 ? 'sleep' : 'flaky';
    const failFirst = kind === 'flaky' ? pick(random, 1, 2) : 0;
    tasks.push({ id: `t${i}`, needs: [...needs].sort(), kind, failFirst, retries: failFirst + KILL_SLACK });
  }
  const doomed = random() < opts.alwaysFailRate ? tasks[pick(random, 0, n - 1)] : undefined;
  if (doomed) Object.assign(doomed, { kind: 'always', failFirst: Number.POSITIVE_INFINITY, retries: 1 });
  return { id, tasks, expected: doomed ? 'FAILED' : 'SUCCESS', yaml: workflowYaml(id, tasks) };
}

function commandOf(task: PlannedTask): string {
  if (task.kind === 'always') return 'echo doomed >&2; exit 1';
  // Fails while $RELAY_ATTEMPT <= failFirst, then prints the attempt that succeeded.
  return `if [ "$RELAY_ATTEMPT" -le ${task.failFirst} ]; then echo planned >&2; exit 1; fi; echo "$RELAY_ATTEMPT"`;
}

function workflowYaml(id: string, tasks: PlannedTask[]): string {
  const lines = [`id: ${id}`, 'defaults:', '  backoff: { initial: 100ms, factor: 1, max: 100ms }', 'tasks:'];
  for (const t of tasks) {
    const needs = t.needs.length > 0 ? `needs: [${t.needs.join(', ')}], ` : '';
    const body =
      t.kind === 'noop'
        ? 'type: noop'
        : t.kind === 'sleep'
          ? 'type: sleep, with: { duration: 300ms }'
          : `type: shell, with: { command: ${JSON.stringify(commandOf(t))} }`;
    lines.push(`  ${t.id}: { ${needs}retries: ${t.retries}, ${body} }`);
  }
  return `${lines.join('\n')}\n`;
}

/** A task_run as the soak reads it back. */
export interface ObservedTask {
  task_id: string;
  status: string;
  attempt: number;
  output: string | null;
  error: string | null;
}

/** What is wrong with a finished run given its plan; empty when it ended as the plan implies. */
export function checkOutcome(plan: PlannedWorkflow, status: string, rows: readonly ObservedTask[]): string[] {
  const problems: string[] = [];
  if (status !== plan.expected) problems.push(`run ${status}, expected ${plan.expected}`);
  const byId = new Map(rows.map((r) => [r.task_id, r]));
  for (const task of plan.tasks) {
    const row = byId.get(task.id);
    if (!row) {
      problems.push(`${task.id}: no task_run`);
      continue;
    }
    if (row.attempt > task.retries + 1)
      problems.push(`${task.id}: attempt ${row.attempt} > ${task.retries + 1}`);
    if (plan.expected === 'SUCCESS') {
      if (row.status !== 'SUCCESS')
        problems.push(`${task.id}: ${row.status} (${row.error ?? ''}), expected SUCCESS`);
      else if (
        task.kind === 'flaky' &&
        (row.attempt <= task.failFirst || row.output !== String(row.attempt))
      ) {
        problems.push(`${task.id}: succeeded on attempt ${row.attempt} with output ${row.output}`);
      }
    } else if (
      task.kind !== 'always' &&
      row.status === 'FAILED' &&
      !/planned|worker lost/.test(row.error ?? '')
    ) {
      problems.push(`${task.id}: FAILED with ${row.error}`);
    }
  }
  if (plan.expected === 'FAILED') {
    const doomed = plan.tasks.find((t) => t.kind === 'always');
    const row = doomed && byId.get(doomed.id);
    // Every other task succeeds eventually, so the doomed task runs and fails for good.
    if (row?.status !== 'FAILED') problems.push(`${doomed?.id}: ${row?.status}, expected FAILED`);
  }
  return problems;
}
