import type { BullResult } from './bullmq.js';
import { API_SOCKETS } from './fleet.js';
import type { GraphileResult } from './graphile.js';
import type { ChainResult, IdleResult, Profile, Throughput } from './relay.js';
import type { RingResult } from './ring.js';
import { fmt } from './stats.js';

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
  fanout: Throughput | string;
  manyRuns: (Throughput & { startSeconds: number }) | string;
  /** The warm-up pass of many-runs (same size, the first on the fleet). */
  manyRunsWarm: (Throughput & { startSeconds: number }) | string;
  chain: ChainResult | string;
  scale: { size: number; result: Throughput | string }[];
  idle: IdleResult | string;
  bull: BullResult | string;
  graphile: GraphileResult | string;
  /** The floor ring (ring.ts), run right after the chain beside the idle fleet. */
  ring: RingResult | string;
  /** The floor ring again, right after graphile-worker's chain beside its idle pool. */
  ringAfterPeers: RingResult | string;
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

function targetRows(d: BenchData): Row[] {
  const rows: Row[] = [];
  const bullTps = ok(d.bull) ? d.bull.trees.tasksPerSec : Number.NaN;
  if (ok(d.manyRuns)) {
    const ratio = d.manyRuns.tasksPerSec / bullTps;
    rows.push([
      `many-runs: ${d.sizes.manyRuns} runs x 10 tasks (tasks/s) vs BullMQ ${d.peerSizes.trees} flows x 10`,
      fmt(d.manyRuns.tasksPerSec, 0),
      fmt(bullTps, 0),
      `${fmt(ratio, 2)}x`,
      '>= 2x BullMQ',
      yes(ratio >= 2),
    ]);
  } else rows.push(['many-runs', failed(d.manyRuns), fmt(bullTps, 0), '', '>= 2x BullMQ', '**no**']);
  const gwJps = ok(d.graphile) ? d.graphile.jobs.jobsPerSec : Number.NaN;
  if (ok(d.fanout)) {
    rows.push([
      `fanout: 1 run, root -> ${d.sizes.fanout} -> sink (tasks/s) vs graphile-worker ${d.peerSizes.jobs} jobs (jobs/s)`,
      fmt(d.fanout.tasksPerSec, 0),
      fmt(gwJps, 0),
      `${fmt(d.fanout.tasksPerSec / gwJps, 2)}x`,
      '>= 5000 tasks/s',
      yes(d.fanout.tasksPerSec >= 5000),
    ]);
  } else rows.push(['fanout', failed(d.fanout), fmt(gwJps, 0), '', '>= 5000 tasks/s', '**no**']);
  const gw = ok(d.graphile) ? d.graphile.chain : undefined;
  if (ok(d.chain)) {
    const c = d.chain;
    rows.push([
      `chain p50: ${d.sizes.chain} steps, successor RUNNING - predecessor SUCCESS (ms) vs graphile-worker`,
      fmt(c.p50, 2),
      fmt(gw?.p50 ?? Number.NaN, 2),
      `${fmt(c.p50 / (gw?.p50 ?? Number.NaN), 2)}x`,
      '<= graphile-worker p50',
      yes(c.p50 <= (gw?.p50 ?? Number.NaN)),
    ]);
    rows.push([
      'chain p95 (ms)',
      fmt(c.p95, 2),
      fmt(gw?.p95 ?? Number.NaN, 2),
      `${fmt(c.p95 / (gw?.p95 ?? Number.NaN), 2)}x`,
      '(none)',
      '',
    ]);
    rows.push([
      'chain p99 (ms)',
      fmt(c.p99, 2),
      fmt(gw?.p99 ?? Number.NaN, 2),
      `${fmt(c.p99 / (gw?.p99 ?? Number.NaN), 2)}x`,
      '< 20 ms',
      yes(c.p99 < 20),
    ]);
  } else rows.push(['chain', failed(d.chain), '', '', '<= graphile p50, p99 < 20 ms', '**no**']);
  const r = d.ring;
  rows.push([
    `chain floor: a ring of ${ok(r) ? r.hops : 3} processes, each only XREADGROUP -> one-row UPDATE, durable COMMIT -> XADD (no Relay code): cycle p50 / p95 / p99 (ms)`,
    ok(d.chain) ? `${fmt(d.chain.p50, 2)} / ${fmt(d.chain.p95, 2)} / ${fmt(d.chain.p99, 2)}` : 'n/a',
    ok(r) ? `${fmt(r.p50, 2)} / ${fmt(r.p95, 2)} / ${fmt(r.p99, 2)}` : failed(r),
    ok(d.chain) && ok(r) ? `${fmt(d.chain.p50 / r.p50, 2)}x (p50)` : '',
    '(reference)',
    '',
  ]);
  const after = d.ringAfterPeers;
  if (ok(d.chain) && ok(r) && ok(after) && ok(d.graphile)) {
    const relay = d.chain.p50 / r.p50;
    const peer = d.graphile.chain.p50 / after.p50;
    rows.push([
      "chain p50 in floor-ring p50s of its own moment (ring run beside each system's chain)",
      fmt(relay, 2),
      fmt(peer, 2),
      `${fmt(relay / peer, 2)}x`,
      '(reference)',
      '',
    ]);
  }
  if (ok(d.bull)) {
    const b = d.bull.chain;
    rows.push([
      `chain vs BullMQ nested flow (${d.peerSizes.chain} steps): p50 / p95 / p99 (ms; BullMQ's clock is whole ms)`,
      ok(d.chain) ? `${fmt(d.chain.p50, 2)} / ${fmt(d.chain.p95, 2)} / ${fmt(d.chain.p99, 2)}` : 'n/a',
      `${fmt(b.p50, 2)} / ${fmt(b.p95, 2)} / ${fmt(b.p99, 2)}`,
      ok(d.chain) ? `${fmt(d.chain.p50 / b.p50, 2)}x (p50)` : '',
      '(reference)',
      '',
    ]);
  }
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

function chainParagraph(c: ChainResult, d: BenchData): string {
  const parts = [
    `chain: the ${d.sizes.chain}-step run took ${fmt(c.runSeconds, 2)} s (${fmt((c.runSeconds * 1000) / d.sizes.chain, 2)} ms/step); the gaps above are SUCCESS -> successor RUNNING: the worker's result commit and three stream hops (scheduler, dispatcher, worker claim), with three durable commits on the way.`,
  ];
  const l = c.legs;
  if (l) {
    parts.push(
      `Mean per leg over ${l.steps} gaps (from the stream entries' ids, whole ms of the same clock, each taken at its midpoint, so only means are given): worker result commit + TaskSucceeded ${fmt(l.result, 2)} ms, scheduler (TaskSucceeded -> TaskReady) ${fmt(l.scheduler, 2)}, dispatcher (TaskReady -> work entry) ${fmt(l.dispatcher, 2)}, worker claim (work entry -> RUNNING) ${fmt(l.claim, 2)}; the mean gap is ${fmt(l.result + l.scheduler + l.dispatcher + l.claim, 2)} ms.`,
    );
  }
  const r = d.ring;
  if (ok(r)) {
    const gw = ok(d.graphile) ? d.graphile.chain.p50 : Number.NaN;
    const after = d.ringAfterPeers;
    parts.push(
      `The floor ring, run right after the chain beside the idle fleet, does the three durable commits of such a gap and its stream hops (one hop more: the bench's own XADD and read) with nothing else: p50 ${fmt(r.p50, 2)} ms; Relay's chain p50 is ${fmt(c.p50 / r.p50, 2)}x it.`,
      ok(after)
        ? `Run again right after graphile-worker's chain beside its idle pool (two commits and a NOTIFY per step), the ring took p50 ${fmt(after.p50, 2)} ms, and graphile-worker's ${fmt(gw, 2)} ms is ${fmt(gw / after.p50, 2)}x it: against the floor of its own moment (this machine's speed drifts over minutes), Relay's chain is ${fmt(c.p50 / r.p50 / (gw / after.p50), 2)}x graphile-worker's.`
        : `The ring after the peers failed: ${after.split('\n')[0]}`,
    );
  }
  parts.push(
    `Inside the worker, RUNNING -> SUCCESS (started_at -> finished_at of the same no-op step) took p50 ${fmt(c.inTask.p50, 2)} / p95 ${fmt(c.inTask.p95, 2)} / p99 ${fmt(c.inTask.p99, 2)} ms, not counted in the gap.`,
  );
  return parts.join(' ');
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
    `Measured during the ${target.scenario} run above (${p.tasks} tasks, ${fmt(p.seconds, 2)} s window, from the first request to the bench seeing the last run finished). CPU from /proc/<pid>/stat utime+stime deltas of each service process and of each Postgres backend (backends grouped by pg_stat_activity.application_name, which every service sets to relay-<service>); "active" = pg_stat_activity sampled every 50 ms, count of backends in state active x period (an estimate of time Postgres spent executing for that service, including lock waits and client round trips inside transactions). Database-wide transactions: pg_stat_database delta read 11 s after the window's edges (counters flush late). Redis: INFO commandstats deltas over the window; the Redis server is shared with other engineers, so these are upper bounds.`,
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
  const out: string[] = [];
  out.push(`# Relay benchmark${d.quick ? ' (--quick: reduced sizes)' : ''}`);
  out.push('');
  out.push(
    `${d.date}; commit ${d.commit}; ${d.cores} cores (${d.cpuModel}), Node ${d.node}; the machine is shared with other engineers' work. Relay: scheduler, dispatcher, reaper, ingest and ${d.workers.count} workers (RELAY_WORKER_CONCURRENCY=${d.workers.concurrency}), LOG_LEVEL=warn, built dist/ processes, fresh database and prefix. Peers in the same run on the same Postgres and Redis: BullMQ (${d.peerSizes.concurrency}). All tasks/jobs are no-ops. Total bench time ${fmt(d.totalSeconds, 0)} s.`,
  );
  out.push('');
  out.push(table(['scenario', 'Relay', 'peer', 'ratio (Relay/peer)', 'target', 'met?'], targetRows(d)));
  out.push('');
  out.push('## Scale (one fan-out run per width; peak RSS = max VmRSS sampled every 200 ms during the run)');
  out.push('');
  out.push(scaleSection(d));
  out.push('');
  if (ok(d.manyRuns)) {
    out.push(
      `many-runs: ${d.sizes.manyRuns} runs started concurrently through POST /workflows/:id/runs (one HTTP request each, over a keep-alive pool of ${API_SOCKETS} connections) in ${fmt(d.manyRuns.startSeconds, 2)} s; ${d.manyRuns.tasks} tasks from the first run's started_at to the last run's finished_at in ${fmt(d.manyRuns.seconds, 2)} s. BullMQ: ${d.peerSizes.trees} FlowProducer trees (1+3+6 jobs, addBulk), first job's timestamp to last finishedOn. Every system ran each shape once at the measured size first, as a warm-up; those first passes ran at ${ok(d.manyRunsWarm) ? fmt(d.manyRunsWarm.tasksPerSec, 0) : 'n/a'} tasks/s (Relay) and ${ok(d.bull) ? fmt(d.bull.warmTrees.tasksPerSec, 0) : 'n/a'} (BullMQ)${ok(d.graphile) ? `; graphile-worker's first ${d.peerSizes.jobs} jobs ran at ${fmt(d.graphile.warmJobs.jobsPerSec, 0)} jobs/s` : ''}.`,
    );
    out.push('');
  }
  if (ok(d.chain)) {
    out.push(chainParagraph(d.chain, d));
    out.push('');
  }
  out.push('## Idle');
  out.push('');
  out.push(ok(d.idle) ? idleSection(d.idle) : failed(d.idle));
  out.push('');
  out.push('## Profile: where the time goes per task (fanout)');
  out.push('');
  out.push(
    ok(d.fanout) && d.fanout.profile
      ? profileSection(d.fanout.profile, d, { scenario: 'fanout', tasksPerSec: 5000, goal: '5000 tasks/s' })
      : 'no profile (fanout failed)',
  );
  out.push('');
  out.push('## Profile: where the time goes per task (many-runs)');
  out.push('');
  const bullTps = ok(d.bull) ? d.bull.trees.tasksPerSec : Number.NaN;
  out.push(
    ok(d.manyRuns) && d.manyRuns.profile
      ? profileSection(d.manyRuns.profile, d, {
          scenario: 'many-runs',
          tasksPerSec: 2 * bullTps,
          goal: `2x BullMQ (${fmt(2 * bullTps, 0)} tasks/s)`,
        })
      : 'no profile (many-runs failed)',
  );
  out.push('');
  out.push('## Method');
  out.push('');
  out.push(
    [
      '- Relay figures come from database timestamps (`now()` of the writing transaction): runs.started_at / finished_at for throughput, task_runs.finished_at of a step -> started_at of its successor for the chain.',
      '- BullMQ: jobs carry `timestamp` (added), `processedOn` and `finishedOn` (ms, worker clock); chain = a nested flow (step N is the parent of step N-1), gap = parent processedOn - child finishedOn.',
      "- graphile-worker (0.17, the newest line that runs on Node 20): throughput = jobs added with addJobs while the pool runs, until the jobs table is empty; chain = each job adds the next, gap = successor's start - the moment its predecessor called addJob (performance.now(), same process).",
      '- Idle CPU: /proc/<pid>/stat utime+stime delta over the window; statements/s: pg_stat_activity sampled every 20 ms, distinct (pid, query_start) per application_name (pg_stat_statements is not loaded on this server); database-wide transactions from pg_stat_database.',
    ].join('\n'),
  );
  return `${out.join('\n')}\n`;
}
