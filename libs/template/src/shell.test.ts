// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} templates are the subject under test
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TemplateSyntaxError } from './errors.js';
import type { JsonValue } from './json.js';
import { resolveTemplates, validateShellTemplate } from './resolve.js';
import { quoteShellWord } from './shell.js';

/**
 * A pure model of how POSIX sh splits a simple command into words. It accepts only inert text:
 * any character that would make the shell do something (operators, expansions, globs, comments,
 * tildes, braces, newlines outside quotes; `$` or a backtick inside double quotes) throws. So a
 * command that parses here runs exactly the words returned, with no expansion.
 */
function parseShellWords(command: string): string[] {
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

const shell = (command: string, input: JsonValue) =>
  resolveTemplates(command, { input, tasks: {} }, { quote: 'shell', at: 'with.command' });

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

describe('quoteShellWord', () => {
  it.each([
    ['x; rm -rf ~', `'x; rm -rf ~'`],
    ['', `''`],
    ["it's", `'it'\\''s'`],
    ["'", `''\\'''`],
    ['$(id) `id` "q" \\n', `'$(id) \`id\` "q" \\n'`],
  ])('%j -> %s', (text, quoted) => {
    expect(quoteShellWord(text)).toBe(quoted);
    expect(parseShellWords(quoted)).toEqual([text]);
  });
});

describe('resolveTemplates with quote: shell', () => {
  it.each<[string, JsonValue, string]>([
    ['echo ${{ input.v }}', 'x; rm -rf ~', `echo 'x; rm -rf ~'`],
    ['echo ${{ input.v }}', "it's", `echo 'it'\\''s'`],
    ['${{ input.v }}', 'rm -rf ~', `'rm -rf ~'`],
    ['echo ${{ input.v }}', 42, `echo '42'`],
    ['echo ${{ input.v }}', { a: [1, "'"] }, `echo '{"a":[1,"'\\''"]}'`],
    ['echo "id: ${{ input.v }}!"', '$(id)', `echo "id: "'$(id)'"!"`],
    [`echo 'id: \${{ input.v }}!'`, '$(id)', `echo 'id: ''$(id)''!'`],
    ['echo a${{ input.v }}b', ' ', `echo a' 'b`],
    ['# note\necho ${{ input.v }}', 'x', `# note\necho 'x'`],
    [`echo "it's" \${{ input.v }}`, 'x', `echo "it's" 'x'`],
    ['echo \\" ${{ input.v }}', 'x', `echo \\" 'x'`],
    ['echo $(date) ${{ input.v }} $$ ${X:-y}', 'x', `echo $(date) 'x' $$ \${X:-y}`],
    ['echo "$(echo ")") ${{ input.v }}"', 'x', `echo "$(echo ")") "'x'""`],
    ['echo `date` ${{ input.v }}', 'x', `echo \`date\` 'x'`],
    ['echo $((1 + (2))) ${{ input.v }}', 'x', `echo $((1 + (2))) 'x'`],
    ['echo a#b ${{ input.v }}', 'x', `echo a#b 'x'`],
    [`echo \\$\${{ input.v }}`, 'x', `echo \\$'x'`],
  ])('%j with %j', (command, value, expected) => {
    expect(shell(command, { v: value })).toBe(expected);
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
    ['after a case statement inside $(...)', 'echo "$(case a in a) echo;; esac) ${{ input.v }}"'],
  ])('rejects a reference %s: %j', (why, command) => {
    const run = () => validateShellTemplate(command, 'tasks.t.with.command');
    expect(run).toThrow(TemplateSyntaxError);
    expect(run).toThrow(`tasks.t.with.command: \${{ input.v }} cannot be used ${why} in a shell command`);
    expect(() => shell(command, { v: 'x' })).toThrow(TemplateSyntaxError);
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
        expect(parseShellWords(shell('echo ${{ input.v }}', { v }) as string)).toEqual(['echo', v]);
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
        expect(parseShellWords(shell(command, input) as string)).toEqual([
          'printf',
          `a${text(v)}b`,
          `c ${w} d`,
          `e ${text(v)}`,
          w,
        ]);
      }),
      { numRuns: 500 },
    );
  });
});
