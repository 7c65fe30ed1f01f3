/**
 * Where JSON text first breaks the grammar (RFC 8259), as an offset; undefined when it is valid JSON.
 * For the message of a text JSON.parse refused: V8 gives a position for some errors only ("Unexpected
 * token 'o', ... is not valid JSON" has none). Iterative, so any nesting depth is safe.
 */
export function jsonSyntaxErrorOffset(text: string): number | undefined {
  const n = text.length;
  let i = 0;
  // Open containers: true for an object, false for an array.
  const open: boolean[] = [];
  // What may come next: a value, a key, either first one or the close of an empty container, or what
  // follows a complete value (a comma, a close, or the end).
  let expect: 'value' | 'key' | 'first-value' | 'first-key' | 'after' = 'value';
  const skipSpace = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i += 1;
  };
  for (;;) {
    skipSpace();
    if (expect === 'after') {
      if (open.length === 0) return i < n ? i : undefined;
      const isObject = open[open.length - 1];
      if (text[i] === ',') {
        i += 1;
        expect = isObject ? 'key' : 'value';
      } else if (text[i] === (isObject ? '}' : ']')) {
        i += 1;
        open.pop();
      } else return i;
      continue;
    }
    if (i >= n) return i;
    const c = text[i];
    if ((expect === 'first-value' && c === ']') || (expect === 'first-key' && c === '}')) {
      i += 1;
      open.pop();
      expect = 'after';
      continue;
    }
    if (expect === 'key' || expect === 'first-key') {
      if (c !== '"') return i;
      const end = stringEnd(text, i);
      if (end.error !== undefined) return end.error;
      i = end.next;
      skipSpace();
      if (text[i] !== ':') return i;
      i += 1;
      expect = 'value';
      continue;
    }
    if (c === '{' || c === '[') {
      open.push(c === '{');
      i += 1;
      expect = c === '{' ? 'first-key' : 'first-value';
      continue;
    }
    if (c === '"') {
      const end = stringEnd(text, i);
      if (end.error !== undefined) return end.error;
      i = end.next;
    } else {
      LITERAL.lastIndex = i;
      if (!LITERAL.test(text)) return i;
      i = LITERAL.lastIndex;
    }
    expect = 'after';
  }
}

const LITERAL = /true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

/** The offset after the string opening at `start`, or where it breaks (a control character, a bad escape, the end). */
function stringEnd(text: string, start: number): { next: number; error?: undefined } | { error: number } {
  for (let i = start + 1; i < text.length; ) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return { next: i + 1 };
    if (code < 0x20) return { error: i };
    if (code === 0x5c) {
      ESCAPE.lastIndex = i;
      if (!ESCAPE.test(text)) return { error: i };
      i = ESCAPE.lastIndex;
    } else i += 1;
  }
  return { error: text.length };
}

/** Where JSON text first breaks the grammar, as a 1-based line and column; undefined when it is valid. */
export function jsonSyntaxErrorPosition(text: string): { line: number; column: number } | undefined {
  const offset = jsonSyntaxErrorOffset(text);
  if (offset === undefined) return undefined;
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}
