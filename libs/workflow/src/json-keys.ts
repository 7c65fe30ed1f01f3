/** A mapping key written a second time in one JSON object. */
export interface DuplicateJsonKey {
  /** The decoded key. */
  key: string;
  /** Offset of the repeated key's opening quote in the text. */
  offset: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Offset just past the string whose opening quote is at `start`. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return text.length;
    // The quote closes the string unless an odd number of backslashes precedes it.
    let slashes = 0;
    for (let j = quote - 1; text.charCodeAt(j) === BACKSLASH; j--) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/**
 * Every key repeated within one object of a JSON text that `JSON.parse` accepted (which keeps the
 * last value silently), in document order. One pass, a set of keys per open object: O(length of
 * the text). Keys compare by their decoded value (`"a"` and `"\u0061"` are the same key).
 */
export function findDuplicateJsonKeys(text: string): DuplicateJsonKey[] {
  const duplicates: DuplicateJsonKey[] = [];
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === OPEN_BRACE) open.push(new Set());
    else if (code === OPEN_BRACKET) open.push(null);
    else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) open.pop();
    else if (code === QUOTE) {
      const end = endOfString(text, i);
      const keys = open.at(-1);
      if (keys) {
        let next = end;
        while (next < text.length && isSpace(text.charCodeAt(next))) next++;
        if (text.charCodeAt(next) === COLON) {
          const raw = text.slice(i, end);
          const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
          if (keys.has(key)) duplicates.push({ key, offset: i });
          else keys.add(key);
        }
      }
      i = end - 1;
    }
  }
  return duplicates;
}
