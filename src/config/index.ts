/**
 * Environment (and an optional projects file) -> a validated, deeply frozen
 * Config. Every problem is collected and reported at once in a ConfigError;
 * no message ever quotes a secret value. Each variable is documented, with its
 * default, in .env.example; its type, default and range are in schema.ts.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { readApiKeys } from './api-keys.js';
import { demoPlaceholder } from './demo.js';
import { CREDENTIAL_VARS, DEFAULT_PROJECT_KEY, readEnvProject, readProjectDefaults } from './environment.js';
import { deepFreeze } from './freeze.js';
import { readProjectsFile } from './projects-file.js';
import { graphqlPathSchema, redisUrlSchema, securitySchema, settingsSchema, subscriptionsSchema, webhookSchema } from './schema.js';
import type { Config, SecurityConfig, WebhookConfig } from './types.js';
import { readEnv, readSection, type Env, type Problems } from './variables.js';

export type * from './types.js';
export type { Env } from './variables.js';
export { DEFAULT_INTEGRATION_ID } from './schema.js';
export { DEFAULT_PROJECT_KEY } from './environment.js';
export { withDemoProject, type DemoProjectCredentials } from './demo.js';

export interface LoadConfigOptions {
  /** Path of a projects file; wins over MIXPANEL_PROJECTS_FILE. Default: none. */
  readonly projectsFile?: string | undefined;
}

/**
 * Reads the configuration. Throws ConfigError listing every problem found.
 * With no MIXPANEL_PROJECT_ID, service account or projects file, returns a
 * demo configuration (`demo: true`) whose one project holds placeholders:
 * replace them with `withDemoProject` once the emulator runs.
 */
export function loadConfig(env: Env = process.env, options: LoadConfigOptions = {}): Config {
  const problems: Problems = [];
  const defaults = readProjectDefaults(env, problems);
  const envProject = readEnvProject(env, defaults, problems);
  const projectsFile = options.projectsFile ?? readEnv(env, 'MIXPANEL_PROJECTS_FILE');
  const file = projectsFile === undefined ? undefined : readProjectsFile(projectsFile, env, defaults, problems);
  const demo = projectsFile === undefined && [...CREDENTIAL_VARS, 'MIXPANEL_PROJECT_TOKEN'].every((name) => readEnv(env, name) === undefined);
  const projects = [...(envProject ? [envProject] : []), ...(file?.projects ?? []), ...(demo ? [demoPlaceholder(defaults)] : [])];
  if (envProject !== undefined && file?.keys.includes(DEFAULT_PROJECT_KEY)) {
    problems.push(`Project key "${DEFAULT_PROJECT_KEY}" is used both by the MIXPANEL_* variables and MIXPANEL_PROJECTS_FILE; rename the file's project`);
  }
  const defaultProjectKey = file?.defaultProject ?? projects[0]?.key ?? DEFAULT_PROJECT_KEY;

  const { redisUrl } = readSection(redisUrlSchema, env, problems);
  const { graphqlPath } = readSection(graphqlPathSchema, env, problems);
  const webhook = readWebhook(env, demo, problems);
  if (webhook.path === graphqlPath) problems.push('WEBHOOK_PATH and GRAPHQL_PATH must differ');
  // Every key the file names, valid project or not: a client scoped to a broken project is not a second problem.
  const projectKeys = [...(envProject ? [envProject.key] : []), ...(file?.keys ?? []), ...(demo ? [DEFAULT_PROJECT_KEY] : [])];
  const apiKeys = readApiKeys(env, projectKeys, problems);
  const settings = readSection(settingsSchema, env, problems);
  const storeKind = settings.store.kind ?? (redisUrl ? 'redis' : 'sqlite');
  if (storeKind === 'redis' && redisUrl === undefined) problems.push('MEMBERSHIP_STORE=redis needs REDIS_URL');
  const security = readSecurity(env, { demo, keyed: apiKeys.keys.length > 0, host: settings.host }, problems);
  const subscriptions = readSection(subscriptionsSchema, env, problems);

  const config: Config = {
    ...settings,
    graphqlPath,
    projects,
    defaultProjectKey,
    demo,
    redisUrl,
    store: { kind: storeKind, sqlitePath: settings.store.sqlitePath },
    webhook,
    maskErrors: readEnv(env, 'NODE_ENV') !== 'development',
    apiKeys: apiKeys.keys,
    plainApiKeys: apiKeys.plain,
    security,
    subscriptions,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** Shortest accepted WEBHOOK_PASSWORD: Mixpanel stores it and sends it on every page, so nobody types it. */
const MIN_WEBHOOK_PASSWORD_LENGTH = 16;

function readWebhook(env: Env, demo: boolean, problems: Problems): WebhookConfig {
  const username = readEnv(env, 'WEBHOOK_USERNAME');
  const password = readEnv(env, 'WEBHOOK_PASSWORD');
  if ((username === undefined) !== (password === undefined)) {
    problems.push('WEBHOOK_USERNAME and WEBHOOK_PASSWORD must be set together (or both left unset)');
  } else if (username === undefined && !demo) {
    // An open receiver lets anyone empty a cohort with one full sync; only the demo runs without credentials.
    problems.push('WEBHOOK_USERNAME and WEBHOOK_PASSWORD must be set outside demo mode: the cohort-sync webhook never runs without Basic authentication');
  }
  if (password !== undefined && password.length < MIN_WEBHOOK_PASSWORD_LENGTH) {
    problems.push(`WEBHOOK_PASSWORD must be at least ${MIN_WEBHOOK_PASSWORD_LENGTH} characters`);
  }
  return {
    ...readSection(webhookSchema, env, problems),
    username,
    password: password === undefined ? undefined : new Secret(password),
  };
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `{ "<sha256>": "<document>" }`, read by the gateway at start-up. */
const persistedOperationsSchema = z.record(z.string(), z.string());

function readSecurity(env: Env, context: { demo: boolean; keyed: boolean; host: string }, problems: Problems): SecurityConfig {
  const read = readSection(securitySchema, env, problems);
  // Open schemas where nobody else can reach them or nothing is protected: demo mode, or keyless on loopback.
  const openByDefault = context.demo || (!context.keyed && isLoopbackHost(context.host));
  const { persistedOperationsFile } = read;
  if (persistedOperationsFile !== undefined) {
    // The gateway reads it at start-up; an unreadable manifest is a configuration problem, named here.
    let manifest: unknown;
    try {
      manifest = JSON.parse(readFileSync(persistedOperationsFile, 'utf8'));
    } catch {
      manifest = undefined;
    }
    if (!persistedOperationsSchema.safeParse(manifest).success) {
      problems.push(`PERSISTED_OPERATIONS_FILE (${persistedOperationsFile}) must be a readable JSON object mapping SHA-256 hashes to documents`);
    }
  }
  return {
    ...read,
    corsLoopback: context.demo,
    introspection: read.introspection ?? openByDefault,
    fieldSuggestions: read.fieldSuggestions ?? openByDefault,
  };
}
