/**
 * What every project starts from (region, hosts, limits, timezone from MIXPANEL_* and LIMIT_*
 * variables), and the project the MIXPANEL_* credentials describe, keyed `default`.
 */
import type { ProjectConfig, ProjectLimits } from './types.js';
import { DOCUMENTED_LIMITS } from '../limits/defaults.js';
import { resolveBaseUrls } from '../mixpanel/hosts.js';
import type { HostFamily, Region } from '../mixpanel/types.js';
import { Secret } from '../shared/secret.js';
import { projectDefaultsSchema } from './schema.js';
import { quote, readEnv, readSection, type Env, type Problems } from './variables.js';

/** Key of the project configured through MIXPANEL_* variables (and of the demo project). */
export const DEFAULT_PROJECT_KEY = 'default';

export const PROJECT_ID = /^\d{1,20}$/;

export interface GlobalProjectDefaults {
  readonly region: Region;
  readonly baseUrl: string | undefined;
  readonly overrides: Partial<Record<HostFamily, string>>;
  readonly limits: ProjectLimits;
  readonly countEngageFollowOnPages: boolean;
  readonly timezone: string;
}

export function readProjectDefaults(env: Env, problems: Problems): GlobalProjectDefaults {
  const read = readSection(projectDefaultsSchema, env, problems);
  const overrides: Partial<Record<HostFamily, string>> = {};
  for (const [family, url] of Object.entries(read.overrides)) if (url !== undefined) overrides[family as HostFamily] = url;
  const { limits } = read;
  return {
    region: read.region,
    baseUrl: read.baseUrl,
    overrides,
    limits: {
      ...DOCUMENTED_LIMITS,
      query: { ...DOCUMENTED_LIMITS.query, perHour: limits.queryPerHour, concurrent: limits.queryConcurrent },
      export: { ...DOCUMENTED_LIMITS.export, perHour: limits.exportPerHour, perSecond: limits.exportPerSecond, concurrent: limits.exportConcurrent },
      lexicon: { ...DOCUMENTED_LIMITS.lexicon, perMinute: limits.lexiconPerMinute },
      app: { ...DOCUMENTED_LIMITS.app },
      ingestion: { ...DOCUMENTED_LIMITS.ingestion },
    },
    countEngageFollowOnPages: read.countEngageFollowOnPages,
    timezone: read.timezone,
  };
}

export const CREDENTIAL_VARS = ['MIXPANEL_PROJECT_ID', 'MIXPANEL_SERVICE_ACCOUNT_USERNAME', 'MIXPANEL_SERVICE_ACCOUNT_SECRET'] as const;

/** The project configured through MIXPANEL_* variables; undefined when none of them is set. */
export function readEnvProject(env: Env, defaults: GlobalProjectDefaults, problems: Problems): ProjectConfig | undefined {
  const required = CREDENTIAL_VARS;
  const given = required.filter((name) => readEnv(env, name) !== undefined);
  const token = readEnv(env, 'MIXPANEL_PROJECT_TOKEN');
  if (given.length === 0) {
    if (token !== undefined) problems.push(`MIXPANEL_PROJECT_TOKEN is set but the service account is not: also set ${required.join(', ')}`);
    return undefined;
  }
  if (given.length < required.length) {
    const missing = required.filter((name) => !given.includes(name));
    problems.push(`${required.join(', ')} must be set together: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`);
    return undefined;
  }
  const projectId = readEnv(env, 'MIXPANEL_PROJECT_ID')!;
  if (!PROJECT_ID.test(projectId)) problems.push(`MIXPANEL_PROJECT_ID must be a numeric Mixpanel project id (got ${quote(projectId)})`);
  const workspaceId = readEnv(env, 'MIXPANEL_WORKSPACE_ID');
  if (workspaceId !== undefined && !PROJECT_ID.test(workspaceId)) {
    problems.push(`MIXPANEL_WORKSPACE_ID must be a numeric workspace (data view) id (got ${quote(workspaceId)})`);
  }
  return {
    key: DEFAULT_PROJECT_KEY,
    projectId,
    region: defaults.region,
    workspaceId,
    serviceAccount: {
      username: readEnv(env, 'MIXPANEL_SERVICE_ACCOUNT_USERNAME')!,
      secret: new Secret(readEnv(env, 'MIXPANEL_SERVICE_ACCOUNT_SECRET')!),
    },
    projectToken: token === undefined ? undefined : new Secret(token),
    baseUrls: resolveBaseUrls(defaults.region, { baseUrl: defaults.baseUrl, overrides: defaults.overrides }),
    limits: defaults.limits,
    countEngageFollowOnPages: defaults.countEngageFollowOnPages,
    timezone: defaults.timezone,
  };
}

