import type { BullTrees } from './bullmq.js';
import { API_SOCKETS } from './fleet.js';
import type { GraphileJobs } from './graphile.js';
import type { ChainLegs, ChainResult, IdleResult, Profile, Throughput } from './relay.js';
import { fmt, median, type Percentiles, summarize } from './stats.js';

/** One measured round: every shape on Relay and on its peer, back to back (a failed pass holds its error). */
export interface Round {
  manyRuns: (Throughput & { startSeconds: number }) | string;
  bullTrees: BullTrees | string;
  fanout: Throughput | string;
  graphileJobs: GraphileJobs | string;
  chain: ChainResult | string;
  /** Gaps (ms) of graphile-worker's and BullMQ's chains. */
  graphileChain: number[] | string;
  bullChain: number[] | string;
  /** Cycle times (ms) of the floor ring, run last in the round beside every idle system. */
  ring: number[] | string;
}

/** Everything one bench run measured; a scenario that failed holds its error text instead. */
export interface BenchData {
  quick: boolean;
  date: string;
  cores: number;
  node: string;
  cpuModel: string;
  /** Commit (short hash) the services were built from, with `+dirty` when the tree had changes. */
  commit: string;
  sizes: {
    fanout: number;
    manyRuns: number;
    chain: number;
    scale: number[];
    idleRuns: number;
    idleSeconds: number;
  };
  peerSizes: { trees: number; jobs: number; chain: number; concurrency: string };
  workers: { count: number; concurrency: number };
  rounds: Round[];
  /** Processes of the floor ring. */
  ringHops: number;
  /** The warm-up pass of many-runs (same size, the first on the fleet). */
  manyRunsWarm: (Throughput & { startSeconds: number }) | string;
  /** The peers' warm-up passes (the first on their workers). */
  warm: { bullTrees: BullTrees | string; graphileJobs: GraphileJobs | string };
  /** many-runs once more after the rounds, with the peers stopped, profiled. */
  manyRunsProfiled: (Throughput & { startSeconds: number }) | string;
  /** One fan-out per width, after the rounds; the one at `sizes.fanout` is profiled. */
  scale: { size: number; result: Throughput | string }[];
  idle: IdleResult | string;
  totalSeconds: number;
}

type Row = [scenario: string, relay: string, peer: string, ratio: string, target: string, met: string];

const ok = <T>(v: T | string): v is T => typeof v !== 'string';
const yes = (b: boolean) => (b ? 'yes' : '**no**');
const failed = (v: string) => `failed: ${v.split('\n')[0]?.slice(0, 160)}`;

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Service label -> base service name for grouping (`worker-1` -> `worker`). */
function serviceOf(label: string): string {
  return label.replace(/-\d+$/, '');
}

/** One figure of each round on both sides: the values that exist, and the ratio where both do. */
interface Paired {
  relay: number[];
  peer: number[];
  ratios: number[];
  /** The first failure of either side, if any. */
  error?: string;
}

function pairUp<A, B>(
  rounds: readonly Round[],
  relayOf: (r: Round) => A | string,
  peerOf: (r: Round) => B | string,
  relayValue: (a: A) => number,
  peerValue: (b: B) => number,
): Paired {
  const out: Paired = { relay: [], peer: [], ratios: [] };
  for (const round of rounds) {
    const a = relayOf(round);
    const b = peerOf(round);
    if (ok(a)) out.relay.push(relayValue(a));
    else out.error ??= `Relay: ${a}`;
    if (ok(b)) out.peer.push(peerValue(b));
    else out.error ??= `peer: ${b}`;
    if (ok(a) && ok(b)) out.ratios.push(relayValue(a) / peerValue(b));
  }
  return out;
}

/** `median (min-max over n rounds)` of a ratio list. */
function ratioCell(ratios: readonly number[]): string {
  if (ratios.length === 0) return 'n/a';
  const spread =
    ratios.length > 1 ? ` (rounds ${fmt(Math.min(...ratios), 2)}-${fmt(Math.max(...ratios), 2)})` : '';
  return `${fmt(median(ratios), 2)}x${spread}`;
}

