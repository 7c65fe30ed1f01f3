import { parseEnvelope, STREAM_FIELD } from '@relay/contracts';
import type { Logger } from '@relay/runtime';
import type { Redis } from 'ioredis';
import { ackEntries } from './ack.js';
import { type DeadLetter, deadLetterEntries } from './dead-letter.js';
import { findField, type RawEntry } from './entries.js';
import type { ConsumerStats, Delivery } from './types.js';

/** A read or claimed entry with its group delivery counter. */
export interface PendingEntry extends RawEntry {
  deliveries: number;
}

/** What `processEntries` needs from its consumer. */
export interface DeliveryContext {
  redis: Redis;
  group: string;
  consumer: string;
  deadStream: string;
  maxLen: number;
  maxDeliveries: number;
  handler: (events: Delivery[]) => Promise<void>;
  logger: Logger;
  stats: ConsumerStats;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Splits entries into deliveries and dead letters (missing field, invalid envelope, out of deliveries). */
export function classifyEntries(
  entries: ReadonlyArray<PendingEntry>,
  maxDeliveries: number,
): { valid: Delivery[]; letters: DeadLetter[] } {
  const valid: Delivery[] = [];
  const letters: DeadLetter[] = [];
  for (const entry of entries) {
    const { stream, id, deliveries } = entry;
    const raw = findField(entry.fields, STREAM_FIELD);
    if (raw === undefined) {
      letters.push({
        stream,
        id,
        reason: `missing field "${STREAM_FIELD}"`,
        raw: JSON.stringify(entry.fields),
      });
      continue;
    }
    // Delivered more often than allowed without an ack: the handler probably crashed the process on it.
    if (deliveries > maxDeliveries) {
      letters.push({
        stream,
        id,
        reason: `delivered ${deliveries} times (max ${maxDeliveries}) without success`,
        raw,
      });
      continue;
    }
    const parsed = parseEnvelope(raw);
    if (!parsed.ok) {
      letters.push({ stream, id, reason: parsed.reason, raw });
      continue;
    }
    valid.push({ id, stream, event: parsed.event, deliveries });
  }
  return { valid, letters };
}

async function deadLetter(ctx: DeliveryContext, letters: DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await deadLetterEntries(ctx.redis, letters, ctx);
  ctx.stats.deadLettered += letters.length;
  for (const letter of letters) {
    ctx.logger.warn(
      { stream: letter.stream, entryId: letter.id, reason: letter.reason },
      'event dead-lettered',
    );
  }
}

/**
 * Handles entries of one read or claim: dead-letters invalid ones, calls the handler with the valid
 * ones as one batch and acks them. When the batch throws, each event is retried alone; an event
 * that fails on its last allowed delivery is dead-lettered, the others stay pending (not acked) and
 * come back through XAUTOCLAIM once idle for claimIdleMs, with their delivery counter incremented.
 */
export async function processEntries(
  ctx: DeliveryContext,
  entries: ReadonlyArray<PendingEntry>,
): Promise<void> {
  const { valid, letters } = classifyEntries(entries, ctx.maxDeliveries);
  await deadLetter(ctx, letters);
  if (valid.length === 0) return;
  try {
    await ctx.handler(valid);
  } catch (err) {
    ctx.stats.failedBatches += 1;
    ctx.logger.error({ err, events: valid.length }, 'batch handler failed');
    await retryEachAlone(ctx, valid, err);
    return;
  }
  await ackEntries(ctx.redis, ctx.group, valid);
  ctx.stats.handled += valid.length;
}

async function retryEachAlone(ctx: DeliveryContext, batch: Delivery[], batchError: unknown): Promise<void> {
  const succeeded: Delivery[] = [];
  const exhausted: DeadLetter[] = [];
  for (const delivery of batch) {
    let error = batchError;
    // A batch of one already was the single attempt.
    if (batch.length > 1) {
      try {
        await ctx.handler([delivery]);
        succeeded.push(delivery);
        continue;
      } catch (err) {
        ctx.stats.failedBatches += 1;
        error = err;
      }
    }
    const fields = { stream: delivery.stream, entryId: delivery.id, type: delivery.event.type };
    if (delivery.deliveries >= ctx.maxDeliveries) {
      exhausted.push({
        stream: delivery.stream,
        id: delivery.id,
        reason: `handler failed on delivery ${delivery.deliveries}/${ctx.maxDeliveries}: ${errorMessage(error)}`,
        raw: JSON.stringify(delivery.event),
      });
    } else {
      ctx.logger.warn(
        { ...fields, deliveries: delivery.deliveries, err: error },
        'event left pending for retry',
      );
    }
  }
  await ackEntries(ctx.redis, ctx.group, succeeded);
  ctx.stats.handled += succeeded.length;
  await deadLetter(ctx, exhausted);
}
