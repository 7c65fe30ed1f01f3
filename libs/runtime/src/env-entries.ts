import * as v from 'valibot';

/**
 * A valibot schema for one environment variable: a string (or nothing) in, a typed value out.
 * Entries with a default accept a missing variable; entries without one report it as required.
 */
export type EnvEntry<TOutput> = v.GenericSchema<string | undefined, TOutput>;

/** The message of a variable that has no default and is not set. */
export const REQUIRED_MESSAGE = 'required, not set';

/** Result of parsing one raw value: the typed value, or the reason it was rejected. */
type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

/**
 * Builds an entry from a parse function. The default is a raw string, so it goes through the same
 * parsing as a value from the environment. The optional() root lets `v.object` apply the default
 * when the key is absent; parseEnv passes every key explicitly either way.
 */
function createEnvEntry<T>(defaultRaw: string | undefined, parse: (raw: string) => Parsed<T>): EnvEntry<T> {
  const toValue = v.rawTransform<string, T>(({ dataset, addIssue, NEVER }) => {
    const parsed = parse(dataset.value);
    if (parsed.ok) return parsed.value;
    addIssue({ message: parsed.expected });
    return NEVER;
  });
  if (defaultRaw === undefined) return v.pipe(v.string(REQUIRED_MESSAGE), toValue);
  return v.pipe(v.optional(v.string(REQUIRED_MESSAGE), defaultRaw), toValue);
}

function normalizeProtocol(protocol: string): string {
  return `${protocol.replace(/:(\/\/)?$/, '').toLowerCase()}:`;
}

/**
 * A URL whose scheme is one of `protocols` (`['redis', 'rediss']`; `redis:` and `redis://` work too).
 * The output is the string as given, ready for a client library.
 */
export function envUrl(protocols: readonly string[], defaultValue?: string): EnvEntry<string> {
  const allowed = protocols.map(normalizeProtocol);
  const expected = `expected a ${allowed.map((p) => `${p}//`).join(' or ')} URL`;
  return createEnvEntry(defaultValue, (raw) => {
    if (!URL.canParse(raw)) return { ok: false, expected };
    const url = new URL(raw);
    return allowed.includes(url.protocol) ? { ok: true, value: raw } : { ok: false, expected };
  });
}

/** The sslmode values libpq documents; postgres.js takes any other string as verify-full, silently. */
export const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/** A postgres:// or postgresql:// URL whose `sslmode`, if any, is one libpq knows (a typo is an error). */
export function envPostgresUrl(defaultValue?: string): EnvEntry<string> {
  return v.pipe(
    envUrl(['postgres', 'postgresql'], defaultValue),
    v.check(
      (raw) => {
        const sslmode = new URL(raw).searchParams.get('sslmode');
        return sslmode === null || (SSLMODES as readonly string[]).includes(sslmode);
      },
      `expected a postgres:// URL whose sslmode is one of ${SSLMODES.join(', ')}`,
    ),
  );
}

/**
 * A redis:// or rediss:// URL whose path, if any, is a database number (`/2`). ioredis takes any other
 * path as a database name Redis then refuses at the first command (`/abc`: "ERR value is not an integer").
 */
export function envRedisUrl(defaultValue?: string): EnvEntry<string> {
  const url = envUrl(['redis', 'rediss'], defaultValue);
  return v.pipe(
    url,
    v.check(
      (raw) => /^(\/\d{1,9})?\/?$/.test(new URL(raw).pathname),
      'expected a redis:// or rediss:// URL whose path is a database number like /2',
    ),
  );
}

/** Bounds and default of an integer variable. */
export interface EnvIntOptions {
  /** Smallest accepted value (inclusive). */
  min?: number;
  /** Largest accepted value (inclusive). */
  max?: number;
  /** Used when the variable is unset or empty; omit to make the variable required. */
  default?: number;
}

function describeLowerBound(min: number | undefined): string {
  if (min === undefined) return 'expected an integer';
  if (min === 1) return 'expected a positive integer';
  if (min === 0) return 'expected a non-negative integer';
  return `expected an integer of at least ${min}`;
}

/**
 * A decimal integer (`-12`, `2000`; not `1e3`, `2.5` or `0x10`) within optional bounds.
 * Messages name the bound that failed: `expected a positive integer`, `expected an integer of at most 65535`.
 */
export function envInt(options: EnvIntOptions = {}): EnvEntry<number> {
  const { min, max } = options;
  const lower = describeLowerBound(min);
  const defaultRaw = options.default === undefined ? undefined : String(options.default);
  return createEnvEntry(defaultRaw, (raw) => {
    const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || (min !== undefined && value < min)) {
      return { ok: false, expected: lower };
    }
    if (max !== undefined && value > max)
      return { ok: false, expected: `expected an integer of at most ${max}` };
    return { ok: true, value };
  });
}

/** A TCP port, 0 to 65535 (0 = any free port). */
export function envPort(defaultValue?: number): EnvEntry<number> {
  return envInt({ min: 0, max: 65535, default: defaultValue });
}

/** Extra rules for a string variable. */
export interface EnvStringOptions {
  /** The whole value must match. */
  pattern?: RegExp;
  /** What the message says was expected when the pattern fails; defaults to the pattern itself. */
  expected?: string;
}

/** Any string, optionally constrained by a pattern. */
export function envString(defaultValue?: string, options: EnvStringOptions = {}): EnvEntry<string> {
  const { pattern } = options;
  const expected = options.expected ?? `expected a value matching ${String(pattern)}`;
  return createEnvEntry(defaultValue, (raw) =>
    pattern === undefined || pattern.test(raw) ? { ok: true, value: raw } : { ok: false, expected },
  );
}

/** One of a fixed set of values, compared exactly (case-sensitive). */
export function envEnum<const TValue extends string>(
  values: readonly TValue[],
  defaultValue?: NoInfer<TValue>,
): EnvEntry<TValue> {
  const expected = `expected one of ${values.join(', ')}`;
  return createEnvEntry(defaultValue, (raw) =>
    (values as readonly string[]).includes(raw)
      ? { ok: true, value: raw as TValue }
      : { ok: false, expected },
  );
}

const TRUE_VALUES = ['true', '1', 'yes', 'on'];
const FALSE_VALUES = ['false', '0', 'no', 'off'];

/** A boolean: `true/1/yes/on` or `false/0/no/off`, any case. */
export function envBool(defaultValue?: boolean): EnvEntry<boolean> {
  const expected = 'expected true or false (also 1/0, yes/no, on/off)';
  const defaultRaw = defaultValue === undefined ? undefined : String(defaultValue);
  return createEnvEntry(defaultRaw, (raw) => {
    const lowered = raw.toLowerCase();
    if (TRUE_VALUES.includes(lowered)) return { ok: true, value: true };
    if (FALSE_VALUES.includes(lowered)) return { ok: true, value: false };
    return { ok: false, expected };
  });
}
