import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { type CompiledCheck, compileCheck, UnsupportedSchemaError } from './compiled-check.js';
import { EnvelopeSchema, envelopeSchemaFor, parseEnvelope } from './envelope.js';
import { EVENT_TYPES, type EventType } from './events.js';

/** What the generators read of a valibot schema or action. */
interface Node {
  readonly type: string;
  readonly pipe?: readonly Node[];
  readonly [key: string]: unknown;
}

const SCHEMAS = new Map<EventType, v.GenericSchema>(
  EVENT_TYPES.map((type) => [type, envelopeSchemaFor(type)]),
);
const CHECKS = new Map<EventType, CompiledCheck>(
  EVENT_TYPES.map((type) => [type, compileCheck(envelopeSchemaFor(type))]),
);

/** The compiled verdict of every event type on `value` next to valibot's, keyed by type. */
function verdicts(value: unknown) {
  const compiled: Record<string, boolean> = {};
  const valibot: Record<string, boolean> = {};
  for (const type of EVENT_TYPES) {
    compiled[type] = CHECKS.get(type)!(value);
    valibot[type] = v.safeParse(SCHEMAS.get(type)!, value).success;
  }
  return { compiled, valibot };
}

/**
 * Values a schema accepts, derived from the schema itself so that every field of every type (and a
 * field added later) is generated: candidates from each action's hints, kept when valibot accepts.
 */
function validValue(schema: Node): fc.Arbitrary<unknown> {
  const [base, ...actions] = schema.pipe ?? [schema];
  const action = (type: string) => actions.find((item) => item.type === type);
  const accepted = (arbitrary: fc.Arbitrary<unknown>) =>
    arbitrary.filter((value) => v.is(schema as unknown as v.GenericSchema, value));
  switch (base!.type) {
    case 'strict_object': {
      const entries = base!.entries as Record<string, Node>;
      const required = Object.keys(entries).filter((key) => entries[key]!.type !== 'optional');
      const fields = Object.fromEntries(
        Object.entries(entries).map(([key, entry]) => [key, validValue(entry)]),
      );
      return accepted(fc.record(fields, { requiredKeys: required }));
    }
    case 'optional':
      // Absent keys come from fc.record; a present key may hold undefined, which valibot accepts.
      return fc.option(validValue(base!.wrapped as Node), { nil: undefined, freq: 4 });
    case 'string': {
      const max = (action('max_length')?.requirement as number | undefined) ?? 64;
      const regex = action('regex')?.requirement as RegExp | undefined;
      const candidates = action('iso_timestamp')
        ? [
            fc.stringMatching(v.ISO_TIMESTAMP_REGEX),
            fc
              .date({ min: new Date('0001-01-01'), max: new Date('9999-12-31'), noInvalidDate: true })
              .map((date) => date.toISOString()),
          ]
        : [
            regex ? fc.stringMatching(regex) : fc.string({ unit: 'binary', maxLength: 8 }),
            fc.string({ unit: 'binary', maxLength: max }),
            fc.string({ unit: 'grapheme', minLength: max - 2, maxLength: max }),
          ];
      return accepted(fc.oneof(...candidates));
    }
    case 'number':
      return accepted(
        fc.oneof(fc.integer({ min: 1, max: 2 ** 31 }), fc.constantFrom(1, 2, Number.MAX_SAFE_INTEGER)),
      );
    case 'boolean':
      return fc.boolean();
    case 'literal':
      return fc.constant(base!.literal);
    case 'picklist':
      return fc.constantFrom(...(base!.options as unknown[]));
    case 'array': {
      const max = (action('max_length')?.requirement as number | undefined) ?? 4;
      const min = action('non_empty') ? 1 : 0;
      const item = validValue(base!.item as Node);
      return accepted(
        fc.oneof(
          { arbitrary: fc.array(item, { minLength: min, maxLength: Math.min(max, 4) }), weight: 9 },
          { arbitrary: fc.array(item, { minLength: max, maxLength: max }), weight: 1 },
        ),
      );
    }
    default:
      throw new Error(`the test cannot generate ${base!.type}: teach validValue`);
  }
}

const LENGTHS = [0, 1, 127, 128, 129, 255, 256, 257, 1023, 1024, 1025, 4095, 4096, 4097];

