import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  canonicalDefinitionJson,
  formatIssue,
  parseWorkflow,
  parseWorkflowOrThrow,
  workflowToYaml,
} from '@relay/workflow';
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

  it.each(files)('%s comes back from workflowToYaml as the same definition', (file) => {
    const def = parseWorkflowOrThrow(readFileSync(`${dir}${file}`, 'utf8'));
    const again = parseWorkflowOrThrow(workflowToYaml(def));
    expect(again).toEqual(def);
    expect(canonicalDefinitionJson(again)).toBe(canonicalDefinitionJson(def));
  });
});
