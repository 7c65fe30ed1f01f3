import { HttpRequestError, HttpStatusError, NonRetryableError } from '../errors.js';
import type { Handler } from '../types.js';
import { parseJsonOrText, withObject } from './input.js';

const BODY_HEAD_CHARS = 512;

/**
 * `http {url, method?, headers?, body?}`: fetch with the attempt's signal; a non-string body is sent
 * as JSON. Output = the response body, JSON-parsed when it is JSON. A status >= 400 fails the attempt
 * with the status, its text and the body's head; like a request that got no response (its message
 * names the cause, e.g. `connect ECONNREFUSED ...`), it is retried while attempts remain: a 404 or 401
 * may be a deployment or credential not in place yet. Only a malformed `with` fails for good.
 */
export const httpHandler: Handler = async (input, ctx) => {
  const w = withObject(input, 'http');
  if (typeof w.url !== 'string') throw new NonRetryableError('with.url: expected a URL string');
  let url: URL;
  try {
    url = new URL(w.url);
  } catch {
    throw new NonRetryableError(`with.url: not a valid URL: ${JSON.stringify(w.url)}`);
  }
  const method = typeof w.method === 'string' ? w.method.toUpperCase() : 'GET';
  const headers = new Headers();
  if (w.headers !== undefined && w.headers !== null) {
    if (typeof w.headers !== 'object' || Array.isArray(w.headers)) {
      throw new NonRetryableError('with.headers: expected a mapping of header names to strings');
    }
    for (const [name, value] of Object.entries(w.headers)) {
      headers.set(name, typeof value === 'string' ? value : JSON.stringify(value));
    }
  }
  let body: string | undefined;
  if (w.body !== undefined && w.body !== null) {
    if (typeof w.body === 'string') body = w.body;
    else {
      body = JSON.stringify(w.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
  }
  // Origin and path only: a query string may carry credentials.
  const target = `${method} ${url.origin}${url.pathname}`;
  let status: number;
  let statusText: string;
  let text: string;
  try {
    const response = await fetch(url, { method, headers, body, signal: ctx.signal });
    ({ status, statusText } = response);
    text = await response.text();
  } catch (err) {
    // An abort is reported by the attempt runner (timeout or cancellation), not as a network error.
    if (ctx.signal.aborted) throw err;
    throw new HttpRequestError(`${describeFetchError(err)} (${target})`, { cause: err });
  }
  if (status >= 400) {
    const head = text.length > BODY_HEAD_CHARS ? `${text.slice(0, BODY_HEAD_CHARS)}...` : text;
    throw new HttpStatusError(`HTTP ${status} ${statusText} from ${target}: ${head}`, status);
  }
  return parseJsonOrText(text);
};

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
