/**
 * What every project starts from (region, hosts, limits, timezone from MIXPANEL_* and LIMIT_*
 * variables, projectDefaultsSchema), and the project the MIXPANEL_* credentials describe, keyed `default`.
 */
import type { z } from 'zod';
import type { Frozen, ProjectConfig } from './types.js';
import { resolveBaseUrls } from '../mixpanel/hosts.js';
import { Secret } from '../core/secret.js';
import { projectDefaultsSchema } from './schema.js';
import { quote, readEnv, readSection, type Env, type Problems } from './variables.js';

/** Key of the project configured through MIXPANEL_* variables (and of the demo project). */
export const DEFAULT_PROJECT_KEY = 'default';

export const PROJECT_ID = /^\d{1,20}$/;

export type GlobalProjectDefaults = Frozen<z.output<typeof projectDefaultsSchema>>;

export function readProjectDefaults(env: Env, problems: Problems): GlobalProjectDefaults {
  return readSection(projectDefaultsSchema, env, problems);
}

/** The `default` project: `project` over what the variables give every project (its hosts among them). */
export function defaultProject(
  defaults: GlobalProjectDefaults,
  project: Pick<ProjectConfig, 'projectId' | 'serviceAccount' | 'workspaceId' | 'projectToken'>,
): ProjectConfig {
  return {
    key: DEFAULT_PROJECT_KEY,
    region: defaults.region,
    baseUrls: resolveBaseUrls(defaults.region, defaults),
    limits: defaults.limits,
    countEngageFollowOnPages: defaults.countEngageFollowOnPages,
    timezone: defaults.timezone,
    ...project,
  };
}

export const CREDENTIAL_VARS = ['MIXPANEL_PROJECT_ID', 'MIXPANEL_SERVICE_ACCOUNT_USERNAME', 'MIXPANEL_SERVICE_ACCOUNT_SECRET'] as const;

/** The project configured through MIXPANEL_* variables; undefined when none of them is set. */
export function readEnvProject(env: Env, defaults: GlobalProjectDefaults, problems: Problems): ProjectConfig | undefined {
  const given = CREDENTIAL_VARS.filter((name) => readEnv(env, name) !== undefined);
  const token = readEnv(env, 'MIXPANEL_PROJECT_TOKEN');
  if (given.length === 0) {
    if (token !== undefined) problems.push(`MIXPANEL_PROJECT_TOKEN is set but the service account is not: also set ${CREDENTIAL_VARS.join(', ')}`);
    return undefined;
  }
  if (given.length < CREDENTIAL_VARS.length) {
    const missing = CREDENTIAL_VARS.filter((name) => !given.includes(name));
    problems.push(`${CREDENTIAL_VARS.join(', ')} must be set together: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`);
    return undefined;
  }
  const projectId = readEnv(env, 'MIXPANEL_PROJECT_ID')!;
  if (!PROJECT_ID.test(projectId)) problems.push(`MIXPANEL_PROJECT_ID must be a numeric Mixpanel project id (got ${quote(projectId)})`);
  const workspaceId = readEnv(env, 'MIXPANEL_WORKSPACE_ID');
  if (workspaceId !== undefined && !PROJECT_ID.test(workspaceId)) {
    problems.push(`MIXPANEL_WORKSPACE_ID must be a numeric workspace (data view) id (got ${quote(workspaceId)})`);
  }
  return defaultProject(defaults, {
    projectId,
    workspaceId,
    serviceAccount: {
      username: readEnv(env, 'MIXPANEL_SERVICE_ACCOUNT_USERNAME')!,
      secret: new Secret(readEnv(env, 'MIXPANEL_SERVICE_ACCOUNT_SECRET')!),
    },
    projectToken: token === undefined ? undefined : new Secret(token),
  });
}
