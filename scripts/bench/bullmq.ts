import { randomBytes } from 'node:crypto';
import { createTestRedis, deleteRedisPrefix } from '@relay/testing';
import { type FlowJob, FlowProducer, type Job, Queue, Worker } from 'bullmq';
import { BenchTimeoutError } from './errors.js';
import { stepGaps } from './stats.js';

/** BullMQ's FlowProducer trees: one measured pass. */
export interface BullTrees {
  tasks: number;
  seconds: number;
  tasksPerSec: number;
}

/** BullMQ workers up on a prefix of their own, for passes of either shape (see startBullmq). */
export interface BullSession {
  /** Runs the trees on a fresh queue; tasks/s from the first job added to the last finished. */
  trees(): Promise<BullTrees>;
  /** Runs the nested-flow chain on a fresh queue; gaps (ms) = parent processedOn - child finishedOn. */
  chain(): Promise<number[]>;
  /** Closes the workers, obliterates the queues and deletes the prefix. */
  stop(): Promise<void>;
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

/**
 * Starts BullMQ for `trees` 10-job trees and a `chainLength` nested flow on `workers` workers of
 * `concurrency` (each pass gets a queue and workers of its own, as the first pass did), and warms it
 * up: each shape once at the measured size (connections, Lua scripts, JIT). Returns the session and the
 * warm-up pass's trees figure.
 */
export async function startBullmq(opts: {
  trees: number;
  chainLength: number;
  workers: number;
  concurrency: number;
  timeoutMs: number;
}): Promise<{ session: BullSession; warmTrees: BullTrees }> {
  const prefix = `bullbench-${randomBytes(6).toString('hex')}`;
  const redis = createTestRedis();
  /** The passes under way: each has a queue and workers of its own. */
  const passes = new Set<{ queue: Queue; workers: Worker[] }>();
  let completed = 0;
  let seq = 0;
  const flow = new FlowProducer({ connection, prefix });
  const openPass = (kind: string) => {
    seq += 1;
    const name = `${kind}-${seq}`;
    const workers = Array.from({ length: opts.workers }, () => {
      const worker = new Worker(name, async () => null, {
        connection,
        prefix,
        concurrency: opts.concurrency,
      });
      worker.on('completed', () => {
        completed += 1;
      });
      return worker;
    });
    const pass = { name, queue: new Queue(name, { connection, prefix }), workers };
    passes.add(pass);
    return pass;
  };
  /** Closes a pass's workers and queue, so that idle pollers do not pile up over the passes. */
  const close = async (pass: { queue: Queue; workers: Worker[] }) => {
    passes.delete(pass);
    await Promise.all(pass.workers.map((w) => w.close()));
    await pass.queue.obliterate({ force: true }).catch(() => undefined);
    await pass.queue.close();
  };
  const treeJobs = opts.trees * 10;
  const session: BullSession = {
    trees: async () => {
      const pass = openPass('trees');
      const { name, queue } = pass;
      completed = 0;
      await flow.addBulk(Array.from({ length: opts.trees }, (_, n) => tree(name, n)));
      await waitCount(() => completed, treeJobs, opts.timeoutMs, name);
      const jobs = (await queue.getJobs(['completed'], 0, -1)) as Job[];
      const first = Math.min(...jobs.map((j) => j.timestamp));
      const last = Math.max(...jobs.map((j) => j.finishedOn ?? Number.NaN));
      await close(pass);
      const seconds = (last - first) / 1000;
      return { tasks: treeJobs, seconds, tasksPerSec: treeJobs / seconds };
    },
    chain: async () => {
      const pass = openPass('chain');
      const { name, queue } = pass;
      completed = 0;
      await flow.add(chain(name, opts.chainLength));
      await waitCount(() => completed, opts.chainLength, opts.timeoutMs, name);
      const steps = ((await queue.getJobs(['completed'], 0, -1)) as Job[]).sort(
        (a, b) => (a.data.step as number) - (b.data.step as number),
      );
      await close(pass);
      return stepGaps(
        steps.map((j) => j.finishedOn ?? Number.NaN),
        steps.map((j) => j.processedOn ?? Number.NaN),
      );
    },
    stop: async () => {
      for (const pass of [...passes]) await close(pass);
      await flow.close();
      await deleteRedisPrefix(redis, prefix);
      redis.disconnect();
    },
  };
  try {
    const warmTrees = await session.trees();
    await session.chain();
    return { session, warmTrees };
  } catch (err) {
    await session.stop().catch(() => undefined);
    throw err;
  }
}
