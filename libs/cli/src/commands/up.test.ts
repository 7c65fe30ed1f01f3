import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSupervisor } from '../supervisor.js';
import { fleetSpecs } from './up.js';

// A stand-in for every service: prints what it sees of the token, then waits for stop()'s SIGTERM.
const dir = mkdtempSync(join(tmpdir(), 'relay-up-'));
const probe = join(dir, 'probe.mjs');
writeFileSync(
  probe,
  'console.log(JSON.stringify({ token: process.env.RELAY_API_TOKEN ?? null }));\nsetInterval(() => {}, 1000);\n',
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('relay up', () => {
  it('starts scheduler, dispatcher, reaper, the workers and ingest, ingest on PORT', () => {
    const specs = fleetSpecs({ port: 9999, workers: 2, env: {} }, () => probe);
    expect(specs.map((s) => s.label)).toEqual([
      'scheduler',
      'dispatcher',
      'reaper',
      'worker-1',
      'worker-2',
      'ingest',
    ]);
    expect(specs.at(-1)?.env.PORT).toBe('9999');
  });

  it('gives RELAY_API_TOKEN to ingest only: every other service sees it empty (unset)', async () => {
    const token = `tok-${process.pid}-${Date.now()}`;
    const before = process.env.RELAY_API_TOKEN;
    // The supervisor's own environment holds the token, as `RELAY_API_TOKEN=... relay up` has it.
    process.env.RELAY_API_TOKEN = token;
    const seen = new Map<string, string | null>();
    const supervisor = createSupervisor({
      write: () => {},
      color: false,
      onLine: (label, line) => {
        if (line.startsWith('{')) seen.set(label, (JSON.parse(line) as { token: string | null }).token);
      },
    });
    try {
      const specs = fleetSpecs({ port: 0, workers: 2, env: { RELAY_API_TOKEN: token } }, () => probe);
      supervisor.start(specs);
      const deadline = Date.now() + 15_000;
      while (seen.size < specs.length) {
        if (Date.now() > deadline) throw new Error(`timed out; heard from ${[...seen.keys()].join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(Object.fromEntries(seen)).toEqual({
        scheduler: '',
        dispatcher: '',
        reaper: '',
        'worker-1': '',
        'worker-2': '',
        ingest: token,
      });
    } finally {
      await supervisor.stop(5000);
      if (before === undefined) delete process.env.RELAY_API_TOKEN;
      else process.env.RELAY_API_TOKEN = before;
    }
  });

  it('leaves the token unset for ingest too when none is given', () => {
    const specs = fleetSpecs({ port: 0, workers: 1, env: {} }, () => probe);
    expect(specs.map((s) => s.env.RELAY_API_TOKEN)).toEqual(['', '', '', '', '']);
  });
});
