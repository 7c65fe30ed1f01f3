// The container image and the Kubernetes manifests, held to the code without Docker or a cluster:
// every service is deployed with its own command, the variables it reads (each accepted by its config),
// the heap flags `relay up` gives it, probes on the port it serves, and time to stop gracefully.
// scripts/check-image.sh builds the image's file tree and runs a workflow on it.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceNodeOptions } from '@relay/runtime';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import * as dispatcher from '../../services/dispatcher/src/config.js';
import * as ingest from '../../services/ingest/src/config.js';
import * as reaper from '../../services/reaper/src/config.js';
import * as scheduler from '../../services/scheduler/src/config.js';
import * as worker from '../../services/worker/src/config.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const k8sDir = join(repoRoot, 'infra/k8s');
const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

type Env = Record<string, string>;
type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
};
type Probe = { httpGet: { path: string; port: string | number } };
type Container = {
  name: string;
  image: string;
  args: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
};
type Manifest = {
  kind: string;
  metadata: { name: string };
  data?: Env;
  stringData?: Env;
  spec?: {
    selector?: Record<string, unknown>;
    ports?: { targetPort: string | number }[];
    template?: {
      metadata: { labels: Record<string, string> };
      spec: { terminationGracePeriodSeconds?: number; containers: Container[]; initContainers?: Container[] };
    };
  };
};

/** Each service: the variables its config reads, a loader that throws on a bad value, its stop grace. */
const SERVICES = {
  ingest: {
    entries: ingest.IngestEnv.entries,
    load: ingest.loadConfig,
    graceMs: () => ingest.SHUTDOWN_GRACE_MS,
  },
  scheduler: {
    entries: scheduler.SchedulerEnvSchema.entries,
    load: scheduler.loadSchedulerConfig,
    graceMs: () => scheduler.SHUTDOWN_GRACE_MS,
  },
  dispatcher: {
    entries: dispatcher.DispatcherEnvSchema.entries,
    load: dispatcher.loadDispatcherConfig,
    graceMs: () => dispatcher.SHUTDOWN_GRACE_MS,
  },
  worker: {
    entries: worker.WorkerEnvSchema.entries,
    load: worker.loadWorkerConfig,
    graceMs: (env: Env) => worker.shutdownGraceMs(worker.loadWorkerConfig(env)),
  },
  reaper: {
    entries: reaper.ReaperEnvSchema.entries,
    load: reaper.loadReaperConfig,
    graceMs: () => reaper.SHUTDOWN_GRACE_MS,
  },
} as const;

const kustomization = parseAllDocuments(read('infra/k8s/kustomization.yaml'))[0]?.toJS() as {
  resources: string[];
  images: { name: string }[];
};
const manifests: Manifest[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8')).map((doc) => {
    expect(doc.errors, file).toEqual([]);
    return doc.toJS() as Manifest;
  }),
);
const secret = parseAllDocuments(read('infra/k8s/secret.example.yaml'))[0]?.toJS() as Manifest;
const configMap = (name: string) => manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === name);

/** The environment a container starts with (Secret values from secret.example.yaml). */
function environmentOf(container: Container): Env {
  const env: Env = {};
  for (const from of container.envFrom ?? []) {
    const map = configMap(from.configMapRef?.name ?? '');
    expect(map, `ConfigMap ${from.configMapRef?.name}`).toBeDefined();
    Object.assign(env, map?.data);
  }
  for (const item of container.env ?? []) {
    const ref = item.valueFrom?.secretKeyRef;
    if (ref) {
      expect(ref.name, `${container.name}: ${item.name}`).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData ?? {}), `${container.name}: ${item.name}`).toContain(ref.key);
      env[item.name] = secret.stringData?.[ref.key] ?? '';
    } else {
      env[item.name] = String(item.value);
    }
  }
  return env;
}

