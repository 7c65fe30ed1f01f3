import { parseWorkflow, taskSummary } from '@relay/workflow';
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
    return c.json(presentWorkflow(workflow));
  });

  return app;
}
