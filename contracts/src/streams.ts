import type { AnyEnvelope } from './envelope.js';
import { InvalidStreamNameError } from './errors.js';
import type { EventType } from './events.js';
import { ID_PATTERN } from './fields.js';

/** The one field of every stream entry; it holds the JSON envelope. */
export const STREAM_FIELD = 'event';

/** The five services. */
export type ServiceName = 'ingest' | 'scheduler' | 'dispatcher' | 'worker' | 'reaper';

/** Consumer group names (XGROUP CREATE <stream> <group>). */
export const GROUPS = { scheduler: 'scheduler', dispatcher: 'dispatcher', worker: 'worker' } as const;

/** A consumer group name. */
export type GroupName = (typeof GROUPS)[keyof typeof GROUPS];

/** The Redis keys of one deployment (one RELAY_PREFIX). */
export interface StreamNames {
  /** RunStarted, RunCancelRequested, TaskApproved, TaskRejected (ingest -> scheduler). */
  runs: string;
  /** TaskSucceeded, TaskFailed, HeartbeatMissed (worker, reaper -> scheduler). */
  results: string;
  /** TaskReady (scheduler, reaper, worker -> dispatcher). */
  ready: string;
  /** TaskAbortRequested (scheduler -> every worker, read without a group). */
  control: string;
  /** TaskStarted, RunFinished (for observers). */
  lifecycle: string;
  /** Dead letters `{stream, id, reason, raw}` (for operators). */
  dead: string;
  /** A sorted set (not a stream): task run ids scored by the epoch ms they become due. */
  delayed: string;
  /** TaskQueued for one queue (dispatcher -> workers of that queue). Throws InvalidStreamNameError. */
  work(queue: string): string;
}

/** The name of a key of `StreamNames` (`work` standing for every `P:work:<queue>`). */
export type StreamKey = keyof StreamNames;

/** Every key of StreamNames, in the order of docs/ARCHITECTURE.md "Streams". */
export const STREAM_KEYS = [
  'runs',
  'results',
  'ready',
  'work',
  'control',
  'lifecycle',
  'dead',
  'delayed',
] as const satisfies readonly StreamKey[];

/** The Redis keys under `prefix` (RELAY_PREFIX): `${prefix}:runs`, ..., `${prefix}:work:${queue}`. */
export function streamNames(prefix: string): StreamNames {
  return {
    runs: `${prefix}:runs`,
    results: `${prefix}:results`,
    ready: `${prefix}:ready`,
    control: `${prefix}:control`,
    lifecycle: `${prefix}:lifecycle`,
    dead: `${prefix}:dead`,
    delayed: `${prefix}:delayed`,
    work(queue: string): string {
      // A queue with ':' (or any other character) could alias another key of the deployment.
      if (!ID_PATTERN.test(queue)) throw new InvalidStreamNameError('queue', queue);
      return `${prefix}:work:${queue}`;
    },
  };
}

/** Where each event type is published, who publishes it and who reads it. */
export interface EventRoute {
  stream: Exclude<StreamKey, 'dead' | 'delayed'>;
  producers: readonly ServiceName[];
  /** Consumer groups; `broadcast` = read by every worker without a group; `observers` = none in Relay. */
  consumers: readonly (GroupName | 'broadcast' | 'observers')[];
}

/** Routing of every event type (docs/ARCHITECTURE.md "Streams"), as data. */
export const EVENT_ROUTES = {
  RunStarted: { stream: 'runs', producers: ['ingest', 'scheduler', 'reaper'], consumers: ['scheduler'] },
  RunCancelRequested: { stream: 'runs', producers: ['ingest', 'reaper'], consumers: ['scheduler'] },
  TaskApproved: { stream: 'runs', producers: ['ingest', 'reaper'], consumers: ['scheduler'] },
  TaskRejected: { stream: 'runs', producers: ['ingest', 'reaper'], consumers: ['scheduler'] },
  TaskReady: { stream: 'ready', producers: ['scheduler', 'reaper', 'worker'], consumers: ['dispatcher'] },
  TaskQueued: { stream: 'work', producers: ['dispatcher', 'reaper'], consumers: ['worker'] },
  TaskStarted: { stream: 'lifecycle', producers: ['worker'], consumers: ['observers'] },
  TaskSucceeded: { stream: 'results', producers: ['worker', 'reaper'], consumers: ['scheduler'] },
  TaskFailed: { stream: 'results', producers: ['worker', 'reaper'], consumers: ['scheduler'] },
  HeartbeatMissed: { stream: 'results', producers: ['reaper'], consumers: ['scheduler'] },
  TaskAbortRequested: { stream: 'control', producers: ['scheduler'], consumers: ['broadcast'] },
  RunFinished: { stream: 'lifecycle', producers: ['scheduler'], consumers: ['observers'] },
} as const satisfies { [K in EventType]: EventRoute };

/**
 * Consumer groups per stream key. `control` is read by every worker without a group (XREAD, a
 * broadcast); `lifecycle` and `dead` have no consumer inside Relay; `delayed` is a sorted set the
 * dispatcher polls (ZRANGEBYSCORE), not a stream.
 */
export const CONSUMERS = {
  runs: [GROUPS.scheduler],
  results: [GROUPS.scheduler],
  ready: [GROUPS.dispatcher],
  work: [GROUPS.worker],
  control: [],
  lifecycle: [],
  dead: [],
  delayed: [],
} as const satisfies { [S in StreamKey]: readonly GroupName[] };

/** The stream an event is published to under `prefix`; TaskQueued goes to its queue's work stream. */
export function streamFor(prefix: string, event: AnyEnvelope): string {
  const names = streamNames(prefix);
  switch (event.type) {
    case 'RunStarted':
    case 'RunCancelRequested':
    case 'TaskApproved':
    case 'TaskRejected':
      return names.runs;
    case 'TaskSucceeded':
    case 'TaskFailed':
    case 'HeartbeatMissed':
      return names.results;
    case 'TaskReady':
      return names.ready;
    case 'TaskQueued':
      return names.work(event.data.queue);
    case 'TaskAbortRequested':
      return names.control;
    case 'TaskStarted':
    case 'RunFinished':
      return names.lifecycle;
    default:
      return assertNever(event);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled event ${JSON.stringify(value)}`);
}
