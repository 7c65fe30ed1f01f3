import { TemplateSyntaxError } from './errors.js';
import { isJsonObject, type JsonValue, joinIndex, joinKey } from './json.js';
import { hasTemplate, type PathSegment, parseTemplate } from './parse.js';

/** A `${{ ... }}` reference found in a value, with where it appears. */
export interface Reference {
  kind: 'input' | 'task';
  /** Set when `kind` is `'task'`. */
  taskId?: string;
  /** Path inside `input` or the task's output; `[]` for the whole value. */
  path: PathSegment[];
  /** Location of the string holding it, e.g. `with.url` (dotted keys, `[n]` indices). */
  at: string;
  /** Canonical text of the reference, e.g. `tasks.fetch.output.total`. */
  expression: string;
}

/** Every reference in a value, plus every syntax error (one per bad string). */
export interface ReferenceScan {
  references: Reference[];
  errors: TemplateSyntaxError[];
}

function walk(value: JsonValue, at: string, scan: ReferenceScan): void {
  if (typeof value === 'string') {
    if (!hasTemplate(value)) return;
    try {
      for (const seg of parseTemplate(value, at)) {
        if (seg.kind === 'ref') scan.references.push({ ...seg.ref, at });
      }
    } catch (err) {
      if (!(err instanceof TemplateSyntaxError)) throw err;
      scan.errors.push(err);
    }
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) walk(item, joinIndex(at, i), scan);
    return;
  }
  if (isJsonObject(value)) {
    // Object keys are never templated; only string values are.
    for (const [key, item] of Object.entries(value)) walk(item, joinKey(at, key), scan);
  }
}

/**
 * Lists every reference in the string values of `value` (depth first, in key order) and every
 * syntax error, without throwing. `base` prefixes the reported locations (`tasks.fetch.with`).
 */
export function scanReferences(value: JsonValue, base = ''): ReferenceScan {
  const scan: ReferenceScan = { references: [], errors: [] };
  walk(value, base, scan);
  return scan;
}

/**
 * Lists every reference in the string values of `value`; `base` prefixes the locations.
 * @throws TemplateSyntaxError for the first invalid template found.
 */
export function findReferences(value: JsonValue, base = ''): Reference[] {
  const scan = scanReferences(value, base);
  const [first] = scan.errors;
  if (first) throw first;
  return scan.references;
}