describe('infra/k8s', () => {
  it('lists files that exist, and names the image the Deployments use', () => {
    for (const file of kustomization.resources) expect(existsSync(join(k8sDir, file)), file).toBe(true);
    const images = new Set(
      manifests.flatMap((m) =>
        [...(m.spec?.template?.spec.containers ?? []), ...(m.spec?.template?.spec.initContainers ?? [])].map(
          (c) => c.image,
        ),
      ),
    );
    expect([...images]).toEqual(kustomization.images.map((i) => i.name));
  });

  describe.each(Object.keys(SERVICES) as (keyof typeof SERVICES)[])('%s', (name) => {
    const service = SERVICES[name];
    const deployment = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === `relay-${name}`);
    const pod = deployment?.spec?.template?.spec;
    const container = pod?.containers.find((c) => c.name === name);

    it('is a Deployment that runs `relay start` of it, after `relay migrate`', () => {
      expect(container?.args).toEqual(['start', name]);
      expect(pod?.initContainers?.map((c) => c.args)).toEqual([['migrate']]);
    });

    it('sets only variables its config reads, with values it accepts', () => {
      const env = environmentOf(container as Container);
      const unknown = Object.keys(env).filter(
        (v) => v !== 'NODE_OPTIONS' && !Object.hasOwn(service.entries, v),
      );
      expect(unknown).toEqual([]);
      expect(() => service.load(env)).not.toThrow();
      const migrateEnv = environmentOf(pod?.initContainers?.[0] as Container);
      expect(migrateEnv.DATABASE_URL).toBe(env.DATABASE_URL);
    });

    it('runs with the heap flags relay up gives it', () => {
      expect(environmentOf(container as Container).NODE_OPTIONS).toBe(serviceNodeOptions('', name));
    });

    it('probes /healthz and /readyz on the port it serves', () => {
      const env = environmentOf(container as Container);
      const served = Number(name === 'ingest' ? env.PORT : env.HEALTH_PORT);
      expect(served).toBeGreaterThan(0);
      const portOf = (probe?: Probe) => {
        const port = probe?.httpGet.port;
        return typeof port === 'number'
          ? port
          : container?.ports?.find((p) => p.name === port)?.containerPort;
      };
      expect(container?.livenessProbe?.httpGet.path).toBe('/healthz');
      expect(container?.readinessProbe?.httpGet.path).toBe('/readyz');
      expect(portOf(container?.livenessProbe)).toBe(served);
      expect(portOf(container?.readinessProbe)).toBe(served);
    });

    it('gets at least its graceful stop time before Kubernetes kills it', () => {
      const env = environmentOf(container as Container);
      expect((pod?.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThanOrEqual(service.graceMs(env));
    });
  });

  it('puts the Service relay in front of ingest', () => {
    const svc = manifests.find((m) => m.kind === 'Service' && m.metadata.name === 'relay');
    const ingestPod = manifests.find((m) => m.metadata.name === 'relay-ingest')?.spec?.template;
    expect(
      Object.entries(svc?.spec?.selector ?? {}).every(([k, v]) => ingestPod?.metadata.labels[k] === v),
    ).toBe(true);
    const ports = ingestPod?.spec.containers[0]?.ports?.map((p) => p.name);
    for (const port of svc?.spec?.ports ?? []) expect(ports).toContain(port.targetPort);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('runs the relay command the repository builds, on a Node the project supports', () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    const argv = JSON.parse(entrypoint ?? '[]') as string[];
    const script = argv.find((a) => a.startsWith('/app/'));
    expect(script).toBe('/app/libs/cli/bin/relay.js');
    expect(existsSync(join(repoRoot, (script as string).slice('/app/'.length)))).toBe(true);
    const engines = JSON.parse(read('package.json')).engines.node as string;
    const minimum = Number(/>=\s*(\d+)/.exec(engines)?.[1]);
    for (const [, major] of dockerfile.matchAll(/^FROM node:(\d+)/gm)) {
      expect(Number(major)).toBeGreaterThanOrEqual(minimum);
    }
  });

  it('builds with npm ci and the build script, then drops development dependencies', () => {
    expect(dockerfile).toMatch(/npm ci\b/);
    expect(dockerfile).toMatch(/npm run build\b/);
    expect(dockerfile).toMatch(/npm prune --omit=dev\b/);
    const ignored = read('.dockerignore');
    for (const pattern of ['**/node_modules', '**/dist', '.git']) expect(ignored).toContain(pattern);
  });
});
