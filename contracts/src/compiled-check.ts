import * as v from 'valibot';

/** A plain-JS predicate whose verdict is `v.safeParse(schema, value).success` for the schema it came from. */
export type CompiledCheck = (value: unknown) => boolean;

/** Thrown by `compileCheck` for a schema, action or option it cannot mirror exactly. */
export class UnsupportedSchemaError extends Error {
  /** Where in the schema, e.g. `data.taskRunIds[]`; empty at the root. */
  readonly path: string;

  constructor(path: string, what: string) {
    super(`cannot compile ${path || 'the schema'}: ${what}`);
    this.name = 'UnsupportedSchemaError';
    this.path = path;
  }
}

/**
 * Compiles a valibot schema to a predicate that accepts exactly what `v.safeParse` accepts, without
 * building datasets, issues or an output copy (valibot stays the source of rejection reasons).
 * Supported: strictObject, optional (no default), string, number, boolean, literal, picklist, array,
 * pipes of them with regex, isoTimestamp, minLength, maxLength, nonEmpty, integer, safeInteger,
 * minValue, maxValue and check actions, and metadata. Anything else throws UnsupportedSchemaError,
 * so a schema change the compiler does not know fails where it is compiled instead of being let
 * through: a transformation, a non-strict object (both change the output), a default or fallback, a
 * stateful (global or sticky) regex, and a wrapper (v.fallback, v.config, v.message) that keeps a
 * schema's `reference` but runs other code.
 */
export function compileCheck(schema: v.GenericSchema): CompiledCheck {
  const out = new Emitter();
  out.schema(schema as unknown as SchemaNode, 'v0', '');
  // Generated rather than composed from closures: one straight-line function with constant property
  // names lets V8 use monomorphic property loads and inline the checks, about 2.5 times as fast as
  // a tree of closures. The text holds only property names (JSON-quoted) and constants; every
  // schema value (regexes, literals, bounds) is passed in through `r`.
  const source = `return function check(v0) {\n${out.lines.join('\n')}\nreturn true;\n};`;
  return new Function('r', source)(out.refs) as CompiledCheck;
}

/** What the compiler reads of a valibot schema, action or metadata object. */
interface SchemaNode {
  readonly kind?: unknown;
  readonly type?: unknown;
  readonly reference?: unknown;
  readonly async?: unknown;
  readonly pipe?: unknown;
  readonly [key: string]: unknown;
}

// The source text of each supported factory's `~run`. valibot creates a new `~run` per schema, so
// identity cannot tell a plain schema from a wrapper that spreads it and replaces `~run` (keeping
// `reference`); the text can.
const RUN_SOURCE = new Map<unknown, string>(
  [
    v.strictObject({}),
    v.optional(v.string()),
    v.string(),
    v.number(),
    v.boolean(),
    v.literal(0),
    v.picklist([]),
    v.array(v.string()),
    v.regex(/ /),
    v.isoTimestamp(),
    v.minLength(0),
    v.maxLength(0),
    v.nonEmpty(),
    v.integer(),
    v.safeInteger(),
    v.minValue(0),
    v.maxValue(0),
    v.check(() => true),
  ].map((node) => [node.reference, runSource(node)]),
);
const PIPE_RUN_SOURCE = runSource(v.pipe(v.string()));

// Metadata has no `~run`: a pipe skips it.
const METADATA_TYPES = new Set(['description', 'title', 'metadata', 'examples']);

// fields.ts's NUL_FREE, as its `source` reads.
const NUL_FREE_SOURCE = '^[^\\u0000]*$';

/**
 * Writes, for a value held in a local variable, statements that `return false` where valibot would
 * report an issue. Each condition is the one valibot tests, so odd inputs (NaN, -0, an array where
 * an object is expected, a key present with the value undefined) get valibot's verdict. An action
 * is only reached when the schema before it accepted the value, as in valibot, whose later actions
 * skip an untyped (already failed) value.
 */
