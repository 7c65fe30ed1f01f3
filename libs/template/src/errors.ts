/** Base class of every error thrown by `@relay/template`. */
export class TemplateError extends Error {
  /** Where the template sits in the enclosing document (e.g. `with.url`); `''` when unknown. */
  readonly at: string;

  constructor(message: string, at: string, options?: { cause?: unknown }) {
    super(at ? `${at}: ${message}` : message, options);
    this.name = 'TemplateError';
    this.at = at;
  }
}

/**
 * A `${{ ... }}` expression that is not `input.PATH` or `tasks.ID.output.PATH`, an unterminated
 * `${{`, or (in shell commands) a reference in a position where it cannot be quoted safely.
 * Permanent: the template itself is wrong.
 */
export class TemplateSyntaxError extends TemplateError {
  /** The offending expression as written, e.g. `${{ foo.bar }}`. */
  readonly expression: string;

  constructor(message: string, expression: string, at: string) {
    super(message, at);
    this.name = 'TemplateSyntaxError';
    this.expression = expression;
  }
}

/**
 * A reference whose path does not exist in the resolution context
 * (message: `with.url: input.orderId is not defined`). Permanent for a given input.
 */
export class TemplateResolutionError extends TemplateError {
  /** The reference as text, e.g. `input.orderId` or `tasks.fetch.output.total`. */
  readonly reference: string;

  constructor(reference: string, at: string, detail = 'is not defined') {
    super(`${reference} ${detail}`, at);
    this.name = 'TemplateResolutionError';
    this.reference = reference;
  }
}
