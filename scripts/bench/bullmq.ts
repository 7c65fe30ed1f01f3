import { randomBytes } from 'node:crypto';
import { createTestRedis, deleteRedisPrefix } from '@relay/testing';
import { type FlowJob, FlowProducer, type Job, Queue, Worker } from 'bullmq';
import { BenchTimeoutError } from './errors.js';
import { type Percentiles, stepGaps, summarize } from './stats.js';

/** BullMQ results: FlowProducer trees throughput and a nested-flow chain's step latency. */
export interface BullResult {
  trees: { tasks: number; seconds: number; tasksPerSec: number };
  /** The warm-up pass of the same trees (the first on these workers). */
  warmTrees: { tasksPerSec: number };
  chain: Percentiles;
}

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

/** 1 + 3 + 6 jobs; in a flow a parent runs after its children, so the tree runs leaves first. */
function tree(queueName: string, n: number): FlowJob {
  const leaves = (b: number) => [1, 2].map((c) => ({ name: `c${(b - 1) * 2 + c}`, queueName, data: { n } }));
  return {
    name: 'a',
    queueName,
    data: { n },
    children: [1, 2, 3].map((b) => ({ name: `b${b}`, queueName, data: { n }, children: leaves(b) })),
  };
}

/** step `length` is the outermost parent, step 1 the innermost child: step 1 runs first. */
function chain(queueName: string, length: number): FlowJob {
  let node: FlowJob = { name: 'step-1', queueName, data: { step: 1 } };
  for (let i = 2; i <= length; i += 1)
    node = { name: `step-${i}`, queueName, data: { step: i }, children: [node] };
  return node;
}

async function waitCount(get: () => number, target: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (get() < target) {
    if (Date.now() > deadline)
      throw new BenchTimeoutError(`bullmq ${what}: ${get()}/${target} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs `trees` 10-job trees and one `chainLength` nested flow on `workers` workers of `concurrency`. */
export async function benchBullmq(opts: {
  trees: number;
  chainLength: number;
  workers: number;
  concurrency: number;
  timeoutMs: number;
}): Promise<BullResult> {
  const prefix = `bullbench-${randomBytes(6).toString('hex')}`;
  const redis = createTestRedis();
  const queues = new Map<string, Queue>();
  const workers: Worker[] = [];
  let completed = 0;
  const flow = new FlowProducer({ connection, prefix });
  const open = (name: string) => {
    const queue = new Queue(name, { connection, prefix });
    queues.set(name, queue);
    for (let i = 0; i < opts.workers; i += 1) {
      const worker = new Worker(name, async () => null, {
        connection,
        prefix,
        concurrency: opts.concurrency,
      });
      worker.on('completed', () => {
        completed += 1;
      });
      workers.push(worker);
    }
    return queue;
  };
  const treeJobs = opts.trees * 10;
  /** Runs the trees on queue `name`; returns the seconds from the first job added to the last finished. */
  const runTrees = async (name: string): Promise<number> => {
    const queue = open(name);
    completed = 0;
    await flow.addBulk(Array.from({ length: opts.trees }, (_, n) => tree(name, n)));
    await waitCount(() => completed, treeJobs, opts.timeoutMs, name);
    const jobs = (await queue.getJobs(['completed'], 0, -1)) as Job[];
    const first = Math.min(...jobs.map((j) => j.timestamp));
    const last = Math.max(...jobs.map((j) => j.finishedOn ?? Number.NaN));
    return (last - first) / 1000;
  };
  /** Runs the nested-flow chain on queue `name`; returns its jobs by step. */
  const runChain = async (name: string): Promise<Job[]> => {
    const queue = open(name);
    completed = 0;
    await flow.add(chain(name, opts.chainLength));
    await waitCount(() => completed, opts.chainLength, opts.timeoutMs, name);
    return ((await queue.getJobs(['completed'], 0, -1)) as Job[]).sort(
      (a, b) => (a.data.step as number) - (b.data.step as number),
    );
  };
  try {
    // Warm-up, as Relay's: each shape once at the measured size (connections, Lua scripts, JIT), on
    // queues of their own.
    const warmSeconds = await runTrees('warm-trees');
    await runChain('warm-chain');
    const seconds = await runTrees('trees');
    const steps = await runChain('chain');
    const gaps = stepGaps(
      steps.map((j) => j.finishedOn ?? Number.NaN),
      steps.map((j) => j.processedOn ?? Number.NaN),
    );
    return {
      trees: { tasks: treeJobs, seconds, tasksPerSec: treeJobs / seconds },
      warmTrees: { tasksPerSec: treeJobs / warmSeconds },
      chain: summarize(gaps),
    };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    for (const queue of queues.values()) {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
    await flow.close();
    await deleteRedisPrefix(redis, prefix);
    redis.disconnect();
  }
}
