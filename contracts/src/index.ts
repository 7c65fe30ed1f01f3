/**
 * @relay/contracts: the events that travel between Relay's services over Redis Streams (one
 * valibot schema per event, the envelope, stream names and routing), who writes which column, and
 * the JSON Schema export for publishers in other languages. Pure: no I/O.
 */
export { README_SECTIONS, renderColumnTable, renderEventTable, renderReadme } from './docs.js';
export {
  type AnyEnvelope,
  createEnvelope,
  type Envelope,
  type EnvelopeMeta,
  EnvelopeSchema,
  EVENT_VERSION,
  envelopeSchemaFor,
  MAX_EVENT_BYTES,
  type ParseEnvelopeResult,
  parseEnvelope,
  serializeEnvelope,
} from './envelope.js';
export { InvalidEventError, InvalidStreamNameError } from './errors.js';
export * from './events.js';
export { EXAMPLE_EVENT_DATA, exampleEnvelope } from './examples.js';
export {
  ID_PATTERN,
  IdSchema,
  MAX_ERROR_LENGTH,
  MAX_OPAQUE_ID_LENGTH,
  MAX_TEXT_LENGTH,
  OpaqueIdSchema,
  PositiveIntegerSchema,
  TimestampSchema,
} from './fields.js';
export { formatIssues } from './issues.js';
export { formatJsonSchema, type JsonSchemaDocument, toJsonSchemas } from './json-schema.js';
export { COLUMN_WRITERS, type ColumnWrite } from './ownership.js';
export {
  CONSUMERS,
  EVENT_ROUTES,
  type EventRoute,
  GROUPS,
  type GroupName,
  type ServiceName,
  STREAM_FIELD,
  STREAM_KEYS,
  type StreamKey,
  type StreamNames,
  streamFor,
  streamNames,
} from './streams.js';
export { sanitizeText, utf8ByteLength } from './text.js';