/** The chain passes of every round pooled: percentiles over all gaps, legs weighted by their steps. */
interface PooledChain {
  relay: Percentiles;
  graphile: Percentiles;
  bull: Percentiles;
  ring: Percentiles;
  inTask: Percentiles;
  legs?: ChainLegs;
  /** Per round where both ran: Relay's p50 / graphile-worker's p50. */
  p50Ratios: number[];
  passes: number;
  runSeconds: number;
}

function poolChains(rounds: readonly Round[]): PooledChain | string {
  const relay = rounds.map((r) => r.chain).filter(ok);
  if (relay.length === 0) return String(rounds.map((r) => r.chain).find((c) => !ok(c)) ?? 'no rounds');
  const all = <T>(xs: (T[] | string)[]): T[] => xs.filter(ok).flat();
  const legs = relay.flatMap((c) => (c.legs ? [c.legs] : []));
  const steps = legs.reduce((a, l) => a + l.steps, 0);
  const weighted = (k: 'result' | 'scheduler' | 'dispatcher' | 'claim') =>
    legs.reduce((a, l) => a + l[k] * l.steps, 0) / steps;
  const p50Ratios: number[] = [];
  for (const r of rounds) {
    if (ok(r.chain) && ok(r.graphileChain))
      p50Ratios.push(summarize(r.chain.gaps).p50 / summarize(r.graphileChain).p50);
  }
  return {
    relay: summarize(relay.flatMap((c) => c.gaps)),
    graphile: summarize(all(rounds.map((r) => r.graphileChain))),
    bull: summarize(all(rounds.map((r) => r.bullChain))),
    ring: summarize(all(rounds.map((r) => r.ring))),
    inTask: summarize(relay.flatMap((c) => c.inTask)),
    ...(steps > 0
      ? {
          legs: {
            steps,
            result: weighted('result'),
            scheduler: weighted('scheduler'),
            dispatcher: weighted('dispatcher'),
            claim: weighted('claim'),
          },
        }
      : {}),
    p50Ratios,
    passes: relay.length,
    runSeconds: median(relay.map((c) => c.runSeconds)),
  };
}

const manyRunsPairs = (d: BenchData): Paired =>
  pairUp(
    d.rounds,
    (r) => r.manyRuns,
    (r) => r.bullTrees,
    (a) => a.tasksPerSec,
    (b) => b.tasksPerSec,
  );

const fanoutPairs = (d: BenchData) =>
  pairUp(
    d.rounds,
    (r) => r.fanout,
    (r) => r.graphileJobs,
    (a) => a.tasksPerSec,
    (b) => b.jobsPerSec,
  );

const triple = (p: Percentiles) => `${fmt(p.p50, 2)} / ${fmt(p.p95, 2)} / ${fmt(p.p99, 2)}`;

