import * as v from 'valibot';
import { type CompiledCheck, compileCheck } from './compiled-check.js';
import { InvalidEventError } from './errors.js';
import { EVENT_TYPES, type EventData, EventDataSchemas, type EventType, isEventType } from './events.js';
import { OpaqueIdSchema, TimestampSchema } from './fields.js';
import { formatIssues } from './issues.js';
import { utf8ByteLength } from './text.js';

/** The envelope version this build writes and the only one it reads. */
export const EVENT_VERSION = 1;

/** Largest serialized envelope (UTF-8 bytes of its JSON) a consumer accepts. */
export const MAX_EVENT_BYTES = 64 * 1024;

/** One event as it travels in a stream entry's `event` field (JSON). */
export interface Envelope<K extends EventType = EventType> {
  /** Unique id of this event (e.g. a UUID); consumers may use it to drop duplicates. */
  id: string;
  type: K;
  /** Envelope and data version; consumers dead-letter versions they do not know. */
  version: number;
  /** ISO 8601 time the producer emitted the event. */
  occurredAt: string;
  /** The producing service (or external system), e.g. `scheduler` or `worker:host-1`. */
  source: string;
  data: EventData<K>;
}

/** Any event: a union discriminated on `type`, so `switch (event.type)` narrows `data`. */
export type AnyEnvelope = { [K in EventType]: Envelope<K> }[EventType];

/** The envelope fields an event carries besides its type and data. */
export interface EnvelopeMeta {
  id: string;
  occurredAt: string;
  source: string;
}

/** The envelope schema of one event type, its data validated by that type's schema. */
export function envelopeSchemaFor<K extends EventType>(type: K) {
  return v.strictObject({
    id: OpaqueIdSchema,
    type: v.literal(type),
    version: v.literal(
      EVENT_VERSION,
      (issue) => `unsupported version ${issue.received}; this build reads version ${EVENT_VERSION}`,
    ),
    occurredAt: TimestampSchema,
    source: OpaqueIdSchema,
    data: EventDataSchemas[type],
  });
}

/** The schema of any envelope: a variant on `type`, so `data` is checked against that type's schema. */
export const EnvelopeSchema = v.variant(
  'type',
  EVENT_TYPES.map((type) => envelopeSchemaFor(type)),
  (issue) => `unknown event type ${issue.received}`,
);

/** The envelope schema of each type, so a parse goes straight to it instead of trying the variant. */
const ENVELOPE_SCHEMAS: { readonly [K in EventType]: ReturnType<typeof envelopeSchemaFor<K>> } =
  Object.fromEntries(EVENT_TYPES.map((type) => [type, envelopeSchemaFor(type)])) as never;

/**
 * Each type's envelope schema as a plain predicate with valibot's verdict, for JSON text (the hot
 * path of every producer and consumer). Compiling throws, at module load, on any schema part the
 * compiler cannot mirror exactly, so a schema change can never widen what this path accepts.
 */
const ENVELOPE_CHECKS: ReadonlyMap<string, CompiledCheck> = new Map(
  EVENT_TYPES.map((type) => [type, compileCheck(ENVELOPE_SCHEMAS[type])]),
);

/**
 * A UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair: 2 units, 4 bytes), so text of at most
 * this many units cannot exceed MAX_EVENT_BYTES and needs no byte count.
 */
const MAX_UNCOUNTED_LENGTH = Math.floor(MAX_EVENT_BYTES / 3);

/** Outcome of `parseEnvelope`. */
export type ParseEnvelopeResult = { ok: true; event: AnyEnvelope } | { ok: false; reason: string };

/**
 * Validates an event read from a stream: the JSON text of an entry's `event` field, or an already
 * parsed object. Never throws. Rejects non-JSON, more than MAX_EVENT_BYTES, an unknown type or
 * version, NUL bytes in any string, unknown fields and any data that breaks its type's schema; the
 * reason names the failing field(s), e.g. `data.attempt: expected number but received "1"`.
 */
export function parseEnvelope(raw: unknown): ParseEnvelopeResult {
  let value = raw;
  if (typeof raw === 'string') {
    if (raw.length > MAX_UNCOUNTED_LENGTH) {
      const size = utf8ByteLength(raw);
      if (size > MAX_EVENT_BYTES) return tooLarge(size);
    }
    try {
      value = JSON.parse(raw);
    } catch (err) {
      return { ok: false, reason: `not valid JSON: ${(err as Error).message}` };
    }
  } else {
    const size = serializedSize(raw);
    if (typeof size === 'string') return { ok: false, reason: size };
    if (size > MAX_EVENT_BYTES) return tooLarge(size);
  }
  // valibot's object schemas take arrays for objects; an envelope is a JSON object.
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: `envelope: expected a JSON object but received ${describeValue(value)}` };
  }
  // Fast path: a known type is checked against its own schema only. Anything it rejects is parsed
  // again with the full variant below, so a rejection's reason is the same as without this path.
  const type = (value as { type?: unknown }).type;
  if (typeof raw === 'string') {
    // Parsed from JSON, the value is ours alone, and valibot's output for these schemas (no
    // transformation) would be an equal copy of it (in schema key order instead of the JSON's),
    // so the compiled check's verdict is all that is needed.
    const check = typeof type === 'string' ? ENVELOPE_CHECKS.get(type) : undefined;
    if (check?.(value)) return { ok: true, event: value as AnyEnvelope };
  } else if (isEventType(type)) {
    // The caller's object: the event returned is valibot's copy, never the caller's object itself.
    const fast = v.safeParse(ENVELOPE_SCHEMAS[type], value, { abortPipeEarly: true });
    if (fast.success) return { ok: true, event: fast.output as AnyEnvelope };
  }
  const result = v.safeParse(EnvelopeSchema, value, { abortPipeEarly: true });
  if (result.success) return { ok: true, event: result.output as AnyEnvelope };
  // A version this build does not know may well carry data of another shape: the version is the
  // reason, the data issues are noise.
  const versionIssue = result.issues.find((issue) => v.getDotPath(issue) === 'version');
  return { ok: false, reason: formatIssues(versionIssue ? [versionIssue] : result.issues) };
}

/**
 * Builds a version-EVENT_VERSION envelope and validates it as a consumer would, so a producer can
 * never publish what consumers dead-letter. Throws InvalidEventError (a producer bug) naming the
 * failing field(s). Use `sanitizeText` on free text (errors) first.
 */
export function createEnvelope<K extends EventType>(
  type: K,
  data: EventData<K>,
  meta: EnvelopeMeta,
): Envelope<K> {
  const envelope: Envelope<K> = {
    id: meta.id,
    type,
    version: EVENT_VERSION,
    occurredAt: meta.occurredAt,
    source: meta.source,
    data,
  };
  const result = parseEnvelope(envelope);
  if (!result.ok) throw new InvalidEventError(String(type), result.reason);
  return envelope;
}

/** Serializes an envelope for a stream entry's `event` field. */
export function serializeEnvelope(envelope: AnyEnvelope | Envelope): string {
  return JSON.stringify(envelope);
}

function serializedSize(value: unknown): number | string {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? 0 : utf8ByteLength(text);
  } catch (err) {
    return `not serializable to JSON: ${(err as Error).message}`;
  }
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value;
}

function tooLarge(size: number): { ok: false; reason: string } {
  return { ok: false, reason: `event too large: ${size} bytes (max ${MAX_EVENT_BYTES})` };
}
