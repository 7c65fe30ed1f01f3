import type { AnyEnvelope, EventData, EventType } from '@relay/contracts';

/** An event to publish: its type and the data that type's schema requires. The bus adds the envelope. */
export type OutgoingEvent = { [K in EventType]: { type: K; data: EventData<K> } }[EventType];

/** One stream entry handed to a consumer handler. */
export interface Delivery {
  /** Stream entry id (`<ms>-<seq>`). */
  id: string;
  /** Stream key the entry was read from. */
  stream: string;
  /** The validated envelope. */
  event: AnyEnvelope;
  /** How many times Redis has delivered this entry to the group (1 on first read). */
  deliveries: number;
}

/** Options of a consumer-group consumer (see {@link Bus.consume}). */
export interface ConsumeOptions {
  /** Stream keys to read; a group of the same name is created on each. */
  streams: string[];
  group: string;
  /** Consumer name, stable across restarts of the same instance. */
  consumer: string;
  /** Handles one batch; resolving acks every event of it, throwing triggers per-event retries. */
  handler: (events: Delivery[]) => Promise<void>;
  /** XREADGROUP COUNT (per stream); default 100. */
  count?: number;
  /** XREADGROUP BLOCK in ms; default 2000. */
  blockMs?: number;
  /** XAUTOCLAIM min-idle in ms; default 30 000. */
  claimIdleMs?: number;
  /** How often to run XAUTOCLAIM; default claimIdleMs / 2. */
  claimEveryMs?: number;
  /** Deliveries after which a failing event is dead-lettered; default 5. */
  maxDeliveries?: number;
  /**
   * Max events to read now (e.g. free worker slots). 0 = do not read until `wake()` is called
   * (re-checked at least every 250 ms anyway).
   */
  capacity?: () => number;
}

/** Options of a broadcast reader (see {@link Bus.broadcast}). */
export interface BroadcastOptions {
  stream: string;
  handler: (events: AnyEnvelope[]) => Promise<void>;
  /** XREAD BLOCK in ms; default 2000. */
  blockMs?: number;
}

/** Counters of one consumer. */
export interface ConsumerStats {
  /** Events whose handler resolved (and were acked). */
  handled: number;
  /** Entries written to the dead-letter stream (invalid or out of deliveries). */
  deadLettered: number;
  /** Handler calls that threw (batch or single-event retry). */
  failedBatches: number;
}

/** A running consumer loop. */
export interface Consumer {
  /** Finishes the in-flight batch (and acks it), stops reading, closes the dedicated connection. */
  stop(): Promise<void>;
  /** Re-checks `capacity()` now (call it when capacity grows). */
  wake(): void;
  readonly stats: Readonly<ConsumerStats>;
}

/** Sorted set of members due at a time (retry backoff), shared by every poller of a prefix. */
export interface DelayedSet {
  /** Adds (or reschedules) members. */
  add(items: ReadonlyArray<{ member: string; dueAtMs: number }>): Promise<void>;
  /** Atomically removes and returns up to `limit` members due at or before `nowMs`, earliest first. */
  popDue(nowMs: number, limit: number): Promise<string[]>;
  /** Due time of the earliest member, or null when the set is empty. */
  nextDueAtMs(): Promise<number | null>;
}

/** Redis Streams bus of one prefix. */
export interface Bus {
  /** Wraps each event in an envelope, validates it and XADDs the batch in order (one script call per 500 events); returns entry ids. */
  publish(events: ReadonlyArray<OutgoingEvent> | OutgoingEvent): Promise<string[]>;
  /** Starts a consumer-group consumer. */
  consume(opts: ConsumeOptions): Consumer;
  /** Starts a reader that sees every event appended after it started (XREAD, no group). */
  broadcast(opts: BroadcastOptions): Consumer;
  readonly delayed: DelayedSet;
  /** Stops every consumer (waiting for in-flight handlers) and closes their dedicated connections. */
  close(): Promise<void>;
}
