import * as v from 'valibot';
import { WorkflowValidationError } from './errors.js';
import { checkCycles, checkJson, checkNeeds, checkTemplates } from './graph-checks.js';
import { normalizeWorkflow } from './normalize.js';
import { type DocPathSegment, formatDocPath, isMapping, type RawIssue } from './path.js';
import { HANDLER_NAME_PATTERN } from './rules.js';
import { WorkflowSchema } from './schema.js';
import { findUnstorableJson } from './storable.js';
import type { ParseResult, WorkflowDefinition, WorkflowIssue } from './types.js';
import { checkBuiltinWith, toRawIssues } from './with.js';

/** Outcome before issues are located in source text. */
export type RawResult = { ok: true; definition: WorkflowDefinition } | { ok: false; issues: RawIssue[] };

/** Semantic checks that need the whole document: needs, cycles, handler inputs, templates. */
function checkSemantics(tasks: Record<string, unknown>): RawIssue[] {
  const { issues, graph } = checkNeeds(tasks);
  issues.push(...checkCycles(graph));
  const ids = Object.keys(tasks);
  for (const [id, task] of Object.entries(tasks)) {
    const body = isMapping(task) ? task : {};
    const type = body.type ?? 'noop';
    const base: DocPathSegment[] = ['tasks', id, 'with'];
    if (body.with != null && !isMapping(body.with)) continue; // reported by the schema
    if (typeof type === 'string' && HANDLER_NAME_PATTERN.test(type)) {
      issues.push(...checkBuiltinWith(type, body.with, base));
    }
    if (body.with != null) {
      issues.push(...checkJson(body.with, base));
      issues.push(...checkTemplates(id, body.with, graph, ids));
    }
  }
  return issues;
}

function dedupe(issues: RawIssue[]): RawIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${formatDocPath(issue.path)}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Validates a parsed document and normalizes it, collecting raw (unlocated) issues. */
export function validateRaw(doc: unknown): RawResult {
  if (!isMapping(doc)) {
    const got =
      doc === null || doc === undefined ? 'an empty document' : Array.isArray(doc) ? 'a list' : typeof doc;
    return { ok: false, issues: [{ path: [], message: `a workflow must be a mapping (got ${got})` }] };
  }
  // Before anything recursive walks the document (see MAX_JSON_DEPTH), and before Postgres refuses it.
  const unstorable = findUnstorableJson(doc);
  if (unstorable) return { ok: false, issues: [unstorable] };
  const parsed = v.safeParse(WorkflowSchema, doc);
  const issues = parsed.success ? [] : toRawIssues(parsed.issues);
  if (isMapping(doc.tasks)) issues.push(...checkSemantics(doc.tasks));
  if (!parsed.success || issues.length > 0) return { ok: false, issues: dedupe(issues) };
  const normalized = normalizeWorkflow(parsed.output);
  if (normalized.issues.length > 0) return { ok: false, issues: dedupe(normalized.issues) };
  return { ok: true, definition: normalized.definition };
}

/** Turns raw issues into public ones (no source positions). */
export function toIssues(issues: readonly RawIssue[]): WorkflowIssue[] {
  return issues.map((issue) => ({ path: formatDocPath(issue.path), message: issue.message }));
}

/**
 * Validates an already parsed document (e.g. a JSON request body) against SPEC section 3 and
 * returns the normalized definition, or every issue found (paths like `tasks.charge.needs[0]`).
 */
export function validateWorkflow(doc: unknown): ParseResult {
  const result = validateRaw(doc);
  return result.ok ? result : { ok: false, issues: toIssues(result.issues) };
}

/** Returns the definition of a {@link ParseResult} or throws. */
export function unwrapResult(result: ParseResult): WorkflowDefinition {
  if (!result.ok) throw new WorkflowValidationError(result.issues);
  return result.definition;
}
