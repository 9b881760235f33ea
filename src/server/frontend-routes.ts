/**
 * The routes a person or a codegen tool opens beside GraphQL: the start page
 * at `/`, GraphiQL's assets, and the SDL files (`/schema.graphql` for the
 * default project's typed schema, `/schema/generic.graphql`,
 * `/projects/{key}/schema.graphql`). The page and the assets follow
 * GRAPHIQL; the SDL, which says what introspection says, sits behind the
 * API keys.
 */
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import type { Config } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import { isGraphiqlAssetPath, serveGraphiqlAsset } from './graphiql-assets.js';
import { GENERIC_SDL_PATH, LANDING_PAGE_HEADERS, projectSdlPath, renderLandingPage, TYPED_SDL_PATH } from './landing-page.js';
import { plain, UNAUTHORIZED, type Route, type RouteRequest } from './route.js';

export interface FrontendRoutesOptions {
  readonly config: Config;
  readonly defaultProjectKey: string;
  readonly genericGraphqlPath: string;
  readonly endpointOf: (projectKey: string) => string;
  /** The schema each project serves now (typed once its Lexicon was read). */
  readonly typedSchema: (projectKey: string) => GraphQLSchema;
  readonly genericSchema: GraphQLSchema;
  readonly isAuthorized: (authorization: string | undefined) => boolean;
  readonly logger: Logger;
}

/** Returns the route of a request, or undefined for a path these routes do not serve. */
export function createFrontendRoutes(options: FrontendRoutesOptions): (request: RouteRequest) => Route | undefined {
  const { config, logger } = options;
  const sdlSchemas = new Map<string, () => GraphQLSchema>([
    [TYPED_SDL_PATH, () => options.typedSchema(options.defaultProjectKey)],
    [GENERIC_SDL_PATH, () => options.genericSchema],
    ...config.projects.map((p) => [projectSdlPath(p.key), () => options.typedSchema(p.key)] as const),
  ]);
  const landingPage = renderLandingPage({
    graphqlPath: config.graphqlPath,
    genericGraphqlPath: options.genericGraphqlPath,
    defaultProjectKey: options.defaultProjectKey,
    projects: config.projects.map((p) => ({ key: p.key, endpoint: options.endpointOf(p.key), sdl: projectSdlPath(p.key) })),
    webhookPath: config.webhook.path,
    demo: config.demo,
    open: config.apiKeys.length === 0,
    graphiql: config.graphiql,
  });

  return (request) => {
    const { method, path } = request;
    const readOnly = method === 'GET' || method === 'HEAD';
    const body = (text: string) => (method === 'HEAD' ? undefined : text);
    if (config.graphiql && readOnly && path === '/' && config.graphqlPath !== '/') {
      return plain({ status: 200, headers: LANDING_PAGE_HEADERS, body: body(landingPage) });
    }
    if (config.graphiql && isGraphiqlAssetPath(path)) {
      return {
        kind: 'node',
        serve: (req, res) => {
          serveGraphiqlAsset(req, res, path).catch((error: unknown) => {
            logger.error('GraphiQL asset failed', error);
            if (!res.headersSent) res.writeHead(500).end();
          });
        },
      };
    }
    const sdl = readOnly ? sdlSchemas.get(path) : undefined;
    if (!sdl) return undefined;
    if (!options.isAuthorized(request.header('authorization'))) return plain(UNAUTHORIZED);
    return {
      kind: 'plain',
      answer: () => ({
        status: 200,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' },
        body: body(printedSdl(sdl())),
      }),
    };
  };
}

const printedSchemas = new WeakMap<GraphQLSchema, string>();
/** A schema's SDL as `npm run schema` prints it, once per schema (a Lexicon change brings a new one). */
function printedSdl(schema: GraphQLSchema): string {
  let printed = printedSchemas.get(schema);
  if (printed === undefined) {
    printed = `${printSchema(lexicographicSortSchema(schema))}\n`;
    printedSchemas.set(schema, printed);
  }
  return printed;
}
