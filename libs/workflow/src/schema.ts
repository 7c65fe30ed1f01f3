import * as v from 'valibot';
import { checkCron, cronEverFires, parseCron } from './cron.js';
import { parseDuration } from './duration.js';
import { suggest } from './path.js';
import { HANDLER_NAME_PATTERN, ID_PATTERN, MAX_EVENT_TYPE_LENGTH, MAX_RETRIES } from './rules.js';

type Entries = v.ObjectEntries;

/**
 * A strict mapping: an unknown key is reported at its own path as `unknown field "x"` (with a
 * "did you mean" hint); a non-mapping as `must be a mapping`.
 */
export function strictMapping<T extends Entries>(entries: T, emptyHint?: string) {
  const known = Object.keys(entries);
  return v.pipe(
    mappingGuard(),
    v.strictObject(entries, (issue) => {
      const last = issue.path?.at(-1);
      if (last?.origin === 'key' && issue.input === undefined) return 'is required';
      const key = String(issue.input);
      const allowed =
        known.length > 0 ? `allowed: ${known.join(', ')}` : (emptyHint ?? 'no fields are allowed here');
      return `unknown field "${key}"${suggest(key, known)}; ${allowed}`;
    }),
  );
}

/**
 * Rejects anything but a plain mapping. Needed before `v.record` and `v.strictObject`, which
 * accept arrays (and would read `Array.prototype.with` as a field).
 */
export function mappingGuard(what = 'a mapping') {
  return v.custom<Record<string, unknown>>(
    (input) => typeof input === 'object' && input !== null && !Array.isArray(input),
    (issue) => (issue.input === undefined ? 'is required' : `must be ${what} (got ${describe(issue.input)})`),
  );
}

/**
 * A mapping of `key` -> `value` that keeps every own key. `v.record` silently drops `__proto__`,
 * `prototype` and `constructor`: a task named `constructor` (a valid id) vanished from its workflow,
 * and the tasks that needed it failed to store. Keys and values are checked like `v.record` does, each
 * issue at the entry's path; the output is built with defineProperty, so `__proto__` stays a key.
 */