function targetRows(d: BenchData, many: Paired, c: PooledChain | string): Row[] {
  const rows: Row[] = [];
  const n = d.rounds.length;
  if (many.relay.length > 0) {
    rows.push([
      `many-runs: ${d.sizes.manyRuns} runs x 10 tasks (tasks/s) vs BullMQ ${d.peerSizes.trees} flows x 10; medians of ${n} rounds`,
      fmt(median(many.relay), 0),
      fmt(median(many.peer), 0),
      ratioCell(many.ratios),
      '>= 2x BullMQ',
      yes(median(many.ratios) >= 2),
    ]);
  } else rows.push(['many-runs', failed(many.error ?? 'no rounds'), '', '', '>= 2x BullMQ', '**no**']);
  const fan = fanoutPairs(d);
  if (fan.relay.length > 0) {
    rows.push([
      `fanout: 1 run, root -> ${d.sizes.fanout} -> sink (tasks/s) vs graphile-worker ${d.peerSizes.jobs} jobs (jobs/s); medians of ${n} rounds`,
      fmt(median(fan.relay), 0),
      fmt(median(fan.peer), 0),
      ratioCell(fan.ratios),
      '>= 5000 tasks/s',
      yes(median(fan.relay) >= 5000),
    ]);
  } else rows.push(['fanout', failed(fan.error ?? 'no rounds'), '', '', '>= 5000 tasks/s', '**no**']);
  if (ok(c)) {
    rows.push([
      `chain p50: ${d.sizes.chain} steps, successor RUNNING - predecessor SUCCESS (ms) vs graphile-worker; every round's gaps pooled`,
      fmt(c.relay.p50, 2),
      fmt(c.graphile.p50, 2),
      `${fmt(c.relay.p50 / c.graphile.p50, 2)}x`,
      '<= graphile-worker p50',
      yes(c.relay.p50 <= c.graphile.p50),
    ]);
    rows.push([
      'chain p95 (ms)',
      fmt(c.relay.p95, 2),
      fmt(c.graphile.p95, 2),
      `${fmt(c.relay.p95 / c.graphile.p95, 2)}x`,
      '(none)',
      '',
    ]);
    rows.push([
      'chain p99 (ms)',
      fmt(c.relay.p99, 2),
      fmt(c.graphile.p99, 2),
      `${fmt(c.relay.p99 / c.graphile.p99, 2)}x`,
      '< 20 ms',
      yes(c.relay.p99 < 20),
    ]);
    rows.push([
      `chain floor: a ring of ${d.ringHops} processes, each only XREADGROUP -> one-row UPDATE, durable COMMIT -> XADD (no Relay code): cycle p50 / p95 / p99 (ms), run in every round`,
      triple(c.relay),
      c.ring.n > 0 ? triple(c.ring) : 'n/a',
      `${fmt(c.relay.p50 / c.ring.p50, 2)}x (p50; graphile-worker's is ${fmt(c.graphile.p50 / c.ring.p50, 2)}x)`,
      '(reference)',
      '',
    ]);
    rows.push([
      `chain vs BullMQ nested flow (${d.peerSizes.chain} steps): p50 / p95 / p99 (ms; BullMQ's clock is whole ms)`,
      triple(c.relay),
      c.bull.n > 0 ? triple(c.bull) : 'n/a',
      c.bull.p50 > 0
        ? `${fmt(c.relay.p50 / c.bull.p50, 2)}x (p50)`
        : "n/a: BullMQ's p50 is under its clock's 1 ms",
      '(reference)',
      '',
    ]);
  } else rows.push(['chain', failed(c), '', '', '<= graphile p50, p99 < 20 ms', '**no**']);
  const small = d.scale[0];
  const large = d.scale.at(-1);
  if (small && large && ok(small.result) && ok(large.result)) {
    const ratio = large.result.msPerTask / small.result.msPerTask;
    rows.push([
      `scale: time/task at ${large.size} vs ${small.size} (ms/task)`,
      `${fmt(large.result.msPerTask, 3)} vs ${fmt(small.result.msPerTask, 3)}`,
      '',
      `${fmt(ratio, 2)}x`,
      '<= 1.5x',
      yes(ratio <= 1.5),
    ]);
  } else
    rows.push([
      'scale time/task',
      failed(ok(large?.result) ? 'small size failed' : String(large?.result)),
      '',
      '',
      '<= 1.5x',
      '**no**',
    ]);
  const peaks = d.scale.flatMap((s) => (ok(s.result) ? [...s.result.peakRssMb.entries()] : []));
  const worst = peaks.sort((a, b) => b[1] - a[1])[0];
  rows.push([
    'scale: highest peak RSS of any service over all sizes (MB)',
    worst ? `${fmt(worst[1], 0)} (${worst[0]})` : 'n/a',
    '',
    '',
    '<= 300 MB',
    yes(!!worst && worst[1] <= 300 && d.scale.every((s) => ok(s.result))),
  ]);
  if (ok(d.idle)) {
    const idle = d.idle;
    const cpu = [...idle.cpuMs.entries()].map(([l, ms]) => [l, (ms / (idle.seconds * 1000)) * 100] as const);
    const worstCpu = cpu.sort((a, b) => b[1] - a[1])[0];
    const qps = idleQps(idle);
    const worstQ = [...qps.entries()].sort((a, b) => b[1] - a[1])[0];
    rows.push([
      `idle (${idle.runs} finished runs stored): highest CPU of a service (% of a core)`,
      worstCpu ? `${fmt(worstCpu[1], 2)} (${worstCpu[0]})` : 'n/a',
      '',
      '',
      '< 2% each',
      yes(!!worstCpu && worstCpu[1] < 2),
    ]);
    rows.push([
      'idle: highest statements/s of a service (pg_stat_activity sampling)',
      worstQ ? `${fmt(worstQ[1], 2)} (${worstQ[0]})` : '0',
      '',
      '',
      '< 5/s each',
      yes(!worstQ || worstQ[1] < 5),
    ]);
  } else rows.push(['idle', failed(d.idle), '', '', '< 2% CPU, < 5 q/s', '**no**']);
  return rows;
}

