/**
 * Errors the gateway reports to clients. Each has a stable `code`; messages
 * never carry secrets. A field's result union holds the few it declares
 * (src/schema/errors.ts); any other reaches the response's `errors` with its
 * code in `extensions.code`. Anything that is not a GatewayError is masked.
 */
export abstract class GatewayError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An argument failed validation before any upstream call was made. */
export class InvalidArgumentError extends GatewayError {
  readonly code = 'INVALID_ARGUMENT';
  constructor(
    message: string,
    readonly argument?: string,
  ) {
    super(message);
  }
}

/** The entity does not exist upstream. */
export class NotFoundError extends GatewayError {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${JSON.stringify(id)} was not found`);
  }
}

/** Invalid configuration: one message per problem, never a secret value. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
