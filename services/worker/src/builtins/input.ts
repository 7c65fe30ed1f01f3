import type { JsonValue } from '@relay/template';
import { NonRetryableError } from '../errors.js';

/** The resolved `with` of a built-in task as an object; anything else fails the attempt for good. */
export function withObject(input: JsonValue, type: string): Record<string, JsonValue | undefined> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new NonRetryableError(`with: a ${type} task expects a mapping`);
  }
  return input;
}

/** Parses `text` as JSON when it is JSON, else returns it unchanged. */
export function parseJsonOrText(text: string): JsonValue {
  const trimmed = text.trim();
  if (trimmed === '') return text;
  try {
    return JSON.parse(trimmed) as JsonValue;
  } catch {
    return text;
  }
}