/** Replacements for a value: near misses derived from it, edge values, and anything at all. */
function nastyFor(value: unknown): fc.Arbitrary<unknown> {
  const derived: unknown[] = [undefined, null, [], {}, [value], { value }];
  if (typeof value === 'string') {
    derived.push(
      `${value}\u0000`,
      `\u0000${value}`,
      `A${value}`,
      `${value} `,
      value.toUpperCase(),
      value.repeat(300),
      value.slice(1),
      value.replace('T', ' '),
      value.replace('Z', ''),
      value.replace(/\.\d+/, ''),
      Number(value),
    );
  }
  if (typeof value === 'number') {
    derived.push(0, -0, -1, value + 0.5, value * 1e20, -value, String(value), 2 ** 53, 2 ** 53 - 1);
  }
  // Spread, not concat: an earlier 'add' step may have given the array an own `constructor`, and concat
  // would call it through Symbol.species.
  if (Array.isArray(value)) derived.push([...value, ...value], Array(101).fill(value[0]), [...value, 1]);
  return fc.oneof(
    fc.constantFrom(...derived),
    fc.constantFrom(NaN, Infinity, -Infinity, 1.5, true, false, '', 'x', '2024-13-01T12:00:00Z'),
    fc.constantFrom(...EVENT_TYPES, 'TaskQueue', 'REQUEUED', 'CANCELLED', 'SUCCESS', 1, 2),
    fc.constantFrom(...LENGTHS).map((length) => 'a'.repeat(length)),
    fc.string({ unit: 'binary' }),
    fc.double(),
    fc.anything(),
  );
}

type Step = { path: number; kind: 'replace' | 'delete' | 'add'; key: string; pick: number };
const STEP = fc.record({
  path: fc.nat(),
  kind: fc.constantFrom('replace', 'replace', 'delete', 'add'),
  key: fc.oneof(
    fc.constantFrom('extra', 'runId', 'data', 'type', '__proto__', 'constructor', 'toString', ''),
    fc.string(),
  ),
  pick: fc.nat(),
}) as fc.Arbitrary<Step>;

/** Every [container, key] below `root` (own keys of objects, indices of arrays), depth first. */
function slots(root: unknown): [Record<string | number, unknown>, string | number][] {
  const found: [Record<string | number, unknown>, string | number][] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    for (const key of Object.keys(node)) {
      found.push([node as Record<string, unknown>, Array.isArray(node) ? Number(key) : key]);
      walk((node as Record<string, unknown>)[key]);
    }
  };
  walk(root);
  return found;
}

