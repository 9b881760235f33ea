/**
 * GraphiQL's assets, served by the gateway itself: yoga's stock page loads
 * about 9 MB from a CDN at a version yoga pins, which an offline machine or
 * a strict proxy never gets. @graphql-yoga/render-graphiql bundles the same
 * GraphiQL (script, styles with their fonts inlined, Monaco's workers,
 * favicon) as strings; they are served here as separate files under a path
 * that carries the package version, so a browser caches them for good and
 * an upgrade changes the URL.
 *
 * The bundle is loaded on the first request for a GraphiQL page or asset,
 * not at start-up: a gateway nobody opens GraphiQL on never parses it.
 */
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const VERSION = (require('@graphql-yoga/render-graphiql/package.json') as { version: string }).version;

/** Path under which every asset is served: versioned, so `immutable` is safe. */
export const GRAPHIQL_ASSET_PATH = `/graphiql/${VERSION}/`;

/** URL of one asset, for the page. */
export const graphiqlAssetUrl = (name: GraphiqlAssetName): string => `${GRAPHIQL_ASSET_PATH}${name}`;

export type GraphiqlAssetName = 'graphiql.js' | 'graphiql.css' | 'boot.js' | 'editor.worker.js' | 'json.worker.js' | 'graphql.worker.js' | 'favicon.ico';

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  /** Gzipped on first use by a client that accepts it. */
  gzipped?: Buffer;
}

const JS = 'text/javascript; charset=utf-8';

/**
 * Sets up Monaco's workers (same-origin files instead of the blob: URLs the
 * bundled page makes) before graphiql.js runs, and renders GraphiQL once the
 * document is parsed, with the options the page carries as a JSON data block:
 * no inline script, so a `script-src 'self'` policy allows the page.
 */
const BOOT = `'use strict';
(function () {
  var workers = {
    editorWorkerService: ${JSON.stringify(graphiqlAssetUrl('editor.worker.js'))},
    json: ${JSON.stringify(graphiqlAssetUrl('json.worker.js'))},
    graphql: ${JSON.stringify(graphiqlAssetUrl('graphql.worker.js'))}
  };
  self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: function (_moduleId, label) { return workers[label]; } };
  document.addEventListener('DOMContentLoaded', function () {
    var options = JSON.parse(document.getElementById('graphiql-options').textContent);
    YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
  });
})();
`;

let loading: Promise<ReadonlyMap<string, Asset>> | undefined;

async function loadAssets(): Promise<ReadonlyMap<string, Asset>> {
  const bundle = await import('@graphql-yoga/render-graphiql/graphiql');
  const favicon = /^data:([^;]+);base64,(.*)$/s.exec(bundle.favicon);
  const entries: [GraphiqlAssetName, Asset][] = [
    ['graphiql.js', { type: JS, body: Buffer.from(bundle.js) }],
    ['graphiql.css', { type: 'text/css; charset=utf-8', body: Buffer.from(bundle.css) }],
    ['boot.js', { type: JS, body: Buffer.from(BOOT) }],
    ['editor.worker.js', { type: JS, body: Buffer.from(bundle.editorWorkerService) }],
    ['json.worker.js', { type: JS, body: Buffer.from(bundle.jsonWorker) }],
    ['graphql.worker.js', { type: JS, body: Buffer.from(bundle.graphqlWorker) }],
  ];
  if (favicon) entries.push(['favicon.ico', { type: favicon[1]!, body: Buffer.from(favicon[2]!, 'base64') }]);
  return new Map(entries.map(([name, asset]) => [`${GRAPHIQL_ASSET_PATH}${name}`, asset]));
}

/** Loads the bundle once (a failed load is tried again on the next request). */
function assets(): Promise<ReadonlyMap<string, Asset>> {
  loading ??= loadAssets().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** True for a path this module answers (the caller then leaves the response to `serveGraphiqlAsset`). */
export const isGraphiqlAssetPath = (path: string): boolean => path.startsWith('/graphiql/');

/** Answers a GET or HEAD for an asset: 200 with long caching, 404 for an unknown name or another version. */
export async function serveGraphiqlAsset(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const asset = (await assets()).get(path);
  if (!asset) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`No GraphiQL asset at ${path}\n`);
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) && asset.body.length > 1024;
  if (gzip) asset.gzipped ??= gzipSync(asset.body);
  const body = gzip && asset.gzipped ? asset.gzipped : asset.body;
  res.writeHead(200, {
    'content-type': asset.type,
    'content-length': body.length,
    'cache-control': 'public, max-age=31536000, immutable',
    'x-content-type-options': 'nosniff',
    vary: 'accept-encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
