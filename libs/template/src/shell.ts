import { TemplateSyntaxError } from './errors.js';
import type { Segment } from './parse.js';

/** Quoting context of a reference in a shell command, as the shell's lexer sees it. */
export type ShellContext = 'plain' | 'double' | 'single';

/** Prefix of the environment variables that carry a shell command's references (`RELAY_REF_0`, ...). */
export const SHELL_REF_PREFIX = 'RELAY_REF_';

/**
 * The expansion of variable `name` as one word at a position whose context is `context`: `"${N}"`
 * in plain text, `${N}` inside "...", and `'"${N}"'` inside '...' (the quote closed and reopened).
 * The value never passes through the shell's parser, only through parameter expansion: if the
 * context was misjudged, the worst outcome is word splitting or a literal `${N}`, never a command.
 */
export function expandShellVariableIn(context: ShellContext, name: string): string {
  const expansion = `\${${name}}`;
  if (context === 'double') return expansion;
  if (context === 'single') return `'"${expansion}"'`;
  return `"${expansion}"`;
}

type Quote = 'none' | 'double' | 'single';
type FrameKind = 'top' | 'command' | 'param' | 'arith' | 'backtick';
interface Frame {
  kind: FrameKind;
  quote: Quote;
  parens: number;
  /** Unquoted text seen in this frame, to spot `case` (whose `x)` patterns break paren counting). */
  words: string;
}

const CASE_RE = /(?:^|[\s;&|(])case\s/;

const TOKEN_BREAK = new Set([' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>']);
const HINT = 'pass the value through with.env and use "$NAME" instead';

/**
 * Finds the shell context of every reference of a parsed template and rejects positions where
 * a quoted word would not stay one inert word: inside `$(...)`, backticks, `${...}`, `$((...))`,
 * a comment, a here-document, right after a backslash or right after `$`.
 * The scanner follows POSIX `sh` quoting (plus bash's `$'...'`, which is why `$` is refused).
 * @throws TemplateSyntaxError naming the reference and why.
 */
export function findShellContexts(segments: readonly Segment[], at = ''): ShellContext[] {
  const contexts: ShellContext[] = [];
  const stack: Frame[] = [newFrame('top')];
  let escaped = false; // the previous character was an unescaped backslash
  let comment = false;
  let heredoc = false;
  let prev = ''; // previous character of the current frame's unquoted text ('' = token start)
  let prevDollar = false; // the previous character was an unescaped, unquoted-or-double `$`
  let unsure = false; // a `case` inside $(...), or a lone `)` in $((...)): nothing after is trusted

  const frame = (): Frame => stack[stack.length - 1] as Frame;

  for (const seg of segments) {
    if (seg.kind === 'ref') {
      const f = frame();
      const reject = (why: string): never => {
        throw new TemplateSyntaxError(
          `${seg.raw} cannot be used ${why} in a shell command; ${HINT}`,
          seg.raw,
          at,
        );
      };
      if (comment) reject('inside a comment');
      if (heredoc) reject('after a here-document (<<)');
      if (escaped) reject('right after a backslash');
      if (prevDollar) reject('right after $');
      if (unsure) reject('after a case statement inside $(...) or a lone ) inside $((...))');
      if (stack.length > 1) {
        const where = { command: 'inside $(...)', param: 'inside $' + '{...}', arith: 'inside $((...))' };
        reject(f.kind === 'backtick' ? 'inside backticks' : where[f.kind as keyof typeof where]);
      }
      contexts.push(f.quote === 'none' ? 'plain' : f.quote);
      prev = 'x';
      continue;
    }
    const text = seg.text;
    for (let i = 0; i < text.length; i++) {
      const c = text[i] as string;
      const next = text[i + 1];
      const f = frame();
      const wasDollar: boolean = prevDollar;
      prevDollar = false;
      if (comment) {
        if (c === '\n') {
          comment = false;
          prev = '';
        }
        continue;
      }
      if (escaped) {
        escaped = false;
        prev = 'x';
        continue;
      }
      if (f.quote === 'single') {
        if (c === "'") f.quote = 'none';
        continue;
      }
      if (c === '\\') {
        escaped = true;
        continue;
      }
      if (c === '$' && next === '(' && text[i + 2] === '(') {
        stack.push(newFrame('arith'));
        i += 2;
        prev = '';
        continue;
      }
      if (c === '$' && next === '(') {
        stack.push(newFrame('command'));
        i += 1;
        prev = '';
        continue;
      }
      if (c === '$' && next === '{') {
        stack.push(newFrame('param'));
        i += 1;
        prev = '';
        continue;
      }
      if (c === '`') {
        if (f.kind === 'backtick') unsure = popFrame(stack) || unsure;
        else stack.push(newFrame('backtick'));
        prev = 'x';
        continue;
      }
      if (c === '$') {
        prevDollar = !wasDollar; // `$$` is the PID, a complete expansion
        prev = 'x';
        continue;
      }
      if (f.quote === 'double') {
        if (c === '"') f.quote = 'none';
        continue;
      }
      // Unquoted text of the current frame.
      f.words += c;
      if (c === "'") f.quote = 'single';
      else if (c === '"') f.quote = 'double';
      else if (
        c === '#' &&
        f.kind !== 'param' &&
        f.kind !== 'arith' &&
        (prev === '' || TOKEN_BREAK.has(prev))
      ) {
        // `${#x}` is x's length and `$((x#y))` arithmetic, not comments.
        comment = true;
        continue;
      } else if (c === '<' && next === '<') heredoc = true;
      else if (f.kind === 'command' || f.kind === 'arith') {
        if (c === '(') f.parens += 1;
        else if (c === ')') {
          if (f.parens > 0) f.parens -= 1;
          else {
            if (f.kind === 'arith') {
              // `$((1)+ x ))`: a lone `)` ends nothing a shell agrees on (dash reads on as
              // arithmetic): nothing after it is trusted.
              if (next !== ')') unsure = true;
              i += 1; // the second `)` of `))`
            }
            unsure = popFrame(stack) || unsure;
            prev = 'x';
            continue;
          }
        }
      } else if (f.kind === 'param' && c === '}') {
        popFrame(stack);
        prev = 'x';
        continue;
      }
      prev = c;
    }
  }
  return contexts;
}

function newFrame(kind: FrameKind): Frame {
  return { kind, quote: 'none', parens: 0, words: '' };
}

/** Pops the innermost frame; true when it held a `case` statement (paren counting unreliable). */
function popFrame(stack: Frame[]): boolean {
  const frame = stack.pop() as Frame;
  return CASE_RE.test(frame.words);
}
