import type { Context } from 'hono';
import * as v from 'valibot';
import { type Issue, UnsupportedMediaTypeError, ValidationError } from '../errors.js';

/** Content types POST /workflows accepts, and the parser format each one means. */
export const WORKFLOW_MEDIA_TYPES = {
  'application/yaml': 'yaml',
  'application/x-yaml': 'yaml',
  'text/yaml': 'yaml',
  'application/json': 'json',
} as const;

const JSON_MEDIA_TYPES = ['application/json'] as const;

/** The media type of a Content-Type header, lower-cased and without parameters. */
export function mediaTypeOf(header: string | undefined): string | undefined {
  const type = header?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

/** The workflow document's text and format; 415 for any other content type. */
export async function readWorkflowBody(c: Context): Promise<{ text: string; format: 'yaml' | 'json' }> {
  const mediaType = mediaTypeOf(c.req.header('content-type'));
  const format =
    mediaType !== undefined && Object.hasOwn(WORKFLOW_MEDIA_TYPES, mediaType)
      ? WORKFLOW_MEDIA_TYPES[mediaType as keyof typeof WORKFLOW_MEDIA_TYPES]
      : undefined;
  if (format === undefined) throw new UnsupportedMediaTypeError(mediaType, Object.keys(WORKFLOW_MEDIA_TYPES));
  return { text: await c.req.text(), format };
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
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== '') {
    const mediaType = mediaTypeOf(c.req.header('content-type'));
    if (mediaType !== 'application/json' && !mediaType?.endsWith('+json')) {
      throw new UnsupportedMediaTypeError(mediaType, JSON_MEDIA_TYPES);
    }
    try {
      value = JSON.parse(text);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new ValidationError(`body is not valid JSON: ${reason}`, [{ path: '(body)', message: reason }]);
    }
  }
  return validate(schema, value, 'body');
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
    message: issue.message,
  }));
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  throw new ValidationError(`invalid ${what}: ${summary}`, issues);
}

/** A JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