function idleQps(idle: IdleResult): Map<string, number> {
  const out = new Map<string, number>();
  for (const [app, p] of idle.pg.perApp) {
    if (app === 'relay-bench') continue;
    out.set(app, p.statements / idle.pg.seconds);
  }
  return out;
}

function scaleSection(d: BenchData): string {
  const labels = [...new Set(d.scale.flatMap((s) => (ok(s.result) ? [...s.result.peakRssMb.keys()] : [])))];
  const rows = d.scale.map(({ size, result: r }) =>
    ok(r)
      ? [
          String(size),
          fmt(r.seconds, 2),
          fmt(r.tasksPerSec, 0),
          fmt(r.msPerTask, 3),
          fmt(r.registerSeconds, 2),
          ...labels.map((l) => fmt(r.peakRssMb.get(l) ?? Number.NaN, 0)),
        ]
      : [String(size), failed(r), '', '', '', ...labels.map(() => '')],
  );
  return table(
    ['fan-out width', 'run s', 'tasks/s', 'ms/task', 'register s', ...labels.map((l) => `${l} peak RSS MB`)],
    rows,
  );
}

function idleSection(idle: IdleResult): string {
  const apps = new Map<string, { statements: number; cpuMs: number }>();
  for (const [app, p] of idle.pg.perApp) apps.set(app, { statements: p.statements, cpuMs: p.cpuMs });
  const rows = [...idle.cpuMs.entries()].map(([label, ms]) => {
    const app = apps.get(`relay-${serviceOf(label)}`);
    return [
      label,
      fmt((ms / (idle.seconds * 1000)) * 100, 2),
      app ? fmt(app.statements / idle.pg.seconds, 2) : '0',
      app ? fmt((app.cpuMs / (idle.seconds * 1000)) * 100, 2) : '0',
    ];
  });
  return [
    table(
      [
        'process',
        'CPU % of a core',
        'statements/s (per application_name; workers share one)',
        'its Postgres backends CPU %',
      ],
      rows,
    ),
    '',
    `CPU over a ${fmt(idle.seconds, 1)} s window with nothing else querying the database: the services made ${fmt(idle.xactsPerSec, 2)} transactions/s together (pg_stat_database xact_commit + xact_rollback delta minus the bench's own read; the counters flush with up to 10 s of lag, so this is a rate over a shifted window). Statements per service over the next ${fmt(idle.pg.seconds, 1)} s: pg_stat_activity sampled every 20 ms.`,
  ].join('\n');
}

