import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  visit,
  type YAMLMap,
} from 'yaml';
import { findDuplicateJsonKeys } from './json-keys.js';
import { jsonSyntaxErrorPosition } from './json-syntax.js';
import { type DocPathSegment, formatDocPath, type RawIssue } from './path.js';
import { MAX_JSON_DEPTH } from './storable.js';
import type { ParseResult, WorkflowDefinition, WorkflowIssue } from './types.js';
import { unwrapResult, validateRaw } from './validate.js';

/** Source formats of {@link parseWorkflow}. */
export interface ParseOptions {
  /** `'yaml'` (default; JSON is valid YAML too) or `'json'` (strict JSON). */
  format?: 'yaml' | 'json';
}

type Position = { line: number; column: number };

const YAML_MESSAGES: Record<string, string> = {
  DUPLICATE_KEY: 'duplicate key',
  MULTIPLE_DOCS: 'a workflow file holds one YAML document; remove the extra "---" documents',
};

/**
 * Finds the source position of a document path: the key of a mapping entry, the item of a list,
 * or the nearest existing ancestor.
 */
function locate(
  root: unknown,
  path: readonly DocPathSegment[],
  lines: LineCounter,
  index: MapIndex,
): Position | undefined {
  let node = root as Node | null | undefined;
  let best: Node | undefined = node ?? undefined;
  for (const [i, seg] of path.entries()) {
    let next: Node | null | undefined;
    if (typeof seg === 'number' && isSeq(node)) next = node.items[seg] as Node | undefined;
    else if (isMap(node)) {
      const pair = index(node).get(String(seg));
      if (!pair) break;
      best = (pair.key as Node) ?? best;
      next = pair.value as Node | null;
      if (i === path.length - 1) break; // point at the key, where people look
    } else break;
    if (!next) break;
    node = next;
    best = next;
  }
  const offset = best?.range?.[0];
  if (offset === undefined) return undefined;
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

/** The pairs of a mapping by key text (first pair wins), built once per mapping. */
type MapIndex = (map: YAMLMap) => ReadonlyMap<string, Pair>;

/** A {@link MapIndex} that keeps what it built: locating k issues under one mapping of n keys costs O(n + k). */
function createMapIndex(): MapIndex {
  const built = new WeakMap<YAMLMap, Map<string, Pair>>();
  return (map) => {
    let byKey = built.get(map);
    if (!byKey) {
      byKey = new Map();
      for (const pair of map.items as Pair[]) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (!byKey.has(key)) byKey.set(key, pair);
      }
      built.set(map, byKey);
    }
    return byKey;
  };
}

/** Locates issues and sorts them in document order (unlocated ones last, order otherwise kept). */
function locateAll(issues: RawIssue[], root: unknown, lines: LineCounter): WorkflowIssue[] {
  const index = createMapIndex();
  const located = issues.map((issue): WorkflowIssue => {
    const at = locate(root, issue.path, lines, index);
    const path = formatDocPath(issue.path);
    return at ? { path, message: issue.message, ...at } : { path, message: issue.message };
  });
  const rank = (i: WorkflowIssue) =>
    i.line === undefined ? Number.MAX_SAFE_INTEGER : i.line * 1e6 + (i.column ?? 0);
  return located.sort((a, b) => rank(a) - rank(b));
}

/** 1-based line and column of any offset, from one O(n) pass over the text's line breaks. */
function lineIndex(text: string): (offset: number) => Position {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (starts[low] ?? 0) + 1 };
  };
}

/**
 * JSON.parse, a one-pass scan for duplicate keys (JSON.parse keeps the last silently) and
 * validation. Only when something is wrong is the text reparsed as YAML (JSON is YAML) to locate
 * the issues: a YAML parse costs far more time and memory than the rest for a large document.
 */
function parseJson(text: string): ParseResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    // V8 names a position for some errors only; the scanner finds it for every one.
    const position = jsonSyntaxErrorPosition(text);
    return { ok: false, issues: [{ path: '', message: `JSON syntax error: ${message}`, ...position }] };
  }
  const repeated = findDuplicateJsonKeys(text);
  const result = validateRaw(doc);
  if (repeated.length === 0 && result.ok) return result;
  const at = lineIndex(text);
  const duplicates = repeated.map(
    ({ key, offset }): WorkflowIssue => ({
      path: '',
      message: `JSON syntax error: ${YAML_MESSAGES.DUPLICATE_KEY} ${JSON.stringify(key)}`,
      ...at(offset),
    }),
  );
  let issues: WorkflowIssue[] = [];
  if (!result.ok) {
    // Duplicates are known already: yaml's own check scans every earlier key of the mapping per key.
    const lines = new LineCounter();
    const yaml = parseDocument(text, { prettyErrors: false, lineCounter: lines, uniqueKeys: false });
    issues = locateAll(result.issues, yaml.errors.length === 0 ? yaml.contents : null, lines);
  }
  return { ok: false, issues: [...duplicates, ...issues] };
}

