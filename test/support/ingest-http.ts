import { type ServiceProcess, waitFor } from '@relay/testing';

/** A JSON answer of the ingest API. */
export interface ApiResponse<T> {
  status: number;
  body: T;
}

/** The address an ingest process started with PORT=0 logged (`ingest listening` with its url). */
export async function ingestUrlOf(ingest: ServiceProcess, timeoutMs = 30_000): Promise<string> {
  const url = await waitFor(
    () => {
      for (const line of ingest.logs()) {
        if (!line.includes('ingest listening')) continue;
        const match = /"url":"([^"]+)"/.exec(line);
        if (match) return match[1];
      }
      return undefined;
    },
    { timeoutMs, message: 'ingest did not log its address' },
  );
  return url.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
}

/** A small client of the ingest API: a string body is sent as is, anything else as JSON. */
export function createApiCaller(baseUrl: string) {
  return async function api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = contentType ?? 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body: payload ?? null });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
}

/** Registers a workflow (YAML) through the API; throws unless it answers 201 or 200. */
export async function applyWorkflowYaml(
  api: ReturnType<typeof createApiCaller>,
  yaml: string,
): Promise<void> {
  const res = await api('POST', '/workflows', yaml, 'application/yaml');
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(`apply failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** Starts a run through the API and returns its id; throws unless it answers 201. */
export async function startRunThroughApi(
  api: ReturnType<typeof createApiCaller>,
  workflowId: string,
  input?: unknown,
): Promise<string> {
  const res = await api<{ id: string }>(
    'POST',
    `/workflows/${workflowId}/runs`,
    input === undefined ? {} : { input },
  );
  if (res.status !== 201) throw new Error(`run failed to start: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}
