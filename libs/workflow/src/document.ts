import type { JsonValue } from '@relay/template';
import { TASK_DEFAULTS } from './rules.js';
import type { TaskDefinition, WorkflowDefinition } from './types.js';

const UNITS: ReadonlyArray<readonly [suffix: string, ms: number]> = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** `ms` as the workflow YAML writes a duration: the largest unit that divides it (`90s`, `2m`, `1500ms`). */
export function formatDuration(ms: number): string {
  if (ms > 0) {
    for (const [suffix, size] of UNITS) if (ms % size === 0) return `${ms / size}${suffix}`;
  }
  return `${ms}ms`;
}

// The emitter below is this module's own, not the yaml package's: yaml's Document takes ~46 µs per
// task (4.6 s of blocked event loop for a 100,000-task workflow); this takes a few. Its output is
// plain YAML any parser reads; the round-trip tests hold it to parseWorkflow.

/**
 * Flow context (`needs: [a, b]`): words written unquoted: a letter or `_` first, then word characters,
 * `.`, `/`, `-`, words joined by single spaces. Nothing a YAML 1.1 or 1.2 parser reads as another type
 * or as syntax (the words of NOT_STRINGS excepted).
 */
const PLAIN_IN_FLOW = /^[A-Za-z_][\w./-]*(?: [\w./-]+)*$/;
/**
 * Block context: a letter or `_` first (no indicator, digit, sign, `.` or `~`: nothing that could read
 * as a number, null or syntax), no `: ` or ` #`, no `:` at the end, no control or line-break
 * characters, no leading or trailing blanks.
 */
