/**
 * Expected failures as GraphQL types. Each GatewayError class the builder
 * lists in `errors.defaultTypes` gets an object type implementing the
 * `Error` interface, so clients can always select `... on Error { message code }`
 * and pick out the cases they act on.
 */
import { GatewayError, InvalidArgumentError, NotFoundError } from '../errors.js';
import {
  BadRequestError,
  ForbiddenError,
  MixpanelError,
  RateLimitedError,
  UnauthorizedError,
  UpstreamError,
  UpstreamNotFoundError,
  UpstreamTimeoutError,
} from '../mixpanel/errors.js';
import type { ApiFamily } from '../mixpanel/types.js';
import { builder } from './builder.js';

export const ErrorInterface = builder.interfaceRef<GatewayError>('Error').implement({
  description: 'A failure the client can act on. Unexpected failures are not typed: they appear masked in `errors`.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, for people. Never carries a secret.' }),
    code: t.exposeString('code', { description: 'Stable machine-readable code, e.g. `NOT_FOUND` or `MIXPANEL_RATE_LIMITED`.' }),
  }),
});

export const ApiFamilyEnum = builder.enumType('ApiFamily', {
  description: 'Rate-limit families: Mixpanel counts each separately, per project.',
  values: {
    QUERY: { value: 'query', description: 'Query API: engage, cohorts, segmentation, events, funnels, retention, insights, stream. 60 calls/hour and 5 concurrent.' },
    EXPORT: { value: 'export', description: 'Raw event export. 60 calls/hour, 3/second, 100 concurrent.' },
    LEXICON: { value: 'lexicon', description: 'Lexicon Schemas API. 5 calls/minute.' },
    APP: { value: 'app', description: 'App APIs such as annotations (limits not documented by Mixpanel).' },
    INGESTION: { value: 'ingestion', description: 'Ingestion: track, import, profile and group updates.' },
  } as const satisfies Record<string, { value: ApiFamily; description: string }>,
});

function mixpanelErrorType<T extends MixpanelError>(errorClass: new (...args: never[]) => T, name: string, description: string) {
  builder.objectType(errorClass as unknown as new (...args: unknown[]) => T, {
    name,
    description,
    interfaces: [ErrorInterface as never],
    fields: (t) => ({
      family: t.field({
        type: ApiFamilyEnum,
        description: 'The rate-limit family of the failing call.',
        resolve: (error) => error.family,
      }),
      upstreamStatus: t.int({
        nullable: true,
        description: "Mixpanel's HTTP status, when a response arrived.",
        resolve: (error) => error.status ?? null,
      }),
    }),
  });
}

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
  description:
    "The project's Mixpanel budget for this family is spent (or Mixpanel answered 429). Nothing more was sent; retry after `retryAfterSeconds`.",
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

mixpanelErrorType(UnauthorizedError, 'UnauthorizedError', "Mixpanel refused the gateway's service-account credentials (401).");
mixpanelErrorType(ForbiddenError, 'ForbiddenError', 'The service account lacks a permission this call needs, or the plan has no API access (402/403).');
mixpanelErrorType(BadRequestError, 'UpstreamBadRequestError', "Mixpanel refused the request (400), e.g. a malformed `where` expression; `message` carries Mixpanel's reason.");
mixpanelErrorType(UpstreamNotFoundError, 'UpstreamNotFoundError', 'Mixpanel answered 404 for this call.');
mixpanelErrorType(UpstreamError, 'UpstreamUnavailableError', 'Mixpanel failed (5xx, a connection failure or an unexpected body). Retrying later may succeed.');
mixpanelErrorType(UpstreamTimeoutError, 'UpstreamTimeoutError', 'Mixpanel did not answer in time. Retrying later may succeed.');

builder.objectType(GatewayError as unknown as new () => GatewayError, {
  name: 'GatewayError',
  description: 'Any other failure the gateway reports to clients; see `code`.',
  interfaces: [ErrorInterface],
});
