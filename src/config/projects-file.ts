/**
 * MIXPANEL_PROJECTS_FILE: several projects in one JSON file, each with its own credentials (inline or
 * named environment variables), hosts, limits and timezone, described by one zod schema. Every
 * problem is named with the file, the project's index and key, and the field (issues.ts); JSON
 * errors keep only their position (the text may hold a secret).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ProjectConfig } from './types.js';
import { HOST_FAMILIES, REGIONS, resolveBaseUrls } from '../mixpanel/hosts.js';
import type { ApiFamily, HostFamily, Region } from '../mixpanel/types.js';
import { Secret } from '../shared/secret.js';
import { PROJECT_ID, type GlobalProjectDefaults } from './environment.js';
import { formatIssues } from './issues.js';
import { checkBaseUrl, checkedBy, checkInteger, checkTimezone, quote, readEnv, TIMEZONE_RULE, type Env, type Problems } from './variables.js';

const PROJECT_KEY = /^[A-Za-z0-9_-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LIMIT_RANGE = { min: 1, max: 1_000_000 };
const API_FAMILIES = ['query', 'export', 'lexicon', 'app', 'ingestion'] as const satisfies readonly ApiFamily[];
const LIMIT_FIELDS = ['perHour', 'perMinute', 'perSecond', 'concurrent'] as const;

type Shape = Record<string, z.ZodType>;

/**
 * An object that refuses fields it does not name. `rule` is what it must be when it is not an object;
 * `expected` lists its fields in the unknown-field message (for small, fixed sets such as families).
 */
function closedObject<S extends Shape>(shape: S, rule: string, options: { noun?: string; expected?: boolean } = {}) {
  const { noun = 'field', expected = false } = options;
  const known = expected ? ` (expected ${Object.keys(shape).join(', ')})` : '';
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `has ${issue.keys.length === 1 ? `an unknown ${noun}` : `unknown ${noun === 'family' ? 'families' : `${noun}s`}`} ${issue.keys.map(quote).join(', ')}${known}`
        : rule,
  });
}

/** A decimal id, as a JSON string or a non-negative integer; read as its string. */
const numericId = (rule: string) =>
  z.union([z.string(), z.int().nonnegative().transform(String)], { error: rule }).pipe(z.string().regex(PROJECT_ID, { error: rule }));

const fileBaseUrl = z.string({ error: 'must be a URL string' }).transform(checkedBy(checkBaseUrl));

/** A limit of the file: an integer in range, or null for "no such limit". */
const inLimitRange = checkedBy((raw: number) => checkInteger(raw, LIMIT_RANGE));
const limitValue = z
  .number({ error: 'must be an integer or null' })
  .nullable()
  .transform((value, ctx) => (value === null ? undefined : inLimitRange(value, ctx)));

const familyLimits = closedObject(
  Object.fromEntries(LIMIT_FIELDS.map((field) => [field, limitValue.optional()])) as Record<(typeof LIMIT_FIELDS)[number], z.ZodOptional<typeof limitValue>>,
  `must be an object with ${LIMIT_FIELDS.join(', ')}`,
  { expected: true },
);

const limitsEntry = closedObject(
  Object.fromEntries(API_FAMILIES.map((family) => [family, familyLimits.optional()])) as Record<ApiFamily, z.ZodOptional<typeof familyLimits>>,
  `must be an object keyed by family (${API_FAMILIES.join(', ')})`,
  { noun: 'family', expected: true },
);

const baseUrlsEntry = closedObject(
  Object.fromEntries(HOST_FAMILIES.map((family) => [family, fileBaseUrl.optional()])) as Record<HostFamily, z.ZodOptional<typeof fileBaseUrl>>,
  `must be an object keyed by ${HOST_FAMILIES.join(', ')}`,
  { noun: 'family', expected: true },
);

/**
 * A secret written as `<field>` (inline) or `<field>Env` (the name of the environment variable that
 * holds it, read from `env`). `check` wants at most one of them (and one, given what to say when both
 * are missing) and the variable set; `secretOf` is the Secret the checked fields hold.
 */
