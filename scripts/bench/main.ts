/**
 * `npm run bench [-- --quick]`: Relay's fleet against BullMQ and graphile-worker on this machine's
 * Postgres and Redis; prints a markdown report and writes it to bench/results.md (bench/results-quick.md
 * with --quick).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchBullmq } from './bullmq.js';
import { startBenchFleet } from './fleet.js';
import { benchGraphile } from './graphile.js';
import { RelayBench } from './relay.js';
import { type BenchData, renderReport } from './report.js';
import { benchRing } from './ring.js';

const quick = process.argv.includes('--quick');
const WORKERS = 2;
const CONCURRENCY = 200;
const sizes = quick
  ? { fanout: 2000, manyRuns: 200, chain: 50, scale: [500, 2000, 5000], idleRuns: 2000, idleSeconds: 5 }
  : {
      fanout: 10_000,
      manyRuns: 1000,
      chain: 200,
      scale: [1000, 10_000, 100_000],
      idleRuns: 10_000,
      idleSeconds: 20,
    };
const peer = quick ? { trees: 50, jobs: 2000, chain: 50 } : { trees: 200, jobs: 10_000, chain: 200 };
const GRAPHILE = { concurrency: 200, maxPoolSize: 20 };
/** Processes of the floor ring: one per committing hop of a chain gap (worker result, scheduler, dispatcher). */
const RING_HOPS = 3;

const log = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function attempt<T>(name: string, fn: () => Promise<T>): Promise<T | string> {
  const t0 = performance.now();
  log(`${name}...`);
  try {
    const result = await fn();
    log(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return result;
  } catch (err) {
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    log(`${name} FAILED: ${text}`);
    return text;
  }
}

/** Short HEAD hash, `+dirty` when services/ or libs/ have uncommitted changes (others work in the same tree). */
function currentCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'services', 'libs', 'contracts'])
      .toString()
      .trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const fleet = await startBenchFleet({ workers: WORKERS, concurrency: CONCURRENCY });
  log(`fleet up: database ${fleet.database}, prefix ${fleet.prefix}`);
  const relay = new RelayBench(fleet);
  const timeout = (tasks: number) => 60_000 + tasks * 5;
  let data: Omit<BenchData, 'bull' | 'graphile' | 'ringAfterPeers' | 'totalSeconds'>;
  try {
    // Each shape once at the measured size (the fan-out at the smallest width), as the peers warm up
    // theirs: connections opened, plans and JIT warm. A warm-up pass's figure is reported beside the
    // measured one: it is what a fleet fresh from start does.
    let manyRunsWarm: BenchData['manyRunsWarm'] = 'not run';
    await attempt('warm-up', async () => {
      await relay.fanout(Math.min(...sizes.scale), { timeoutMs: 60_000 });
      await relay.chain(sizes.chain, timeout(sizes.chain * 20));
      manyRunsWarm = await relay.manyRuns(sizes.manyRuns, { timeoutMs: timeout(sizes.manyRuns * 10) });
    });
    const chain = await attempt(`chain ${sizes.chain}`, () =>
      relay.chain(sizes.chain, timeout(sizes.chain * 20)),
    );
    // Right after the chain, beside the same idle fleet: the floor under a chain step at this moment.
    const ring = await attempt('floor ring', () =>
      benchRing({ hops: RING_HOPS, cycles: sizes.chain, warmup: 20, timeoutMs: 30_000 }),
    );
    const manyRuns = await attempt(`many-runs ${sizes.manyRuns} (profiled)`, () =>
      relay.manyRuns(sizes.manyRuns, { profile: true, timeoutMs: timeout(sizes.manyRuns * 10) }),
    );
    const scale: BenchData['scale'] = [];
    let fanout: BenchData['fanout'] = 'not run';
    for (const size of sizes.scale) {
      const profile = size === sizes.fanout;
      const result = await attempt(`fanout ${size}${profile ? ' (profiled)' : ''}`, () =>
        relay.fanout(size, { profile, timeoutMs: timeout(size) }),
      );
      scale.push({ size, result });
      if (profile) fanout = result;
    }
    const idle = await attempt(`idle ${sizes.idleRuns} runs, ${sizes.idleSeconds} s`, () =>
      relay.idle(sizes.idleRuns, sizes.idleSeconds),
    );
    data = {
      quick,
      date: new Date().toISOString(),
      cores: cpus().length,
      node: process.version,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      commit: currentCommit(),
      sizes,
      peerSizes: {
        ...peer,
        concurrency: `${WORKERS} workers x concurrency ${CONCURRENCY}) and graphile-worker (one pool, concurrency ${GRAPHILE.concurrency}, ${GRAPHILE.maxPoolSize} connections`,
      },
      workers: { count: WORKERS, concurrency: CONCURRENCY },
      fanout,
      manyRuns,
      manyRunsWarm,
      chain,
      ring,
      scale,
      idle,
    };
  } finally {
    relay.rss.stop();
    await fleet.stop();
    log('fleet stopped, database dropped, prefix deleted');
  }
  const bull = await attempt('bullmq', () =>
    benchBullmq({
      trees: peer.trees,
      chainLength: peer.chain,
      workers: WORKERS,
      concurrency: CONCURRENCY,
      timeoutMs: 300_000,
    }),
  );
  // The floor ring again, right after graphile-worker's chain beside its idle pool (before its database
  // is dropped: a DROP DATABASE forces a checkpoint that slows every commit for a while). The machine's
  // speed drifts over minutes, so each system's chain is also read against the floor of its own moment.
  let ringAfterPeers: BenchData['ringAfterPeers'] = 'not run';
  const graphile = await attempt('graphile-worker', () =>
    benchGraphile({
      jobs: peer.jobs,
      chainLength: peer.chain,
      ...GRAPHILE,
      timeoutMs: 300_000,
      afterChain: async () => {
        ringAfterPeers = await attempt('floor ring (beside graphile-worker)', () =>
          benchRing({ hops: RING_HOPS, cycles: sizes.chain, warmup: 20, timeoutMs: 30_000 }),
        );
      },
    }),
  );
  const report = renderReport({
    ...data,
    bull,
    graphile,
    ringAfterPeers,
    totalSeconds: (performance.now() - t0) / 1000,
  });
  const file = fileURLToPath(
    new URL(`../../bench/${quick ? 'results-quick.md' : 'results.md'}`, import.meta.url),
  );
  writeFileSync(file, report);
  console.log(report);
  log(`written to ${file}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
