import { parseWorkflow, taskSummary, workflowToYaml } from '@relay/workflow';
import { Hono } from 'hono';
import type { AppDeps } from '../deps.js';
import { InvalidWorkflowError, NotFoundError } from '../errors.js';
import { readWorkflowBody } from '../middleware/body.js';
import { presentWorkflow } from '../views.js';

/** POST /workflows, GET /workflows, GET /workflows/:id. (POST /workflows/:id/runs lives in runs.ts.) */
export function workflowRoutes({ repo, logger }: AppDeps): Hono {
  const app = new Hono();

  app.post('/', async (c) => {
    const { text, format } = await readWorkflowBody(c);
    const parsed = parseWorkflow(text, { format });
    if (!parsed.ok) throw new InvalidWorkflowError(parsed.issues);
    const definition = parsed.definition;
    const { status, version } = await repo.applyWorkflow(definition);
    if (status !== 'unchanged')
      logger.info({ workflowId: definition.id, version, status }, 'workflow applied');
    return c.json(
      { id: definition.id, name: definition.name, version, status, tasks: taskSummary(definition) },
      status === 'created' ? 201 : 200,
    );
  });

  app.get('/', async (c) => {
    const workflows = await repo.listWorkflows();
    return c.json({
      workflows: workflows.map((w) => ({ id: w.id, name: w.name, updatedAt: w.updatedAt.toISOString() })),
    });
  });

  app.get('/:id', async (c) => {
    const workflow = await repo.findWorkflow(c.req.param('id'));
    if (!workflow) throw new NotFoundError(`workflow '${c.req.param('id')}' not found`);
    // The definition as workflow YAML that POST /workflows takes back unchanged (`relay export`).
    if (prefersYaml(c.req.header('accept'))) {
      return c.body(workflowToYaml(workflow.definition), 200, {
        'content-type': 'application/yaml; charset=utf-8',
      });
    }
    return c.json(presentWorkflow(workflow));
  });

  return app;
}

const YAML_TYPES = new Set(['application/yaml', 'text/yaml', 'application/x-yaml', 'text/x-yaml']);

/**
 * Whether an Accept header asks for YAML before JSON: the YAML media range with the highest q beats
 * every other acceptable range (JSON, wildcards: the API's default), an earlier one winning a tie.
 */
export function prefersYaml(accept: string | undefined): boolean {
  if (!accept) return false;
  const best = { yaml: { q: 0, at: 0 }, other: { q: 0, at: 0 } };
  accept.split(',').forEach((range, at) => {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!type || !(q > 0)) return;
    const kind = YAML_TYPES.has(type) ? best.yaml : best.other;
    if (q > kind.q) Object.assign(kind, { q, at });
  });
  const { yaml, other } = best;
  return yaml.q > 0 && (yaml.q > other.q || (yaml.q === other.q && yaml.at < other.at));
}
