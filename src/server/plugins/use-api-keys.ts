/**
 * Client authentication: `Authorization: Bearer <key>` on HTTP and SSE
 * requests; WebSocket connections present the same value in their
 * `connection_init` payload (websocket.ts). Keys are configured as SHA-256
 * digests, each mapped to the projects its client may read and whether it
 * may write (GATEWAY_API_KEYS).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { getOperationAST } from 'graphql';
import { createGraphQLError, shouldRenderGraphiQL, type Plugin } from 'graphql-yoga';
import type { ApiKeyConfig } from '../../config/types.js';
import type { Context, GatewayClient } from '../../schema/context.js';

export interface ApiKeyCheck {
  /** Whether keys are configured at all; without them every request is anonymous and allowed. */
  readonly required: boolean;
  /** The client an `Authorization` value authenticates, or undefined (none, wrong, or no keys configured). */
  authenticate(authorization: string | null | undefined): GatewayClient | undefined;
  /** True when keys are off or the value authenticates a client. */
  isAuthorized(authorization: string | null | undefined): boolean;
}

export function createApiKeyCheck(keys: readonly ApiKeyConfig[]): ApiKeyCheck {
  const entries = keys.map((key) => ({
    digest: Buffer.from(key.sha256, 'hex'),
    client: Object.freeze({ id: key.id, canWrite: key.canWrite, projects: key.projects }) as GatewayClient,
  }));
  const authenticate = (authorization: string | null | undefined): GatewayClient | undefined => {
    if (entries.length === 0) return undefined;
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    if (!match?.[1]) return undefined;
    const presented = createHash('sha256').update(match[1].trim(), 'utf8').digest();
    // Compare against every key so timing does not reveal which one matched.
    let found: GatewayClient | undefined;
    for (const entry of entries) if (timingSafeEqual(entry.digest, presented)) found = entry.client;
    return found;
  };
  return {
    required: entries.length > 0,
    authenticate,
    isAuthorized: (authorization) => entries.length === 0 || authenticate(authorization) !== undefined,
  };
}

/** Whether a client (undefined: anonymous on a keyless gateway) may read a project. */
export function mayReadProject(client: GatewayClient | undefined, projectKey: string): boolean {
  return client === undefined || client.projects === '*' || client.projects.includes(projectKey);
}

/** The client each HTTP request authenticated as, for the context factory. */
const clientsByRequest = new WeakMap<Request, GatewayClient>();
export function clientOfRequest(request: Request | undefined): GatewayClient | undefined {
  return request ? clientsByRequest.get(request) : undefined;
}

export interface ApiKeysOptions {
  /** Key of the project the endpoint serves: a client must be allowed to read it. */
  readonly projectKey: string;
  /** GraphQL paths guarded; other paths (webhooks, metrics, health) have their own rules. */
  readonly graphqlPaths: () => readonly string[];
  /**
   * Whether yoga serves the GraphiQL page, which then needs no key; without it, a request that
   * accepts HTML is executed like any other and must carry a key. Default false.
   */
  readonly graphiql?: boolean;
}

/** `extensions.code` of an operation a key may not run (another project, or a mutation without `write`). */
export const FORBIDDEN = 'FORBIDDEN';

export function useApiKeys(check: ApiKeyCheck, options: ApiKeysOptions): Plugin<Context> {
  const refuse = (fetchAPI: { Response: typeof Response }, status: 401 | 403, message: string) => {
    const error = createGraphQLError(message, { extensions: { code: status === 401 ? 'UNAUTHENTICATED' : FORBIDDEN } });
    return new fetchAPI.Response(JSON.stringify({ errors: [error.toJSON()] }), {
      status,
      headers: { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) },
    });
  };
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!options.graphqlPaths().includes(url.pathname)) return;
      if (options.graphiql && shouldRenderGraphiQL(request)) return; // the GraphiQL page itself
      if (!check.required) return;
      const client = check.authenticate(request.headers.get('authorization'));
      if (!client) {
        endResponse(refuse(fetchAPI, 401, 'Missing or invalid API key: send "Authorization: Bearer <key>"'));
        return;
      }
      if (!mayReadProject(client, options.projectKey)) {
        endResponse(refuse(fetchAPI, 403, `This API key may not read project "${options.projectKey}"`));
        return;
      }
      clientsByRequest.set(request, client);
    },
    onExecute({ args, setResultAndStopExecution }) {
      const client = (args.contextValue as Context).client;
      if (!client || client.canWrite) return;
      if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      setResultAndStopExecution({
        errors: [
          createGraphQLError('This API key may not run mutations (it has no "write" permission); nothing was changed', { extensions: { code: FORBIDDEN } }),
        ],
      });
    },
  };
}
