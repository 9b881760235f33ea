/**
 * Typed errors parsed from Mixpanel's real error bodies (the error responses of
 * each endpoint in https://developer.mixpanel.com/reference/overview; the Query 429 text as quoted in
 * https://github.com/airbytehq/airbyte/issues/9410).
 * Modelled on undici's error hierarchy (lib/core/errors.js): one class per
 * outcome, a stable `code`, the upstream status when there was one.
 */
import { GatewayError } from '../core/errors.js';
import type { ApiFamily } from './types.js';

export abstract class MixpanelError extends GatewayError {
  /** The upstream HTTP status, when a response arrived. */
  readonly status: number | undefined;
  /** The rate-limit family of the failing call. */
  readonly family: ApiFamily;
  constructor(message: string, family: ApiFamily, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.family = family;
    this.status = status;
  }
  /** Whether sending the same call again later may succeed. */
  get retryable(): boolean {
    return false;
  }
}

/**
 * 429 from Mixpanel (status 429), or the gateway's own budget refusing a call
 * that was never sent (status undefined).
 */
export class RateLimitedError extends MixpanelError {
  readonly code = 'MIXPANEL_RATE_LIMITED';
  constructor(
    family: ApiFamily,
    /** How long until a call may succeed, when known (Retry-After, or the budget's window). */
    readonly retryAfterMs: number | undefined,
    message = `Mixpanel ${family} rate limit reached for this project; retry later`,
    status?: number,
  ) {
    super(message, family, status);
  }
  override get retryable(): boolean {
    return true;
  }
}

/** 401: missing or wrong credentials. */
export class UnauthorizedError extends MixpanelError {
  readonly code = 'MIXPANEL_UNAUTHORIZED';
}

/** 403 (or 402 on plans without API access): the credentials lack a permission. */
export class ForbiddenError extends MixpanelError {
  readonly code = 'MIXPANEL_FORBIDDEN';
}

/** 400 with Mixpanel's own message (a bad where-expression, a bad date range...). */
export class BadRequestError extends MixpanelError {
  readonly code = 'MIXPANEL_BAD_REQUEST';
}

/** 404 from Mixpanel. */
export class UpstreamNotFoundError extends MixpanelError {
  readonly code = 'MIXPANEL_NOT_FOUND';
}

/** 5xx, a connection failure, or a body that is not what Mixpanel documents. */
export class UpstreamError extends MixpanelError {
  readonly code = 'MIXPANEL_UNAVAILABLE';
  override get retryable(): boolean {
    return this.status === undefined || this.status >= 500;
  }
}

/** No complete answer within the timeout. */
export class UpstreamTimeoutError extends MixpanelError {
  readonly code = 'MIXPANEL_TIMEOUT';
  override get retryable(): boolean {
    return true;
  }
}
