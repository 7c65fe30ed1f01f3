import { IncomingMessage } from 'node:http';
import { findUnstorableJson, formatDocPath, jsonSyntaxErrorPosition } from '@relay/workflow';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import * as v from 'valibot';
import {
  type Issue,
  PayloadTooLargeError,
  UnsupportedCharsetError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../errors.js';

/** Content types POST /workflows accepts, and the parser format each one means. */
export const WORKFLOW_MEDIA_TYPES = {
  'application/yaml': 'yaml',
  'application/x-yaml': 'yaml',
  'text/yaml': 'yaml',
  'application/json': 'json',
} as const;

const JSON_MEDIA_TYPES = ['application/json'] as const;

// Body text read by limitBody from the Node request, by the request it came with.
const bodyTexts = new WeakMap<Request, string>();

/**
 * Refuses a body over `maxBytes` with 413, whether it declares its length or is chunked. Under
 * @hono/node-server it reads the body straight from the Node request and keeps its text for the readers
 * below: hono's bodyLimit and `c.req.text()` would first build the full web Request (Headers,
 * AbortController, a web stream over the socket), measured at a fifth to a third of ingest's CPU per
 * POST /workflows/:id/runs. Without a Node request (app.request() in tests) hono's bodyLimit does it.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const limitWebRequest = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new PayloadTooLargeError(maxBytes);
    },
  });
  return async (c, next) => {
    const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
    if (!(incoming instanceof IncomingMessage)) return limitWebRequest(c, next);
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const declared = incoming.headers['content-length'];
    if (declared !== undefined && incoming.headers['transfer-encoding'] === undefined) {
      if (Number.parseInt(declared, 10) > maxBytes) throw new PayloadTooLargeError(maxBytes);
    }
    bodyTexts.set(c.req.raw, await readIncomingText(incoming, maxBytes));
    return next();
  };
}

// The whole body as UTF-8 (a leading BOM dropped, as Request.text() does); 413 past maxBytes, 400 when
// it is not UTF-8. Listeners, not `for await`: leaving the async iterator early would destroy the
// socket before the 413 is written.
function readIncomingText(incoming: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // Nothing reads the body before this middleware; a consumed stream would never end again.
    if (incoming.readableEnded || incoming.destroyed) {
      reject(new Error('request body was already consumed'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        stop();
        incoming.resume(); // discard the rest
        reject(new PayloadTooLargeError(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      try {
        resolve(decodeUtf8(Buffer.concat(chunks, size)));
      } catch (err) {
        reject(err);
      }
    };
    const onError = (err: Error) => {
      stop();
      reject(err);
    };
    const onClose = () => onError(new Error('request closed before its body was read'));
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/** The request body's text: as limitBody read it, else from the web Request. */
async function bodyTextOf(c: Context): Promise<string> {
  const text = bodyTexts.get(c.req.raw);
  return text === undefined ? decodeUtf8(new Uint8Array(await c.req.arrayBuffer())) : text;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `bytes` as UTF-8 text; 400 saying where it breaks instead of turning bad bytes into U+FFFD unseen. */
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const where = at < bytes.length ? `at byte ${at}` : 'it ends inside a character';
    const message = `not valid UTF-8 (${where}); send the body as UTF-8`;
    throw new ValidationError(`body is ${message}`, [{ path: '(body)', message }]);
  }
}

/**
 * The offset of the first bad byte sequence of `bytes`: the longest prefix with no invalid sequence,
 * by bisection (streaming decodes allow a cut inside a character, so "prefix is clean" only turns false
 * once), backed up to the first byte of a character it cuts.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let low = 0;
  let high = bytes.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      low = mid;
    } catch {
      high = mid - 1;
    }
  }
  if (low === bytes.length) return low;
  // The clean prefix may end inside the character that the next byte breaks: point at its first byte.
  let start = low;
  while (start > 0 && low - start < 3 && ((bytes[start - 1] ?? 0) & 0xc0) === 0x80) start--;
  if (start > 0 && (bytes[start - 1] ?? 0) >= 0xc0) return start - 1;
  return low;
}

/** The media type of a Content-Type header, lower-cased and without parameters. */
export function mediaTypeOf(header: string | undefined): string | undefined {
  const type = header?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

/**
 * 415 when a Content-Type header names a charset other than UTF-8 (or its subset US-ASCII): bodies are
 * read as UTF-8, and a latin-1 body read so would store other characters than were sent.
 */
function requireUtf8Charset(header: string | undefined): void {
  for (const parameter of header?.split(';').slice(1) ?? []) {
    const [name, value] = parameter.split('=', 2).map((part) => part.trim());
    if (name?.toLowerCase() !== 'charset' || value === undefined) continue;
    const charset = value.replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
      throw new UnsupportedCharsetError(charset);
    }
  }
}

