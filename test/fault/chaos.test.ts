import { expect, it } from 'vitest';
import { runSoak, soakOptionsFromEnv } from '../../scripts/chaos/soak.js';
import { localRestartsUnavailable } from './infra.js';

const restartsUnavailable = localRestartsUnavailable();
if (restartsUnavailable) process.stderr.write(`skipping restart tests: ${restartsUnavailable}\n`);

// The chaos soak's CI profile: 30 random DAGs while every kind of service is SIGKILLed at least once
// and Redis restarts without its data; every run ends as its failure plan implies.
it.skipIf(restartsUnavailable !== null)(
  'ends every run of the CI chaos profile as its plan implies',
  async () => {
    const report = await runSoak(soakOptionsFromEnv({ ...process.env, CHAOS_PROFILE: 'ci' }));
    expect(report.problems).toEqual([]);
    for (const kind of ['worker', 'scheduler', 'dispatcher', 'reaper', 'redis']) {
      expect(report.kills[kind] ?? 0, kind).toBeGreaterThanOrEqual(1);
    }
  },
  240_000,
);
