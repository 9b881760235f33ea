/**
 * Failures of writes a client can act on, beside InvalidArgumentError,
 * NotFoundError and RateLimitedError.
 */
import { GatewayError } from '../core/errors.js';

/** The idempotency key was used before with another input: nothing was sent. */
export class IdempotencyConflictError extends GatewayError {
  readonly code = 'IDEMPOTENCY_CONFLICT';
  constructor(readonly idempotencyKey: string) {
    super(`The idempotency key ${JSON.stringify(idempotencyKey)} was already used with another input; use a new key for a new write`);
  }
}

/**
 * A replay of a write whose first attempt failed after it may have reached
 * Mixpanel: it is not sent again, because sending it twice could apply it twice.
 */
export class WriteOutcomeUnknownError extends GatewayError {
  readonly code = 'WRITE_OUTCOME_UNKNOWN';
}

/** The project does not use an API the write needs (e.g. `$merge` in a Simplified ID Merge project). */
export class WriteUnsupportedError extends GatewayError {
  readonly code = 'WRITE_UNSUPPORTED';
}

/** The endpoint was built without the write path (the gateway wires it for every project). */
export class WritesUnavailableError extends GatewayError {
  readonly code = 'WRITES_UNAVAILABLE';
}