export function ownRecord<TValue extends v.GenericSchema>(
  key: v.GenericSchema<string, string>,
  value: TValue,
  what = 'a mapping',
) {
  return v.pipe(
    mappingGuard(what),
    v.rawTransform(({ dataset, config, addIssue, NEVER }) => {
      const input = dataset.value;
      const entryConfig = config as v.Config<v.BaseIssue<unknown>>;
      const out: Record<string, v.InferOutput<TValue>> = {};
      let valid = true;
      for (const name of Object.keys(input)) {
        const entry = input[name];
        // The schemas' own run, as v.record calls them (v.safeParse per entry costs 20% more on 100k tasks).
        const k = key['~run']({ value: name }, entryConfig);
        const val = value['~run']({ value: entry }, entryConfig);
        if (k.issues) {
          const item = { type: 'object', origin: 'key', input, key: name, value: entry } as const;
          for (const issue of k.issues) addIssue({ message: issue.message, path: [item] });
        }
        if (val.issues) {
          const item = { type: 'object', origin: 'value', input, key: name, value: entry } as const;
          for (const issue of val.issues)
            addIssue({ message: issue.message, path: [item, ...(issue.path ?? [])] });
        }
        if (!k.typed || !val.typed || k.issues || val.issues) {
          valid = false;
          continue;
        }
        Object.defineProperty(out, k.value, {
          value: val.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return valid ? out : NEVER;
    }),
  );
}

/** Short description of a value for messages: `a list`, `null`, `the number 3`, `"text"`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return 'a mapping';
  return `the ${typeof value} ${String(value)}`;
}

/** A required/optional string with a message naming what was received. */
export function text(what = 'a string') {
  return v.string((issue) =>
    issue.input === undefined ? 'is required' : `must be ${what} (got ${describe(issue.input)})`,
  );
}

/** A duration string; `positive` also rejects zero (timeouts). */
export function duration(positive = false) {
  return v.custom<string>(
    (input) => {
      const parsed = parseDuration(input);
      return parsed.ok && (!positive || parsed.ms > 0);
    },
    (issue) => {
      const parsed = parseDuration(issue.input);
      return parsed.ok ? 'must be greater than zero' : parsed.reason;
    },
  );
}

/** An id matching {@link ID_PATTERN}. */
export function identifier(what: string) {
  return v.pipe(
    text(),
    v.regex(
      ID_PATTERN,
      (issue) => `invalid ${what} ${describe(issue.input)}: must match ${ID_PATTERN.source}`,
    ),
  );
}

const Retries = v.pipe(
  v.number((issue) => `must be a whole number from 0 to ${MAX_RETRIES} (got ${describe(issue.input)})`),
  v.integer((issue) => `must be a whole number from 0 to ${MAX_RETRIES} (got ${describe(issue.input)})`),
  v.minValue(0, (issue) => `must not be negative (got ${describe(issue.input)})`),
  v.maxValue(MAX_RETRIES, (issue) => `must be at most ${MAX_RETRIES} (got ${describe(issue.input)})`),
);

const Backoff = v.nullish(
  strictMapping({
    initial: v.optional(duration()),
    factor: v.optional(
      v.pipe(
        v.number((issue) => `must be a number of at least 1 (got ${describe(issue.input)})`),
        v.finite('must be a finite number'),
        v.minValue(1, (issue) => `must be at least 1 (got ${describe(issue.input)})`),
      ),
    ),
    max: v.optional(duration()),
  }),
);

const Queue = identifier('queue name');

const TaskType = v.pipe(
  text('a handler name'),
  v.regex(
    HANDLER_NAME_PATTERN,
    (issue) => `invalid handler name ${describe(issue.input)}: must match ${HANDLER_NAME_PATTERN.source}`,
  ),
);

const Needs = v.pipe(
  v.unknown(),
  v.check(
    (input) => typeof input === 'string' || Array.isArray(input),
    (issue) => `must be a list of task ids (got ${describe(issue.input)})`,
  ),
  v.transform((input) => (typeof input === 'string' ? [input] : input)),
  v.array(text('a task id')),
);

const With = v.nullish(ownRecord(v.string(), v.unknown()));

/** Structure of one task (a `null` task is an empty one). */
export const TaskSchema = v.nullish(
  strictMapping({
    needs: v.nullish(Needs),
    type: v.optional(TaskType),
    with: With,
    retries: v.optional(Retries),
    backoff: Backoff,
    timeout: v.optional(duration(true)),
    queue: v.optional(Queue),
    requires_approval: v.optional(
      v.boolean((issue) => `must be true or false (got ${describe(issue.input)})`),
    ),
  }),
);

const On = v.nullish(
  strictMapping({
    event: v.optional(
      v.pipe(
        text('an event type'),
        v.check((s) => s.trim().length > 0, 'must not be empty'),
        // POST /events matches the type exactly: a stray space would silently never match.
        v.check((s) => s.trim() === s, 'must not start or end with whitespace'),
        // Nor would a type longer than POST /events takes.
        v.maxLength(
          MAX_EVENT_TYPE_LENGTH,
          `must be at most ${MAX_EVENT_TYPE_LENGTH} characters (the longest type POST /events takes)`,
        ),
      ),
    ),
    schedule: v.optional(
      v.pipe(
        text('a cron expression'),
        v.rawCheck(({ dataset, addIssue }) => {
          if (!dataset.typed) return;
          const problem = checkCron(dataset.value);
          if (problem) addIssue({ message: problem });
          else if (!cronEverFires(parseCron(dataset.value))) {
            addIssue({ message: 'never fires: no date matches its day-of-month, month and day-of-week' });
          }
        }),
      ),
    ),
  }),
);

const Defaults = v.nullish(
  strictMapping({
    retries: v.optional(Retries),
    timeout: v.optional(duration(true)),
    queue: v.optional(Queue),
    backoff: Backoff,
  }),
);

// `${{ tasks.ID.output.PATH }}` ends the id at its first `.output`: an id with `output` as a later
// dot-separated segment (`a.output`, `x.output.y`) could never be referenced, and its references would
// silently read another task.
const UNREFERENCEABLE_ID = /\.output(\.|$)/;

const TaskId = v.pipe(
  identifier('task id'),
  v.check(
    (id) => !UNREFERENCEABLE_ID.test(id),
    (issue) =>
      `invalid task id ${describe(issue.input)}: "output" may not follow a dot in a task id (\${{ tasks.ID.output }} ends the id at its first ".output")`,
  ),
);

const Tasks = v.pipe(
  ownRecord(TaskId, TaskSchema, 'a mapping of task id -> task'),
  v.check((tasks) => Object.keys(tasks).length > 0, 'a workflow needs at least one task'),
);

/** Structure of a workflow document (SPEC section 3); semantic checks come after. */
export const WorkflowSchema = strictMapping({
  id: identifier('workflow id'),
  name: v.optional(
    v.pipe(
      text(),
      v.check((s) => s.trim().length > 0, 'must not be empty'),
    ),
  ),
  on: On,
  defaults: Defaults,
  tasks: Tasks,
});

/** The parsed document as valibot returns it. */
export type WorkflowDocument = v.InferOutput<typeof WorkflowSchema>;
/** One task as valibot returns it. */
export type TaskDocument = NonNullable<v.InferOutput<typeof TaskSchema>>;
