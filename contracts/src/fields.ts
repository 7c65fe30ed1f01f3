import * as v from 'valibot';

/** Workflow, task and queue ids (SPEC §3). */
export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/** Longest opaque id (runId, taskRunId, envelope id, workerId, source). */
export const MAX_OPAQUE_ID_LENGTH = 256;

/** Longest error text an event carries (TaskFailed.error, RunFinished.error). */
export const MAX_ERROR_LENGTH = 4096;

/** Longest free text other than errors (a cancel or rejection reason, an approver). */
export const MAX_TEXT_LENGTH = 1024;

// Postgres TEXT and JSONB cannot hold U+0000, and every string of an event ends up in a column or
// a log line: reject it at the edge rather than fail a transaction later. Written with `\\u0000`
// so that the generated JSON Schema carries the same pattern for publishers in other languages.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching U+0000 is the point of this pattern.
const NUL_FREE = /^[^\u0000]*$/;
const NUL_MESSAGE = 'must not contain a NUL byte';

/** A workflow, task or queue id: `^[a-z0-9][a-z0-9._-]{0,127}$`. */
export const IdSchema = v.pipe(v.string(), v.regex(ID_PATTERN, 'must match ^[a-z0-9][a-z0-9._-]{0,127}$'));

/** A non-empty opaque id of at most 256 characters without NUL bytes (runId, taskRunId, ...). */
export const OpaqueIdSchema = v.pipe(
  v.string(),
  v.nonEmpty('must not be empty'),
  v.maxLength(MAX_OPAQUE_ID_LENGTH, `must be at most ${MAX_OPAQUE_ID_LENGTH} characters`),
  v.regex(NUL_FREE, NUL_MESSAGE),
);

/** Free text of at most `max` characters without NUL bytes. */
export function textSchema(max: number) {
  return v.pipe(
    v.string(),
    v.maxLength(max, `must be at most ${max} characters`),
    v.regex(NUL_FREE, NUL_MESSAGE),
  );
}

/** An attempt number or a workflow version: an integer >= 1. */
export const PositiveIntegerSchema = v.pipe(
  v.number(),
  v.safeInteger('must be an integer'),
  v.minValue(1, 'must be >= 1'),
);

/** An ISO 8601 timestamp with a time zone, e.g. `2024-05-01T12:00:00.000Z`. */
export const TimestampSchema = v.pipe(
  v.string(),
  v.isoTimestamp('must be an ISO 8601 timestamp (e.g. 2024-05-01T12:00:00.000Z)'),
);
