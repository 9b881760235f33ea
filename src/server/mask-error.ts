/**
 * Error masking: unexpected errors become yoga's "Unexpected error." (with
 * details only in development), but a GatewayError thrown by a field that
 * does not declare it in its result union (a rate-limited profile load under a
 * subscription, say) keeps its message and stable code, so a client can
 * still act on it. GatewayError messages never carry secrets.
 */
import { GraphQLError } from 'graphql';
import { createGraphQLError, maskError as yogaMaskError, type YogaMaskedErrorOpts } from 'graphql-yoga';
import { GatewayError } from '../errors.js';
import { RateLimitedError } from '../mixpanel/errors.js';

export function gatewayMaskedErrors(isDev: boolean): Partial<YogaMaskedErrorOpts> {
  return {
    isDev,
    maskError: (error, message, dev) => {
      const located = error instanceof GraphQLError ? error : undefined;
      const original = located ? located.originalError : error;
      if (!(original instanceof GatewayError)) return yogaMaskError(error, message, dev);
      const extensions: Record<string, unknown> = { code: original.code };
      if (original instanceof RateLimitedError && original.retryAfterMs !== undefined) {
        extensions['retryAfterSeconds'] = Math.ceil(original.retryAfterMs / 1000);
      }
      return createGraphQLError(original.message, {
        ...(located ? { nodes: located.nodes, source: located.source, positions: located.positions, path: located.path } : {}),
        extensions,
      });
    },
  };
}
