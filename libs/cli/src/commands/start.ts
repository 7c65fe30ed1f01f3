import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CliError } from '../errors.js';
import { isServiceName, SERVICES, serviceEntry } from '../paths.js';

/** `relay start SERVICE`: runs one service in this process, in the foreground (what a pod runs). */
export async function startService(name: string | undefined): Promise<void> {
  if (!isServiceName(name)) {
    throw new CliError(`start: give one of ${SERVICES.join(', ')}${name ? ` (not "${name}")` : ''}`);
  }
  const entry = serviceEntry(name);
  if (!existsSync(entry)) throw new CliError(`start: ${entry} is missing; run \`npm run build\` first`);
  await import(pathToFileURL(entry).href);
}