/** A valid envelope of `type` broken by 1-3 mutations: replaced, deleted or added keys at any depth. */
function mutatedEnvelope(type: EventType): fc.Arbitrary<unknown> {
  const valid = validValue(SCHEMAS.get(type) as unknown as Node);
  return fc
    .tuple(valid, fc.array(STEP, { minLength: 1, maxLength: 3 }), fc.gen())
    .map(([envelope, steps, gen]) => {
      const out = structuredClone(envelope) as Record<string, unknown>;
      for (const step of steps) {
        const all = slots(out);
        const [node, key] = all[step.path % all.length]!;
        // Each replacement comes from the value it replaces (a near miss), or from anything at all.
        const replacement = gen(nastyFor, node[key]);
        if (step.kind === 'replace') node[key] = replacement;
        else if (step.kind === 'delete') delete node[key];
        else {
          const target = step.pick % 2 === 0 ? out : node;
          // An array's `length` cannot be redefined (and JSON has no such key to add): skip that step.
          if (Array.isArray(target) && step.key === 'length') continue;
          // defineProperty: `__proto__` becomes an own key, as JSON.parse makes it.
          Object.defineProperty(target, step.key, {
            value: replacement,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
      }
      return out;
    });
}

/** parseEnvelope's JSON path (compiled check) against its object path (valibot) on the same JSON. */
function expectSameParse(value: unknown): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    return; // BigInt and the like: not an event anyone can send
  }
  if (json === undefined) return;
  expect(parseEnvelope(json)).toEqual(parseEnvelope(JSON.parse(json)));
}

describe('compileCheck on the envelope schemas', () => {
  it.each(EVENT_TYPES)('accepts every valid %s, as valibot does, whose output equals the input', (type) => {
    fc.assert(
      fc.property(validValue(SCHEMAS.get(type) as unknown as Node), (envelope) => {
        expect(CHECKS.get(type)!(envelope)).toBe(true);
        expect(v.is(SCHEMAS.get(type)!, envelope)).toBe(true);
        const { compiled, valibot } = verdicts(envelope);
        expect(compiled).toEqual(valibot);
        // The fast path returns the parsed JSON itself: valibot's output must be an equal copy.
        const parsed = JSON.parse(JSON.stringify(envelope));
        expect(v.parse(SCHEMAS.get(type)!, parsed)).toStrictEqual(parsed);
        expectSameParse(envelope);
      }),
      { numRuns: 150 },
    );
  });

  it.each(EVENT_TYPES)('gives valibot verdict on a mutated %s, for every type', (type) => {
    fc.assert(
      fc.property(mutatedEnvelope(type), (value) => {
        const { compiled, valibot } = verdicts(value);
        expect(compiled).toEqual(valibot);
        expectSameParse(value);
      }),
      { numRuns: 300 },
    );
  });

  it('gives valibot verdict on anything at all', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withSparseArray: true }), (value) => {
        const { compiled, valibot } = verdicts(value);
        expect(compiled).toEqual(valibot);
      }),
      { numRuns: 300 },
    );
  });

  it('mutations reject often but not always, so both verdicts are exercised', () => {
    const values = fc.sample(fc.oneof(...EVENT_TYPES.map(mutatedEnvelope)), { numRuns: 600, seed: 1 });
    const accepted = values.filter((value) => Object.values(verdicts(value).valibot).some(Boolean)).length;
    expect(accepted).toBeGreaterThan(10);
    expect(accepted).toBeLessThan(values.length - 300);
  });

  const succeeded = { runId: 'r', taskId: 't', taskRunId: 'r:t', attempt: 1 };
  const envelope = (data: unknown, extra: object = {}) => ({
    id: 'e',
    type: 'TaskSucceeded',
    version: 1,
    occurredAt: '2024-05-01T12:00:00.000Z',
    source: 's',
    data,
    ...extra,
  });
  it.each([
    ['valid', envelope(succeeded)],
    ['an extra data key', envelope({ ...succeeded, extra: 1 })],
    ['an extra envelope key', envelope(succeeded, { extra: 1 })],
    ['a required key present as undefined', envelope({ ...succeeded, taskId: undefined })],
    ['version -0', envelope(succeeded, { version: -0 })],
    ['version 1.0000000000000002', envelope(succeeded, { version: 1.0000000000000002 })],
    ['attempt NaN', envelope({ ...succeeded, attempt: NaN })],
    ['attempt Infinity', envelope({ ...succeeded, attempt: Infinity })],
    ['attempt -0', envelope({ ...succeeded, attempt: -0 })],
    ['attempt 2^53', envelope({ ...succeeded, attempt: 2 ** 53 })],
    ['attempt 2^53 - 1', envelope({ ...succeeded, attempt: 2 ** 53 - 1 })],
    ['data an array', envelope([])],
    ['a NUL in the id', envelope(succeeded, { id: 'a\u0000' })],
    ['a 256-unit id of surrogate pairs', envelope(succeeded, { id: '💥'.repeat(128) })],
    ['a 258-unit id of surrogate pairs', envelope(succeeded, { id: '💥'.repeat(129) })],
    ['a timestamp with a space', envelope(succeeded, { occurredAt: '2024-05-01 12:00:00Z' })],
    ['a timestamp without zone', envelope(succeeded, { occurredAt: '2024-05-01T12:00:00' })],
    [
      'a timestamp with 10 fraction digits',
      envelope(succeeded, { occurredAt: '2024-05-01T12:00:00.1234567890Z' }),
    ],
    ['a timestamp on February 31', envelope(succeeded, { occurredAt: '2024-02-31T12:00:00+0200' })],
    ['a timestamp with a newline', envelope(succeeded, { occurredAt: '2024-05-01T12:00:00Z\n' })],
    [
      'an inherited data key',
      envelope(Object.assign(Object.create({ attempt: 1 }), { runId: 'r', taskId: 't', taskRunId: 'r:t' })),
    ],
    ['an inherited unknown key', envelope(Object.assign(Object.create({ extra: 1 }), succeeded))],
    ['a null-prototype data', envelope(Object.assign(Object.create(null), succeeded))],
  ])('matches valibot on %s', (_name, value) => {
    const { compiled, valibot } = verdicts(value);
    expect(compiled).toEqual(valibot);
  });
});

