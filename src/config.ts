/**
 * Environment (and an optional projects file) -> a validated, deeply frozen
 * Config. Every problem is collected and reported at once in a ConfigError;
 * no message ever quotes a secret value. Each variable is documented, with its
 * default, in .env.example.
 */
import { readFileSync } from 'node:fs';
import type { ApiKeyConfig, CacheConfig, Config, EconomyConfig, FamilyLimits, ProjectConfig, ProjectLimits, SecurityConfig, StoreKind } from './config-types.js';
import { ConfigError } from './errors.js';
import { DOCUMENTED_LIMITS } from './limits/defaults.js';
import { HOST_FAMILIES, isRegion, REGIONS, resolveBaseUrls } from './mixpanel/hosts.js';
import type { ApiFamily, HostFamily, Region } from './mixpanel/types.js';
import { hashApiKey, Secret } from './secret.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** Path of a projects file; wins over MIXPANEL_PROJECTS_FILE. Default: none. */
  readonly projectsFile?: string | undefined;
}

export const DEFAULT_INTEGRATION_ID = 'mixpanel-graphql-gateway';
/** Key of the project configured through MIXPANEL_* variables (and of the demo project). */
export const DEFAULT_PROJECT_KEY = 'default';

const MIB = 1024 * 1024;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
const STORE_KINDS: readonly StoreKind[] = ['memory', 'sqlite', 'redis'];
const PROJECT_KEY = /^[A-Za-z0-9_-]{1,64}$/;
const PROJECT_ID = /^\d{1,20}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LIMIT_RANGE = { min: 1, max: 1_000_000 };

/** Per-family base-URL override variables. */
const BASE_URL_VARS: Readonly<Record<HostFamily, string>> = {
  query: 'MIXPANEL_QUERY_BASE_URL',
  export: 'MIXPANEL_EXPORT_BASE_URL',
  ingestion: 'MIXPANEL_INGESTION_BASE_URL',
  app: 'MIXPANEL_APP_BASE_URL',
};

/** The limit variables; each defaults to Mixpanel's documented limit (limits/defaults.ts). */
const LIMIT_VARS: readonly { name: string; family: ApiFamily; field: keyof FamilyLimits }[] = [
  { name: 'LIMIT_QUERY_PER_HOUR', family: 'query', field: 'perHour' },
  { name: 'LIMIT_QUERY_CONCURRENT', family: 'query', field: 'concurrent' },
  { name: 'LIMIT_EXPORT_PER_HOUR', family: 'export', field: 'perHour' },
  { name: 'LIMIT_EXPORT_PER_SECOND', family: 'export', field: 'perSecond' },
  { name: 'LIMIT_EXPORT_CONCURRENT', family: 'export', field: 'concurrent' },
  { name: 'LIMIT_LEXICON_PER_MINUTE', family: 'lexicon', field: 'perMinute' },
];
const API_FAMILIES: readonly ApiFamily[] = ['query', 'export', 'lexicon', 'app', 'ingestion'];
const LIMIT_FIELDS: readonly (keyof FamilyLimits)[] = ['perHour', 'perMinute', 'perSecond', 'concurrent'];

const CACHE_TTL_VARS: readonly { name: string; kind: keyof CacheConfig['ttlMs']; fallback: number }[] = [
  { name: 'CACHE_TTL_LEXICON_MS', kind: 'lexicon', fallback: 10 * MINUTE },
  { name: 'CACHE_TTL_COHORTS_MS', kind: 'cohorts', fallback: 5 * MINUTE },
  { name: 'CACHE_TTL_PROFILES_MS', kind: 'profiles', fallback: 60 * SECOND },
  { name: 'CACHE_TTL_ANALYTICS_CLOSED_MS', kind: 'analyticsClosed', fallback: 6 * HOUR },
  { name: 'CACHE_TTL_ANALYTICS_TODAY_MS', kind: 'analyticsToday', fallback: 60 * SECOND },
  { name: 'CACHE_TTL_EVENTS_MS', kind: 'events', fallback: 60 * SECOND },
  { name: 'CACHE_TTL_ANNOTATIONS_MS', kind: 'annotations', fallback: 5 * MINUTE },
];

interface IntRange {
  readonly min: number;
  readonly max: number;
}

/** One message per problem, collected instead of throwing at the first. */
type Problems = string[];