class Emitter {
  readonly lines: string[] = [];
  readonly refs: unknown[] = [];
  private locals = 0;

  schema(node: SchemaNode, x: string, path: string): void {
    if (node.kind !== 'schema') {
      throw new UnsupportedSchemaError(path, `a ${String(node.kind)} is not a schema`);
    }
    if (node.async !== false) throw new UnsupportedSchemaError(path, 'async schema');
    if (node.pipe !== undefined) this.pipe(node, x, path);
    else {
      expectOwnRun(node, path);
      if (node.reference === v.strictObject) this.strictObject(node, x, path);
      else if (node.reference === v.optional) this.optional(node, x, path);
      else if (node.reference === v.array) this.array(node, x, path);
      else this.fail(this.typeFailure(node, x, path));
    }
  }

  /** The condition under which a schema without nested schemas rejects `x`. */
  private typeFailure(node: SchemaNode, x: string, path: string): string {
    switch (node.reference) {
      case v.string:
        return `typeof ${x} !== 'string'`;
      case v.number:
        return `typeof ${x} !== 'number' || Number.isNaN(${x})`;
      case v.boolean:
        return `typeof ${x} !== 'boolean'`;
      case v.literal:
        // SameValueZero, as valibot's _isSameValueZero: -0 matches 0, NaN matches NaN.
        return Number.isNaN(node.literal) ? `!Number.isNaN(${x})` : `${x} !== ${this.ref(node.literal)}`;
      case v.picklist:
        // Set#has is SameValueZero, as the Array#includes valibot uses.
        return `!${this.ref(new Set(node.options as readonly unknown[]))}.has(${x})`;
      default:
        throw new UnsupportedSchemaError(path, `unsupported schema ${String(node.type)}`);
    }
  }

  private optional(node: SchemaNode, x: string, path: string): void {
    if (node.default !== undefined) throw new UnsupportedSchemaError(path, 'optional with a default');
    this.lines.push(`if (${x} !== undefined) {`);
    this.schema(node.wrapped as SchemaNode, x, path);
    this.lines.push('}');
  }

  private array(node: SchemaNode, x: string, path: string): void {
    const i = this.local('i');
    const item = this.local('v');
    this.fail(`!Array.isArray(${x})`);
    this.lines.push(`for (let ${i} = 0; ${i} < ${x}.length; ${i}++) {`, `const ${item} = ${x}[${i}];`);
    this.schema(node.item as SchemaNode, item, `${path}[]`);
    this.lines.push('}');
  }

  private strictObject(node: SchemaNode, x: string, path: string): void {
    const entries = node.entries as Record<string, SchemaNode>;
    // As valibot: any non-null object (an array too) is walked.
    this.fail(`!${x} || typeof ${x} !== 'object'`);
    const keys: string[] = [];
    // valibot walks the entries with for...in and tells unknown keys with hasOwnProperty: the same
    // set only while every enumerable key is an own one.
    for (const key in entries) {
      if (!Object.hasOwn(entries, key)) throw new UnsupportedSchemaError(path, `inherited entry ${key}`);
      const entry = entries[key] as SchemaNode;
      const name = JSON.stringify(key);
      const value = this.local('v');
      keys.push(name);
      // `in` sees inherited keys, as valibot's does; a key present with the value undefined is
      // checked (an optional one accepts it), a missing one fails unless optional (valibot asks the
      // entry's `type`, which a pipe takes from its first schema).
      this.lines.push(`if (${name} in ${x}) {`, `const ${value} = ${x}[${name}];`);
      this.schema(entry, value, path ? `${path}.${key}` : key);
      this.lines.push(entry.type === 'optional' ? '}' : '} else return false;');
    }
    // for...in sees inherited enumerable keys too, as valibot's unknown-key loop does.
    const k = this.local('k');
    const unknown = keys.length === 0 ? 'true' : keys.map((name) => `${k} !== ${name}`).join(' && ');
    this.lines.push(`for (const ${k} in ${x}) if (${unknown}) return false;`);
  }

