/**
 * Chaos soak: N runs of random DAGs (scripts/chaos/plan.ts) while a loop SIGKILLs and restarts
 * workers, schedulers, dispatchers and the reaper, and Redis restarts once without its data. At the
 * end every run must be in the state its plan implies and checkInvariants must be empty.
 *
 *   npm run test:chaos                      # CHAOS_RUNS=200 by default
 *   CHAOS_PROFILE=ci CHAOS_SEED=7 npm run test:chaos
 *
 * Needs built services (`npm run build`), local Postgres and Redis; restarts the local Redis.
 * @module
 */
import { findViolations } from '../../test/fault/check.js';
import { type FaultFleet, type ServiceName, startFaultFleet } from '../../test/fault/fleet.js';
import { restartRedis } from '../../test/fault/infra.js';
import { countFinishedTasks } from '../../test/fault/progress.js';
import { checkOutcome, createRandom, type ObservedTask, type PlannedWorkflow, planWorkflow } from './plan.js';

/** Soak settings; {@link soakOptionsFromEnv} reads them from CHAOS_* variables. */
export interface SoakOptions {
  runs: number;
  seed: number;
  minTasks: number;
  maxTasks: number;
  /** Pause between two kills. */
  killEveryMs: number;
  workers: number;
  /** Deadline for every run to finish once started. */
  timeoutMs: number;
  log: (line: string) => void;
}

/** One fault the loop caused and how long the fleet took to make progress again. */
export interface ChaosEvent {
  kind: ServiceName | 'redis';
  at: number;
  recoveryMs: number | null;
}

/** The soak's result; `problems` is empty when it passed. */
export interface SoakReport {
  runs: number;
  tasks: number;
  seed: number;
  durationMs: number;
  statuses: Record<string, number>;
  kills: Record<string, number>;
  events: ChaosEvent[];
  problems: string[];
}

const KINDS: ServiceName[] = ['worker', 'scheduler', 'dispatcher', 'reaper'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Options from CHAOS_PROFILE (`ci`: 30 small runs, bounded well under 3 minutes), CHAOS_RUNS, CHAOS_SEED. */
export function soakOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SoakOptions {
  const ci = env.CHAOS_PROFILE === 'ci';
  return {
    runs: Number(env.CHAOS_RUNS ?? (ci ? 30 : 200)),
    seed: Number(env.CHAOS_SEED ?? Date.now() % 100_000),
    minTasks: ci ? 10 : 10,
    maxTasks: ci ? 25 : 50,
    killEveryMs: ci ? 1500 : 2000,
    workers: 3,
    timeoutMs: ci ? 120_000 : 600_000,
    log: (line) => console.info(line),
  };
}

/** Runs the soak and returns its report (does not throw on a failed expectation). */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const random = createRandom(opts.seed);
  const started = Date.now();
  const fleet = await startFaultFleet({ label: 'chaos', workers: opts.workers, supervise: true });
  const events: ChaosEvent[] = [];
  const problems: string[] = [];
  try {
    const plans = new Map<string, PlannedWorkflow>();
    const workflows: PlannedWorkflow[] = [];
    for (let i = 0; i < opts.runs; i += 1) {
      const plan = planWorkflow(`chaos-${i}`, random, { ...opts, alwaysFailRate: 0.15 });
      await fleet.applyYaml(plan.yaml);
      workflows.push(plan);
    }
    const runIds: string[] = [];
    let chaosOn = true;
    let firstRoundDone = () => {};
    const firstRound = new Promise<void>((resolve) => {
      firstRoundDone = resolve;
    });
    const chaos = chaosLoop(fleet, random, opts, events, () => chaosOn, runIds, firstRoundDone);
    // Should the loop fail, the held runs start anyway (its error surfaces below, at `await chaos`).
    void chaos.then(firstRoundDone, firstRoundDone);
    // The last third of the runs starts only once every kind of fault has happened, so that the first
    // round always lands while runs are in flight, however fast they finish.
    const held = Math.floor(workflows.length / 3);
    for (const [i, plan] of workflows.entries()) {
      if (i === workflows.length - held) await firstRound;
      const id = await fleet.startRun(plan.id);
      plans.set(id, plan);
      runIds.push(id);
      await sleep(Math.floor(random() * 50));
    }
    opts.log(`[chaos] ${runIds.length} runs started (seed ${opts.seed})`);
    let statuses: Map<string, string>;
    try {
      statuses = await fleet.waitForRuns(runIds, opts.timeoutMs);
    } finally {
      chaosOn = false;
      await chaos;
    }
    const rows = await fleet.sql<(ObservedTask & { run_id: string })[]>`
      SELECT run_id, task_id, status, attempt, output, error FROM task_runs WHERE run_id = ANY(${runIds}::text[])`;
    for (const [runId, plan] of plans) {
      const found = checkOutcome(
        plan,
        statuses.get(runId) ?? 'MISSING',
        rows.filter((r) => r.run_id === runId),
      );
      problems.push(...found.map((p) => `${runId} (${plan.id}): ${p}`));
    }
    for (const v of await findViolations(fleet.sql, runIds)) problems.push(`invariant: ${JSON.stringify(v)}`);
    const report: SoakReport = {
      runs: runIds.length,
      tasks: rows.length,
      seed: opts.seed,
      durationMs: Date.now() - started,
      statuses: count([...statuses.values()]),
      kills: count(events.map((e) => e.kind)),
      events,
      problems,
    };
    opts.log(formatReport(report));
    return report;
  } catch (err) {
    opts.log(`[chaos] failed: ${err instanceof Error ? err.message : String(err)}`);
    throw err;
  } finally {
    await fleet.stop();
  }
}

