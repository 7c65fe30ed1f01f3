import { toJsonSchema } from '@valibot/to-json-schema';
import { EnvelopeSchema, EVENT_VERSION, envelopeSchemaFor } from './envelope.js';
import { EVENT_TYPES } from './events.js';

/** A JSON Schema document (draft-07). */
export type JsonSchemaDocument = Record<string, unknown>;

/**
 * The JSON Schemas of the envelope, generated from the valibot schemas (never written by hand):
 * `envelope.json` (any event) and `<EventType>.json` (the envelope of that type), keyed by file
 * name, in a stable order. `scripts/generate-json-schema.ts` writes them to `contracts/json-schema/`.
 */
export function toJsonSchemas(): Record<string, JsonSchemaDocument> {
  const files: Record<string, JsonSchemaDocument> = {
    'envelope.json': convert(
      EnvelopeSchema,
      'Relay event envelope',
      `Any Relay event, version ${EVENT_VERSION}: the JSON held by the "event" field of a stream entry.`,
    ),
  };
  for (const type of EVENT_TYPES) {
    files[`${type}.json`] = convert(
      envelopeSchemaFor(type),
      type,
      `The envelope of a ${type} event, version ${EVENT_VERSION}.`,
    );
  }
  return files;
}

/** Serializes a generated schema exactly as it is committed (2-space JSON, trailing newline). */
export function formatJsonSchema(schema: JsonSchemaDocument): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

function convert(
  schema: Parameters<typeof toJsonSchema>[0],
  title: string,
  description: string,
): JsonSchemaDocument {
  // errorMode 'throw': a schema or action JSON Schema cannot express must fail the generation
  // rather than silently produce a looser contract.
  const { $schema, ...rest } = toJsonSchema(schema, { target: 'draft-07', errorMode: 'throw' });
  return { $schema, title, description, ...rest };
}