function secretFields<F extends string>(field: F, env: Env) {
  const envField = `${field}Env` as const;
  const inline = z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' });
  const named = z.string({ error: 'must be the name of an environment variable' }).regex(ENV_NAME, { error: 'must be the name of an environment variable' });
  const shape = { [field]: inline.optional(), [envField]: named.optional() } as { [K in F]: z.ZodOptional<typeof inline> } & {
    [K in `${F}Env`]: z.ZodOptional<typeof named>;
  };
  const check = (missing?: string) =>
    z.superRefine<Record<string, unknown>>(
      (value, ctx) => {
        const name = value[envField];
        if (value[field] !== undefined && name !== undefined) ctx.addIssue({ code: 'custom', message: `must set either ${field} or ${envField}, not both` });
        else if (typeof name === 'string' && ENV_NAME.test(name) && readEnv(env, name) === undefined) {
          // A secret pasted here by mistake would pass as a name: only a conventional NAME is quoted.
          const named = /^[A-Z_][A-Z0-9_]*$/.test(name) ? `names ${name}, which is not set` : 'names an environment variable that is not set';
          ctx.addIssue({ code: 'custom', path: [envField], message: named });
        } else if (missing !== undefined && value[field] === undefined && name === undefined) ctx.addIssue({ code: 'custom', message: missing });
      },
      // Also when other fields failed: every problem is reported in one pass.
      { when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value) },
    );
  const secretOf = (inlineValue: string | undefined, name: string | undefined): Secret | undefined => {
    const value = inlineValue ?? (name === undefined ? undefined : readEnv(env, name));
    return value === undefined ? undefined : new Secret(value);
  };
  return { shape, check, secretOf };
}

/**
 * One project of the file, as its JSON (`z.input`) and as the ProjectConfig it becomes: secrets read
 * from `env`, the rest defaulting to `defaults` (the MIXPANEL_* and LIMIT_* variables).
 */
export function projectSchema(env: Env, defaults: GlobalProjectDefaults) {
  const secret = secretFields('secret', env);
  const token = secretFields('projectToken', env);
  const serviceAccount = closedObject(
    { username: z.string({ error: 'is required' }).trim().min(1, { error: 'is required' }), ...secret.shape },
    'must be {"username", "secretEnv"} (or "secret")',
  )
    .check(secret.check('needs "secretEnv" (the name of an environment variable holding the secret) or "secret"'))
    .transform(({ username, secret: inline, secretEnv }): ProjectConfig['serviceAccount'] => ({ username, secret: secret.secretOf(inline, secretEnv)! }));

  return closedObject(
    {
      key: z.string({ error: 'must be 1 to 64 letters, digits, "-" or "_"' }).regex(PROJECT_KEY, { error: 'must be 1 to 64 letters, digits, "-" or "_"' }),
      projectId: numericId('must be a numeric Mixpanel project id'),
      workspaceId: numericId('must be a numeric id').optional(),
      region: z.enum(REGIONS as readonly [Region, ...Region[]], { error: `must be one of ${REGIONS.join(', ')}` }).default(defaults.region),
      serviceAccount,
      ...token.shape,
      baseUrl: fileBaseUrl.optional(),
      baseUrls: baseUrlsEntry.optional(),
      /** Per family, the fields given replace the defaults'; null removes a limit. */
      limits: limitsEntry.default({}),
      countEngageFollowOnPages: z.boolean({ error: 'must be true or false' }).default(defaults.countEngageFollowOnPages),
      timezone: z.string({ error: TIMEZONE_RULE }).transform(checkedBy(checkTimezone)).default(defaults.timezone),
    },
    'must be an object',
  )
    .check(token.check())
    .transform(({ projectToken, projectTokenEnv, baseUrl, baseUrls = {}, limits, ...project }): ProjectConfig => {
      // The project's own URLs win; the MIXPANEL_*BASE_URL variables apply only where it sets none.
      const ownUrls = baseUrl !== undefined || Object.keys(baseUrls).length > 0;
      return {
        ...project,
        projectToken: token.secretOf(projectToken, projectTokenEnv),
        baseUrls: resolveBaseUrls(project.region, ownUrls ? { baseUrl, overrides: baseUrls } : defaults),
        limits: Object.fromEntries(API_FAMILIES.map((family) => [family, { ...defaults.limits[family], ...limits[family] }])) as ProjectConfig['limits'],
      };
    });
}

