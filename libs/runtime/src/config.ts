import * as v from 'valibot';
import { REQUIRED_MESSAGE } from './env-entries.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { isSecretName, maskUrlCredentials } from './redact.js';

/** An object schema over env entries, optionally piped through cross-variable checks. */
export type EnvSchema = v.GenericSchema<Record<string, unknown>, unknown> & {
  readonly entries: v.ObjectEntries;
};

/** An environment: `process.env` or any map of variable names to strings. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses the variables the schema names out of `env`. Unset and blank variables count as missing,
 * so their defaults apply. Throws ConfigError with one line naming each bad variable and its value
 * (secrets and URL passwords masked), e.g. `RELAY_HEARTBEAT_INTERVAL_MS: expected a positive integer, got "-5"`.
 */
export function parseEnv<TSchema extends EnvSchema>(
  schema: TSchema,
  env: Env = process.env,
): v.InferOutput<TSchema> {
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(schema.entries)) {
    const raw = env[name];
    input[name] = raw === undefined || raw.trim() === '' ? undefined : raw;
  }
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  throw new ConfigError(result.issues.map((issue) => describeIssue(issue, input)));
}

function describeIssue(issue: v.BaseIssue<unknown>, input: Record<string, string | undefined>): ConfigIssue {
  const variable = issue.path?.map((item) => String(item.key)).join('.');
  if (variable === undefined || variable === '') return { variable: undefined, problem: issue.message };
  const raw = input[variable];
  if (raw === undefined) {
    // An unset variable either lacks a default (required) or its default failed a cross-variable check.
    return { variable, problem: issue.kind === 'schema' ? REQUIRED_MESSAGE : `${issue.message} (default)` };
  }
  const shown = isSecretName(variable) ? '[redacted]' : JSON.stringify(maskUrlCredentials(raw));
  return { variable, problem: `${issue.message}, got ${shown}` };
}

/**
 * Exit code of a service stopped by bad configuration: sysexits' EX_CONFIG. A supervisor tells it from
 * a crash by it: restarting cannot help (`relay up` stops the fleet; systemd's RestartPreventExitStatus).
 */
export const CONFIG_EXIT_CODE = 78;

/**
 * Runs `load` (typically `() => parseEnv(schema)`, or a service's start, which throws a ConfigError when
 * a port setting cannot be used) and returns its result, or its promise's; on a ConfigError writes its
 * one-line message to stderr and exits with CONFIG_EXIT_CODE. Other errors propagate unchanged.
 */
export function exitOnConfigError<T>(load: () => T): T {
  try {
    const result = load();
    return (result instanceof Promise ? result.catch(exitIfConfigError) : result) as T;
  } catch (error) {
    return exitIfConfigError(error);
  }
}

function exitIfConfigError(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  exitOnBadConfig(error.message);
}

/** Writes the one-line `message` (naming the variable) to stderr and exits with CONFIG_EXIT_CODE. */
export function exitOnBadConfig(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(CONFIG_EXIT_CODE);
}
