/**
 * What `npm start` prints: one line saying whether the gateway runs in demo
 * mode and why (so a `.env` that was not picked up, or a variable with a typo,
 * shows at once), then where everything is served.
 */
import type { Config } from '../config/types.js';
import type { EnvWithFile } from '../config/env-file.js';

/** The variables whose absence means demo mode (src/config decides; this only explains). */
const MODE_VARIABLES = ['MIXPANEL_PROJECT_ID', 'MIXPANEL_SERVICE_ACCOUNT_USERNAME', 'MIXPANEL_SERVICE_ACCOUNT_SECRET', 'MIXPANEL_PROJECTS_FILE'] as const;

/** Where the variables were looked for, for the mode line. */
function sources(envFile: Pick<EnvWithFile, 'path'>): string {
  return envFile.path === undefined ? 'the environment (no .env in the working folder)' : `the environment or ${envFile.path}`;
}

/** Where one variable came from. */
function origin(name: string, envFile: Pick<EnvWithFile, 'path' | 'fromFile'>): string {
  return envFile.fromFile.has(name) ? envFile.path! : 'the environment';
}

/**
 * The mode line, e.g. `demo mode: none of MIXPANEL_PROJECT_ID, ... is set in
 * the environment (no .env in the working folder); serving the built-in
 * Mixpanel emulator with seeded data`.
 */
export function describeMode(config: Pick<Config, 'demo' | 'projects'>, envFile: EnvWithFile): string {
  if (config.demo) {
    return `demo mode: none of ${MODE_VARIABLES.join(', ')} is set in ${sources(envFile)}; serving the built-in Mixpanel emulator with seeded data`;
  }
  const projects = config.projects.map((p) => `${p.key} (${p.projectId}, ${p.region})`).join(', ');
  const from = (['MIXPANEL_PROJECT_ID', 'MIXPANEL_PROJECTS_FILE'] as const)
    .filter((name) => envFile.env[name]?.trim())
    .map((name) => `${name} from ${origin(name, envFile)}`);
  return `Mixpanel mode: ${config.projects.length === 1 ? 'project' : 'projects'} ${projects}${from.length > 0 ? ` (${from.join('; ')})` : ''}`;
}

/** Printed first, before the demo emulator seeds its data or Mixpanel is reached. */
export function startupHeader(modeLine: string): string {
  return `\n  Mixpanel GraphQL gateway\n  ${modeLine}\n`;
}

export interface BannerOptions {
  readonly config: Config;
  /** http://host:port of the gateway. */
  readonly url: string;
  readonly genericGraphqlPath: string;
  readonly emulatorUrl?: string | undefined;
}

/** The lines printed once the gateway listens: where everything is. */
export function startupBanner(options: BannerOptions): string {
  const { config, url } = options;
  const defaultKey = config.defaultProjectKey;
  const lines = [
    '',
    ...(config.graphiql ? [`  Start page:  ${url}/`] : []),
    `  GraphQL:     ${url}${config.graphqlPath}  (project ${defaultKey}, Lexicon-typed schema${config.graphiql ? '; GraphiQL in a browser, works offline' : ''})`,
    `  Generic:     ${url}${options.genericGraphqlPath}  (the generic schema, alike for every project)`,
    `  Typed SDL:   ${url}/schema.graphql`,
    ...config.projects.map((p) => `  Project ${p.key} (${p.projectId}, ${p.region}): ${url}/projects/${encodeURIComponent(p.key)}/graphql`),
    `  Webhook:     ${url}${config.webhook.path}`,
    `  Metrics:     ${url}/metrics`,
    `  Health:      ${url}/healthz`,
    ...(options.emulatorUrl ? [`  Emulator:    ${options.emulatorUrl}`] : []),
    '',
  ];
  return `${lines.join('\n')}\n`;
}
