import { TemplateResolutionError } from './errors.js';
import { isJsonObject, type JsonValue, joinIndex, joinKey } from './json.js';
import { formatReference, hasTemplate, type ParsedReference, parseTemplate, type Segment } from './parse.js';
import { findShellContexts, quoteShellWordIn } from './shell.js';

/** What references read: the run's input and the outputs of finished tasks. */
export interface ResolutionContext {
  input: JsonValue;
  tasks: Record<string, { output: JsonValue }>;
}

/** Options of {@link resolveTemplates}. */
export interface ResolveOptions {
  /**
   * `'shell'`: every reference becomes exactly one safely quoted shell word, even a whole-value
   * one (the result is then always a string). Use it for a `shell` task's `with.command` only,
   * not for `with.env`, whose values are not shell syntax.
   */
  quote?: 'shell';
  /** Location of `value` in its document, prefixed to error messages (e.g. `with`). */
  at?: string;
}

/**
 * Reads the value a reference points at.
 * @throws TemplateResolutionError when any step of the path is missing.
 */
export function lookupReference(ref: ParsedReference, ctx: ResolutionContext, at = ''): JsonValue {
  let current: JsonValue;
  if (ref.kind === 'input') current = ctx.input;
  else {
    const task = Object.hasOwn(ctx.tasks, ref.taskId ?? '') ? ctx.tasks[ref.taskId ?? ''] : undefined;
    if (task === undefined) throw new TemplateResolutionError(formatReference(ref, []), at);
    current = task.output;
  }
  for (let i = 0; i < ref.path.length; i++) {
    const step = ref.path[i] as string | number;
    let next: JsonValue | undefined;
    if (typeof step === 'number') next = Array.isArray(current) ? current[step] : undefined;
    // Own properties only: `__proto__` or `constructor` must not reach Object.prototype.
    else next = isJsonObject(current) && Object.hasOwn(current, step) ? current[step] : undefined;
    if (next === undefined) {
      throw new TemplateResolutionError(formatReference(ref, ref.path.slice(0, i + 1)), at);
    }
    current = next;
  }
  return current;
}

function toText(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function resolveString(text: string, ctx: ResolutionContext, at: string, shell: boolean): JsonValue {
  if (!hasTemplate(text)) return text;
  const segments: Segment[] = parseTemplate(text, at);
  const [only] = segments;
  if (!shell && segments.length === 1 && only?.kind === 'ref') {
    // Whole-value reference: keep the JSON type; copy so callers cannot alias run state.
    return structuredClone(lookupReference(only.ref, ctx, at));
  }
  const contexts = shell ? findShellContexts(segments, at) : [];
  let out = '';
  let r = 0;
  for (const seg of segments) {
    if (seg.kind === 'text') {
      out += seg.text;
      continue;
    }
    const value = toText(lookupReference(seg.ref, ctx, at));
    out += shell ? quoteShellWordIn(contexts[r] ?? 'plain', value) : value;
    r += 1;
  }
  return out;
}

function resolveValue(value: JsonValue, ctx: ResolutionContext, at: string, shell: boolean): JsonValue {
  if (typeof value === 'string') return resolveString(value, ctx, at, shell);
  if (Array.isArray(value)) return value.map((item, i) => resolveValue(item, ctx, joinIndex(at, i), shell));
  if (isJsonObject(value)) {
    const out: { [k: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty: a `__proto__` key stays an own data property.
      Object.defineProperty(out, key, {
        value: resolveValue(item, ctx, joinKey(at, key), shell),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/**
 * Returns `value` with every `${{ ... }}` in its strings replaced. A string that is exactly one
 * reference takes the referenced value with its JSON type; a reference inside longer text is
 * interpolated (strings as-is, other values as JSON text). Object keys are not templated.
 * @throws TemplateSyntaxError for an invalid expression (or, with `quote: 'shell'`, a reference
 *   where it cannot be quoted safely); TemplateResolutionError for a missing path, e.g.
 *   `with.url: input.orderId is not defined`.
 */
export function resolveTemplates(
  value: JsonValue,
  ctx: ResolutionContext,
  opts: ResolveOptions = {},
): JsonValue {
  return resolveValue(value, ctx, opts.at ?? '', opts.quote === 'shell');
}

/**
 * Checks that every reference of a shell command sits where it can be quoted as one word.
 * @throws TemplateSyntaxError naming the reference and the reason.
 */
export function validateShellTemplate(command: string, at = ''): void {
  if (hasTemplate(command)) findShellContexts(parseTemplate(command, at), at);
}
