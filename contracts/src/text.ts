/** The length in bytes of `text` encoded as UTF-8 (no allocation). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

const TRUNCATED = '…';

const LONE_SURROGATE_OR_NUL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching U+0000 is the point.
  /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Makes arbitrary text (an exception message, a stderr tail) fit an event's text field: NUL bytes and
 * lone surrogates become U+FFFD and text longer than `maxLength` keeps its head and ends with `…`. Producers call
 * it before `createEnvelope`, e.g. `sanitizeText(String(err), MAX_ERROR_LENGTH)`.
 */
export function sanitizeText(text: string, maxLength: number): string {
  // NUL and lone surrogates become U+FFFD: Postgres text cannot hold NUL, and a lone surrogate has no
  // UTF-8 form (JSON.stringify keeps it as a \udXXX escape, which jsonb refuses).
  const clean = text.replace(LONE_SURROGATE_OR_NUL, '\uFFFD');
  if (clean.length <= maxLength) return clean;
  let head = clean.slice(0, Math.max(0, maxLength - TRUNCATED.length));
  // Never cut a surrogate pair in half: a lone surrogate is not valid UTF-8.
  const last = head.charCodeAt(head.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1);
  return head + TRUNCATED;
}