describe('compileCheck on the other supported kinds', () => {
  const schemas: [string, v.GenericSchema][] = [
    ['number', v.number()],
    ['integer bounds', v.pipe(v.number(), v.integer(), v.minValue(-3), v.maxValue(5))],
    ['string lengths', v.pipe(v.string(), v.minLength(2), v.maxLength(4), v.title('t'), v.metadata({}))],
    ['literal NaN', v.literal(Number.NaN)],
    ['literal 0', v.literal(0)],
    ['literal null', v.literal(null as never)],
    ['boolean', v.boolean()],
    ['picklist', v.picklist([1, 'a', Number.NaN])],
    [
      'check',
      v.pipe(
        v.number(),
        v.check((n) => n % 2 === 0),
      ),
    ],
    ['all-optional object', v.strictObject({ a: v.optional(v.string()) })],
    ['empty object', v.strictObject({})],
    ['nested pipes', v.pipe(v.pipe(v.string(), v.nonEmpty()), v.regex(/^a/i), v.examples(['a']))],
    ['regex on a non-string', v.pipe(v.array(v.number()), v.regex(/^1/) as never)],
    ['array of objects', v.array(v.strictObject({ n: v.number(), s: v.optional(v.boolean()) }))],
  ];
  const edge = fc.constantFrom(
    NaN,
    -0,
    0,
    Infinity,
    2,
    4,
    -3,
    5,
    6,
    1.5,
    '',
    'a',
    'ab',
    'abcde',
    null,
    undefined,
  );
  const inputs = fc.oneof(
    edge,
    fc.anything({ withNullPrototype: true }),
    fc.array(fc.oneof(edge, fc.anything())),
  );

  it.each(schemas)('%s: valibot verdict on anything', (_name, schema) => {
    const check = compileCheck(schema);
    fc.assert(
      fc.property(inputs, (value) => {
        expect(check(value)).toBe(v.safeParse(schema, value).success);
      }),
      { numRuns: 300 },
    );
  });
});

describe('compileCheck refuses what it cannot mirror', () => {
  it.each([
    ['an email action', v.pipe(v.string(), v.email())],
    [
      'a transformation',
      v.pipe(
        v.string(),
        v.transform((s) => s),
      ),
    ],
    ['trim', v.pipe(v.string(), v.trim())],
    ['a non-strict object', v.object({ a: v.string() })],
    ['a loose object', v.looseObject({ a: v.string() })],
    ['an optional with a default', v.optional(v.string(), 'x')],
    ['a fallback', v.fallback(v.string(), 'x')],
    ['a config wrapper', v.config(v.string(), { abortEarly: true })],
    ['a message wrapper', v.message(v.string(), 'no')],
    ['a global regex', v.pipe(v.string(), v.regex(/a/g))],
    ['a sticky regex', v.pipe(v.string(), v.regex(/a/y))],
    ['nullish', v.nullish(v.string())],
    ['a union', v.union([v.string(), v.number()])],
    ['the envelope variant', EnvelopeSchema],
    [
      'an async pipe',
      v.pipeAsync(
        v.string(),
        v.checkAsync(async () => true),
      ) as never,
    ],
    ['a nested unknown field', v.strictObject({ data: v.strictObject({ x: v.date() }) })],
  ] as [string, v.GenericSchema][])('%s', (_name, schema) => {
    expect(() => compileCheck(schema)).toThrow(UnsupportedSchemaError);
  });

  it('names where the unsupported part is', () => {
    expect(() => compileCheck(v.strictObject({ data: v.strictObject({ x: v.array(v.date()) }) }))).toThrow(
      'cannot compile data.x[]: unsupported schema date',
    );
  });
});
