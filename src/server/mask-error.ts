/**
 * Error masking: unexpected errors become yoga's "Unexpected error." (with
 * details only in development), but a GatewayError thrown by a field that
 * does not declare it in its result union (a rate-limited profile load under a
 * subscription, say) keeps its message and stable code, so a client can
 * still act on it. GatewayError messages never carry secrets; every message
 * leaving is passed through redactSecrets all the same (upstream text, a
 * development-mode stack), in every encoded form.
 */
import { GraphQLError } from 'graphql';
import { createGraphQLError, maskError as yogaMaskError, type YogaMaskedErrorOpts } from 'graphql-yoga';
import { GatewayError } from '../core/errors.js';
import { RateLimitedError } from '../mixpanel/errors.js';
import { redactSecrets } from '../core/secret.js';

export function gatewayMaskedErrors(isDev: boolean): Partial<YogaMaskedErrorOpts> {
  return {
    isDev,
    maskError: (error, message, dev) => redacted(maskGatewayError(error, message, dev)),
  };
}

function redacted(error: Error): Error {
  if (!(error instanceof GraphQLError)) return error;
  const message = redactSecrets(error.message);
  const shown = JSON.stringify(error.extensions ?? {});
  const extensionsText = redactSecrets(shown);
  if (message === error.message && extensionsText === shown) return error;
  const extensions = JSON.parse(extensionsText) as Record<string, unknown>;
  return createGraphQLError(message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions });
}

function maskGatewayError(error: unknown, message: string, dev: boolean | undefined): Error {
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
}
