// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} templates are the subject under test
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TemplateSyntaxError } from './errors.js';
import type { JsonValue } from './json.js';
import { resolveShellCommand, validateShellTemplate } from './resolve.js';

/**
 * A pure model of how POSIX sh splits a simple command into words. It accepts only inert text:
 * any character that would make the shell do something (operators, expansions, globs, comments,
 * tildes, braces, newlines outside quotes; `$` or a backtick inside double quotes) throws, but for
 * `${RELAY_REF_<n>}` inside double quotes, which reads `env`. So a command that parses here runs
 * exactly the words returned, with no other expansion.
 */
function parseShellWords(command: string, env: Record<string, string> = {}): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`${why} at ${i} in ${JSON.stringify(command)}`);
  };
  while (i < command.length) {
    const c = command[i] as string;
    if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end === -1) fail('unterminated single quote');
      word = (word ?? '') + command.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      word ??= '';
      i++;
      for (;;) {
        const d = command[i];
        if (d === undefined) fail('unterminated double quote');
        if (d === '"') break;
        const variable = /^\$\{(RELAY_REF_\d+)\}/.exec(command.slice(i))?.[1];
        if (variable !== undefined) {
          // The one expansion the model allows: a reference's variable, inside double quotes.
          if (!Object.hasOwn(env, variable)) fail(`unset ${variable}`);
          word += env[variable];
          i += variable.length + 3;
          continue;
        }
        if (d === '$' || d === '`') fail('expansion inside double quotes');
        if (d === '\\' && '$`"\\\n'.includes(command[i + 1] ?? '')) {
          word += command[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= command.length || command[i + 1] === '\n') fail('dangling backslash');
      word = (word ?? '') + command[i + 1];
      i += 2;
    } else if (';&|<>()$`\n*?[]{}'.includes(c) || ((c === '#' || c === '~') && word === null)) {
      fail(`active character ${JSON.stringify(c)}`);
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

const resolve = (command: string, input: JsonValue) =>
  resolveShellCommand(command, { input, tasks: {} }, 'with.command');
/** The words the shell would run for `command` with `input`, per the model. */
const shellWords = (command: string, input: JsonValue) => {
  const { command: text, env } = resolve(command, input);
  return parseShellWords(text, env);
};

describe('parseShellWords (the model used below)', () => {
  it.each([
    ['echo a  b', ['echo', 'a', 'b']],
    [`echo 'a b'"c d"e\\ f`, ['echo', 'a bc de f']],
    [`echo '' ""`, ['echo', '', '']],
    [`echo "a\\"b\\\\c\\d"`, ['echo', 'a"b\\c\\d']],
  ])('splits %j', (command, words) => {
    expect(parseShellWords(command)).toEqual(words);
  });

  it.each([
    'echo a; rm',
    'echo $x',
    'echo "$x"',
    'echo `id`',
    'a | b',
    'echo ~',
    'echo #c',
    'ls *',
    "echo 'a",
  ])('refuses active text %j', (command) => {
    expect(() => parseShellWords(command)).toThrow();
  });
});

describe('resolveShellCommand', () => {
  it.each<[string, JsonValue, string]>([
    ['echo ${{ input.v }}', 'x; rm -rf ~', 'echo "${RELAY_REF_0}"'],
    ['${{ input.v }}', 'rm -rf ~', '"${RELAY_REF_0}"'],
    ['echo "id: ${{ input.v }}!"', '$(id)', 'echo "id: ${RELAY_REF_0}!"'],
    [`echo 'id: \${{ input.v }}!'`, '$(id)', `echo 'id: '"\${RELAY_REF_0}"'!'`],
    ['echo a${{ input.v }}b ${{ input.v }}', ' ', 'echo a"${RELAY_REF_0}"b "${RELAY_REF_1}"'],
    ['# note\necho ${{ input.v }}', 'x', '# note\necho "${RELAY_REF_0}"'],
    ['echo $(date) ${{ input.v }} $$ ${X:-y}', 'x', 'echo $(date) "${RELAY_REF_0}" $$ ${X:-y}'],
    ['echo "$(echo ")") ${{ input.v }}"', 'x', 'echo "$(echo ")") ${RELAY_REF_0}"'],
    ['echo `date` ${{ input.v }}', 'x', 'echo `date` "${RELAY_REF_0}"'],
    ['echo $((1 + (2))) ${{ input.v }}', 'x', 'echo $((1 + (2))) "${RELAY_REF_0}"'],
    ['n=${#X}; echo ${{ input.v }}', 'x', 'n=${#X}; echo "${RELAY_REF_0}"'],
    [`echo \\$\${{ input.v }}`, 'x', 'echo \\$"${RELAY_REF_0}"'],
  ])('%j with %j', (command, value, expected) => {
    const resolved = resolve(command, { v: value });
    expect(resolved.command).toBe(expected);
    expect(
      Object.values(resolved.env).every(
        (v) => v === (typeof value === 'string' ? value : JSON.stringify(value)),
      ),
    ).toBe(true);
  });

  it('passes values as text: strings as they are, other values as JSON', () => {
    expect(
      resolve('echo ${{ input.a }} ${{ input.b }} ${{ input.c }}', { a: 'x', b: 42, c: { k: [1] } }).env,
    ).toEqual({
      RELAY_REF_0: 'x',
      RELAY_REF_1: '42',
      RELAY_REF_2: '{"k":[1]}',
    });
  });

  it.each([
    ['inside $(...)', 'echo $(echo ${{ input.v }})'],
    ['inside $(...)', 'echo "$(echo "${{ input.v }}")"'],
    ['inside backticks', 'echo `echo ${{ input.v }}`'],
    ['inside ${...}', 'echo ${X:-${{ input.v }}}'],
    ['inside $((...))', 'echo $(( ${{ input.v }} + 1 ))'],
    ['inside a comment', 'echo ok # ${{ input.v }}'],
    ['inside a comment', "# don't\n# ${{ input.v }}"],
    ['after a here-document (<<)', 'cat <<EOF\n${{ input.v }}\nEOF'],
    ['right after a backslash', 'echo \\${{ input.v }}'],
    ['right after a backslash', 'echo "\\${{ input.v }}"'],
    ['right after $', 'echo $${{ input.v }}'],
    ['right after $', 'echo "$${{ input.v }}"'],
    [
      'after a case statement inside $(...) or a lone ) inside $((...))',
      'echo "$(case a in a) echo;; esac) ${{ input.v }}"',
    ],
    ['after a case statement inside $(...) or a lone ) inside $((...))', 'echo $((1)+ ${{ input.v }} ))'],
    ['inside ${...}', 'n=${#X}; echo ${X:-${{ input.v }}}'],
  ])('rejects a reference %s: %j', (why, command) => {
    const run = () => validateShellTemplate(command, 'tasks.t.with.command');
    expect(run).toThrow(TemplateSyntaxError);
    expect(run).toThrow(`tasks.t.with.command: \${{ input.v }} cannot be used ${why} in a shell command`);
    expect(() => resolve(command, { v: 'x' })).toThrow(TemplateSyntaxError);
  });

  it('accepts references in safe positions', () => {
    expect(() =>
      validateShellTemplate('echo "${{ input.a }}" \'${{ input.b }}\' ${{ input.c }}'),
    ).not.toThrow();
    expect(() => validateShellTemplate('echo no templates $(x) `y`')).not.toThrow();
  });

  const anyText = fc.string({ unit: 'binary', maxLength: 40 });
  const jsonish = fc.oneof(anyText, fc.integer(), fc.boolean(), fc.constant(null), fc.array(anyText));

  it('makes any input value exactly one inert word (property)', () => {
    fc.assert(
      fc.property(anyText, (v) => {
        expect(shellWords('echo ${{ input.v }}', { v })).toEqual(['echo', v]);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps values inert inside double and single quotes and next to text (property)', () => {
    fc.assert(
      fc.property(jsonish, anyText, (v, w) => {
        const text = (x: JsonValue) => (typeof x === 'string' ? x : JSON.stringify(x));
        const input = { v, w };
        const command = `printf a\${{ input.v }}b "c \${{ input.w }} d" 'e \${{ input.v }}' \${{ input.w }}`;
        expect(shellWords(command, input)).toEqual(['printf', `a${text(v)}b`, `c ${w} d`, `e ${text(v)}`, w]);
      }),
      { numRuns: 500 },
    );
  });
});