const PLAIN_IN_BLOCK =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what plain text must not hold
  /^[A-Za-z_](?:[^\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff:#]|:(?=[^\s])|(?<=[^\s])#)*$/;
const NOT_STRINGS = /^(?:true|false|null|yes|no|on|off|y|n)$/i;
/** Longer plain scalars are quoted: an implicit key is at most 1024 characters. */
const MAX_PLAIN = 200;

/** Characters YAML cannot hold unescaped in a double-quoted scalar that JSON.stringify leaves raw. */
const UNPRINTABLE = /[\u007f-\u009f\u2028\u2029\ufeff]/g;

function quoted(text: string): string {
  return JSON.stringify(text).replace(
    UNPRINTABLE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A string as one YAML scalar on the current line: plain when that reads back as the same string. */
function scalarText(text: string, flow = false): string {
  const plain =
    text.length <= MAX_PLAIN &&
    (flow ? PLAIN_IN_FLOW : PLAIN_IN_BLOCK).test(text) &&
    !/\s$/.test(text) &&
    !NOT_STRINGS.test(text);
  return plain ? text : quoted(text);
}

/** Characters that keep a string out of a block literal (YAML would not read them back as written). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what a literal must not hold
const NOT_LITERAL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\r]|[\t ]$|[\t ]\n/;

/**
 * A multi-line string as a block literal (`|`, `|-` or `|+` after its key), its lines at `indent`;
 * undefined when the string cannot be one (control characters, trailing blanks on a line, a first
 * line starting with a blank, which would set the block's indentation).
 */
function literal(text: string, indent: string): string | undefined {
  if (!text.includes('\n') || NOT_LITERAL.test(text)) return undefined;
  const body = text.replace(/\n+$/, '');
  const firstLine = /^\n*([^\n]*)/.exec(body)?.[1] ?? '';
  if (body === '' || /^[\t ]/.test(firstLine)) return undefined;
  const trailing = text.length - body.length;
  const chomp = trailing === 0 ? '|-' : trailing === 1 ? '|' : '|+';
  const lines = text.slice(0, trailing > 1 ? text.length - 1 : body.length).split('\n');
  return `${chomp}\n${lines.map((line) => (line === '' ? '' : indent + line)).join('\n')}`;
}

function numberText(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

/** A JSON value after `key:` (a space and a scalar, or a block on the next lines at `indent`). */
function valueAfterKey(value: JsonValue, indent: string): string {
  if (value === null) return ' null';
  if (typeof value === 'boolean') return ` ${value}`;
  if (typeof value === 'number') return ` ${numberText(value)}`;
  if (typeof value === 'string') {
    const block = literal(value, indent);
    return block === undefined ? ` ${scalarText(value)}` : ` ${block}`;
  }
  if (Array.isArray(value)) return value.length === 0 ? ' []' : `\n${sequence(value, indent)}`;
  return Object.keys(value).length === 0 ? ' {}' : `\n${mapping(value, indent)}`;
}

/** A non-empty JSON object as block mapping lines at `indent`. */
function mapping(value: { [key: string]: JsonValue }, indent: string): string {
  const lines: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    lines.push(`${indent}${scalarText(key)}:${valueAfterKey(item, `${indent}  `)}`);
  }
  return lines.join('\n');
}

/** A non-empty JSON array as block sequence lines at `indent`. */
function sequence(value: JsonValue[], indent: string): string {
  const inner = `${indent}  `;
  return value
    .map((item) => {
      if (item !== null && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length > 0) {
        // `- first: 1` with the other keys under `first`.
        return `${indent}- ${mapping(item, inner).slice(inner.length)}`;
      }
      if (Array.isArray(item) && item.length > 0) return `${indent}-\n${sequence(item, inner)}`;
      return `${indent}-${valueAfterKey(item, inner)}`;
    })
    .join('\n');
}

function taskLines(task: TaskDefinition): string[] {
  const at = '    ';
  const lines = [`  ${scalarText(task.id)}:`];
  if (task.needs.length > 0)
    lines.push(`${at}needs: [${task.needs.map((id) => scalarText(id, true)).join(', ')}]`);
  lines.push(`${at}type: ${scalarText(task.type)}`);
  if (Object.keys(task.with).length > 0) lines.push(`${at}with:\n${mapping(task.with, `${at}  `)}`);
  if (task.retries !== TASK_DEFAULTS.retries) lines.push(`${at}retries: ${task.retries}`);
  const { initialMs, factor, maxMs } = task.backoff;
  const defaults = TASK_DEFAULTS.backoff;
  if (initialMs !== defaults.initialMs || factor !== defaults.factor || maxMs !== defaults.maxMs) {
    lines.push(
      `${at}backoff: { initial: ${formatDuration(initialMs)}, factor: ${numberText(factor)}, max: ${formatDuration(maxMs)} }`,
    );
  }
  if (task.timeoutMs !== null) lines.push(`${at}timeout: ${formatDuration(task.timeoutMs)}`);
  if (task.queue !== TASK_DEFAULTS.queue) lines.push(`${at}queue: ${scalarText(task.queue)}`);
  if (task.requiresApproval) lines.push(`${at}requires_approval: true`);
  return lines;
}

/**
 * A normalized definition as workflow YAML that `POST /workflows` (and `relay apply`) takes back as
 * the same definition: tasks in the definition's order, durations in their largest exact unit,
 * every value a task does not take from the defaults written on the task itself (no `defaults:`).
 */
export function workflowToYaml(def: WorkflowDefinition): string {
  const lines = [`id: ${scalarText(def.id)}`];
  if (def.name !== def.id) lines.push(`name: ${scalarText(def.name)}`);
  if (def.on.event !== undefined || def.on.schedule !== undefined) {
    lines.push('on:');
    if (def.on.event !== undefined) lines.push(`  event: ${scalarText(def.on.event)}`);
    if (def.on.schedule !== undefined) lines.push(`  schedule: ${scalarText(def.on.schedule)}`);
  }
  lines.push('tasks:');
  for (const task of def.tasks) lines.push(...taskLines(task));
  return `${lines.join('\n')}\n`;
}