function chainParagraph(c: PooledChain, d: BenchData): string {
  const parts = [
    `chain: ${c.passes} passes of the ${d.sizes.chain}-step run, one per round (median ${fmt(c.runSeconds, 2)} s a run, ${fmt((c.runSeconds * 1000) / d.sizes.chain, 2)} ms/step); the gaps above are SUCCESS -> successor RUNNING: the worker's result commit and three stream hops (scheduler, dispatcher, worker claim), with three durable commits on the way. Per round, Relay's p50 over graphile-worker's: ${ratioCell(c.p50Ratios)}.`,
  ];
  const l = c.legs;
  if (l) {
    parts.push(
      `Mean per leg over ${l.steps} gaps (from the stream entries' ids, whole ms of the same clock, each taken at its midpoint, so only means are given): worker result commit + TaskSucceeded ${fmt(l.result, 2)} ms, scheduler (TaskSucceeded -> TaskReady) ${fmt(l.scheduler, 2)}, dispatcher (TaskReady -> work entry) ${fmt(l.dispatcher, 2)}, worker claim (work entry -> RUNNING) ${fmt(l.claim, 2)}; the mean gap is ${fmt(l.result + l.scheduler + l.dispatcher + l.claim, 2)} ms.`,
    );
  }
  if (c.ring.n > 0) {
    parts.push(
      `The floor ring, run at the end of every round beside every idle system, does the three durable commits of such a gap and its stream hops (one hop more: the bench's own XADD and read) with nothing else: p50 ${fmt(c.ring.p50, 2)} ms; Relay's chain p50 is ${fmt(c.relay.p50 / c.ring.p50, 2)}x it, graphile-worker's (two commits and a NOTIFY per step) ${fmt(c.graphile.p50 / c.ring.p50, 2)}x.`,
    );
  }
  parts.push(
    `Inside the worker, RUNNING -> SUCCESS (started_at -> finished_at of the same no-op step) took p50 ${fmt(c.inTask.p50, 2)} / p95 ${fmt(c.inTask.p95, 2)} / p99 ${fmt(c.inTask.p99, 2)} ms, not counted in the gap.`,
  );
  return parts.join(' ');
}

function roundsSection(d: BenchData): string {
  const cell = <T>(v: T | string, value: (t: T) => number, digits: number) =>
    ok(v) ? fmt(value(v), digits) : 'failed';
  const ratio = <A, B>(a: A | string, b: B | string, va: (x: A) => number, vb: (x: B) => number) =>
    ok(a) && ok(b) ? `${fmt(va(a) / vb(b), 2)}x` : '';
  const tps = (t: { tasksPerSec: number }) => t.tasksPerSec;
  const jps = (t: { jobsPerSec: number }) => t.jobsPerSec;
  const gapP50 = (c: ChainResult) => summarize(c.gaps).p50;
  const p50 = (xs: number[]) => summarize(xs).p50;
  const rows = d.rounds.map((r, i) => [
    `${i + 1} (${i % 2 === 0 ? 'Relay' : 'peer'} first)`,
    cell(r.manyRuns, tps, 0),
    cell(r.bullTrees, tps, 0),
    ratio(r.manyRuns, r.bullTrees, tps, tps),
    cell(r.fanout, tps, 0),
    cell(r.graphileJobs, jps, 0),
    ratio(r.fanout, r.graphileJobs, tps, jps),
    cell(r.chain, gapP50, 2),
    cell(r.graphileChain, p50, 2),
    ratio(r.chain, r.graphileChain, gapP50, p50),
    cell(r.ring, p50, 2),
  ]);
  return table(
    [
      'round',
      'many-runs tasks/s',
      'BullMQ tasks/s',
      'ratio',
      'fanout tasks/s',
      'graphile-worker jobs/s',
      'ratio',
      'chain p50 ms',
      'graphile-worker p50 ms',
      'ratio',
      'floor ring p50 ms',
    ],
    rows,
  );
}

