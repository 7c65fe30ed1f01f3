import { TemplateSyntaxError } from './errors.js';

/** One step of a reference path: an object key or an array index. */
export type PathSegment = string | number;

/** A parsed `${{ ... }}` expression, without its location. */
export interface ParsedReference {
  kind: 'input' | 'task';
  /** Set when `kind` is `'task'`. */
  taskId?: string;
  /** Path inside `input` or inside the task's output; `[]` for the whole value. */
  path: PathSegment[];
  /** Canonical text, e.g. `input.items[0].sku`, `tasks.fetch.output`. */
  expression: string;
}

/** A piece of a template string: literal text or a reference. */
export type Segment = { kind: 'text'; text: string } | { kind: 'ref'; ref: ParsedReference; raw: string };

const OPEN = '${{';
const CLOSE = '}}';
/**
 * Longest `${{ ... }}` inside accepted, in characters (whitespace included). Ids are at most 128
 * characters and a reference path rarely exceeds a few hundred. Checked before any regex runs, it
 * bounds their work whatever a request holds (an unbounded lazy task id once made matching
 * quadratic: a 280 KB workflow held ingest for 12 s).
 */
export const MAX_EXPRESSION_LENGTH = 1024;
/** How much of an over-long expression an error message quotes. */
const PREVIEW_LENGTH = 40;
const PATH_SOURCE = String.raw`(?:\.[A-Za-z0-9_-]+|\[\d+\])*`;
const INPUT_RE = new RegExp(`^input(${PATH_SOURCE})$`);
// The task id is matched lazily so that the first `.output` ends it; ids may contain dots. Its
// length is bounded as ids are (128 characters, ID_PATTERN of @relay/workflow), so the candidate ids
// tried are few and matching stays linear in the expression's length.
const TASK_RE = new RegExp(`^tasks\\.([a-z0-9][a-z0-9._-]{0,127}?)\\.output(${PATH_SOURCE})$`);
const SEGMENT_RE = /\.([A-Za-z0-9_-]+)|\[(\d+)\]/g;
const EXPECTED = 'expected input.PATH or tasks.ID.output.PATH';

/** Renders a path as `.key` / `[n]` steps. */
export function formatPath(path: readonly PathSegment[]): string {
  return path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');
}

/** Returns the canonical text of a reference plus a sub-path (used in error messages). */
export function formatReference(ref: ParsedReference, path: readonly PathSegment[] = ref.path): string {
  const head = ref.kind === 'input' ? 'input' : `tasks.${ref.taskId}.output`;
  return head + formatPath(path);
}

function parsePath(text: string, raw: string, at: string): PathSegment[] {
  const path: PathSegment[] = [];
  for (const m of text.matchAll(SEGMENT_RE)) {
    if (m[1] !== undefined) {
      path.push(m[1]);
      continue;
    }
    const index = Number(m[2]);
    if (!Number.isSafeInteger(index)) {
      throw new TemplateSyntaxError(`invalid template expression ${raw}: array index too large`, raw, at);
    }
    path.push(index);
  }
  return path;
}

/**
 * Parses the inside of one `${{ ... }}` (surrounding whitespace allowed).
 * @throws TemplateSyntaxError naming the expression when it is neither form, or when it is longer
 * than MAX_EXPRESSION_LENGTH characters.
 */
export function parseExpression(inner: string, at = ''): ParsedReference {
  if (inner.length > MAX_EXPRESSION_LENGTH) {
    // Quoted in part only: the error may go back in a response or a log line.
    const preview = `${OPEN}${inner.slice(0, PREVIEW_LENGTH)}...${CLOSE}`;
    throw new TemplateSyntaxError(
      `invalid template expression ${preview}: longer than ${MAX_EXPRESSION_LENGTH} characters (${inner.length})`,
      preview,
      at,
    );
  }
  const raw = `${OPEN}${inner}${CLOSE}`;
  const text = inner.trim();
  const input = INPUT_RE.exec(text);
  if (input) {
    const path = parsePath(input[1] ?? '', raw, at);
    const ref: ParsedReference = { kind: 'input', path, expression: '' };
    ref.expression = formatReference(ref);
    return ref;
  }
  const task = TASK_RE.exec(text);
  if (task) {
    const path = parsePath(task[2] ?? '', raw, at);
    const ref: ParsedReference = { kind: 'task', taskId: task[1] ?? '', path, expression: '' };
    ref.expression = formatReference(ref);
    return ref;
  }
  throw new TemplateSyntaxError(`invalid template expression ${raw}: ${EXPECTED}`, raw, at);
}

/**
 * Splits a string into literal text and references. Adjacent text is merged; a string without
 * `${{` is one text segment (or none when empty).
 * @throws TemplateSyntaxError for an unterminated `${{` or an invalid expression.
 */
export function parseTemplate(text: string, at = ''): Segment[] {
  const segments: Segment[] = [];
  let from = 0;
  while (from <= text.length) {
    const open = text.indexOf(OPEN, from);
    if (open === -1) break;
    const close = text.indexOf(CLOSE, open + OPEN.length);
    if (close === -1) {
      // Quoted in part only when long: the error may go back in a response or a log line.
      const rest =
        text.length - open > MAX_EXPRESSION_LENGTH
          ? `${text.slice(open, open + OPEN.length + PREVIEW_LENGTH)}...`
          : text.slice(open);
      throw new TemplateSyntaxError(`unterminated template expression ${rest}: missing }}`, rest, at);
    }
    if (open > from) segments.push({ kind: 'text', text: text.slice(from, open) });
    const inner = text.slice(open + OPEN.length, close);
    segments.push({ kind: 'ref', ref: parseExpression(inner, at), raw: `${OPEN}${inner}${CLOSE}` });
    from = close + CLOSE.length;
  }
  if (from < text.length) segments.push({ kind: 'text', text: text.slice(from) });
  return segments;
}

/** True when `text` contains `${{` (cheap pre-check before parsing). */
export function hasTemplate(text: string): boolean {
  return text.includes(OPEN);
}
