import { HttpStatusError, NonRetryableError } from '../errors.js';
import type { Handler } from '../types.js';
import { parseJsonOrText, withObject } from './input.js';

const BODY_HEAD_CHARS = 512;

/**
 * `http {url, method?, headers?, body?}`: fetch with the attempt's signal; a non-string body is sent
 * as JSON. Output = the response body, JSON-parsed when it is JSON. A status >= 400 fails the
 * attempt with the status and the body's head: retryable for 408, 429 and 5xx, permanent for other 4xx.
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
  const response = await fetch(url, { method, headers, body, signal: ctx.signal });
  const text = await response.text();
  if (response.status >= 400) {
    const head = text.length > BODY_HEAD_CHARS ? `${text.slice(0, BODY_HEAD_CHARS)}...` : text;
    const message = `HTTP ${response.status} ${response.statusText} from ${method} ${url.origin}${url.pathname}: ${head}`;
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    throw retryable ? new HttpStatusError(message, response.status) : new NonRetryableError(message);
  }
  return parseJsonOrText(text);
};