/** Quotes a non-secret value for a message, shortened. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

function readEnv(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function parseInteger(label: string, raw: string | number | undefined, fallback: number, range: IntRange, problems: Problems): number;
function parseInteger(label: string, raw: string | number | undefined, fallback: number | undefined, range: IntRange, problems: Problems): number | undefined;
function parseInteger(
  label: string,
  raw: string | number | undefined,
  fallback: number | undefined,
  range: IntRange,
  problems: Problems,
): number | undefined {
  if (raw === undefined) return fallback;
  const value = typeof raw === 'number' ? raw : /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    problems.push(`${label} must be an integer from ${range.min} to ${range.max} (got ${quote(String(raw))})`);
    return fallback;
  }
  return value;
}

function parseBoolean(label: string, raw: string | boolean | undefined, fallback: boolean, problems: Problems): boolean {
  if (raw === undefined) return fallback;
  if (typeof raw === 'boolean') return raw;
  const normalized = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(normalized)) return true;
  if (['false', '0', 'no', 'off'].includes(normalized)) return false;
  problems.push(`${label} must be true or false (got ${quote(raw)})`);
  return fallback;
}

function parseEnum<T extends string>(label: string, raw: string | undefined, values: readonly T[], fallback: T, problems: Problems): T {
  if (raw === undefined) return fallback;
  if ((values as readonly string[]).includes(raw)) return raw as T;
  problems.push(`${label} must be one of ${values.join(', ')} (got ${quote(raw)})`);
  return fallback;
}

/** An http(s) origin (optionally with a path prefix); credentials in the URL are refused. */
function parseBaseUrl(label: string, raw: string | undefined, problems: Problems): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${label} must be an http:// or https:// URL (got ${raw.includes('@') ? 'a value that is not a URL' : quote(raw)})`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    problems.push(`${label} must not contain credentials: the service account is configured separately`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`${label} must be an http:// or https:// URL (got ${quote(url.protocol)} scheme)`);
    return undefined;
  }
  if (url.search !== '' || url.hash !== '') {
    problems.push(`${label} must not have a query string or fragment`);
    return undefined;
  }
  return raw.replace(/\/+$/, '');
}

function parsePath(label: string, raw: string | undefined, fallback: string, problems: Problems): string {
  if (raw === undefined) return fallback;
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(raw)) {
    problems.push(`${label} must be a URL path starting with "/" (got ${quote(raw)})`);
    return fallback;
  }
  return raw.length > 1 ? raw.replace(/\/+$/, '') : raw;
}

/** An IANA timezone name Intl knows (e.g. "America/Los_Angeles"), in its canonical spelling. */
function parseTimezone(label: string, raw: unknown, fallback: string, problems: Problems): string {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || raw.trim() === '') {
    problems.push(`${label} must be an IANA timezone name such as "UTC" or "America/Los_Angeles"`);
    return fallback;
  }
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: raw.trim() }).resolvedOptions().timeZone;
  } catch {
    problems.push(`${label} must be an IANA timezone name such as "UTC" or "America/Los_Angeles" (got ${quote(raw)})`);
    return fallback;
  }
}

/** Identifies this integration to Mixpanel in a header and in `$source`: printable ASCII only. */
function parseIntegrationId(raw: string | undefined, problems: Problems): string {
  if (raw === undefined) return DEFAULT_INTEGRATION_ID;
  if (!/^[\x21-\x7e][\x20-\x7e]{0,99}$/.test(raw)) {
    problems.push(`MIXPANEL_INTEGRATION_ID must be 1 to 100 printable ASCII characters (got ${quote(raw)})`);
    return DEFAULT_INTEGRATION_ID;
  }
  return raw;
}

/** Namespaces every Redis key and channel, so several deployments can share one Redis. */
function parseRedisKeyPrefix(raw: string | undefined, problems: Problems): string {
  if (raw === undefined) return 'mpgw:';
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(raw)) {
    problems.push('REDIS_KEY_PREFIX must be 1 to 64 characters of letters, digits, ":", "_", "." or "-"');
    return 'mpgw:';
  }
  return raw;
}

function parseRedisUrl(raw: string | undefined, problems: Problems): Secret | undefined {
  if (raw === undefined) return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(raw).protocol;
  } catch {
    protocol = undefined;
  }
  // The URL may hold a password: it is never quoted.
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    problems.push('REDIS_URL must be a redis:// or rediss:// URL');
    return undefined;
  }
  return new Secret(raw);
}

