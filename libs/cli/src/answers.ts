/**
 * The parts of the API's answers the commands read, checked before use: a RELAY_URL that points at
 * something other than Relay (or another version of it) then fails with one line naming what is
 * wrong, instead of a TypeError deep in a command. Fields a command does not read are not checked.
 */

/** Thrown by a Check: where in the answer (`runs[0].id`, empty for the whole) and what is wrong. */
export class AnswerShapeError extends Error {
  override readonly name = 'AnswerShapeError';
}

/** Returns `value` typed as T, or throws an AnswerShapeError naming `path`. */
export type Check<T> = (value: unknown, path: string) => T;

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string (${JSON.stringify(value.slice(0, 40))})`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value} (${String(value)})`;
}

function fail(path: string, expected: string, value: unknown): never {
  throw new AnswerShapeError(`${path ? `${path}: ` : ''}expected ${expected}, got ${describe(value)}`);
}

const string: Check<string> = (value, path) =>
  typeof value === 'string' ? value : fail(path, 'a string', value);
const integer: Check<number> = (value, path) =>
  Number.isInteger(value) ? (value as number) : fail(path, 'an integer', value);
const unknownValue: Check<unknown> = (value) => value;

function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? null : check(value, path));
}

function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, path) => (value === undefined ? undefined : check(value, path));
}

function array<T>(item: Check<T>): Check<T[]> {
  return (value, path) =>
    Array.isArray(value)
      ? value.map((entry, i) => item(entry, `${path}[${i}]`))
      : fail(path, 'an array', value);
}

function object<S extends Record<string, Check<unknown>>>(
  shape: S,
): Check<{ [K in keyof S]: ReturnType<S[K]> }> {
  return (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return fail(path, 'a JSON object', value);
    }
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      out[key] = check(record[key], path ? `${path}.${key}` : key);
    }
    return out as { [K in keyof S]: ReturnType<S[K]> };
  };
}

/** An answer no command reads (approve, reject, cancel): any 2xx will do. */
export const IgnoredAnswer: Check<unknown> = unknownValue;

/** `POST /workflows`. */
export const AppliedWorkflow = object({
  id: string,
  status: optional(string),
  tasks: array(unknownValue),
});

/** `POST /workflows/:id/runs`. */
export const StartedRun = object({ id: string });

const TaskRow = object({
  taskId: string,
  status: string,
  attempt: integer,
  output: unknownValue,
  error: nullable(string),
  decision: optional(object({ decision: string, by: nullable(string) })),
});

/** `GET /runs/:id`. */
export const RunDetail = object({
  id: string,
  workflowId: string,
  status: string,
  error: optional(nullable(string)),
  startedAt: string,
  finishedAt: nullable(string),
  tasks: array(TaskRow),
});
export type RunDetail = ReturnType<typeof RunDetail>;

/** `GET /runs`. */
export const RunList = object({
  runs: array(
    object({
      id: string,
      workflowId: string,
      status: string,
      startedAt: string,
      finishedAt: nullable(string),
    }),
  ),
  nextCursor: optional(nullable(string)),
});

/** GET /workflows. */
export const WorkflowList = object({
  workflows: array(object({ id: string, name: string, updatedAt: string })),
});
