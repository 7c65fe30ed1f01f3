import { randomUUID } from 'node:crypto';
import {
  type AnyEnvelope,
  EVENT_VERSION,
  parseEnvelope,
  STREAM_FIELD,
  serializeEnvelope,
  streamFor,
} from '@relay/contracts';
import type { Redis } from 'ioredis';
import { InvalidOutgoingEventError, PublishError } from './errors.js';
import type { OutgoingEvent } from './types.js';

/** A validated envelope with its serialized form and destination stream. */
export interface PreparedEvent {
  stream: string;
  envelope: AnyEnvelope;
  json: string;
}

/**
 * Wraps each outgoing event in an envelope (fresh UUID, current time, `source`), validates the JSON
 * exactly as a consumer will, and routes it. Throws InvalidOutgoingEventError on the first invalid event.
 */
export function prepareEvents(
  events: ReadonlyArray<OutgoingEvent>,
  opts: { prefix: string; source: string; now?: () => Date; newId?: () => string },
): PreparedEvent[] {
  const now = opts.now ?? (() => new Date());
  const newId = opts.newId ?? randomUUID;
  return events.map((event) => {
    // One serialization and one validation, of the exact text consumers will parse (createEnvelope
    // would validate the object first, then this text again: twice the schema work per event).
    const envelope = {
      id: newId(),
      type: event.type,
      version: EVENT_VERSION,
      occurredAt: now().toISOString(),
      source: opts.source,
      data: event.data,
    };
    let json: string;
    try {
      json = serializeEnvelope(envelope as AnyEnvelope);
    } catch (err) {
      throw new InvalidOutgoingEventError(
        String(event.type),
        `not serializable to JSON: ${err instanceof Error ? err.message : String(err)}`,
        err,
      );
    }
    const parsed = parseEnvelope(json);
    if (!parsed.ok) throw new InvalidOutgoingEventError(String(event.type), parsed.reason);
    return { stream: streamFor(opts.prefix, parsed.event), envelope: parsed.event, json };
  });
}

/**
 * XADDs every prepared event in ONE pipeline (`XADD key MAXLEN ~ maxLen * event <json>`), in order.
 * Returns the entry ids; throws PublishError when any XADD failed (earlier ones may have been written).
 */
export async function appendEvents(
  redis: Redis,
  prepared: ReadonlyArray<PreparedEvent>,
  maxLen: number,
): Promise<string[]> {
  if (prepared.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const event of prepared) {
    pipeline.xadd(event.stream, 'MAXLEN', '~', maxLen, '*', STREAM_FIELD, event.json);
  }
  let results: [Error | null, unknown][] | null;
  try {
    results = await pipeline.exec();
  } catch (err) {
    throw new PublishError([{ stream: prepared[0]?.stream ?? '?', message: String(err) }], err);
  }
  if (!results)
    throw new PublishError([{ stream: prepared[0]?.stream ?? '?', message: 'no pipeline result' }]);
  const ids: string[] = [];
  const failures: { stream: string; message: string }[] = [];
  results.forEach(([err, id], index) => {
    const stream = prepared[index]?.stream ?? '?';
    if (err) failures.push({ stream, message: err.message });
    else if (typeof id !== 'string') failures.push({ stream, message: 'XADD returned no id' });
    else ids.push(id);
  });
  if (failures.length > 0) throw new PublishError(failures, results.find(([err]) => err)?.[0]);
  return ids;
}