/** Defaults for every project: the documented limits, adjusted by LIMIT_* variables. */
function readLimits(env: Env, problems: Problems): ProjectLimits {
  const limits = Object.fromEntries(API_FAMILIES.map((family) => [family, { ...DOCUMENTED_LIMITS[family] }])) as Record<ApiFamily, FamilyLimits>;
  for (const { name, family, field } of LIMIT_VARS) {
    const documented = DOCUMENTED_LIMITS[family][field];
    const value = parseInteger(name, readEnv(env, name), documented, LIMIT_RANGE, problems);
    limits[family] = { ...limits[family], [field]: value };
  }
  return limits;
}

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
      else target[field] = parseInteger(`${label}.${family}.${field}`, value, undefined, LIMIT_RANGE, problems);
    }
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface GlobalProjectDefaults {
  readonly region: Region;
  readonly baseUrl: string | undefined;
  readonly overrides: Partial<Record<HostFamily, string>>;
  readonly limits: ProjectLimits;
  readonly countEngageFollowOnPages: boolean;
  readonly timezone: string;
}

const CREDENTIAL_VARS = ['MIXPANEL_PROJECT_ID', 'MIXPANEL_SERVICE_ACCOUNT_USERNAME', 'MIXPANEL_SERVICE_ACCOUNT_SECRET'] as const;

