import type { JsonValue } from '@relay/template';
import { HTTP_METHODS } from '@relay/workflow';
import { HttpRequestError, HttpStatusError, NonRetryableError } from '../errors.js';
import type { Handler } from '../types.js';
import { parseJsonOrText, withObject } from './input.js';

/** Characters of an error response's body that its message shows. */
const BODY_HEAD_CHARS = 512;
/** Bytes read of an error response's body: a UTF-16 unit takes at most 3 bytes, so this covers BODY_HEAD_CHARS and more. */
const BODY_HEAD_BYTES = 4 * BODY_HEAD_CHARS;
/** The default of RELAY_MAX_OUTPUT_BYTES, the limit of {@link httpHandler}. */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Options of {@link createHttpHandler}. */
export interface HttpHandlerOptions {
  /** Largest response body accepted (RELAY_MAX_OUTPUT_BYTES); a larger one aborts the request and fails the attempt for good. */
  maxBodyBytes: number;
}

/**
 * `http {url, method?, headers?, body?}`: fetch with the attempt's signal; a non-string body is sent
 * as JSON. Output = the response body, JSON-parsed when it is JSON. The body is streamed and the
 * request aborted as soon as it is over `maxBodyBytes` (or its Content-Length says it will be): the
 * attempt fails for good, as a shell task's stdout overflow does. A status >= 400 fails the attempt
 * with the status, its text and the body's head (only that much is read); like a request that got no
 * response (its message names the cause, e.g. `connect ECONNREFUSED ...`), it is retried while
 * attempts remain: a 404 or 401 may be a deployment or credential not in place yet. A malformed
 * `with` (an invalid URL, credentials in the URL, a bad header) fails for good. Messages show a URL
 * as origin and path only: never its user:password or query string.
 */
export function createHttpHandler(opts: HttpHandlerOptions): Handler {
  return async (input, ctx) => {
    const w = withObject(input, 'http');
    const url = parseUrl(w.url);
    const method = requestMethod(w.method);
    const headers = requestHeaders(w.headers);
    let body: string | undefined;
    if (w.body !== undefined && w.body !== null) {
      // fetch refuses it on every attempt ("Request with GET/HEAD method cannot have body").
      if (method === 'GET' || method === 'HEAD')
        throw new NonRetryableError(bodyWithoutMethodMessage(method));
      if (typeof w.body === 'string') body = w.body;
      else {
        body = JSON.stringify(w.body);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
    }
    // Origin and path only: a query string may carry credentials.
    const target = `${method} ${url.origin}${url.pathname}`;
    let response: Response;
    let head: ResponseHead;
    try {
      response = await fetch(url, { method, headers, body, signal: ctx.signal });
      head = await readResponse(response, opts.maxBodyBytes);
    } catch (err) {
      // An abort is reported by the attempt runner (timeout or cancellation), not as a network error.
      if (ctx.signal.aborted) throw err;
      throw new HttpRequestError(`${maskUrlUserinfo(describeFetchError(err))} (${target})`, { cause: err });
    }
    const { status, statusText } = response;
    if (status >= 400) {
      const isLong = head.isCut || head.text.length > BODY_HEAD_CHARS;
      const text = isLong ? `${head.text.slice(0, BODY_HEAD_CHARS)}...` : head.text;
      throw new HttpStatusError(`HTTP ${status} ${statusText} from ${target}: ${text}`, status);
    }
    if (head.isCut) {
      const size =
        head.declaredBytes === undefined
          ? 'exceeded'
          : `of ${head.declaredBytes} bytes (Content-Length) exceeds`;
      throw new NonRetryableError(
        `response body ${size} the limit of ${opts.maxBodyBytes} bytes (RELAY_MAX_OUTPUT_BYTES) from ${target}; the request was aborted`,
      );
    }
    return parseJsonOrText(head.text);
  };
}

/** Why `with.body` cannot go with `method` (GET, the default, or HEAD); the workflow check says the same. */
export function bodyWithoutMethodMessage(method: string): string {
  return `with.body: a ${method} request cannot have a body${method === 'GET' ? ' (GET is the default method)' : ''}; set with.method to POST, PUT, PATCH or DELETE`;
}

/** The http handler with RELAY_MAX_OUTPUT_BYTES's default limit (1 MiB); the worker builds its own with the configured one. */
export const httpHandler: Handler = createHttpHandler({ maxBodyBytes: DEFAULT_MAX_BODY_BYTES });

/** `with.url` as an http(s) URL without credentials; anything else fails for good. */
function parseUrl(raw: JsonValue | undefined): URL {
  if (typeof raw !== 'string') throw new NonRetryableError('with.url: expected a URL string');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new NonRetryableError(`with.url: not a valid URL: ${JSON.stringify(maskRawUserinfo(raw))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // Named only when followed by `//`: in `admin:pw@host` the "scheme" is a user name.
    const scheme = raw.startsWith(`${url.protocol}//`) ? `, not ${url.protocol}` : '';
    throw new NonRetryableError(`with.url: expected an http: or https: URL${scheme}`);
  }
  // fetch refuses them on every attempt, with a message that repeats the whole URL.
  if (url.username !== '' || url.password !== '') {
    throw new NonRetryableError(
      `with.url: credentials in the URL are not supported, pass them in with.headers (e.g. authorization): ${url.origin}${url.pathname}`,
    );
  }
  return url;
}

/**
 * `with.method`, GET when absent. The workflow check takes only these (or a reference): one that
 * resolved to anything else fails for good. Case does not matter once resolved.
 */
function requestMethod(raw: JsonValue | undefined): string {
  if (raw === undefined || raw === null) return 'GET';
  const method = typeof raw === 'string' ? raw.toUpperCase() : raw;
  if (typeof method === 'string' && (HTTP_METHODS as readonly string[]).includes(method)) return method;
  throw new NonRetryableError(
    `with.method: expected one of ${HTTP_METHODS.join(', ')} (got ${JSON.stringify(raw)})`,
  );
}

/** `with.headers` as Headers; a bad name or value fails for good, without showing the value (it may be a token). */
function requestHeaders(raw: JsonValue | undefined): Headers {
  const headers = new Headers();
  if (raw === undefined || raw === null) return headers;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new NonRetryableError('with.headers: expected a mapping of header names to strings');
  }
  for (const [name, value] of Object.entries(raw)) {
    try {
      headers.set(name, typeof value === 'string' ? value : JSON.stringify(value));
    } catch {
      throw new NonRetryableError(`with.headers.${name}: not a valid HTTP header name or value`);
    }
  }
  return headers;
}