function profileSection(
  p: Profile,
  d: BenchData,
  target: { scenario: string; tasksPerSec: number; goal: string },
): string {
  const perTask = (v: number) => fmt((v / p.tasks) * 1000, 1);
  const byService = new Map<string, number>();
  for (const [label, ms] of p.cpuMs)
    byService.set(serviceOf(label), (byService.get(serviceOf(label)) ?? 0) + ms);
  const pgRows = [...p.pg.perApp.entries()].filter(([app]) => app !== 'relay-bench');
  const procCpu = [...p.cpuMs.values()].reduce((a, b) => a + b, 0);
  const pgCpu = pgRows.reduce((a, [, v]) => a + v.cpuMs, 0);
  const rows = [...byService.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([service, ms]) => {
      const backend = p.pg.perApp.get(`relay-${service}`);
      return [
        service,
        perTask(ms),
        fmt((ms / (p.seconds * 1000)) * 100, 0),
        backend ? perTask(backend.cpuMs) : '0',
        backend ? perTask(backend.activeMs) : '0',
      ];
    });
  const redisRows = p.redis.slice(0, 12).map(([cmd, n]) => [cmd, String(n), fmt(n / p.tasks, 2)]);
  const top = [...byService.entries()].sort((a, b) => b[1] - a[1])[0];
  const topPg = pgRows.sort((a, b) => b[1].cpuMs - a[1].cpuMs)[0];
  const budgetUs = ((d.cores * 1000) / target.tasksPerSec) * 1000;
  const spentUs = ((procCpu + pgCpu) / p.tasks) * 1000;
  return [
    `Measured during ${target.scenario} (${p.tasks} tasks, ${fmt(p.seconds, 2)} s window, from the first request to the bench seeing the last run finished). CPU from /proc/<pid>/stat utime+stime deltas of each service process and of each Postgres backend (backends grouped by pg_stat_activity.application_name, which every service sets to relay-<service>); "active" = pg_stat_activity sampled every 50 ms, count of backends in state active x period (an estimate of time Postgres spent executing for that service, including lock waits and client round trips inside transactions). Database-wide transactions: pg_stat_database delta read 11 s after the window's edges (counters flush late). Redis: INFO commandstats deltas over the window; the Redis server is shared with other engineers, so these are upper bounds.`,
    '',
    table(
      [
        'service',
        'process CPU µs/task',
        'process CPU % of a core',
        'its PG backends CPU µs/task',
        'its PG backends active µs/task',
      ],
      rows,
    ),
    '',
    `Total: services ${perTask(procCpu)} µs/task + Postgres backends ${perTask(pgCpu)} µs/task = ${fmt(spentUs, 0)} µs of CPU per task. Database-wide ${fmt(p.pg.xacts / p.tasks, 3)} transactions/task (pg_stat_database delta, every service together; ${p.pg.samples} of them the profiler's samples). For ${target.goal} on ${d.cores} cores the whole pipeline (services + Postgres + Redis + bench) has at most ${fmt(budgetUs, 0)} µs of CPU per task.`,
    '',
    table(['Redis command', 'calls', 'calls/task'], redisRows),
    '',
    `Reading: the largest consumer is ${top ? `${top[0]} (${perTask(top[1])} µs/task)` : 'n/a'}; the busiest Postgres backends belong to ${topPg ? `${topPg[0]} (${perTask(topPg[1].cpuMs)} µs/task CPU)` : 'n/a'}.`,
  ].join('\n');
}