/**
 * First round, at half the interval: each kind killed once, in random order (a kind with no live process
 * yet is tried again), then Redis restarted once, then `onFirstRound()`. After that a random live process
 * every `killEveryMs`. Records how long each fault took until a task progressed.
 */
async function chaosLoop(
  fleet: FaultFleet,
  random: () => number,
  opts: SoakOptions,
  events: ChaosEvent[],
  isOn: () => boolean,
  runIds: readonly string[],
  onFirstRound: () => void,
): Promise<void> {
  const order = [...KINDS].sort(() => random() - 0.5);
  let redisDone = false;
  for (let n = 0; isOn(); n += 1) {
    const firstRound = n <= order.length;
    await sleep(firstRound ? opts.killEveryMs / 2 : opts.killEveryMs);
    if (!isOn()) break;
    const before = await countFinishedTasks(fleet.sql, runIds).catch(() => 0);
    const at = Date.now();
    let kind: ChaosEvent['kind'];
    if (!redisDone && n === order.length) {
      redisDone = true;
      kind = 'redis';
      await restartRedis();
    } else {
      kind = order[n] ?? KINDS[Math.floor(random() * KINDS.length)] ?? 'worker';
      const live = fleet.running(kind);
      const victim = live[Math.floor(random() * live.length)];
      if (!victim) {
        if (firstRound) n -= 1;
        continue;
      }
      fleet.processes.get(victim)?.kill('SIGKILL');
    }
    const event: ChaosEvent = { kind, at, recoveryMs: null };
    events.push(event);
    if (kind === 'redis') onFirstRound();
    void waitForMore(fleet, runIds, before, 60_000).then((t) => {
      event.recoveryMs = t === null ? null : t - at;
    });
  }
}

async function waitForMore(fleet: FaultFleet, runIds: readonly string[], than: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await countFinishedTasks(fleet.sql, runIds).catch(() => than)) > than) return Date.now();
    await sleep(25);
  }
  return null;
}

function count(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** The summary printed at the end of a soak. */
export function formatReport(r: SoakReport): string {
  const byKind = new Map<string, number[]>();
  for (const e of r.events)
    if (e.recoveryMs !== null) byKind.set(e.kind, [...(byKind.get(e.kind) ?? []), e.recoveryMs]);
  const recovery = [...byKind]
    .map(([k, ms]) => `${k} median ${median(ms)} ms max ${Math.max(...ms)} ms (n=${ms.length})`)
    .join('; ');
  return [
    `[chaos] seed ${r.seed}: ${r.runs} runs, ${r.tasks} tasks in ${(r.durationMs / 1000).toFixed(1)} s`,
    `[chaos] statuses ${JSON.stringify(r.statuses)}`,
    `[chaos] faults ${JSON.stringify(r.kills)}`,
    `[chaos] time to next task progress: ${recovery || 'n/a'}`,
    r.problems.length === 0
      ? '[chaos] OK'
      : `[chaos] ${r.problems.length} problems:\n  ${r.problems.slice(0, 50).join('\n  ')}`,
  ].join('\n');
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await runSoak(soakOptionsFromEnv());
  process.exit(report.problems.length === 0 ? 0 : 1);
}