/** The mapping key written at `offset` (yaml reports only its first character). */
function keyAt(text: string, offset: number): string {
  const rest = text.slice(offset);
  const quoted = /^"(?:[^"\\\n]|\\.)*"/.exec(rest)?.[0];
  if (quoted) {
    try {
      return JSON.parse(quoted) as string;
    } catch {
      return quoted;
    }
  }
  const single = /^'([^'\n]*)'/.exec(rest)?.[1];
  if (single !== undefined) return single;
  return (/^[^:\n,}]*/.exec(rest)?.[0] ?? '').trim();
}

function yamlIssues(
  errors: readonly { code: string; message: string; pos: [number, number] }[],
  text: string,
  lines: LineCounter,
): WorkflowIssue[] {
  return errors.map((e) => {
    const { line, col } = lines.linePos(e.pos[0]);
    const base =
      YAML_MESSAGES[e.code] ??
      // The parser recurses per level: a document thousands of levels deep overflows its stack.
      (e.message.startsWith('Maximum call stack size exceeded')
        ? `the document nests too deeply (at most ${MAX_JSON_DEPTH} levels of lists and mappings)`
        : e.message);
    const message = e.code === 'DUPLICATE_KEY' ? `${base} ${JSON.stringify(keyAt(text, e.pos[0]))}` : base;
    return { path: '', message: `YAML syntax error: ${message}`, line, column: col };
  });
}

/**
 * Makes each plain mapping key that YAML's core schema reads as a number or boolean (`0x1a`, `1e3`,
 * `010`, `true`) the text it was written as: an object key is a string anyway, and the task id a
 * user wrote as `1e3:` must stay `1e3` (not `1000`) for `needs`, references and the API.
 */
function keepPlainKeysAsWritten(doc: ReturnType<typeof parseDocument>): void {
  visit(doc, {
    Map(_, map) {
      for (const pair of map.items) {
        const key = pair.key;
        if (!isScalar(key) || key.type !== 'PLAIN' || key.source === undefined) continue;
        if (typeof key.value === 'number' || typeof key.value === 'boolean') key.value = key.source;
      }
    },
  });
}

/**
 * What yaml reports with `uniqueKeys: true` (a scalar key equal to an earlier one of the same
 * mapping, at the repeated key), found in O(keys) with a set per mapping.
 */
function duplicateKeyErrors(
  doc: ReturnType<typeof parseDocument>,
): { code: string; message: string; pos: [number, number] }[] {
  const errors: { code: string; message: string; pos: [number, number] }[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const { value, range } = pair.key;
        if (!seen.has(value)) seen.add(value);
        else if (range)
          errors.push({
            code: 'DUPLICATE_KEY',
            message: 'Map keys must be unique',
            pos: [range[0], range[1]],
          });
      }
    },
  });
  return errors;
}

/**
 * Parses workflow text (YAML by default, or JSON) and validates it. YAML syntax errors and
 * duplicate keys are reported with line and column; validation issues carry the position of the
 * path they name when it exists in the text.
 */
export function parseWorkflow(text: string, opts: ParseOptions = {}): ParseResult {
  if (opts.format === 'json') return parseJson(text);
  const lines = new LineCounter();
  // yaml's duplicate-key check compares each key with every earlier one of its mapping (quadratic
  // in a 100,000-task mapping): off, and done by duplicateKeyErrors with a set per mapping.
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines, uniqueKeys: false });
  keepPlainKeysAsWritten(doc);
  const errors = [...doc.errors, ...duplicateKeyErrors(doc)].sort((a, b) => a.pos[0] - b.pos[0]);
  if (errors.length > 0) return { ok: false, issues: yamlIssues(errors, text, lines) };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, issues: [{ path: '', message: `YAML error: ${(err as Error).message}` }] };
  }
  const result = validateRaw(value);
  return result.ok ? result : { ok: false, issues: locateAll(result.issues, doc.contents, lines) };
}

/**
 * Throwing variant of {@link parseWorkflow}.
 * @throws WorkflowValidationError carrying every issue.
 */
export function parseWorkflowOrThrow(text: string, opts?: ParseOptions): WorkflowDefinition {
  return unwrapResult(parseWorkflow(text, opts));
}
