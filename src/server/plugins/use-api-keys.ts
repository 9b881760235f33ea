/**
 * Optional client authentication: `Authorization: Bearer <key>` on HTTP and
 * SSE requests. WebSocket connections present the same value in their
 * `connection_init` payload (checked in websocket.ts with `isAuthorized`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createGraphQLError, shouldRenderGraphiQL, type Plugin } from 'graphql-yoga';
import type { Secret } from '../../secret.js';

export function createApiKeyCheck(keys: readonly Secret[]): (authorization: string | null | undefined) => boolean {
  const digests = keys.map((key) => digest(key.reveal()));
  return (authorization) => {
    if (digests.length === 0) return true;
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    if (!match?.[1]) return false;
    const presented = digest(match[1].trim());
    // Compare against every key so timing does not reveal which one matched.
    let ok = false;
    for (const expected of digests) ok = timingSafeEqual(expected, presented) || ok;
    return ok;
  };
}

/**
 * Guards the GraphQL endpoint; other paths (webhooks, metrics, health) have their own rules.
 * `graphiql`: whether yoga serves the GraphiQL page, which then needs no key; without it, a
 * request that accepts HTML is executed like any other and must carry a key. Default false.
 */
export function useApiKeys(
  isAuthorized: (authorization: string | null) => boolean,
  graphqlPaths: () => readonly string[],
  options: { readonly graphiql?: boolean } = {},
): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!graphqlPaths().includes(url.pathname)) return;
      if (options.graphiql && shouldRenderGraphiQL(request)) return; // the GraphiQL page itself
      if (isAuthorized(request.headers.get('authorization'))) return;
      const error = createGraphQLError('Missing or invalid API key: send "Authorization: Bearer <key>"', {
        extensions: { code: 'UNAUTHENTICATED' },
      });
      endResponse(
        new fetchAPI.Response(JSON.stringify({ errors: [error.toJSON()] }), {
          status: 401,
          headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' },
        }),
      );
    },
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
