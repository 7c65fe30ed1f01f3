import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatIssue, parseWorkflow } from '@relay/workflow';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../examples/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('examples/', () => {
  it('holds at least the four documented workflows', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'data-pipeline.yaml',
        'deploy-approval.yaml',
        'flaky-retry.yaml',
        'order-outputs.yaml',
      ]),
    );
  });

  it.each(files)('%s is a valid workflow', (file) => {
    const result = parseWorkflow(readFileSync(`${dir}${file}`, 'utf8'));
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([]);
  });
});
