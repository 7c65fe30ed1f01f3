import { parseArgs } from 'node:util';
import { apiOptionsFromEnv, createApiClient, envValue } from './api-client.js';
import {
  applyWorkflows,
  decide,
  exportWorkflow,
  listRuns,
  listWorkflows,
  showRun,
  startRun,
} from './commands/api-commands.js';
import { CliError } from './errors.js';

// The fleet commands (up, start, migrate) are imported in their case below, not here: they pull in
// @relay/db, @relay/runtime and through them postgres, ioredis, pino, prom-client and OpenTelemetry
// (~210 modules), which the API commands and --help do not need and would pay for at every start.

const USAGE = `usage: relay <command> [options]

fleet
  up [--port 8080] [--workers 1] [--no-examples]   migrate, start all five services, apply examples/
  start SERVICE                                    run one service in the foreground (ingest, scheduler,
                                                   dispatcher, worker, reaper)
  migrate                                          apply infra/migrations to DATABASE_URL

workflows and runs (talk to RELAY_URL, default http://localhost:8080, with RELAY_API_TOKEN)
  apply FILE|DIR...                                register workflows from YAML or JSON files
  workflows                                        the registered workflows
  export WORKFLOW                                  its current definition as YAML (apply takes it back)
  run WORKFLOW [--input JSON|@FILE|-] [--wait]     start a run (input inline, from a file or stdin);
                                                   --wait follows it to the end
  status RUN                                       a run and its tasks
  runs [--workflow ID] [--status S] [--limit N] [--cursor C]
                                                   recent runs, newest first (a full page says
                                                   its --cursor for the next one)
  approve RUN TASK [--by NAME]                     approve a task waiting for approval
  reject RUN TASK [--by NAME] [--reason TEXT]      reject it (the run fails)
  cancel RUN [--reason TEXT]                       cancel a run (the reason becomes its error)
`;

/** Most positional arguments after each command (apply takes any number). */
const ARGUMENTS: Record<string, number | undefined> = {
  up: 0,
  start: 1,
  migrate: 0,
  workflows: 0,
  export: 1,
  run: 1,
  status: 1,
  runs: 0,
  approve: 2,
  reject: 2,
  cancel: 1,
};

const print = (line: string) => process.stdout.write(`${line}\n`);

// `relay runs | head`: a reader that goes away ends the command quietly, not with an EPIPE stack.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: 'string' },
      workers: { type: 'string' },
      'no-examples': { type: 'boolean', default: false },
      input: { type: 'string' },
      wait: { type: 'boolean', default: false },
      workflow: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      by: { type: 'string' },
      reason: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command || command === 'help') {
    print(USAGE);
    return command || values.help ? 0 : 1;
  }
  const api = () => createApiClient(apiOptionsFromEnv());
  const most = ARGUMENTS[command];
  if (most !== undefined && args.length > most) {
    throw new CliError(`${command}: unexpected argument "${args[most]}"\n\n${USAGE}`);
  }
  switch (command) {
    case 'up': {
      // Options are checked before the import, so a bad one fails without loading the fleet's code.
      const options = {
        port:
          values.port !== undefined
            ? portNumber('--port', values.port)
            : portNumber('PORT', envValue(process.env, 'PORT') ?? '8080'),
        workers: intAtLeast('--workers', values.workers ?? '1', 1),
        examples: !values['no-examples'],
        env: process.env,
        print,
      };
      const { up } = await import('./commands/up.js');
      return up(options);
    }
    case 'start': {
      const { startService } = await import('./commands/start.js');
      await startService(args[0]);
      return -1; // the service keeps the process alive and exits by itself
    }
    case 'migrate': {
      const { runMigrations } = await import('./commands/migrate.js');
      await runMigrations(
        envValue(process.env, 'DATABASE_URL') ?? 'postgres://relay:relay@localhost:5432/relay',
        print,
      );
      return 0;
    }
    case 'apply':
      await applyWorkflows(api(), args, print);
      return 0;
    case 'workflows':
      await listWorkflows(api(), print);
      return 0;
    case 'export':
      await exportWorkflow(api(), args[0], (text) => process.stdout.write(text));
      return 0;
    case 'run':
      return startRun(api(), args[0], { input: values.input, wait: values.wait }, print);
    case 'status':
      await showRun(api(), args[0], print);
      return 0;
    case 'runs':
      await listRuns(
        api(),
        { workflow: values.workflow, status: values.status, limit: values.limit, cursor: values.cursor },
        print,
      );
      return 0;
    case 'approve':
    case 'reject':
      await decide(
        api(),
        command,
        { run: args[0], task: args[1], by: values.by, reason: values.reason },
        print,
      );
      return 0;
    case 'cancel':
      await decide(api(), 'cancel', { run: args[0], reason: values.reason }, print);
      return 0;
    default:
      throw new CliError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

/** An integer >= min given as `raw` for option or variable `name`, or a CliError naming it. */
function intAtLeast(name: string, raw: string, min: number): number {
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new CliError(`${name}: expected an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

/** A TCP port (1..65535) given as `raw` for option or variable `name`, or a CliError naming it. */
function portNumber(name: string, raw: string): number {
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new CliError(`${name}: expected a port number from 1 to 65535, got "${raw}"`);
  }
  return value;
}

try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
} catch (err) {
  if (err instanceof CliError) {
    process.stderr.write(`relay: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`relay: ${message}\n`);
  process.exit(1);
}
