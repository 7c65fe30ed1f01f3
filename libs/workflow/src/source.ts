import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { type DocPathSegment, formatDocPath, type RawIssue } from './path.js';
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
function locate(root: unknown, path: readonly DocPathSegment[], lines: LineCounter): Position | undefined {
  let node = root as Node | null | undefined;
  let best: Node | undefined = node ?? undefined;
  for (const [i, seg] of path.entries()) {
    let next: Node | null | undefined;
    if (typeof seg === 'number' && isSeq(node)) next = node.items[seg] as Node | undefined;
    else if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
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

/** Locates issues and sorts them in document order (unlocated ones last, order otherwise kept). */
function locateAll(issues: RawIssue[], root: unknown, lines: LineCounter): WorkflowIssue[] {
  const located = issues.map((issue): WorkflowIssue => {
    const at = locate(root, issue.path, lines);
    const path = formatDocPath(issue.path);
    return at ? { path, message: issue.message, ...at } : { path, message: issue.message };
  });
  const rank = (i: WorkflowIssue) =>
    i.line === undefined ? Number.MAX_SAFE_INTEGER : i.line * 1e6 + (i.column ?? 0);
  return located.sort((a, b) => rank(a) - rank(b));
}

function positionOf(text: string, offset: number): Position {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

function parseJson(text: string): ParseResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const offset = /at position (\d+)/.exec(message)?.[1];
    const issue: WorkflowIssue = { path: '', message: `JSON syntax error: ${message}` };
    return {
      ok: false,
      issues: [offset === undefined ? issue : { ...issue, ...positionOf(text, Number(offset)) }],
    };
  }
  // JSON is YAML: reparse for duplicate keys (JSON.parse keeps the last silently) and positions.
  const lines = new LineCounter();
  const yaml = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  const yamlOk = yaml.errors.every((e) => e.code === 'DUPLICATE_KEY');
  const duplicates = yamlOk ? yamlIssues(yaml.errors, text, lines) : [];
  const result = validateRaw(doc);
  const issues = result.ok
    ? []
    : yamlOk
      ? locateAll(result.issues, yaml.contents, lines)
      : locateAll(result.issues, null, lines);
  if (duplicates.length === 0 && result.ok) return result;
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
    const base = YAML_MESSAGES[e.code] ?? e.message;
    const message = e.code === 'DUPLICATE_KEY' ? `${base} ${JSON.stringify(keyAt(text, e.pos[0]))}` : base;
    return { path: '', message: `YAML syntax error: ${message}`, line, column: col };
  });
}

/**
 * Parses workflow text (YAML by default, or JSON) and validates it. YAML syntax errors and
 * duplicate keys are reported with line and column; validation issues carry the position of the
 * path they name when it exists in the text.
 */
export function parseWorkflow(text: string, opts: ParseOptions = {}): ParseResult {
  if (opts.format === 'json') return parseJson(text);
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) return { ok: false, issues: yamlIssues(doc.errors, text, lines) };
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
