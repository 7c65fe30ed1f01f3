import type { DocPathSegment, RawIssue } from './path.js';

/**
 * Deepest nesting Relay accepts in a JSON value it stores (a workflow document, a run's input, an
 * event's payload). Deeper values are refused before anything recurses over them: validation,
 * canonical hashing and templating all walk values recursively, and a value thousands of levels deep
 * overflows the stack.
 */
export const MAX_JSON_DEPTH = 64;

// A NUL, or a UTF-16 surrogate without its other half.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this looks for
const UNSTORABLE_CHAR = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why Postgres cannot store `text`, or undefined: text columns refuse NUL, and JSON columns refuse
 * `\u0000` and unpaired surrogates (they are not Unicode).
 */
export function unstorableText(text: string): string | undefined {
  const found = UNSTORABLE_CHAR.exec(text)?.[0];
  if (found === undefined) return undefined;
  return found === '\u0000'
    ? 'must not contain a NUL character (\\u0000)'
    : `must be valid Unicode (an unpaired surrogate \\u${found.charCodeAt(0).toString(16)})`;
}

/**
 * The first place in a parsed JSON value that Postgres cannot store (see {@link unstorableText}, for
 * keys and strings) or that nests deeper than `maxDepth` containers; undefined when there is none.
 * Iterative, so any depth is safe to check.
 */
export function findUnstorableJson(value: unknown, maxDepth = MAX_JSON_DEPTH): RawIssue | undefined {
  const stack: { value: unknown; path: DocPathSegment[] }[] = [{ value, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: current, path } = item;
    if (typeof current === 'string') {
      const why = unstorableText(current);
      if (why) return { path, message: why };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    // path holds one segment per enclosing container: this container is at depth path.length + 1.
    if (path.length >= maxDepth) {
      return { path, message: `nests deeper than ${maxDepth} levels of lists and mappings` };
    }
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i -= 1) stack.push({ value: current[i], path: [...path, i] });
      continue;
    }
    const entries = Object.entries(current);
    for (const [key] of entries) {
      const why = unstorableText(key);
      if (why) return { path: [...path, key], message: `key ${why}` };
    }
    for (let i = entries.length - 1; i >= 0; i -= 1) {
      const [key, child] = entries[i] as [string, unknown];
      stack.push({ value: child, path: [...path, key] });
    }
  }
  return undefined;
}