/**
 * `http://***@host/x` for an unparseable `http://user:pa/ss@host/x`: where its authority ends is
 * unknown, so everything from `//` (or the start) to the last `@` is hidden.
 */
function maskRawUserinfo(raw: string): string {
  const at = raw.lastIndexOf('@');
  if (at === -1) return raw;
  const slashes = raw.indexOf('//');
  const start = slashes !== -1 && slashes < at ? slashes + 2 : 0;
  return `${raw.slice(0, start)}***${raw.slice(at)}`;
}

/** Hides the userinfo of serialized URLs in a message (percent-encoded there, so it holds no `/?#@`). */
function maskUrlUserinfo(text: string): string {
  return text.replace(/\/\/[^\s/?#@]*@/g, '//***@');
}

/** What was read of a response body: its text, whether more was left unread (the request aborted), the Content-Length that refused it. */
interface ResponseHead {
  text: string;
  isCut: boolean;
  declaredBytes?: number;
}

/**
 * The body of a response: for a status >= 400 only its head (the message shows no more), else up to
 * `maxBodyBytes`, refused unread when its Content-Length is larger.
 */
async function readResponse(response: Response, maxBodyBytes: number): Promise<ResponseHead> {
  if (response.status >= 400) return readBodyHead(response.body, BODY_HEAD_BYTES);
  // With a content-encoding, Content-Length counts the compressed bytes: only the stream's count holds.
  const encoding = response.headers.get('content-encoding');
  const length = response.headers.get('content-length');
  const declaredBytes = length !== null && /^\d+$/.test(length.trim()) ? Number(length) : undefined;
  if (
    (encoding === null || encoding === 'identity') &&
    declaredBytes !== undefined &&
    declaredBytes > maxBodyBytes
  ) {
    // Cancelling the body aborts the request; the body is dropped either way.
    await response.body?.cancel().catch(() => {});
    return { text: '', isCut: true, declaredBytes };
  }
  return readBodyHead(response.body, maxBodyBytes);
}

/**
 * Reads at most `maxBytes` of a body, decoding UTF-8 across chunks (malformed bytes become U+FFFD, as
 * with `response.text()`). With more to come it cancels the body, which aborts the request, and
 * returns `isCut` with the text of the bytes that fit (a character cut at the limit is dropped).
 */
export async function readBodyHead(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<{ text: string; isCut: boolean }> {
  if (body === null) return { text: '', isCut: false };
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), isCut: false };
    const room = maxBytes - bytes;
    if (value.byteLength > room) {
      text += decoder.decode(value.subarray(0, room), { stream: true });
      await reader.cancel().catch(() => {});
      return { text, isCut: true };
    }
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
  }
}

/**
 * `fetch failed: connect ECONNREFUSED 127.0.0.1:18399`: undici's TypeError with the socket or DNS
 * error it wraps as `cause` (an AggregateError with an empty message when every address of a host
 * refused, so its members are listed).
 */
export function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = causeText(err.cause);
  return cause && cause !== err.message ? `${err.message}: ${cause}` : err.message || err.name;
}

function causeText(cause: unknown): string {
  if (cause instanceof AggregateError && !cause.message) {
    return [...new Set(cause.errors.map((e) => causeText(e)).filter((t) => t !== ''))].join('; ');
  }
  if (cause instanceof Error) return cause.message || (cause as NodeJS.ErrnoException).code || cause.name;
  return cause === undefined || cause === null ? '' : String(cause);
}