  private pipe(node: SchemaNode, x: string, path: string): void {
    if (runSource(node) !== PIPE_RUN_SOURCE) throw new UnsupportedSchemaError(path, 'a wrapped pipe');
    const [first, ...rest] = node.pipe as readonly SchemaNode[];
    if (!first) throw new UnsupportedSchemaError(path, 'empty pipe');
    this.schema(first, x, path);
    const isString = first.reference === v.string && first.pipe === undefined;
    for (const item of rest) {
      if (item.kind === 'metadata') {
        if (!METADATA_TYPES.has(item.type as string)) {
          throw new UnsupportedSchemaError(path, `unsupported metadata ${String(item.type)}`);
        }
      } else if (item.kind === 'schema') this.schema(item, x, path);
      else if (item.kind === 'validation') this.fail(this.actionFailure(item, x, path, isString));
      else throw new UnsupportedSchemaError(path, `unsupported ${String(item.kind)} ${String(item.type)}`);
    }
  }

  /** The condition under which a validation action rejects `x`. */
  private actionFailure(node: SchemaNode, x: string, path: string, isString: boolean): string {
    if (node.async !== false) throw new UnsupportedSchemaError(path, 'async action');
    expectOwnRun(node, path);
    const requirement = node.requirement;
    switch (node.reference) {
      case v.regex:
      case v.isoTimestamp: {
        // isoTimestamp's requirement is valibot's own ISO_TIMESTAMP_REGEX.
        const pattern = requirement as RegExp;
        // `test` on a global or sticky regex moves lastIndex: its verdict would depend on earlier calls.
        if (pattern.global || pattern.sticky) {
          throw new UnsupportedSchemaError(path, `stateful regex ${String(pattern)}`);
        }
        // On a string, `^[^\u0000]*$` without flags (`$` is the end of the text) holds exactly when
        // there is no NUL; searching for one is about three times as fast, and most fields ask it.
        if (isString && pattern.source === NUL_FREE_SOURCE && pattern.flags === '') {
          return `${x}.includes('\\u0000')`;
        }
        return `!${this.ref(pattern)}.test(${x})`;
      }
      case v.minLength:
        return `${x}.length < ${this.ref(requirement)}`;
      case v.maxLength:
        return `${x}.length > ${this.ref(requirement)}`;
      case v.nonEmpty:
        return `${x}.length === 0`;
      case v.integer:
        return `!Number.isInteger(${x})`;
      case v.safeInteger:
        return `!Number.isSafeInteger(${x})`;
      case v.minValue:
        return `!(${x} >= ${this.ref(requirement)})`;
      case v.maxValue:
        return `!(${x} <= ${this.ref(requirement)})`;
      case v.check:
        // Called on the action, as valibot's `this.requirement(value)`.
        return `!${this.ref(node)}.requirement(${x})`;
      default:
        throw new UnsupportedSchemaError(path, `unsupported action ${String(node.type)}`);
    }
  }

  private fail(condition: string): void {
    this.lines.push(`if (${condition}) return false;`);
  }

  /** A constant for the generated code: an expression reading it from `r`. */
  private ref(value: unknown): string {
    this.refs.push(value);
    return `r[${this.refs.length - 1}]`;
  }

  private local(prefix: string): string {
    this.locals += 1;
    return `${prefix}${this.locals}`;
  }
}

function expectOwnRun(node: SchemaNode, path: string): void {
  const expected = RUN_SOURCE.get(node.reference);
  if (expected === undefined) {
    throw new UnsupportedSchemaError(path, `unsupported ${String(node.kind)} ${String(node.type)}`);
  }
  if (runSource(node) !== expected) {
    throw new UnsupportedSchemaError(
      path,
      `${String(node.type)} wrapped in another ~run (fallback, config?)`,
    );
  }
}

function runSource(node: object): string {
  const run = (node as SchemaNode)['~run'];
  return typeof run === 'function' ? run.toString() : '';
}
