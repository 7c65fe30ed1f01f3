import { fileURLToPath } from 'node:url';

/** The repository root (this file is libs/cli/{src,dist}/paths.*). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The five services, in the order `relay up` starts them. */
export const SERVICES = ['scheduler', 'dispatcher', 'reaper', 'worker', 'ingest'] as const;
export type ServiceName = (typeof SERVICES)[number];

export function isServiceName(name: string | undefined): name is ServiceName {
  return (SERVICES as readonly string[]).includes(name ?? '');
}

/** The compiled entry point of a service (what a container runs). */
export function serviceEntry(name: ServiceName): string {
  return fileURLToPath(new URL(`../../../services/${name}/dist/main.js`, import.meta.url));
}

/** The example workflows `relay up` applies. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/', import.meta.url));
