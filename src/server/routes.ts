/**
 * The gateway's route table: which path answers what, in the order they are tried.
 * Liveness, /metrics, event downloads, the frontend routes, then the GraphQL endpoints;
 * anything else is a 404 that lists no project key.
 */
import type { Config } from '../config/types.js';
import { downloadProjectKey, serveEventDownload } from './event-download.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ProjectRuntime } from '../runtime/types.js';
import { LIVENESS_PATHS, livenessBody } from './plugins/use-health.js';
import type { GatewayYoga } from './project-yoga.js';
import { jsonErrorAnswer, plain, UNAUTHORIZED, type Route, type RouteRequest } from './route.js';

export interface RouteTableOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly now: () => number;
  readonly metrics: Metrics;
  readonly projects: ReadonlyMap<string, ProjectRuntime>;
  readonly isAuthorized: (authorization: string | undefined) => boolean;
  readonly frontend: (request: RouteRequest) => Route | undefined;
  /** The yoga serving a path, if any. */
  readonly yogaAt: (path: string) => GatewayYoga | undefined;
}

export function createRouteTable(options: RouteTableOptions): (request: RouteRequest) => Route {
  const { config, logger, metrics, projects, isAuthorized, now } = options;
  const startedAt = Date.now();
  return (request) => {
    const { path, method } = request;
    if ((LIVENESS_PATHS as readonly string[]).includes(path)) {
      return plain({
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        body: livenessBody(startedAt),
      });
    }
    if (path === '/metrics' && method === 'GET') {
      // Metrics name projects and endpoints: behind the same keys as GraphQL (Prometheus sends a bearer token).
      if (!isAuthorized(request.header('authorization'))) return plain(UNAUTHORIZED);
      return {
        kind: 'plain',
        answer: () =>
          metrics.registry.metrics().then(
            (body) => ({ status: 200, headers: { 'content-type': metrics.registry.contentType }, body }),
            (error: unknown) => {
              logger.error('metrics failed', error);
              return { status: 500 };
            },
          ),
      };
    }
    const downloadKey = downloadProjectKey(path);
    const downloadProject = downloadKey === undefined ? undefined : projects.get(downloadKey);
    if (downloadProject && method === 'GET') {
      // A page on another origin must not spend the Export budget: browsers mark its requests.
      if (isCrossSite(request)) return plain(jsonErrorAnswer(403, 'Cross-site requests may not download events'));
      // Behind the same API keys as GraphQL.
      if (!isAuthorized(request.header('authorization'))) return plain(UNAUTHORIZED);
      return {
        kind: 'node',
        serve: (req, res) => {
          serveEventDownload(req, res, { project: downloadProject, requestDeadlineMs: config.requestDeadlineMs, now }).catch((error: unknown) => {
            logger.error('event download failed', error);
            if (!res.headersSent) res.writeHead(500).end();
            else res.destroy();
          });
        },
      };
    }
    const frontend = options.frontend(request);
    if (frontend) return frontend;
    const yoga = options.yogaAt(path);
    if (yoga) return { kind: 'yoga', yoga };
    // Project keys are not listed: an unauthenticated caller learns nothing about the configuration.
    const shown = path.length > 100 ? `${path.slice(0, 100)}…` : path;
    return plain(jsonErrorAnswer(404, `No endpoint at ${shown}; GraphQL is served at ${config.graphqlPath} and /projects/<project key>/graphql`));
  };
}

/** A browser request from another site (Fetch Metadata, or an Origin that is not this host). */
function isCrossSite(request: RouteRequest): boolean {
  if (request.header('sec-fetch-site') === 'cross-site') return true;
  const origin = request.header('origin');
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== request.header('host');
  } catch {
    return true;
  }
}