/** The markdown report of a bench run. */
export function renderReport(d: BenchData): string {
  const many = manyRunsPairs(d);
  const chain = poolChains(d.rounds);
  const out: string[] = [];
  out.push(`# Relay benchmark${d.quick ? ' (--quick: reduced sizes)' : ''}`);
  out.push('');
  out.push(
    `${d.date}; commit ${d.commit}; ${d.cores} cores (${d.cpuModel}), Node ${d.node}; the machine is shared with other engineers' work. Relay: scheduler, dispatcher, reaper, ingest and ${d.workers.count} workers (RELAY_WORKER_CONCURRENCY=${d.workers.concurrency}), LOG_LEVEL=warn, built dist/ processes, fresh database and prefix. Peers in the same run on the same Postgres and Redis: BullMQ (${d.peerSizes.concurrency}). All tasks/jobs are no-ops. Total bench time ${fmt(d.totalSeconds, 0)} s.`,
  );
  out.push('');
  out.push(
    table(['scenario', 'Relay', 'peer', 'ratio (Relay/peer)', 'target', 'met?'], targetRows(d, many, chain)),
  );
  out.push('');
  out.push(
    `## Rounds (each shape on Relay and on its peer back to back, every system up and idle beside the others; who goes first alternates; the table above gives medians and the median of the per-round ratios)`,
  );
  out.push('');
  out.push(roundsSection(d));
  out.push('');
  const startSeconds = d.rounds
    .map((r) => r.manyRuns)
    .filter(ok)
    .map((m) => m.startSeconds);
  out.push(
    `many-runs: ${d.sizes.manyRuns} runs started concurrently through POST /workflows/:id/runs (one HTTP request each, over a keep-alive pool of ${API_SOCKETS} connections), in a median ${fmt(median(startSeconds), 2)} s; tasks/s from the first run's started_at to the last run's finished_at. BullMQ: ${d.peerSizes.trees} FlowProducer trees (1+3+6 jobs, addBulk), first job's timestamp to last finishedOn. Every system ran each shape once at the measured size first, as a warm-up; those first passes ran at ${ok(d.manyRunsWarm) ? fmt(d.manyRunsWarm.tasksPerSec, 0) : 'n/a'} tasks/s (Relay) and ${ok(d.warm.bullTrees) ? fmt(d.warm.bullTrees.tasksPerSec, 0) : 'n/a'} (BullMQ)${ok(d.warm.graphileJobs) ? `; graphile-worker's first ${d.peerSizes.jobs} jobs ran at ${fmt(d.warm.graphileJobs.jobsPerSec, 0)} jobs/s` : ''}.`,
  );
  out.push('');
  if (ok(chain)) {
    out.push(chainParagraph(chain, d));
    out.push('');
  }
  out.push(
    '## Scale (after the rounds, with the peers stopped: one fan-out run per width; peak RSS = max VmRSS sampled every 200 ms during the run)',
  );
  out.push('');
  out.push(scaleSection(d));
  out.push('');
  out.push('## Idle');
  out.push('');
  out.push(ok(d.idle) ? idleSection(d.idle) : failed(d.idle));
  out.push('');
  const fanoutPass = d.scale.find((s) => s.size === d.sizes.fanout)?.result;
  out.push('## Profile: where the time goes per task (fanout)');
  out.push('');
  out.push(
    fanoutPass && ok(fanoutPass) && fanoutPass.profile
      ? profileSection(fanoutPass.profile, d, {
          scenario: `the scale pass at width ${d.sizes.fanout} (${fmt(fanoutPass.tasksPerSec, 0)} tasks/s)`,
          tasksPerSec: 5000,
          goal: '5000 tasks/s',
        })
      : `no profile (${fanoutPass && !ok(fanoutPass) ? failed(fanoutPass) : 'fanout not run'})`,
  );
  out.push('');
  out.push('## Profile: where the time goes per task (many-runs)');
  out.push('');
  const bullTps = median(many.peer);
  const m = d.manyRunsProfiled;
  out.push(
    ok(m) && m.profile
      ? profileSection(m.profile, d, {
          scenario: `a profiled many-runs pass after the rounds (${fmt(m.tasksPerSec, 0)} tasks/s)`,
          tasksPerSec: 2 * bullTps,
          goal: `2x BullMQ's median (${fmt(2 * bullTps, 0)} tasks/s)`,
        })
      : `no profile (${ok(m) ? 'not profiled' : failed(m)})`,
  );
  out.push('');
  out.push('## Method');
  out.push('');
  out.push(
    [
      '- Relay figures come from database timestamps (`now()` of the writing transaction): runs.started_at / finished_at for throughput, task_runs.finished_at of a step -> started_at of its successor for the chain.',
      '- BullMQ: jobs carry `timestamp` (added), `processedOn` and `finishedOn` (ms, worker clock); chain = a nested flow (step N is the parent of step N-1), gap = parent processedOn - child finishedOn.',
      "- graphile-worker (0.17, the newest line that runs on Node 20): throughput = jobs added with addJobs while the pool runs, until the jobs table is empty; chain = each job adds the next, gap = successor's start - the moment its predecessor called addJob (performance.now(), same process). Its job rate follows the planner statistics of its jobs table, which autovacuum updates when it happens to run: 1,450 to 3,400 jobs/s in runs of one day, and a VACUUM before each round (it sets the empty table's row estimate to 0) halved it. The bench leaves autovacuum to itself for every system.",
      '- Idle CPU: /proc/<pid>/stat utime+stime delta over the window; statements/s: pg_stat_activity sampled every 20 ms, distinct (pid, query_start) per application_name (pg_stat_statements is not loaded on this server); database-wide transactions from pg_stat_database.',
    ].join('\n'),
  );
  return `${out.join('\n')}\n`;
}