/** The project configured through MIXPANEL_* variables; undefined when none of them is set. */
function readEnvProject(env: Env, defaults: GlobalProjectDefaults, problems: Problems): ProjectConfig | undefined {
  const required = CREDENTIAL_VARS;
  const given = required.filter((name) => readEnv(env, name) !== undefined);
  const token = readEnv(env, 'MIXPANEL_PROJECT_TOKEN');
  if (given.length === 0) {
    if (token !== undefined) problems.push('MIXPANEL_PROJECT_TOKEN is set but the service account is not: also set ' + required.join(', '));
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

interface ProjectsFile {
  /** The valid projects. */
  readonly projects: readonly ProjectConfig[];
  /** Every key the file names, valid project or not. */
  readonly keys: readonly string[];
  readonly defaultProject: string | undefined;
}

function readProjectsFile(path: string, env: Env, defaults: GlobalProjectDefaults, problems: Problems): ProjectsFile {
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
  const baseUrl = typeof raw.baseUrl === 'string' ? parseBaseUrl(`${label} baseUrl`, raw.baseUrl, problems) : undefined;
  const overrides: Partial<Record<HostFamily, string>> = {};
  if (raw.baseUrls !== undefined) {
    if (!isPlainObject(raw.baseUrls)) problems.push(`${label}: baseUrls must be an object keyed by ${HOST_FAMILIES.join(', ')}`);
    else {
      for (const [family, value] of Object.entries(raw.baseUrls)) {
        if (!(HOST_FAMILIES as readonly string[]).includes(family)) {
          problems.push(`${label}: baseUrls has an unknown family ${quote(family)} (expected ${HOST_FAMILIES.join(', ')})`);
          continue;
        }
        const url = typeof value === 'string' ? parseBaseUrl(`${label} baseUrls.${family}`, value, problems) : undefined;
        if (typeof value !== 'string') problems.push(`${label}: baseUrls.${family} must be a URL string`);
        if (url !== undefined) overrides[family as HostFamily] = url;
      }
    }
  }
  const limits = mergeLimits(defaults.limits, raw.limits, `${label} limits`, problems);
  const countEngageFollowOnPages =
    raw.countEngageFollowOnPages === undefined || typeof raw.countEngageFollowOnPages === 'boolean'
      ? ((raw.countEngageFollowOnPages as boolean | undefined) ?? defaults.countEngageFollowOnPages)
      : (problems.push(`${label}: countEngageFollowOnPages must be true or false`), defaults.countEngageFollowOnPages);
  const timezone = parseTimezone(`${label}: timezone`, raw.timezone, defaults.timezone, problems);

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

/** Shortest accepted WEBHOOK_PASSWORD: Mixpanel stores it and sends it on every page, so nobody types it. */
export const MIN_WEBHOOK_PASSWORD_LENGTH = 16;

function readWebhook(env: Env, demo: boolean, problems: Problems): Config['webhook'] {
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
    path: parsePath('WEBHOOK_PATH', readEnv(env, 'WEBHOOK_PATH'), '/webhooks/mixpanel/cohorts', problems),
    username,
    password: password === undefined ? undefined : new Secret(password),
    maxBodyBytes: parseInteger('WEBHOOK_MAX_BODY_BYTES', readEnv(env, 'WEBHOOK_MAX_BODY_BYTES'), 5 * MIB, { min: 1024, max: 1024 * MIB }, problems),
    sessionTtlMs: parseInteger('WEBHOOK_SESSION_TTL_MS', readEnv(env, 'WEBHOOK_SESSION_TTL_MS'), 6 * HOUR, { min: SECOND, max: 7 * DAY }, problems),
    maxAuthFailures: parseInteger('WEBHOOK_MAX_AUTH_FAILURES', readEnv(env, 'WEBHOOK_MAX_AUTH_FAILURES'), 10, { min: 1, max: 1_000_000 }, problems),
    authFailureWindowMs: parseInteger('WEBHOOK_AUTH_FAILURE_WINDOW_MS', readEnv(env, 'WEBHOOK_AUTH_FAILURE_WINDOW_MS'), MINUTE, { min: SECOND, max: DAY }, problems),
  };
}

function readCache(env: Env, problems: Problems): CacheConfig {
  const ttlMs = {} as Record<keyof CacheConfig['ttlMs'], number>;
  for (const { name, kind, fallback } of CACHE_TTL_VARS) {
    ttlMs[kind] = parseInteger(name, readEnv(env, name), fallback, { min: 0, max: 30 * DAY }, problems);
  }
  return {
    maxBytes: parseInteger('CACHE_MAX_BYTES', readEnv(env, 'CACHE_MAX_BYTES'), 64 * MIB, { min: 0, max: 64 * 1024 * MIB }, problems),
    ttlMs,
    staleMs: parseInteger('CACHE_STALE_MS', readEnv(env, 'CACHE_STALE_MS'), 5 * MINUTE, { min: 0, max: 30 * DAY }, problems),
  };
}

function readEconomy(env: Env, problems: Problems): EconomyConfig {
  const integer = (name: string, fallback: number, min: number, max: number): number => parseInteger(name, readEnv(env, name), fallback, { min, max }, problems);
  return {
    coalesce: parseBoolean('COALESCE', readEnv(env, 'COALESCE'), true, problems),
    coalesceWindowMs: integer('COALESCE_WINDOW_MS', 50, 0, 10 * SECOND),
    coalesceMaxWaitMs: integer('COALESCE_MAX_WAIT_MS', 500, 0, 60 * SECOND),
    entityCacheMaxBytes: integer('CACHE_ENTITY_MAX_BYTES', 32 * MIB, 0, 64 * 1024 * MIB),
    absentTtlMs: integer('CACHE_TTL_ABSENT_MS', 10 * SECOND, 0, DAY),
    lastResortMs: integer('CACHE_LAST_RESORT_MS', HOUR, 0, 7 * DAY),
    pacing: parseBoolean('BUDGET_PACING', readEnv(env, 'BUDGET_PACING'), true, problems),
    interactiveReservePercent: integer('BUDGET_INTERACTIVE_RESERVE_PERCENT', 20, 0, 90),
    newcomerReservePercent: integer('FAIR_SHARE_NEWCOMER_RESERVE_PERCENT', 25, 0, 90),
    profileCohortsMaxCalls: integer('PROFILE_COHORTS_MAX_CALLS', 4, 1, 1000),
    profileReadAheadMaxPages: integer('PROFILE_READ_AHEAD_MAX_PAGES', 20, 0, 1000),
  };
}

function readStore(env: Env, redisUrl: Secret | undefined, problems: Problems): Config['store'] {
  const kind = parseEnum('MEMBERSHIP_STORE', readEnv(env, 'MEMBERSHIP_STORE'), STORE_KINDS, redisUrl ? 'redis' : 'sqlite', problems);
  if (kind === 'redis' && redisUrl === undefined) problems.push('MEMBERSHIP_STORE=redis needs REDIS_URL');
  return { kind, sqlitePath: readEnv(env, 'SQLITE_PATH') ?? './data/membership.sqlite' };
}

const SHA256_ENTRY = /^sha256:([0-9a-f]{64})$/i;
const CLIENT_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const MIN_KEY_LENGTH = 16;
const API_KEY_FIELDS = new Set(['id', 'sha256', 'key', 'projects', 'write']);

/**
 * GATEWAY_API_KEYS, in one of two forms:
 * - a JSON array of clients: `[{"id": "dashboard", "sha256": "<hex>", "projects": ["web"], "write": false}]`
 *   (`projects` is required, a list of project keys or "*"; `write` defaults to false);
 * - comma-separated full-access keys (every project, mutations allowed): `sha256:<hex>` digests, or plain
 *   keys of at least 16 characters, hashed here at once (`loadConfig` reports them in `plainApiKeys`).
 * No message ever quotes a key.
 */
function readApiKeys(env: Env, projectKeys: readonly string[], problems: Problems): { keys: ApiKeyConfig[]; plain: number } {
  const raw = readEnv(env, 'GATEWAY_API_KEYS');
  if (raw === undefined) return { keys: [], plain: 0 };
  const keys: ApiKeyConfig[] = [];
  let plain = 0;
  if (raw.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      problems.push('GATEWAY_API_KEYS starts with "[" but is not valid JSON');
      return { keys: [], plain: 0 };
    }
    for (const [index, entry] of (parsed as unknown[]).entries()) {
      const label = `GATEWAY_API_KEYS[${index}]`;
      if (!isPlainObject(entry)) {
        problems.push(`${label} must be {"id", "sha256", "projects", "write"}`);
        continue;
      }
      for (const field of Object.keys(entry)) if (!API_KEY_FIELDS.has(field)) problems.push(`${label} has an unknown field ${quote(field)}`);
      const id = typeof entry.id === 'string' && CLIENT_ID.test(entry.id) ? entry.id : undefined;
      if (id === undefined) problems.push(`${label}: id must be 1 to 64 letters, digits, ".", "-" or "_"`);
      let sha256: string | undefined;
      if (typeof entry.sha256 === 'string' && /^(sha256:)?[0-9a-f]{64}$/i.test(entry.sha256)) sha256 = entry.sha256.replace(/^sha256:/i, '').toLowerCase();
      else if (entry.sha256 === undefined && typeof entry.key === 'string' && entry.key.length >= MIN_KEY_LENGTH) {
        sha256 = hashApiKey(entry.key).slice('sha256:'.length);
        plain += 1;
      } else problems.push(`${label}: sha256 must be the key's SHA-256 in hex (npm run hash-key), or key a plain key of at least ${MIN_KEY_LENGTH} characters`);
      let projects: readonly string[] | '*' | undefined;
      if (entry.projects === '*') projects = '*';
      else if (Array.isArray(entry.projects) && entry.projects.length > 0 && entry.projects.every((p) => typeof p === 'string')) {
        const unknown = (entry.projects as string[]).filter((p) => !projectKeys.includes(p));
        if (unknown.length > 0) problems.push(`${label}: projects names unknown project keys ${unknown.map(quote).join(', ')}`);
        projects = entry.projects as string[];
      } else problems.push(`${label}: projects must be "*" or a non-empty list of project keys`);
      if (entry.write !== undefined && typeof entry.write !== 'boolean') problems.push(`${label}: write must be true or false`);
      if (id !== undefined && sha256 !== undefined && projects !== undefined) keys.push({ id, sha256, projects, canWrite: entry.write === true });
    }
    if (!Array.isArray(parsed)) problems.push('GATEWAY_API_KEYS must be a JSON array of clients or comma-separated keys');
  } else {
    for (const entry of raw.split(',').map((key) => key.trim())) {
      const hashed = SHA256_ENTRY.exec(entry);
      if (!hashed && entry.length < MIN_KEY_LENGTH) {
        problems.push(`GATEWAY_API_KEYS must be comma-separated sha256:<hex> digests or keys of at least ${MIN_KEY_LENGTH} characters each`);
        break;
      }
      if (!hashed) plain += 1;
      const sha256 = hashed ? hashed[1]!.toLowerCase() : hashApiKey(entry).slice('sha256:'.length);
      // A digest prefix names the client without revealing anything usable.
      keys.push({ id: `key-${sha256.slice(0, 8)}`, sha256, projects: '*', canWrite: true });
    }
  }
  const ids = keys.map((k) => k.id);
  for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`GATEWAY_API_KEYS: client id ${quote(id)} appears more than once`);
  return { keys, plain };
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** CORS_ORIGINS: comma-separated `scheme://host[:port]` origins; `*` is refused (it would let any page read). */
function readCorsOrigins(env: Env, problems: Problems): string[] {
  const raw = readEnv(env, 'CORS_ORIGINS');
  if (raw === undefined) return [];
  const origins: string[] = [];
  for (const entry of raw.split(',').map((o) => o.trim()).filter((o) => o !== '')) {
    let origin: string | undefined;
    try {
      const url = new URL(entry);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === entry.replace(/\/$/, '')) origin = url.origin;
    } catch {
      origin = undefined;
    }
    if (origin === undefined) problems.push(`CORS_ORIGINS must list origins such as https://app.example.com (no path, no "*"; got ${quote(entry)})`);
    else origins.push(origin);
  }
  return origins;
}

