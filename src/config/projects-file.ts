/**
 * MIXPANEL_PROJECTS_FILE: several projects in one JSON file, each with its own credentials (inline or
 * named environment variables), hosts, limits and timezone. Every problem is named with the file,
 * the project's index and key; JSON errors keep only their position (the text may hold a secret).
 */
import { readFileSync } from 'node:fs';
import type { FamilyLimits, ProjectConfig, ProjectLimits } from './types.js';
import { HOST_FAMILIES, isRegion, REGIONS, resolveBaseUrls } from '../mixpanel/hosts.js';
import type { ApiFamily, HostFamily } from '../mixpanel/types.js';
import { Secret } from '../shared/secret.js';
import { PROJECT_ID, type GlobalProjectDefaults } from './environment.js';
import { checkBaseUrl, checkInteger, checkTimezone, isPlainObject, quote, readEnv, type Checked, type Env, type Problems } from './variables.js';

const PROJECT_KEY = /^[A-Za-z0-9_-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LIMIT_RANGE = { min: 1, max: 1_000_000 };
const API_FAMILIES: readonly ApiFamily[] = ['query', 'export', 'lexicon', 'app', 'ingestion'];
const LIMIT_FIELDS: readonly (keyof FamilyLimits)[] = ['perHour', 'perMinute', 'perSecond', 'concurrent'];

/** `label` + what the value must be; the value itself, or undefined when it is not. */
function checked<T>(label: string, result: Checked<T>, problems: Problems): T | undefined {
  if (result.ok) return result.value;
  problems.push(`${label} ${result.problem}`);
  return undefined;
}

export 
function mergeLimits(defaults: ProjectLimits, raw: unknown, label: string, problems: Problems): ProjectLimits {
  if (raw === undefined) return defaults;
  if (!isPlainObject(raw)) {
    problems.push(`${label} must be an object keyed by family (${API_FAMILIES.join(', ')})`);
    return defaults;
  }
  const merged = Object.fromEntries(API_FAMILIES.map((family) => [family, { ...defaults[family] }])) as Record<
    ApiFamily,
    Record<string, number | undefined>
  >;
  for (const [family, fields] of Object.entries(raw)) {
    if (!(API_FAMILIES as readonly string[]).includes(family)) {
      problems.push(`${label} has an unknown family ${quote(family)} (expected ${API_FAMILIES.join(', ')})`);
      continue;
    }
    if (!isPlainObject(fields)) {
      problems.push(`${label}.${family} must be an object with ${LIMIT_FIELDS.join(', ')}`);
      continue;
    }
    for (const [field, value] of Object.entries(fields)) {
      if (!(LIMIT_FIELDS as readonly string[]).includes(field)) {
        problems.push(`${label}.${family} has an unknown field ${quote(field)} (expected ${LIMIT_FIELDS.join(', ')})`);
        continue;
      }
      const target = merged[family as ApiFamily];
      if (value === null) target[field] = undefined;
      else if (typeof value !== 'number') problems.push(`${label}.${family}.${field} must be an integer or null`);
      else target[field] = checked(`${label}.${family}.${field}`, checkInteger(value, LIMIT_RANGE), problems);
    }
  }
  return merged;
}


export interface ProjectsFile {
  /** The valid projects. */
  readonly projects: readonly ProjectConfig[];
  /** Every key the file names, valid project or not. */
  readonly keys: readonly string[];
  readonly defaultProject: string | undefined;
}

export function readProjectsFile(path: string, env: Env, defaults: GlobalProjectDefaults, problems: Problems): ProjectsFile {
  const label = `MIXPANEL_PROJECTS_FILE (${path})`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${label} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`);
    return { projects: [], keys: [], defaultProject: undefined };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // JSON.parse messages quote the text around the error, which may be a secret: keep only the position.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    problems.push(`${label} is not valid JSON${position === undefined ? '' : ` (error at character ${position})`}`);
    return { projects: [], keys: [], defaultProject: undefined };
  }
  const root = Array.isArray(parsed) ? { projects: parsed } : parsed;
  if (!isPlainObject(root) || !Array.isArray(root.projects)) {
    problems.push(`${label} must hold an array of projects, or {"projects": [...], "defaultProject": "<key>"}`);
    return { projects: [], keys: [], defaultProject: undefined };
  }
  let defaultProject: string | undefined;
  if (root.defaultProject !== undefined) {
    if (typeof root.defaultProject === 'string') defaultProject = root.defaultProject;
    else problems.push(`${label}: defaultProject must be a project key`);
  }
  if (root.projects.length === 0) problems.push(`${label} lists no project`);
  const projects = root.projects
    .map((raw, index) => readFileProject(raw, `${label} projects[${index}]`, env, defaults, problems))
    .filter((project): project is ProjectConfig => project !== undefined);
  const keys = root.projects.flatMap((raw) => (isPlainObject(raw) && typeof raw.key === 'string' ? [raw.key] : []));
  for (const key of new Set(keys.filter((key, index) => keys.indexOf(key) !== index))) {
    problems.push(`${label}: project key ${quote(key)} appears more than once`);
  }
  if (defaultProject !== undefined && !keys.includes(defaultProject)) {
    problems.push(`${label}: defaultProject ${quote(defaultProject)} is not the key of any project`);
  }
  return { projects, keys, defaultProject };
}

const PROJECT_FIELDS = new Set([
  'key',
  'projectId',
  'region',
  'workspaceId',
  'serviceAccount',
  'projectToken',
  'projectTokenEnv',
  'baseUrl',
  'baseUrls',
  'limits',
  'countEngageFollowOnPages',
  'timezone',
]);

function readFileProject(raw: unknown, at: string, env: Env, defaults: GlobalProjectDefaults, problems: Problems): ProjectConfig | undefined {
  if (!isPlainObject(raw)) {
    problems.push(`${at} must be an object`);
    return undefined;
  }
  const key = typeof raw.key === 'string' ? raw.key : undefined;
  const label = key === undefined ? at : `${at} (key ${quote(key)})`;
  const before = problems.length;
  for (const field of Object.keys(raw)) {
    if (!PROJECT_FIELDS.has(field)) problems.push(`${label} has an unknown field ${quote(field)}`);
  }
  if (key === undefined || !PROJECT_KEY.test(key)) {
    problems.push(`${label}: key must be 1 to 64 letters, digits, "-" or "_"`);
  }
  const projectId = idString(raw.projectId);
  if (projectId === undefined) problems.push(`${label}: projectId must be a numeric Mixpanel project id`);
  const workspaceId = raw.workspaceId === undefined ? undefined : idString(raw.workspaceId);
  if (raw.workspaceId !== undefined && workspaceId === undefined) problems.push(`${label}: workspaceId must be a numeric id`);

  let region = defaults.region;
  if (raw.region !== undefined) {
    if (typeof raw.region === 'string' && isRegion(raw.region)) region = raw.region;
    else problems.push(`${label}: region must be one of ${REGIONS.join(', ')}`);
  }

  const serviceAccount = readServiceAccount(raw.serviceAccount, label, env, problems);
  const projectToken = readFileSecret(raw, 'projectToken', label, env, problems);

  if (raw.baseUrl !== undefined && typeof raw.baseUrl !== 'string') problems.push(`${label}: baseUrl must be a URL string`);
  const baseUrl = typeof raw.baseUrl === 'string' ? checked(`${label} baseUrl`, checkBaseUrl(raw.baseUrl), problems) : undefined;
  const overrides: Partial<Record<HostFamily, string>> = {};
  if (raw.baseUrls !== undefined) {
    if (!isPlainObject(raw.baseUrls)) problems.push(`${label}: baseUrls must be an object keyed by ${HOST_FAMILIES.join(', ')}`);
    else {
      for (const [family, value] of Object.entries(raw.baseUrls)) {
        if (!(HOST_FAMILIES as readonly string[]).includes(family)) {
          problems.push(`${label}: baseUrls has an unknown family ${quote(family)} (expected ${HOST_FAMILIES.join(', ')})`);
          continue;
        }
        const url = typeof value === 'string' ? checked(`${label} baseUrls.${family}`, checkBaseUrl(value), problems) : undefined;
        if (typeof value !== 'string') problems.push(`${label}: baseUrls.${family} must be a URL string`);
        if (url !== undefined) overrides[family as HostFamily] = url;
      }
    }
  }
  const limits = mergeLimits(defaults.limits, raw.limits, `${label} limits`, problems);
  if (raw.countEngageFollowOnPages !== undefined && typeof raw.countEngageFollowOnPages !== 'boolean') problems.push(`${label}: countEngageFollowOnPages must be true or false`);
  const countEngageFollowOnPages = typeof raw.countEngageFollowOnPages === 'boolean' ? raw.countEngageFollowOnPages : defaults.countEngageFollowOnPages;
  const timezone =
    raw.timezone === undefined ? defaults.timezone : (checked(`${label}: timezone`, checkTimezone(raw.timezone), problems) ?? defaults.timezone);

  if (problems.length > before || key === undefined || projectId === undefined || serviceAccount === undefined) return undefined;
  // The project's own URLs win; the MIXPANEL_*BASE_URL variables apply only where it sets none.
  const ownUrls = baseUrl !== undefined || Object.keys(overrides).length > 0;
  return {
    key,
    projectId,
    region,
    workspaceId,
    serviceAccount,
    projectToken,
    baseUrls: ownUrls
      ? resolveBaseUrls(region, { baseUrl, overrides })
      : resolveBaseUrls(region, { baseUrl: defaults.baseUrl, overrides: defaults.overrides }),
    limits,
    countEngageFollowOnPages,
    timezone,
  };
}

function idString(value: unknown): string | undefined {
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : value;
  return typeof text === 'string' && PROJECT_ID.test(text) ? text : undefined;
}

function readServiceAccount(raw: unknown, label: string, env: Env, problems: Problems): ProjectConfig['serviceAccount'] | undefined {
  if (!isPlainObject(raw)) {
    problems.push(`${label}: serviceAccount must be {"username", "secretEnv"} (or "secret")`);
    return undefined;
  }
  const username = typeof raw.username === 'string' && raw.username.trim() !== '' ? raw.username.trim() : undefined;
  if (username === undefined) problems.push(`${label}: serviceAccount.username is required`);
  const secret = readFileSecret(raw, 'secret', `${label} serviceAccount`, env, problems);
  if (secret === undefined && raw.secret === undefined && raw.secretEnv === undefined) {
    problems.push(`${label}: serviceAccount needs "secretEnv" (the name of an environment variable holding the secret) or "secret"`);
  }
  return username === undefined || secret === undefined ? undefined : { username, secret };
}

/** `<field>` inline, or `<field>Env` naming the environment variable that holds it. */
function readFileSecret(raw: Record<string, unknown>, field: string, label: string, env: Env, problems: Problems): Secret | undefined {
  const inline = raw[field];
  const envName = raw[`${field}Env`];
  if (inline !== undefined && envName !== undefined) {
    problems.push(`${label}: set either ${field} or ${field}Env, not both`);
    return undefined;
  }
  if (inline !== undefined) {
    if (typeof inline === 'string' && inline !== '') return new Secret(inline);
    problems.push(`${label}: ${field} must be a non-empty string`);
    return undefined;
  }
  if (envName === undefined) return undefined;
  if (typeof envName !== 'string' || !ENV_NAME.test(envName)) {
    problems.push(`${label}: ${field}Env must be the name of an environment variable`);
    return undefined;
  }
  const value = readEnv(env, envName);
  if (value === undefined) {
    problems.push(`${label}: ${field}Env names ${envName}, which is not set`);
    return undefined;
  }
  return new Secret(value);
}

