/**
 * What a web page on another origin may do: nothing, unless its origin is
 * listed in CORS_ORIGINS (or, in demo mode, is a loopback origin).
 *
 * - CORS answers name only an allowed origin, never echo an arbitrary one,
 *   and never allow credentials (clients authenticate with a bearer header,
 *   which a page must set itself; cookies are never used).
 * - A request carrying a foreign `Origin` is refused outright (403) rather
 *   than executed with an unreadable answer: browsers send `Origin` on every
 *   cross-origin request, WebSocket handshakes included, and CORS does not
 *   protect WebSockets at all.
 * - On a gateway bound to loopback the `Host` must be a loopback name, so a
 *   page whose domain is re-bound to 127.0.0.1 (DNS rebinding) is not
 *   "same origin" with it.
 */
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { SecurityConfig } from '../../config/types.js';

type CorsOptions = { origin: string[]; methods: string[]; allowedHeaders: string[]; credentials: boolean; maxAge: number };

export interface OriginPolicy {
  /** Whether a request with this `Origin` (null: none, as from non-browser clients) and `Host` may proceed. */
  allows(origin: string | null | undefined, host: string | null | undefined): boolean;
  /** yoga's `cors` option: headers for an allowed cross-origin page, none otherwise. */
  cors(request: Request): CorsOptions | false;
}

/** `extensions.code` of a request refused for its Origin or Host. */
export const FORBIDDEN_ORIGIN = 'FORBIDDEN_ORIGIN';

/** Headers a cross-origin client may send (preflight answer). */
const ALLOWED_HEADERS = ['content-type', 'accept', 'authorization', 'x-graphql-yoga-csrf'];

export function isLoopbackHostname(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare.endsWith('.localhost') || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

function hostnameOf(host: string): string {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return '';
  }
}

export interface OriginPolicyOptions {
  readonly security: Pick<SecurityConfig, 'corsOrigins' | 'corsLoopback'>;
  /** The gateway listens on a loopback interface only: `Host` must then name loopback. */
  readonly loopbackOnly: boolean;
}

export function createOriginPolicy(options: OriginPolicyOptions): OriginPolicy {
  const listed = new Set(options.security.corsOrigins);
  const isListed = (origin: string): boolean => {
    if (listed.has(origin)) return true;
    if (!options.security.corsLoopback) return false;
    try {
      const url = new URL(origin);
      return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHostname(url.hostname);
    } catch {
      return false;
    }
  };
  const hostAllowed = (host: string | null | undefined): boolean => !options.loopbackOnly || (host != null && isLoopbackHostname(hostnameOf(host)));
  const sameOrigin = (origin: string, host: string | null | undefined) => host != null && (origin === `http://${host}` || origin === `https://${host}`);
  return {
    allows(origin, host) {
      if (!hostAllowed(host)) return false;
      return origin == null || sameOrigin(origin, host) || isListed(origin);
    },
    cors(request) {
      const origin = request.headers.get('origin');
      if (origin == null || !isListed(origin) || !hostAllowed(request.headers.get('host'))) return false;
      return { origin: [origin], methods: ['GET', 'POST'], allowedHeaders: ALLOWED_HEADERS, credentials: false, maxAge: 600 };
    },
  };
}

/** Refuses, on the GraphQL paths, a request from an origin the policy does not allow. */
export function useOriginPolicy(policy: OriginPolicy, graphqlPaths: () => readonly string[]): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!graphqlPaths().includes(url.pathname)) return;
      if (policy.allows(request.headers.get('origin'), request.headers.get('host'))) return;
      const error = createGraphQLError('Requests from this origin are not allowed (see CORS_ORIGINS)', { extensions: { code: FORBIDDEN_ORIGIN } });
      endResponse(new fetchAPI.Response(JSON.stringify({ errors: [error.toJSON()] }), { status: 403, headers: { 'content-type': 'application/json' } }));
    },
    onResponse({ request, response }) {
      // The CORS headers depend on the Origin: a shared cache must not serve one origin's answer to another.
      if (request.headers.has('origin') && !/\borigin\b/i.test(response.headers.get('vary') ?? '')) response.headers.append('vary', 'Origin');
    },
  };
}