function readSecurity(env: Env, context: { demo: boolean; keyed: boolean; host: string }, problems: Problems): SecurityConfig {
  const int = (name: string, fallback: number, range: IntRange) => parseInteger(name, readEnv(env, name), fallback, range, problems);
  // Open schemas where nobody else can reach them or nothing is protected: demo mode, or keyless on loopback.
  const openByDefault = context.demo || (!context.keyed && isLoopbackHost(context.host));
  const persistedOperationsFile = readEnv(env, 'PERSISTED_OPERATIONS_FILE');
  if (persistedOperationsFile !== undefined) {
    // The gateway reads it at start-up; an unreadable manifest is a configuration problem, named here.
    try {
      const manifest: unknown = JSON.parse(readFileSync(persistedOperationsFile, 'utf8'));
      if (!isPlainObject(manifest) || Object.values(manifest).some((document) => typeof document !== 'string')) throw new Error('not a manifest');
    } catch {
      problems.push(`PERSISTED_OPERATIONS_FILE (${persistedOperationsFile}) must be a readable JSON object mapping SHA-256 hashes to documents`);
    }
  }
  return {
    corsOrigins: readCorsOrigins(env, problems),
    corsLoopback: context.demo,
    introspection: parseBoolean('INTROSPECTION', readEnv(env, 'INTROSPECTION'), openByDefault, problems),
    fieldSuggestions: parseBoolean('FIELD_SUGGESTIONS', readEnv(env, 'FIELD_SUGGESTIONS'), openByDefault, problems),
    persistedOperationsFile,
    documentLimits: {
      maxBytes: int('MAX_DOCUMENT_BYTES', 64 * 1024, { min: 1024, max: 16 * MIB }),
      maxTokens: int('MAX_TOKENS', 2_000, { min: 100, max: 1_000_000 }),
      maxAliases: int('MAX_ALIASES', 100, { min: 1, max: 100_000 }),
      maxDepth: int('MAX_DEPTH', 12, { min: 2, max: 1_000 }),
      maxDirectives: int('MAX_DIRECTIVES', 50, { min: 1, max: 100_000 }),
      maxSelections: int('MAX_SELECTIONS', 2_000, { min: 10, max: 1_000_000 }),
    },
    wsMaxPayloadBytes: int('WS_MAX_PAYLOAD_BYTES', MIB, { min: 1024, max: 64 * MIB }),
    wsMaxSubscriptions: int('WS_MAX_SUBSCRIPTIONS', 50, { min: 1, max: 10_000 }),
    maxBodyBytes: int('MAX_BODY_BYTES', MIB, { min: 1024, max: 64 * MIB }),
  };
}

