import { hasTemplate, SHELL_REF_PREFIX, TemplateSyntaxError, validateShellTemplate } from '@relay/template';
import * as v from 'valibot';
import { parseDuration } from './duration.js';
import type { DocPathSegment, RawIssue } from './path.js';
import { ENV_NAME_PATTERN, HTTP_METHODS } from './rules.js';
import { describe, ownRecord, strictMapping, text } from './schema.js';

/** A string that is either a template (checked at run time) or satisfies `check` now. */
function templatedOr(check: (value: string) => string | null, what: string) {
  return v.pipe(
    text(what),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed || hasTemplate(dataset.value)) return;
      const problem = check(dataset.value);
      if (problem) addIssue({ message: problem });
    }),
  );
}

/**
 * A reference (`${{ input.headers }}`, checked at run time once resolved), or a value `schema` takes
 * now, with its issues where it puts them.
 */
function referenceOr(schema: v.GenericSchema) {
  return v.pipe(
    v.unknown(),
    v.rawCheck(({ dataset, addIssue }) => {
      if (typeof dataset.value === 'string' && hasTemplate(dataset.value)) return;
      const result = v.safeParse(schema, dataset.value);
      if (result.success) return;
      for (const issue of result.issues) addIssue({ message: issue.message, path: issue.path });
    }),
  );
}

function checkUrl(value: string): string | null {
  if (!URL.canParse(value)) return `must be an absolute http(s) URL (got ${describe(value)})`;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:' ? null : `must use http or https (got ${protocol})`;
}

const StringMap = (
  what: string,
  keys: v.GenericSchema<string, string> = v.string(),
  values: v.GenericSchema = text('a string'),
) => ownRecord(keys, values, `a mapping of ${what} name -> string`);

/** The variables the worker gives every command (the attempt's ids): `with.env` may not set them. */
const WORKER_ENV = [
  'RELAY_RUN_ID',
  'RELAY_TASK_ID',
  'RELAY_TASK_RUN_ID',
  'RELAY_WORKFLOW_ID',
  'RELAY_ATTEMPT',
];

const EnvName = v.pipe(
  v.string(),
  v.regex(ENV_NAME_PATTERN, (issue) => `invalid environment variable name ${describe(issue.input)}`),
  v.check(
    (name) => !name.startsWith(SHELL_REF_PREFIX),
    `names starting with ${SHELL_REF_PREFIX} are reserved: the worker passes with.command's references in them`,
  ),
  v.check(
    (name) => !WORKER_ENV.includes(name),
    (issue) => `${issue.input} is set by the worker (the attempt's ids: ${WORKER_ENV.join(', ')})`,
  ),
);

// `N: 5` and `DEBUG: true` as in GitHub Actions or docker-compose; the worker passes their JSON text.
const EnvValue = v.union([v.string(), v.number(), v.boolean()], (issue) => {
  return `must be a string, number or boolean (got ${describe(issue.input)})`;
});

/** `with` of the built-in handlers; custom handlers take any mapping. */
const BUILTIN_WITH: Record<string, v.GenericSchema> = {
  // A noop ignores inputs: `with` fields on one usually mean a forgotten `type`.
  noop: strictMapping({}, 'a noop task takes no with fields (is its type missing?)'),
  sleep: strictMapping({
    duration: templatedOr((d) => {
      const parsed = parseDuration(d);
      return parsed.ok ? null : parsed.reason;
    }, 'a duration like 500ms, 10s, 5m or 1h'),
  }),
  shell: strictMapping({
    command: v.pipe(
      text('a string'),
      v.check((c) => c.trim().length > 0, 'must not be empty'),
    ),
    env: v.nullish(StringMap('environment variable', EnvName, EnvValue)),
  }),
  http: strictMapping({
    url: templatedOr(checkUrl, 'a URL'),
    method: v.optional(
      referenceOr(
        v.picklist(
          HTTP_METHODS,
          (issue) => `must be one of ${HTTP_METHODS.join(', ')} (got ${describe(issue.input)})`,
        ),
      ),
    ),
    headers: v.nullish(referenceOr(StringMap('header'))),
    body: v.optional(v.unknown()),
  }),
};

/** True when `type` is a built-in handler whose `with` is checked here. */
export function isBuiltinType(type: string): boolean {
  return Object.hasOwn(BUILTIN_WITH, type);
}

/** Converts valibot issues to raw issues under `base`. */
export function toRawIssues(
  issues: readonly v.BaseIssue<unknown>[],
  base: DocPathSegment[] = [],
): RawIssue[] {
  return issues.map((issue) => ({
    path: [...base, ...(issue.path ?? []).map((p) => p.key as DocPathSegment)],
    message: issue.message,
  }));
}

/**
 * Checks `with` of a built-in handler (`sleep` needs a duration, `shell` a command, `http` a URL,
 * no unknown fields); also that shell references sit where they can be quoted.
 */
export function checkBuiltinWith(type: string, value: unknown, base: DocPathSegment[]): RawIssue[] {
  // Own keys only: a custom handler may be named `toString` or `constructor`.
  if (!isBuiltinType(type)) return [];
  const schema = BUILTIN_WITH[type] as v.GenericSchema;
  const result = v.safeParse(schema, value ?? {});
  if (!result.success) return toRawIssues(result.issues, base);
  if (type === 'http') {
    const { method = 'GET', body } = value as { method?: string; body?: unknown };
    if (body !== undefined && body !== null && (method === 'GET' || method === 'HEAD')) {
      const dflt =
        value !== null && typeof value === 'object' && 'method' in value
          ? ''
          : ' (GET is the default method)';
      return [
        {
          path: [...base, 'body'],
          message: `a ${method} request cannot have a body${dflt}; set method to POST, PUT, PATCH or DELETE`,
        },
      ];
    }
  }
  if (type === 'shell') {
    const command = (value as { command: string }).command;
    try {
      validateShellTemplate(command);
    } catch (err) {
      if (!(err instanceof TemplateSyntaxError)) throw err;
      return [{ path: [...base, 'command'], message: err.message }];
    }
  }
  return [];
}
