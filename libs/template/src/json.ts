/** Any value JSON can carry. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Joins a document location with an object key (`with` + `url` -> `with.url`). */
export function joinKey(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

/** Joins a document location with an array index (`needs` + 0 -> `needs[0]`). */
export function joinIndex(base: string, index: number): string {
  return `${base}[${index}]`;
}

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: JsonValue | undefined): value is { [k: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
