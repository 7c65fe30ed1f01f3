import { TemplateResolutionError } from './errors.js';
import { isJsonObject, type JsonValue, joinIndex, joinKey } from './json.js';
import { formatReference, hasTemplate, type ParsedReference, parseTemplate, type Segment } from './parse.js';
import { expandShellVariableIn, findShellContexts, SHELL_REF_PREFIX } from './shell.js';

/** What references read: the run's input and the outputs of finished tasks. */
export interface ResolutionContext {
  input: JsonValue;
  tasks: Record<string, { output: JsonValue }>;
}

/** Options of {@link resolveTemplates}. */
export interface ResolveOptions {
  /** Location of `value` in its document, prefixed to error messages (e.g. `with`). */
  at?: string;
}

/** A shell command whose references were replaced by variable expansions, and those variables. */
export interface ShellCommand {
  command: string;
  /** `RELAY_REF_<n>` -> the n-th reference's value as text: pass these in the command's environment. */
  env: Record<string, string>;
}

/** A key that reads as an array index (`items.1` meant as `items[1]`). */
const INDEX_KEY = /^(0|[1-9][0-9]*)$/;

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
      const reference = formatReference(ref, ref.path.slice(0, i + 1));
      // `items.1` is a key lookup; on an array, say how to index it instead.
      if (typeof step === 'string' && Array.isArray(current) && INDEX_KEY.test(step)) {
        const array = formatReference(ref, ref.path.slice(0, i));
        throw new TemplateResolutionError(
          reference,
          at,
          `is not defined: ${array} is an array, index it as ${array}[${step}]`,
        );
      }
      throw new TemplateResolutionError(reference, at);
    }
    current = next;
  }
  return current;
}

function toText(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function resolveString(text: string, ctx: ResolutionContext, at: string): JsonValue {
  if (!hasTemplate(text)) return text;
  const segments: Segment[] = parseTemplate(text, at);
  const [only] = segments;
  if (segments.length === 1 && only?.kind === 'ref') {
    // Whole-value reference: keep the JSON type; copy so callers cannot alias run state.
    return structuredClone(lookupReference(only.ref, ctx, at));
  }
  let out = '';
  for (const seg of segments) {
    out += seg.kind === 'text' ? seg.text : toText(lookupReference(seg.ref, ctx, at));
  }
  return out;
}

/**
 * Resolves a `shell` task's command without ever putting a value into shell syntax: the n-th
 * reference becomes an expansion of `RELAY_REF_<n>` fitting its quoting context (one word: see
 * {@link expandShellVariableIn}), and its value (text; JSON for other values) is returned in `env`
 * for the command's environment. `echo ${{ input.v }}` -> `echo "${RELAY_REF_0}"`.
 * @throws TemplateSyntaxError for an invalid expression or a reference where it cannot be one
 *   word (inside `$(...)`, a comment, ...: see findShellContexts); TemplateResolutionError for a
 *   missing path.
 */
export function resolveShellCommand(command: string, ctx: ResolutionContext, at = ''): ShellCommand {
  if (!hasTemplate(command)) return { command, env: {} };
  const segments = parseTemplate(command, at);
  const contexts = findShellContexts(segments, at);
  const env: Record<string, string> = {};
  let out = '';
  let r = 0;
  for (const seg of segments) {
    if (seg.kind === 'text') {
      out += seg.text;
      continue;
    }
    const name = `${SHELL_REF_PREFIX}${r}`;
    env[name] = toText(lookupReference(seg.ref, ctx, at));
    out += expandShellVariableIn(contexts[r] ?? 'plain', name);
    r += 1;
  }
  return { command: out, env };
}

function resolveValue(value: JsonValue, ctx: ResolutionContext, at: string): JsonValue {
  if (typeof value === 'string') return resolveString(value, ctx, at);
  if (Array.isArray(value)) return value.map((item, i) => resolveValue(item, ctx, joinIndex(at, i)));
  if (isJsonObject(value)) {
    const out: { [k: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty: a `__proto__` key stays an own data property.
      Object.defineProperty(out, key, {
        value: resolveValue(item, ctx, joinKey(at, key)),
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
 * A shell command is resolved by {@link resolveShellCommand} instead.
 * @throws TemplateSyntaxError for an invalid expression; TemplateResolutionError for a missing path, e.g.
 *   `with.url: input.orderId is not defined`.
 */
export function resolveTemplates(
  value: JsonValue,
  ctx: ResolutionContext,
  opts: ResolveOptions = {},
): JsonValue {
  return resolveValue(value, ctx, opts.at ?? '');
}

/**
 * Checks that every reference of a shell command sits where it can be quoted as one word.
 * @throws TemplateSyntaxError naming the reference and the reason.
 */
export function validateShellTemplate(command: string, at = ''): void {
  if (hasTemplate(command)) findShellContexts(parseTemplate(command, at), at);
}