/** The whole file: `{"projects": [...], "defaultProject": "<key>"}`, or a bare array of projects. */
export function projectsFileSchema(env: Env, defaults: GlobalProjectDefaults) {
  const root = z
    .object(
      {
        projects: z.array(projectSchema(env, defaults), { error: 'must be an array of projects' }),
        defaultProject: z.string({ error: 'must be a project key' }).optional(),
      },
      { error: 'must hold an array of projects, or {"projects": [...], "defaultProject": "<key>"}' },
    )
    .superRefine(
      ({ projects, defaultProject }, ctx) => {
        if (!Array.isArray(projects)) return;
        if (projects.length === 0) ctx.addIssue({ code: 'custom', message: 'lists no project' });
        // Also over projects that failed: their keys still clash or match.
        const keys = projects.map((project: unknown) => (project as { key?: unknown } | undefined)?.key);
        keys.forEach((key, index) => {
          const first = keys.indexOf(key);
          if (typeof key === 'string' && first !== index) {
            ctx.addIssue({ code: 'custom', path: ['projects', index, 'key'], message: `${quote(key)} appears more than once (also at projects[${first}])` });
          }
        });
        if (typeof defaultProject === 'string' && !keys.includes(defaultProject)) {
          ctx.addIssue({ code: 'custom', path: ['defaultProject'], message: `${quote(defaultProject)} is not the key of any project` });
        }
      },
      { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
    );
  return z.preprocess((value) => (Array.isArray(value) ? { projects: value } : value), root);
}

/** A projects file as its operator writes it. */
export type ProjectsFileInput = z.input<ReturnType<typeof projectsFileSchema>>;

export interface ProjectsFile {
  /** The valid projects. */
  readonly projects: readonly ProjectConfig[];
  /** Every key the file names, valid project or not. */
  readonly keys: readonly string[];
  readonly defaultProject: string | undefined;
}

export function readProjectsFile(path: string, env: Env, defaults: GlobalProjectDefaults, problems: Problems): ProjectsFile {
  const label = `MIXPANEL_PROJECTS_FILE (${path})`;
  const none: ProjectsFile = { projects: [], keys: [], defaultProject: undefined };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${label} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`);
    return none;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // JSON.parse messages quote the text around the error, which may be a secret: keep only the position.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    problems.push(`${label} is not valid JSON${position === undefined ? '' : ` (error at character ${position})`}`);
    return none;
  }
  const entries: unknown[] = Array.isArray(parsed) ? parsed : Array.isArray((parsed as { projects?: unknown })?.projects) ? (parsed as { projects: unknown[] }).projects : [];
  const keys = entries.flatMap((entry) => {
    const key = (entry as { key?: unknown } | null)?.key;
    return typeof key === 'string' ? [key] : [];
  });
  const result = projectsFileSchema(env, defaults).safeParse(parsed);
  if (result.success) return { projects: result.data.projects, keys, defaultProject: result.data.defaultProject };
  const keyOf = (entry: readonly PropertyKey[]) => {
    const key = (entries[entry[1] as number] as { key?: unknown } | null)?.key;
    return entry[0] === 'projects' && typeof key === 'string' ? quote(key) : undefined;
  };
  problems.push(...formatIssues(label, result.error.issues, keyOf));
  // The valid projects still count (their keys, API-key scopes), as the file's other problems are reported.
  return { projects: [], keys, defaultProject: undefined };
}
