import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { UnauthorizedError } from '../errors.js';

const OPEN_PATHS = new Set(['/healthz', '/readyz']);

// Comparing fixed-length digests keeps the comparison constant-time whatever the presented length.
const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Requires `Authorization: Bearer <token>` on every path but /healthz and /readyz when a token is
 * configured; does nothing when it is not.
 */
export function requireBearerToken(token: string | undefined): MiddlewareHandler {
  const expected = token === undefined ? undefined : digest(token);
  return async (c, next) => {
    if (expected === undefined || OPEN_PATHS.has(c.req.path)) return next();
    const header = c.req.header('authorization');
    if (header === undefined || header.trim() === '') {
      throw new UnauthorizedError('missing bearer token (Authorization: Bearer <token>)');
    }
    const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) {
      // Which part is wrong, never the header's value (it may be a credential).
      const scheme = /^\S+/.exec(header)?.[0] ?? '';
      throw new UnauthorizedError(
        scheme.toLowerCase() === 'bearer'
          ? 'malformed bearer token: expected one token without spaces (Authorization: Bearer <token>)'
          : `unsupported authorization scheme ${JSON.stringify(scheme.slice(0, 20))}; expected Authorization: Bearer <token>`,
      );
    }
    if (!timingSafeEqual(digest(match[1]), expected)) throw new UnauthorizedError('invalid bearer token');
    return next();
  };
}
