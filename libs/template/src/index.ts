export { TemplateError, TemplateResolutionError, TemplateSyntaxError } from './errors.js';
export { isJsonObject, type JsonValue } from './json.js';
export {
  formatReference,
  hasTemplate,
  type ParsedReference,
  type PathSegment,
  parseExpression,
  parseTemplate,
  type Segment,
} from './parse.js';
export { findReferences, type Reference, type ReferenceScan, scanReferences } from './references.js';
export {
  lookupReference,
  type ResolutionContext,
  type ResolveOptions,
  resolveShellCommand,
  resolveTemplates,
  type ShellCommand,
  validateShellTemplate,
} from './resolve.js';
export { expandShellVariableIn, findShellContexts, SHELL_REF_PREFIX, type ShellContext } from './shell.js';
