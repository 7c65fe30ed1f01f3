/**
 * `npm run bench [-- --quick]`: Relay's fleet against BullMQ and graphile-worker on this machine's
 * Postgres and Redis; prints a markdown report and writes it to bench/results.md (bench/results-quick.md
 * with --quick).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startBullmq } from './bullmq.js';
import { startBenchFleet } from './fleet.js';
import { startGraphile } from './graphile.js';
import { RelayBench } from './relay.js';
import { type BenchData, type Round, renderReport } from './report.js';
import { type RingSession, startRing } from './ring.js';

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
/**
 * Measured rounds: each runs every shape on Relay and on its peer, back to back; the report gives
 * medians over the rounds and the median of the per-round ratios.
 */
const ROUNDS = quick ? 3 : 5;
/** Processes of the floor ring: one per committing hop of a chain gap (worker result, scheduler, dispatcher). */
const RING_HOPS = 3;

const log = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** A pass on a peer that may have failed to start (`session` is then its error text). */
function peerAttempt<S, T>(name: string, session: S | string, fn: (s: S) => Promise<T>): Promise<T | string> {
  if (typeof session === 'string') return Promise.resolve(`not started: ${session}`);
  return attempt(name, () => fn(session));
}

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

/** Tears a session down, logging (not throwing) a failure: the report still gets written. */
async function stopQuietly(name: string, session: { stop(): Promise<void> } | string): Promise<void> {
  if (typeof session === 'string') return;
  await session.stop().catch((err: unknown) => log(`${name} stop failed: ${String(err)}`));
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const fleet = await startBenchFleet({ workers: WORKERS, concurrency: CONCURRENCY });
  log(`fleet up: database ${fleet.database}, prefix ${fleet.prefix}`);
  const relay = new RelayBench(fleet);
  const timeout = (tasks: number) => 60_000 + tasks * 5;
  let data: Omit<BenchData, 'totalSeconds'>;
  let bull: Awaited<ReturnType<typeof startBullmq>> | string = 'not run';
  let graphile: Awaited<ReturnType<typeof startGraphile>> | string = 'not run';
  let ring: RingSession | string = 'not run';
  try {
    // Each shape once at the measured size (the fan-out at the smallest width), as the peers warm up
    // theirs: connections opened, plans and JIT warm. A warm-up pass's figure is reported beside the
    // measured ones: it is what a fleet fresh from start does.
    let manyRunsWarm: BenchData['manyRunsWarm'] = 'not run';
    await attempt('warm-up', async () => {
      await relay.fanout(Math.min(...sizes.scale), { timeoutMs: 60_000 });
      await relay.chain(sizes.chain, timeout(sizes.chain * 20));
      manyRunsWarm = await relay.manyRuns(sizes.manyRuns, { timeoutMs: timeout(sizes.manyRuns * 10) });
    });
    // The peers and the floor ring stay up, idle, beside the idle fleet, so that every round measures
    // each system within seconds of the others: this machine's speed drifts over minutes.
    bull = await attempt('bullmq start and warm-up', () =>
      startBullmq({
        trees: peer.trees,
        chainLength: peer.chain,
        workers: WORKERS,
        concurrency: CONCURRENCY,
        timeoutMs: 300_000,
      }),
    );
    graphile = await attempt('graphile-worker start and warm-up', () =>
      startGraphile({ jobs: peer.jobs, chainLength: peer.chain, ...GRAPHILE, timeoutMs: 300_000 }),
    );
    ring = await attempt('floor ring start', () => startRing({ hops: RING_HOPS, timeoutMs: 30_000 }));
    const rounds: Round[] = [];
    for (let r = 1; r <= ROUNDS; r += 1) {
      // Who goes first alternates, so that a drift within a round favours neither side.
      const pair = async <A, B>(relayPass: () => Promise<A>, peerPass: () => Promise<B>): Promise<[A, B]> => {
        if (r % 2 === 1) {
          const a = await relayPass();
          return [a, await peerPass()];
        }
        const b = await peerPass();
        return [await relayPass(), b];
      };
      const [manyRuns, bullTrees] = await pair(
        () =>
          attempt(`round ${r}: many-runs ${sizes.manyRuns}`, () =>
            relay.manyRuns(sizes.manyRuns, { timeoutMs: timeout(sizes.manyRuns * 10) }),
          ),
        () => peerAttempt(`round ${r}: bullmq trees`, bull, (b) => b.session.trees()),
      );
      const [fanout, graphileJobs] = await pair(
        () =>
          attempt(`round ${r}: fanout ${sizes.fanout}`, () =>
            relay.fanout(sizes.fanout, { timeoutMs: timeout(sizes.fanout) }),
          ),
        () => peerAttempt(`round ${r}: graphile-worker jobs`, graphile, (g) => g.session.jobs()),
      );
      const [chain, [graphileChain, bullChain]] = await pair(
        () =>
          attempt(`round ${r}: chain ${sizes.chain}`, () =>
            relay.chain(sizes.chain, timeout(sizes.chain * 20)),
          ),
        async () =>
          [
            await peerAttempt(`round ${r}: graphile-worker chain`, graphile, (g) => g.session.chain()),
            await peerAttempt(`round ${r}: bullmq chain`, bull, (b) => b.session.chain()),
          ] as const,
      );
      const ringCycles = await peerAttempt(`round ${r}: floor ring`, ring, (g) => g.cycles(sizes.chain, 20));
      rounds.push({
        manyRuns,
        bullTrees,
        fanout,
        graphileJobs,
        chain,
        graphileChain,
        bullChain,
        ring: ringCycles,
      });
    }
    const warm = {
      bullTrees: typeof bull === 'string' ? bull : bull.warmTrees,
      graphileJobs: typeof graphile === 'string' ? graphile : graphile.warmJobs,
    };
    // Peers down (their databases dropped) before the profiled and Relay-only passes: a profile charges
    // the CPU it sees to the scenario, and idle must have nothing else polling Postgres or Redis.
    await stopQuietly('bullmq', typeof bull === 'string' ? bull : bull.session);
    await stopQuietly('graphile-worker', typeof graphile === 'string' ? graphile : graphile.session);
    await stopQuietly('floor ring', ring);
    bull = graphile = ring = 'stopped';
    const manyRunsProfiled = await attempt(`many-runs ${sizes.manyRuns} (profiled)`, () =>
      relay.manyRuns(sizes.manyRuns, { profile: true, timeoutMs: timeout(sizes.manyRuns * 10) }),
    );
    const scale: BenchData['scale'] = [];
    for (const size of sizes.scale) {
      const profile = size === sizes.fanout;
      const result = await attempt(`fanout ${size}${profile ? ' (profiled)' : ''}`, () =>
        relay.fanout(size, { profile, timeoutMs: timeout(size) }),
      );
      scale.push({ size, result });
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
      rounds,
      ringHops: RING_HOPS,
      manyRunsWarm,
      warm,
      manyRunsProfiled,
      scale,
      idle,
    };
  } finally {
    relay.rss.stop();
    await stopQuietly('bullmq', typeof bull === 'string' ? bull : bull.session);
    await stopQuietly('graphile-worker', typeof graphile === 'string' ? graphile : graphile.session);
    await stopQuietly('floor ring', ring);
    await fleet.stop();
    log('fleet stopped, database dropped, prefix deleted');
  }
  const report = renderReport({ ...data, totalSeconds: (performance.now() - t0) / 1000 });
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
