import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { MiddlewareHandler } from 'hono';

const gzip = promisify(gzipCallback);

/** Bodies smaller than this go out as they are: gzip would save a few bytes for its CPU. */
export const COMPRESS_MIN_BYTES = 1024;

const COMPRESSIBLE = /^(application\/json|text\/)/i;

/** Whether `header` (Accept-Encoding) accepts gzip: listed, or `*`, with a q above 0. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let wildcard = false;
  for (const part of header.split(',')) {
    const [rawName = '', ...params] = part.trim().toLowerCase().split(';');
    const name = rawName.trim();
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    const accepted = Number.isFinite(weight) && weight > 0;
    if (name === 'gzip' || name === 'x-gzip') return accepted;
    if (name === '*') wildcard = accepted;
  }
  return wildcard;
}

/**
 * Gzips JSON and text answers of at least COMPRESS_MIN_BYTES for a client that accepts gzip (a
 * 20,000-task run's GET /runs/:id is ~3 MB of JSON, 17x smaller gzipped). hono's own `compress` cannot
 * judge the size of `c.json()` answers, which carry no Content-Length, so it would gzip every 40-byte
 * 201 too. The body is read once (it is an in-memory string already) and zipped on libuv's pool.
 */
export function compressLargeResponses(minBytes = COMPRESS_MIN_BYTES): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const res = c.res;
    if (c.req.method === 'HEAD' || !res.body || res.headers.has('Content-Encoding')) return;
    if (!COMPRESSIBLE.test(res.headers.get('Content-Type') ?? '')) return;
    const vary = res.headers.get('Vary');
    if (!vary) res.headers.set('Vary', 'Accept-Encoding');
    else if (!/(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(vary))
      res.headers.set('Vary', `${vary}, Accept-Encoding`);
    if (!acceptsGzip(c.req.header('Accept-Encoding'))) return;
    const body = Buffer.from(await res.arrayBuffer());
    const headers = new Headers(res.headers);
    // Cleared first: assigning over a response makes hono copy the old one's headers onto the new.
    c.res = undefined;
    if (body.length < minBytes) {
      c.res = new Response(body, { status: res.status, headers });
      return;
    }
    const zipped = await gzip(body);
    headers.set('Content-Encoding', 'gzip');
    headers.set('Content-Length', String(zipped.length));
    c.res = new Response(zipped, { status: res.status, headers });
  };
}
