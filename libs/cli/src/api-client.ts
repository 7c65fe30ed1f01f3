import { maskUrlCredentials } from '@relay/runtime/redact';
import { AnswerShapeError, type Check } from './answers.js';
import { ApiError, CliError, UnexpectedAnswerError, UnreachableError } from './errors.js';

/** Where the CLI finds the API and how it authenticates. */
export interface ApiOptions {
  baseUrl: string;
  token?: string | undefined;
  timeoutMs?: number;
}

/**
 * Reads RELAY_URL (default http://localhost:8080; blank counts as unset) and RELAY_API_TOKEN. The URL
 * must be http(s) without credentials: fetch refuses `user:password@` in a URL, and an error message
 * must never print them, so they are refused here, masked (the API authenticates with the token).
 */
export function apiOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ApiOptions {
  const baseUrl = (envValue(env, 'RELAY_URL') ?? 'http://localhost:8080').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new CliError(`RELAY_URL: not a URL: "${maskUrlCredentials(baseUrl)}"`);
  }
  if (url.username || url.password) {
    throw new CliError(
      `RELAY_URL: must not hold credentials ("${maskUrlCredentials(baseUrl)}"); put the API token in RELAY_API_TOKEN`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`RELAY_URL: expected an http:// or https:// URL, got "${baseUrl}"`);
  }
  return { baseUrl, token: env.RELAY_API_TOKEN || undefined };
}

/** `env[name]`, or undefined when it is unset or blank: the services' rule (SPEC section 2). */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * A small JSON client of the ingest API: every non-2xx answer becomes an ApiError, and a 2xx answer
 * that fails `check` (the shape the caller reads) an UnexpectedAnswerError.
 */
export function createApiClient(options: ApiOptions) {
  async function request<T>(
    method: string,
    path: string,
    body: { text: string; contentType: string } | object | undefined,
    check: Check<T>,
    accept = 'application/json',
  ): Promise<T> {
    const headers: Record<string, string> = { accept };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | undefined;
    if (body && 'text' in body && 'contentType' in body) {
      payload = body.text as string;
      headers['content-type'] = body.contentType as string;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await fetch(`${options.baseUrl}${path}`, {
        method,
        headers,
        body: payload ?? null,
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (err) {
      const reason =
        err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      throw new UnreachableError(`cannot reach the Relay API at ${options.baseUrl}: ${reason}`);
    }
    const text = await response.text();
    // A 2xx answer in another type than JSON (YAML) is the text itself.
    const asText = response.ok && !/^application\/json\b/i.test(response.headers.get('content-type') ?? '');
    let json: unknown = asText ? text : null;
    if (text && !asText) {
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string; details?: unknown } } | null)
        ?.error;
      throw new ApiError(
        response.status,
        error?.code ?? 'error',
        error?.message ?? (typeof json === 'string' ? json : response.statusText),
        error?.details,
      );
    }
    try {
      return check(json, '');
    } catch (err) {
      if (!(err instanceof AnswerShapeError)) throw err;
      throw new UnexpectedAnswerError(options.baseUrl, method, path, err.message);
    }
  }
  return {
    get: <T>(path: string, check: Check<T>) => request('GET', path, undefined, check),
    /** GET of a text answer in media type `accept` (e.g. application/yaml). */
    getText: (path: string, accept: string) =>
      request(
        'GET',
        path,
        undefined,
        (value, at) => {
          if (typeof value !== 'string')
            throw new AnswerShapeError(`${at || 'answer'}: expected ${accept} text`);
          return value;
        },
        accept,
      ),
    post: <T>(
      path: string,
      body: { text: string; contentType: string } | object | undefined,
      check: Check<T>,
    ) => request('POST', path, body, check),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