/**
 * Reads the configuration. Throws ConfigError listing every problem found.
 * With no MIXPANEL_PROJECT_ID, service account or projects file, returns a
 * demo configuration (`demo: true`) whose one project holds placeholders:
 * replace them with `withDemoProject` once the emulator runs.
 */
export function loadConfig(env: Env = process.env, options: LoadConfigOptions = {}): Config {
  const problems: Problems = [];
  const regionRaw = readEnv(env, 'MIXPANEL_REGION')?.toUpperCase();
  const region = parseEnum('MIXPANEL_REGION', regionRaw, REGIONS, 'US', problems);
  const overrides: Partial<Record<HostFamily, string>> = {};
  for (const family of HOST_FAMILIES) {
    const url = parseBaseUrl(BASE_URL_VARS[family], readEnv(env, BASE_URL_VARS[family]), problems);
    if (url !== undefined) overrides[family] = url;
  }
  const defaults: GlobalProjectDefaults = {
    region,
    baseUrl: parseBaseUrl('MIXPANEL_BASE_URL', readEnv(env, 'MIXPANEL_BASE_URL'), problems),
    overrides,
    limits: readLimits(env, problems),
    countEngageFollowOnPages: parseBoolean('COUNT_ENGAGE_FOLLOW_ON_PAGES', readEnv(env, 'COUNT_ENGAGE_FOLLOW_ON_PAGES'), true, problems),
    timezone: parseTimezone('MIXPANEL_TIMEZONE', readEnv(env, 'MIXPANEL_TIMEZONE'), 'UTC', problems),
  };

  const envProject = readEnvProject(env, defaults, problems);
  const projectsFile = options.projectsFile ?? readEnv(env, 'MIXPANEL_PROJECTS_FILE');
  const file = projectsFile === undefined ? undefined : readProjectsFile(projectsFile, env, defaults, problems);
  const demo =
    projectsFile === undefined && [...CREDENTIAL_VARS, 'MIXPANEL_PROJECT_TOKEN'].every((name) => readEnv(env, name) === undefined);
  const projects = [
    ...(envProject ? [envProject] : []),
    ...(file?.projects ?? []),
    ...(demo ? [demoPlaceholder(defaults)] : []),
  ];
  if (envProject !== undefined && file?.keys.includes(DEFAULT_PROJECT_KEY)) {
    problems.push(`Project key "${DEFAULT_PROJECT_KEY}" is used both by the MIXPANEL_* variables and MIXPANEL_PROJECTS_FILE; rename the file's project`);
  }
  const defaultProjectKey = file?.defaultProject ?? projects[0]?.key ?? DEFAULT_PROJECT_KEY;

  const redisUrl = parseRedisUrl(readEnv(env, 'REDIS_URL'), problems);
  const graphqlPath = parsePath('GRAPHQL_PATH', readEnv(env, 'GRAPHQL_PATH'), '/graphql', problems);
  const webhook = readWebhook(env, demo, problems);
  if (webhook.path === graphqlPath) problems.push('WEBHOOK_PATH and GRAPHQL_PATH must differ');
  const nodeEnv = readEnv(env, 'NODE_ENV');
  const host = readEnv(env, 'HOST') ?? '127.0.0.1';
  const apiKeys = readApiKeys(env, projects.map((p) => p.key), problems);

  const config: Config = {
    host,
    port: parseInteger('PORT', readEnv(env, 'PORT'), 4000, { min: 0, max: 65_535 }, problems),
    graphqlPath,
    integrationId: parseIntegrationId(readEnv(env, 'MIXPANEL_INTEGRATION_ID'), problems),
    projects,
    defaultProjectKey,
    demo,
    requestDeadlineMs: parseInteger('REQUEST_DEADLINE_MS', readEnv(env, 'REQUEST_DEADLINE_MS'), 5000, { min: 1, max: HOUR }, problems),
    upstreamTimeoutMs: parseInteger('UPSTREAM_TIMEOUT_MS', readEnv(env, 'UPSTREAM_TIMEOUT_MS'), 60_000, { min: 100, max: HOUR }, problems),
    redisUrl,
    redisKeyPrefix: parseRedisKeyPrefix(readEnv(env, 'REDIS_KEY_PREFIX'), problems),
    redisOutageBudgetPercent: parseInteger('REDIS_OUTAGE_BUDGET_PERCENT', readEnv(env, 'REDIS_OUTAGE_BUDGET_PERCENT'), 20, { min: 1, max: 100 }, problems),
    redisSharedCache: parseBoolean('REDIS_SHARED_CACHE', readEnv(env, 'REDIS_SHARED_CACHE'), true, problems),
    sharedReadWaitMs: parseInteger('SHARED_READ_WAIT_MS', readEnv(env, 'SHARED_READ_WAIT_MS'), 2 * SECOND, { min: 0, max: 30 * SECOND }, problems),
    budgetLeaseMs: parseInteger('BUDGET_LEASE_MS', readEnv(env, 'BUDGET_LEASE_MS'), MINUTE, { min: SECOND, max: HOUR }, problems),
    shutdownTimeoutMs: parseInteger('SHUTDOWN_TIMEOUT_MS', readEnv(env, 'SHUTDOWN_TIMEOUT_MS'), 10 * SECOND, { min: 0, max: 10 * MINUTE }, problems),
    store: readStore(env, redisUrl, problems),
    webhook,
    cache: readCache(env, problems),
    economy: readEconomy(env, problems),
    lexiconRefreshMs: parseInteger('LEXICON_REFRESH_MS', readEnv(env, 'LEXICON_REFRESH_MS'), 10 * MINUTE, { min: SECOND, max: 24 * HOUR }, problems),
    writes: {
      batchWindowMs: parseInteger('WRITE_BATCH_WINDOW_MS', readEnv(env, 'WRITE_BATCH_WINDOW_MS'), 20, { min: 0, max: 10 * SECOND }, problems),
      lexiconWindowMs: parseInteger('LEXICON_EDIT_WINDOW_MS', readEnv(env, 'LEXICON_EDIT_WINDOW_MS'), 200, { min: 0, max: 10 * SECOND }, problems),
      idempotencyTtlMs: parseInteger('IDEMPOTENCY_TTL_MS', readEnv(env, 'IDEMPOTENCY_TTL_MS'), 24 * HOUR, { min: SECOND, max: 30 * 24 * HOUR }, problems),
      idMergeApi: parseEnum('MIXPANEL_ID_MERGE_API', readEnv(env, 'MIXPANEL_ID_MERGE_API')?.toLowerCase(), ['original', 'simplified'] as const, 'simplified', problems),
    },
    logLevel: parseEnum('LOG_LEVEL', readEnv(env, 'LOG_LEVEL')?.toLowerCase(), LOG_LEVELS, 'info', problems),
    graphiql: parseBoolean('GRAPHIQL', readEnv(env, 'GRAPHIQL'), true, problems),
    maskErrors: nodeEnv !== 'development',
    apiKeys: apiKeys.keys,
    plainApiKeys: apiKeys.plain,
    security: readSecurity(env, { demo, keyed: apiKeys.keys.length > 0, host }, problems),
    subscriptions: {
      maxBufferedBytes: parseInteger('SUBSCRIPTION_MAX_BUFFERED_BYTES', readEnv(env, 'SUBSCRIPTION_MAX_BUFFERED_BYTES'), 4 * MIB, { min: 1024, max: 1024 * MIB }, problems),
      fanOutBatchSize: parseInteger('SUBSCRIPTION_FANOUT_BATCH_SIZE', readEnv(env, 'SUBSCRIPTION_FANOUT_BATCH_SIZE'), 256, { min: 1, max: 100_000 }, problems),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** Placeholder credentials of the demo project, replaced by `withDemoProject`. */
function demoPlaceholder(defaults: GlobalProjectDefaults): ProjectConfig {
  return {
    key: DEFAULT_PROJECT_KEY,
    projectId: '0',
    region: defaults.region,
    workspaceId: undefined,
    serviceAccount: { username: 'demo', secret: new Secret('') },
    projectToken: undefined,
    baseUrls: resolveBaseUrls(defaults.region, { baseUrl: defaults.baseUrl, overrides: defaults.overrides }),
    limits: defaults.limits,
    countEngageFollowOnPages: defaults.countEngageFollowOnPages,
    timezone: defaults.timezone,
  };
}

export interface DemoProjectCredentials {
  readonly projectId: string;
  readonly username: string;
  readonly secret: string | Secret;
  readonly token: string | Secret;
  /** The emulator's origin: every host family goes there. */
  readonly baseUrl: string;
  /** The emulated project's timezone; default: the configured one. */
  readonly timezone?: string;
}

/** The demo configuration pointed at a running emulator: its credentials on the default project. */
export function withDemoProject(config: Config, demo: DemoProjectCredentials): Config {
  const asSecret = (value: string | Secret): Secret => (typeof value === 'string' ? new Secret(value) : value);
  const projects = config.projects.map((project) =>
    project.key !== config.defaultProjectKey
      ? project
      : {
          ...project,
          projectId: demo.projectId,
          serviceAccount: { username: demo.username, secret: asSecret(demo.secret) },
          projectToken: asSecret(demo.token),
          baseUrls: resolveBaseUrls(project.region, { baseUrl: demo.baseUrl }),
          ...(demo.timezone === undefined ? {} : { timezone: demo.timezone }),
        },
  );
  return deepFreeze({ ...config, projects });
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
