/**
 * The page at `/`: what this gateway serves and where, as plain HTML with
 * its styles inline and nothing loaded from anywhere (no script at all).
 * It names project keys only when the gateway is open (no API keys), since
 * a page anyone can read should not describe a locked deployment.
 */
import { escapeHtml } from './graphiql.js';

export interface LandingPageOptions {
  /** The default project's endpoint (typed schema), e.g. `/graphql`. */
  readonly graphqlPath: string;
  /** The generic schema's endpoint, e.g. `/graphql/generic`. */
  readonly genericGraphqlPath: string;
  readonly defaultProjectKey: string;
  /** Other endpoints by project key: listed only when `open`. */
  readonly projects: readonly { readonly key: string; readonly endpoint: string; readonly sdl: string }[];
  readonly webhookPath: string;
  readonly demo: boolean;
  /** False when GATEWAY_API_KEYS is set. */
  readonly open: boolean;
  readonly graphiql: boolean;
}

/** Where the typed SDL of the default project, and the generic SDL, are served. */
export const TYPED_SDL_PATH = '/schema.graphql';
export const GENERIC_SDL_PATH = '/schema/generic.graphql';
export const projectSdlPath = (key: string): string => `/projects/${encodeURIComponent(key)}/schema.graphql`;

const link = (href: string, text: string = href): string => `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;

export function renderLandingPage(options: LandingPageOptions): string {
  const keyNote = options.open ? '' : ' (send <code>Authorization: Bearer &lt;key&gt;</code>)';
  const endpoint = (path: string) => (options.graphiql ? `${link(path)}, GraphiQL in a browser` : `<code>${escapeHtml(path)}</code>`);
  const rows: [string, string][] = [
    [`GraphQL, project “${escapeHtml(options.defaultProjectKey)}”, Lexicon-typed schema`, `${endpoint(options.graphqlPath)} (also graphql-ws and SSE)`],
    ['GraphQL, generic schema (every project alike)', endpoint(options.genericGraphqlPath)],
    ['Typed SDL (codegen input)', `${link(TYPED_SDL_PATH)}${keyNote}`],
    ['Generic SDL', `${link(GENERIC_SDL_PATH)}${keyNote}`],
    ...(options.open ? options.projects.map((p): [string, string] => [`Project “${escapeHtml(p.key)}”`, `${endpoint(p.endpoint)}; SDL ${link(p.sdl)}`]) : []),
    ['Prometheus metrics', `${link('/metrics')}${keyNote}`],
    ['Health', `${link('/healthz')} (liveness), ${link('/readyz')} (readiness)`],
    ['Cohort-sync webhook (Mixpanel posts here)', `<code>POST ${escapeHtml(options.webhookPath)}</code>`],
  ];
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Mixpanel GraphQL gateway</title>
    <style>
      body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
      h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
      p.mode { margin-top: 0; color: #57606a; }
      table { border-collapse: collapse; width: 100%; }
      td { border-top: 1px solid #d0d7de; padding: 0.5rem 0.4rem; vertical-align: top; }
      td:first-child { width: 45%; color: #57606a; }
      code { font-size: 0.9em; }
    </style>
  </head>
  <body>
    <h1>Mixpanel GraphQL gateway</h1>
    <p class="mode">${options.demo ? 'Demo mode: the built-in Mixpanel emulator with seeded data.' : 'Serving Mixpanel.'}</p>
    <p>One GraphQL endpoint over Mixpanel’s REST APIs that stays inside Mixpanel’s rate limits; each response’s
    <code>extensions.mixpanel</code> says what it cost upstream.</p>
    <table>
${rows.map(([what, where]) => `      <tr><td>${what}</td><td>${where}</td></tr>`).join('\n')}
    </table>
  </body>
</html>
`;
}

/** Headers of the landing page: nothing but its inline styles may load. */
export const LANDING_PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
} as const;
