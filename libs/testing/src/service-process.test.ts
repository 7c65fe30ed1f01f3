import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceSpawnError } from './errors.js';
import { LOG_BUFFER_LINES, spawnService, stopAll } from './service-process.js';
import { waitFor } from './wait-for.js';

// Generous: a Node process can take seconds to start on a loaded CI machine.
const STARTUP = { timeoutMs: 15_000, message: 'the script did not print ready' };
let dir: string;
const scripts = {
  // Logs on both streams, then exits with the code it was given.
  echo: `console.log('out ' + process.env.RELAY_TEST_VALUE); console.error('err line'); console.log('has PATH ' + Boolean(process.env.PATH)); process.exit(Number(process.env.EXIT_CODE ?? 0));`,
  // Runs until SIGTERM, then exits cleanly.
  graceful: `console.log('ready'); process.on('SIGTERM', () => { console.log('draining'); process.exit(0); }); setInterval(() => {}, 1000);`,
  // Ignores SIGTERM: only SIGKILL ends it.
  stubborn: `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('ready'); setInterval(() => {}, 1000);`,
  // More output than the ring buffer keeps.
  chatty: `for (let i = 1; i <= 1200; i++) console.log('line ' + i);`,
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relay-spawn-'));
  for (const [name, code] of Object.entries(scripts)) await writeFile(join(dir, `${name}.js`), code);
});
afterAll(async () => {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
});

const entry = (name: keyof typeof scripts) => join(dir, `${name}.js`);

describe('spawnService', () => {
  it('merges env over the parent environment and captures stdout and stderr lines', async () => {
    const service = spawnService({
      name: 'echo',
      entry: entry('echo'),
      env: { RELAY_TEST_VALUE: 'v1', EXIT_CODE: '3' },
    });
    expect(service.pid).toBeGreaterThan(0);
    expect(await service.exited).toEqual({ code: 3, signal: null });
    expect(service.isRunning()).toBe(false);
    expect([...service.logs()].sort()).toEqual(['err line', 'has PATH true', 'out v1']);
  });

  it('stops a process with SIGTERM when it handles it', async () => {
    const service = spawnService({ name: 'graceful', entry: entry('graceful'), env: {} });
    await waitFor(() => service.logs().includes('ready'), STARTUP);
    expect(await service.stop(5000)).toEqual({ code: 0, signal: null });
    expect(service.logs()).toContain('draining');
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const service = spawnService({ name: 'stubborn', entry: entry('stubborn'), env: {} });
    await waitFor(() => service.logs().includes('ready'), STARTUP);
    expect(await service.stop(300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(service.logs()).toContain('ignoring SIGTERM');
  });

  it('kill() sends the given signal', async () => {
    const service = spawnService({ name: 'stubborn', entry: entry('stubborn'), env: {} });
    await waitFor(() => service.logs().includes('ready'), STARTUP);
    service.kill('SIGKILL');
    expect(await service.exited).toEqual({ code: null, signal: 'SIGKILL' });
    service.kill('SIGKILL');
  });

  it(`keeps only the last ${LOG_BUFFER_LINES} lines`, async () => {
    const service = spawnService({ name: 'chatty', entry: entry('chatty'), env: {} });
    await service.exited;
    const lines = service.logs();
    expect(lines).toHaveLength(LOG_BUFFER_LINES);
    expect(lines[0]).toBe(`line ${1200 - LOG_BUFFER_LINES + 1}`);
  });

  it('stopAll() stops every running service', async () => {
    const services = [
      spawnService({ name: 'g1', entry: entry('graceful'), env: {} }),
      spawnService({ name: 's1', entry: entry('stubborn'), env: {} }),
    ];
    await waitFor(() => services.every((service) => service.logs().includes('ready')), STARTUP);
    await stopAll(300);
    expect(services.map((service) => service.isRunning())).toEqual([false, false]);
  });

  it.each([
    ['relative/main.js', /entry must be an absolute path, got relative\/main\.js/],
    [
      '/nonexistent/dist/main.js',
      /entry \/nonexistent\/dist\/main\.js does not exist \(build the package first/,
    ],
  ])('refuses the entry %s', (path, message) => {
    expect(() => spawnService({ name: 'svc', entry: path, env: {} })).toThrow(ServiceSpawnError);
    expect(() => spawnService({ name: 'svc', entry: path, env: {} })).toThrow(message);
  });
});
