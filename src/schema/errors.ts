/**
 * Failures a client can act on, as GraphQL types, and the sets fields pick
 * from. A field's result union holds only what that field can answer:
 * `NotFoundError` where it looks something up by id or name,
 * `InvalidArgumentError` where an argument can be refused,
 * `RateLimitedError` where it spends Mixpanel calls, and a domain error where
 * it has one (`IdempotencyConflictError`, `EventRangeTooLargeError`).
 *
 * Everything else (timeouts, Mixpanel 5xx, refused credentials, a request
 * Mixpanel refused, any other GatewayError) is not in any union: it goes to the
 * response's `errors` with its stable `extensions.code` (MIXPANEL_TIMEOUT,
 * MIXPANEL_UNAVAILABLE, MIXPANEL_UNAUTHORIZED, MIXPANEL_FORBIDDEN,
 * MIXPANEL_BAD_REQUEST, MIXPANEL_NOT_FOUND…), and the field is null.
 */
import { InvalidArgumentError, NotFoundError, type GatewayError } from '../core/errors.js';
import { EventRangeTooLargeError } from './event-pages.js';
import { RateLimitedError } from '../mixpanel/errors.js';
import type { ApiFamily } from '../mixpanel/types.js';
import { builder } from './builder.js';

export const ErrorInterface = builder.interfaceRef<GatewayError>('Error').implement({
  description: 'A failure the client can act on. Other failures are not typed: they appear in `errors`, with `extensions.code`.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, for people. Never carries a secret.' }),
    code: t.exposeString('code', { description: 'Stable machine-readable code, e.g. `NOT_FOUND` or `MIXPANEL_RATE_LIMITED`.' }),
  }),
});

export const ApiFamilyEnum = builder.enumType('ApiFamily', {
  description: 'Rate-limit families: Mixpanel counts each separately, per project.',
  values: {
    QUERY: {
      value: 'query',
      description: 'Query API: engage, cohorts, segmentation, events, funnels, retention, insights, stream. 60 calls/hour and 5 concurrent.',
    },
    EXPORT: { value: 'export', description: 'Raw event export. 60 calls/hour, 3/second, 100 concurrent.' },
    LEXICON: { value: 'lexicon', description: 'Lexicon Schemas API. 5 calls/minute.' },
    APP: { value: 'app', description: 'App APIs such as annotations (limits not documented by Mixpanel).' },
    INGESTION: { value: 'ingestion', description: 'Ingestion: track, import, profile and group updates.' },
  } as const satisfies Record<string, { value: ApiFamily; description: string }>,
});

builder.objectType(InvalidArgumentError, {
  name: 'InvalidArgumentError',
  description: 'An argument failed validation. Nothing was sent to Mixpanel and no budget was spent.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    argument: t.string({
      nullable: true,
      description: 'The argument at fault, when one is.',
      resolve: (error) => error.argument ?? null,
    }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'The entity does not exist in this Mixpanel project.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    entity: t.exposeString('entity', { description: 'What was looked up, e.g. `Profile` or `Cohort`.' }),
    id: t.exposeString('id', { description: 'The id that matched nothing.' }),
  }),
});

builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  description: "The project's Mixpanel budget for this family is spent (or Mixpanel answered 429). Nothing more was sent; retry after `retryAfterSeconds`.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    family: t.field({ type: ApiFamilyEnum, description: 'The family whose budget is spent.', resolve: (error) => error.family }),
    retryAfterSeconds: t.int({
      nullable: true,
      description: 'Seconds until a call of this family may succeed, when known.',
      resolve: (error) => (error.retryAfterMs === undefined ? null : Math.max(1, Math.ceil(error.retryAfterMs / 1000))),
    }),
  }),
});

builder.objectType(EventRangeTooLargeError, {
  name: 'EventRangeTooLargeError',
  description: 'The range holds more events than the gateway keeps for paging. Narrow the range or the filter, or download it as NDJSON.',
  interfaces: [ErrorInterface],
});

type ErrorClass = new (...args: never[]) => Error;

/** The failure sets fields declare in `errors.types`. */
export const FAILURES = {
  /** A field without arguments that spends Mixpanel calls. */
  upstream: [RateLimitedError],
  /** A field whose arguments can be refused, and that spends Mixpanel calls. */
  arguments: [InvalidArgumentError, RateLimitedError],
  /** A field that looks something up by id or name. */
  lookup: [NotFoundError, InvalidArgumentError, RateLimitedError],
} as const satisfies Record<string, readonly ErrorClass[]>;

/** A mutable copy, as the errors plugin takes it. */
export const failures = (set: keyof typeof FAILURES, ...more: ErrorClass[]): (new (...args: never[]) => Error)[] => [...FAILURES[set], ...more];