/** The workflow document's text and format; 415 for any other content type. */
export async function readWorkflowBody(c: Context): Promise<{ text: string; format: 'yaml' | 'json' }> {
  const mediaType = mediaTypeOf(c.req.header('content-type'));
  const format =
    mediaType !== undefined && Object.hasOwn(WORKFLOW_MEDIA_TYPES, mediaType)
      ? WORKFLOW_MEDIA_TYPES[mediaType as keyof typeof WORKFLOW_MEDIA_TYPES]
      : undefined;
  if (format === undefined) throw new UnsupportedMediaTypeError(mediaType, Object.keys(WORKFLOW_MEDIA_TYPES));
  requireUtf8Charset(c.req.header('content-type'));
  return { text: await bodyTextOf(c), format };
}

/**
 * A JSON body validated against `schema`: an empty body counts as `{}` whatever its content type; a
 * non-empty one must be application/json (415 otherwise) and valid JSON matching the schema (400 listing
 * every issue by path).
 */
export async function readJsonBody<TSchema extends v.GenericSchema>(
  c: Context,
  schema: TSchema,
): Promise<v.InferOutput<TSchema>> {
  const text = await bodyTextOf(c);
  let value: unknown = {};
  if (text.trim() !== '') {
    const mediaType = mediaTypeOf(c.req.header('content-type'));
    if (mediaType !== 'application/json' && !mediaType?.endsWith('+json')) {
      throw new UnsupportedMediaTypeError(mediaType, JSON_MEDIA_TYPES);
    }
    requireUtf8Charset(c.req.header('content-type'));
    try {
      value = JSON.parse(text);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const at = jsonSyntaxErrorPosition(text);
      const where = at ? ` (line ${at.line}, column ${at.column})` : '';
      throw new ValidationError(`body is not valid JSON: ${reason}${where}`, [
        { path: '(body)', message: reason, ...at },
      ]);
    }
  }
  // Every JSON body of the API is an object; valibot's object schemas would take an array too.
  if (!isJsonObject(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
    const message = `must be a JSON object (got ${got})`;
    throw new ValidationError(`invalid body: ${message}`, [{ path: '(body)', message }]);
  }
  // Before validation walks it (see MAX_JSON_DEPTH), and before Postgres refuses it with a 500.
  const unstorable = findUnstorableJson(value);
  if (unstorable) {
    const path = formatDocPath(unstorable.path) || '(body)';
    throw new ValidationError(`invalid body: ${path}: ${unstorable.message}`, [
      { path, message: unstorable.message },
    ]);
  }
  return validate(schema, value, 'body');
}

/**
 * valibot's default message of an issue (`Invalid key: Expected never but received "inpt"`), said as
 * this API says it elsewhere; a schema's own message is kept.
 */
function messageOf(issue: v.BaseIssue<unknown>): string {
  if (!issue.message.startsWith('Invalid ')) return issue.message;
  if (issue.type === 'strict_object' && issue.expected === 'never') return 'unknown field';
  if (issue.kind === 'schema' && issue.received === 'undefined' && issue.expected?.startsWith('"')) {
    return 'is required';
  }
  const requirement = (issue as { requirement?: unknown }).requirement;
  if (issue.type === 'max_length') return `must be at most ${String(requirement)} characters`;
  if (issue.type === 'min_length') return `must be at least ${String(requirement)} characters`;
  if (issue.kind === 'schema') return `must be ${issue.expected} (got ${issue.received})`;
  return issue.message;
}

/** Validates `value` (a body or a query) against `schema`; 400 listing every issue by its dot path. */
export function validate<TSchema extends v.GenericSchema>(
  schema: TSchema,
  value: unknown,
  what: 'body' | 'query',
): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issues: Issue[] = result.issues.map((issue) => ({
    path: v.getDotPath(issue) ?? `(${what})`,
    message: messageOf(issue),
  }));
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  throw new ValidationError(`invalid ${what}: ${summary}`, issues);
}

/** A JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
