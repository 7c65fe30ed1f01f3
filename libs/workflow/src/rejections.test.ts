// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow documents hold ${{ }} templates
import { describe, expect, it } from 'vitest';
import { parseWorkflow } from './source.js';
import type { WorkflowIssue } from './types.js';

function issuesOf(text: string, format?: 'json'): WorkflowIssue[] {
  const result = parseWorkflow(text, format ? { format } : {});
  if (result.ok) throw new Error('expected the workflow to be rejected');
  return result.issues;
}

/** Prefix that makes a task list valid around the task under test. */
const W = 'id: w\ntasks:\n';

describe('parseWorkflow rejects, naming the path', () => {
  it.each<[string, string, string, string]>([
    // document level
    ['a non-mapping document', '- a\n- b\n', '', 'a workflow must be a mapping (got a list)'],
    ['an empty document', '', '', 'a workflow must be a mapping (got an empty document)'],
    ['a scalar document', 'hello\n', '', 'a workflow must be a mapping (got string)'],
    ['a missing id', 'tasks:\n  a: {}\n', 'id', 'is required'],
    [
      'an invalid workflow id',
      'id: Order_Flow\ntasks:\n  a: {}\n',
      'id',
      'invalid workflow id "Order_Flow": must match ^[a-z0-9][a-z0-9._-]{0,127}$',
    ],
    [
      'a workflow id that is too long',
      `id: ${'a'.repeat(129)}\ntasks:\n  a: {}\n`,
      'id',
      `invalid workflow id "${'a'.repeat(40)}...": must match ^[a-z0-9][a-z0-9._-]{0,127}$`,
    ],
    ['a numeric workflow id', 'id: 12\ntasks:\n  a: {}\n', 'id', 'must be a string (got the number 12)'],
    [
      'a task named __proto__ (not dropped)',
      'id: w\ntasks:\n  a: {}\n  __proto__: {}\n',
      'tasks.__proto__',
      'invalid task id "__proto__": must match ^[a-z0-9][a-z0-9._-]{0,127}$',
    ],
    ['an empty name', 'id: w\nname: " "\ntasks:\n  a: {}\n', 'name', 'must not be empty'],
    [
      'an unknown top-level field',
      'id: w\nversion: 2\ntasks:\n  a: {}\n',
      'version',
      'unknown field "version"; allowed: id, name, on, defaults, tasks',
    ],
    ['missing tasks', 'id: w\n', 'tasks', 'is required'],
    ['empty tasks', 'id: w\ntasks: {}\n', 'tasks', 'a workflow needs at least one task'],
    [
      'tasks as a list',
      'id: w\ntasks: [a, b]\n',
      'tasks',
      'must be a mapping of task id -> task (got a list)',
    ],
    // on
    [
      'an unknown trigger',
      'id: w\non: { push: x }\ntasks:\n  a: {}\n',
      'on.push',
      'unknown field "push"; allowed: event, schedule',
    ],
    ['an empty event', 'id: w\non: { event: "" }\ntasks:\n  a: {}\n', 'on.event', 'must not be empty'],
    [
      'an event with surrounding spaces',
      'id: w\non: { event: " padded " }\ntasks:\n  a: {}\n',
      'on.event',
      'must not start or end with whitespace',
    ],
    [
      'an event type longer than POST /events takes',
      `id: w\non: { event: ${'e'.repeat(257)} }\ntasks:\n  a: {}\n`,
      'on.event',
      'must be at most 256 characters (the longest type POST /events takes)',
    ],
    [
      'a schedule that never fires',
      'id: w\non: { schedule: "0 0 31 2 *" }\ntasks:\n  a: {}\n',
      'on.schedule',
      'never fires: no date matches its day-of-month, month and day-of-week',
    ],
    [
      'a non-string event',
      'id: w\non: { event: [a] }\ntasks:\n  a: {}\n',
      'on.event',
      'must be an event type (got a list)',
    ],
    [
      'a schedule with 6 fields',
      'id: w\non: { schedule: "0 * * * * *" }\ntasks:\n  a: {}\n',
      'on.schedule',
      'must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), got 6',
    ],
    [
      'a schedule with a bad field',
      'id: w\non: { schedule: "*/15 25 * * *" }\ntasks:\n  a: {}\n',
      'on.schedule',
      'invalid hour "25" (allowed 0-23)',
    ],
    // defaults
    [
      'an unknown default',
      'id: w\ndefaults: { type: shell }\ntasks:\n  a: {}\n',
      'defaults.type',
      'unknown field "type"; allowed: retries, timeout, queue, backoff',
    ],
    [
      'a zero default timeout',
      'id: w\ndefaults: { timeout: 0s }\ntasks:\n  a: {}\n',
      'defaults.timeout',
      'must be greater than zero',
    ],
    [
      'an invalid default queue',
      'id: w\ndefaults: { queue: "My Queue" }\ntasks:\n  a: {}\n',
      'defaults.queue',
      'invalid queue name "My Queue": must match ^[a-z0-9][a-z0-9._-]{0,127}$',
    ],
    // task structure
    [
      'an invalid task id',
      `${W}  Fetch: {}\n`,
      'tasks.Fetch',
      'invalid task id "Fetch": must match ^[a-z0-9][a-z0-9._-]{0,127}$',
    ],
    [
      'a task id with output as a later segment',
      'id: w\ntasks:\n  a.output: {}\n',
      'tasks.a.output',
      'invalid task id "a.output": "output" may not follow a dot in a task id (${{ tasks.ID.output }} ends the id at its first ".output")',
    ],
    ['a task that is not a mapping', `${W}  a: [x]\n`, 'tasks.a', 'must be a mapping (got a list)'],
    [
      'an unknown task field',
      `${W}  a: { need: [b] }\n  b: {}\n`,
      'tasks.a.need',
      'unknown field "need" (did you mean "needs"?); allowed: needs, type, with, retries, backoff, timeout, queue, requires_approval',
    ],
    [
      'a camelCase task field',
      `${W}  a: { requiresApproval: true }\n`,
      'tasks.a.requiresApproval',
      'unknown field "requiresApproval" (did you mean "requires_approval"?); allowed: needs, type, with, retries, backoff, timeout, queue, requires_approval',
    ],
    [
      'an invalid type',
      `${W}  a: { type: "run shell" }\n`,
      'tasks.a.type',
      'invalid handler name "run shell": must match ^[A-Za-z][A-Za-z0-9._:-]{0,127}$',
    ],
    [
      'a non-string type',
      `${W}  a: { type: 3 }\n`,
      'tasks.a.type',
      'must be a handler name (got the number 3)',
    ],
    [
      'with not a mapping',
      `${W}  a: { type: custom, with: [1] }\n`,
      'tasks.a.with',
      'must be a mapping (got a list)',
    ],
    [
      'with holding a non-JSON number',
      `${W}  a: { type: custom, with: { x: .inf } }\n`,
      'tasks.a.with.x',
      'must be JSON: Infinity is not a JSON number',
    ],
    [
      'a non-boolean requires_approval',
      `${W}  a: { requires_approval: "yes" }\n`,
      'tasks.a.requires_approval',
      'must be true or false (got "yes")',
    ],
    [
      'an invalid queue',
      `${W}  a: { queue: "q:1" }\n`,
      'tasks.a.queue',
      'invalid queue name "q:1": must match ^[a-z0-9][a-z0-9._-]{0,127}$',
    ],
    // retries
    [
      'negative retries',
      `${W}  a: { retries: -1 }\n`,
      'tasks.a.retries',
      'must not be negative (got the number -1)',
    ],
    [
      'fractional retries',
      `${W}  a: { retries: 1.5 }\n`,
      'tasks.a.retries',
      'must be a whole number from 0 to 100 (got the number 1.5)',
    ],
    [
      'too many retries',
      `${W}  a: { retries: 101 }\n`,
      'tasks.a.retries',
      'must be at most 100 (got the number 101)',
    ],
    [
      'string retries',
      `${W}  a: { retries: "3" }\n`,
      'tasks.a.retries',
      'must be a whole number from 0 to 100 (got "3")',
    ],
    // durations
    [
      'a garbage timeout',
      `${W}  a: { timeout: soon }\n`,
      'tasks.a.timeout',
      'must be a duration like 500ms, 10s, 5m or 1h (got "soon")',
    ],
    [
      'a negative timeout',
      `${W}  a: { timeout: -5s }\n`,
      'tasks.a.timeout',
      'must not be negative (got "-5s")',
    ],
    ['a zero timeout', `${W}  a: { timeout: 0ms }\n`, 'tasks.a.timeout', 'must be greater than zero'],
    [
      'a unitless timeout',
      `${W}  a: { timeout: 30 }\n`,
      'tasks.a.timeout',
      'must be a duration like 500ms, 10s, 5m or 1h (a bare number has no unit)',
    ],
    [
      'a sub-millisecond timeout',
      `${W}  a: { timeout: 0.5ms }\n`,
      'tasks.a.timeout',
      'must be a whole number of milliseconds (got "0.5ms")',
    ],
    // backoff
    [
      'a backoff factor below 1',
      `${W}  a: { backoff: { factor: 0.5 } }\n`,
      'tasks.a.backoff.factor',
      'must be at least 1 (got the number 0.5)',
    ],
    [
      'a non-numeric backoff factor',
      `${W}  a: { backoff: { factor: x2 } }\n`,
      'tasks.a.backoff.factor',
      'must be a number of at least 1 (got "x2")',
    ],
    [
      'an invalid backoff initial',
      `${W}  a: { backoff: { initial: fast } }\n`,
      'tasks.a.backoff.initial',
      'must be a duration like 500ms, 10s, 5m or 1h (got "fast")',
    ],
    [
      'an unknown backoff field',
      `${W}  a: { backoff: { jitter: true } }\n`,
      'tasks.a.backoff.jitter',
      'unknown field "jitter"; allowed: initial, factor, max',
    ],
    [
      'a backoff max below its initial',
      `${W}  a: { backoff: { initial: 10s, max: 1s } }\n`,
      'tasks.a.backoff',
      'max (1000ms) must not be less than initial (10000ms)',
    ],
    [
      'a default backoff max below its initial',
      'id: w\ndefaults: { backoff: { initial: 2m } }\ntasks:\n  a: {}\n',
      'defaults.backoff',
      'initial (120000ms) is over the default max (60000ms); set max as well',
    ],
    [
      'a task backoff max below the default initial it merges with',
      'id: w\ndefaults: { backoff: { initial: 10s } }\ntasks:\n  a: { backoff: { max: 5s } }\n',
      'tasks.a.backoff',
      'max (5000ms) must not be less than initial (10000ms)',
    ],
    // needs
    [
      'needs naming no task',
      `${W}  a: {}\n  b: { needs: [a, fetch] }\n`,
      'tasks.b.needs[1]',
      'needs unknown task "fetch"',
    ],
    [
      'needs with a typo',
      `${W}  fetch: {}\n  b: { needs: [fech] }\n`,
      'tasks.b.needs[0]',
      'needs unknown task "fech" (did you mean "fetch"?)',
    ],
    [
      'needs as a single unknown string',
      `${W}  b: { needs: nope }\n`,
      'tasks.b.needs',
      'needs unknown task "nope"',
    ],
    ['a task needing itself', `${W}  a: { needs: [a] }\n`, 'tasks.a.needs[0]', 'task "a" cannot need itself'],
    [
      'a need listed twice',
      `${W}  a: {}\n  b: { needs: [a, a] }\n`,
      'tasks.b.needs[1]',
      'lists "a" more than once',
    ],
    [
      'needs not a list',
      `${W}  a: { needs: { b: 1 } }\n`,
      'tasks.a.needs',
      'must be a list of task ids (got a mapping)',
    ],
    [
      'a non-string need',
      `${W}  a: { needs: [1] }\n`,
      'tasks.a.needs[0]',
      'must be a task id (got the number 1)',
    ],
    [
      'a cycle',
      `${W}  a: { needs: [c] }\n  b: { needs: [a] }\n  c: { needs: [b] }\n`,
      'tasks.a.needs',
      'cycle: a -> c -> b -> a',
    ],
    [
      'a two-task cycle',
      `${W}  x: {}\n  a: { needs: [x, b] }\n  b: { needs: [a] }\n`,
      'tasks.a.needs',
      'cycle: a -> b -> a',
    ],
    // templates
    [
      'a template reading a task that is not upstream',
      `${W}  a: {}\n  b: { type: c, with: { x: "\${{ tasks.a.output }}" } }\n`,
      'tasks.b.with.x',
      'tasks.a.output: task "a" is not upstream of "b"; add it to needs (directly or through another task)',
    ],
    [
      'a template reading a downstream task',
      `${W}  a: { type: c, with: { x: "\${{ tasks.b.output.v }}" } }\n  b: { needs: [a] }\n`,
      'tasks.a.with.x',
      'tasks.b.output.v: task "b" is not upstream of "a"; add it to needs (directly or through another task)',
    ],
    [
      'a template reading an unknown task',
      `${W}  a: { type: c, with: { x: [1, "n=\${{ tasks.nope.output }}"] } }\n`,
      'tasks.a.with.x[1]',
      'tasks.nope.output: unknown task "nope"',
    ],
    [
      'a template reading its own task',
      `${W}  a: { type: c, with: { x: "\${{ tasks.a.output }}" } }\n`,
      'tasks.a.with.x',
      'tasks.a.output: a task cannot read its own output',
    ],
    [
      'an invalid template expression',
      `${W}  a: { type: c, with: { x: "\${{ env.HOME }}" } }\n`,
      'tasks.a.with.x',
      'invalid template expression ${{ env.HOME }}: expected input.PATH or tasks.ID.output.PATH',
    ],
    [
      'an unterminated template',
      `${W}  a: { type: c, with: { x: "\${{ input.a" } }\n`,
      'tasks.a.with.x',
      'unterminated template expression ${{ input.a: missing }}',
    ],
    // built-in handlers
    [
      'with fields on a noop',
      `${W}  a: { with: { command: ls } }\n`,
      'tasks.a.with.command',
      'unknown field "command"; a noop task takes no with fields (is its type missing?)',
    ],
    ['sleep without a duration', `${W}  a: { type: sleep }\n`, 'tasks.a.with.duration', 'is required'],
    [
      'sleep with an invalid duration',
      `${W}  a: { type: sleep, with: { duration: 5 } }\n`,
      'tasks.a.with.duration',
      'must be a duration like 500ms, 10s, 5m or 1h (got the number 5)',
    ],
    [
      'sleep with a garbage duration',
      `${W}  a: { type: sleep, with: { duration: later } }\n`,
      'tasks.a.with.duration',
      'must be a duration like 500ms, 10s, 5m or 1h (got "later")',
    ],
    [
      'shell without a command',
      `${W}  a: { type: shell, with: { env: {} } }\n`,
      'tasks.a.with.command',
      'is required',
    ],
    [
      'shell with a non-string command',
      `${W}  a: { type: shell, with: { command: [ls, -l] } }\n`,
      'tasks.a.with.command',
      'must be a string (got a list)',
    ],
    [
      'shell with an empty command',
      `${W}  a: { type: shell, with: { command: "  " } }\n`,
      'tasks.a.with.command',
      'must not be empty',
    ],
    [
      'shell env with a list value',
      `${W}  a: { type: shell, with: { command: env, env: { N: [1] } } }\n`,
      'tasks.a.with.env.N',
      'must be a string, number or boolean (got a list)',
    ],
    [
      'shell env with a name reserved for references',
      `${W}  a: { type: shell, with: { command: env, env: { RELAY_REF_0: x } } }\n`,
      'tasks.a.with.env.RELAY_REF_0',
      "names starting with RELAY_REF_ are reserved: the worker passes with.command's references in them",
    ],
    [
      'shell env setting an id the worker gives the command',
      `${W}  a: { type: shell, with: { command: env, env: { RELAY_RUN_ID: spoof } } }\n`,
      'tasks.a.with.env.RELAY_RUN_ID',
      "RELAY_RUN_ID is set by the worker (the attempt's ids: RELAY_RUN_ID, RELAY_TASK_ID, RELAY_TASK_RUN_ID, RELAY_WORKFLOW_ID, RELAY_ATTEMPT)",
    ],
    [
      'shell env with a bad name',
      `${W}  a: { type: shell, with: { command: env, env: { "A-B": x } } }\n`,
      'tasks.a.with.env.A-B',
      'invalid environment variable name "A-B"',
    ],
    [
      'shell env not a mapping',
      `${W}  a: { type: shell, with: { command: env, env: [A] } }\n`,
      'tasks.a.with.env',
      'must be a mapping of environment variable name -> string (got a list)',
    ],
    [
      'shell with an unknown field',
      `${W}  a: { type: shell, with: { command: ls, cwd: /tmp } }\n`,
      'tasks.a.with.cwd',
      'unknown field "cwd"; allowed: command, env',
    ],
    [
      'shell with a reference inside $(...)',
      `${W}  a: { type: shell, with: { command: "echo $(cat \${{ input.f }})" } }\n`,
      'tasks.a.with.command',
      '${{ input.f }} cannot be used inside $(...) in a shell command; pass the value through with.env and use "$NAME" instead',
    ],
    [
      'http without a url',
      `${W}  a: { type: http, with: { method: GET } }\n`,
      'tasks.a.with.url',
      'is required',
    ],
    ['http without with', `${W}  a: { type: http }\n`, 'tasks.a.with.url', 'is required'],
    [
      'http with a relative url',
      `${W}  a: { type: http, with: { url: /orders } }\n`,
      'tasks.a.with.url',
      'must be an absolute http(s) URL (got "/orders")',
    ],
    [
      'http with a non-http url',
      `${W}  a: { type: http, with: { url: "file:///etc/passwd" } }\n`,
      'tasks.a.with.url',
      'must use http or https (got file:)',
    ],
    [
      'http with a bad method',
      `${W}  a: { type: http, with: { url: "https://x", method: FETCH } }\n`,
      'tasks.a.with.method',
      'must be one of GET, POST, PUT, PATCH, DELETE, HEAD (got "FETCH")',
    ],
    [
      'http with a lower-case method',
      `${W}  a: { type: http, with: { url: "https://x", method: get } }\n`,
      'tasks.a.with.method',
      'must be one of GET, POST, PUT, PATCH, DELETE, HEAD (got "get")',
    ],
    [
      'http with non-string headers',
      `${W}  a: { type: http, with: { url: "https://x", headers: { X-N: 1 } } }\n`,
      'tasks.a.with.headers.X-N',
      'must be a string (got the number 1)',
    ],
    [
      'http with headers that are neither a mapping nor a reference',
      `${W}  a: { type: http, with: { url: "https://x", headers: "X-N: 1" } }\n`,
      'tasks.a.with.headers',
      'must be a mapping of header name -> string (got "X-N: 1")',
    ],
    [
      'http with a body and the default method',
      `${W}  a: { type: http, with: { url: "https://x", body: { n: 1 } } }\n`,
      'tasks.a.with.body',
      'a GET request cannot have a body (GET is the default method); set method to POST, PUT, PATCH or DELETE',
    ],
    [
      'http with a templated body and HEAD',
      `${W}  a: { type: http, with: { url: "https://x", method: HEAD, body: "\${{ input.b }}" } }\n`,
      'tasks.a.with.body',
      'a HEAD request cannot have a body; set method to POST, PUT, PATCH or DELETE',
    ],
    [
      'http with an unknown field',
      `${W}  a: { type: http, with: { url: "https://x", data: 1 } }\n`,
      'tasks.a.with.data',
      'unknown field "data"; allowed: url, method, headers, body',
    ],
  ])('%s', (_name, text, path, message) => {
    const issues = issuesOf(text);
    expect(issues.map((i) => ({ path: i.path, message: i.message }))).toContainEqual({ path, message });
  });
});
