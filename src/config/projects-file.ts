/**
 * MIXPANEL_PROJECTS_FILE: several projects in one JSON file, each with its own credentials (inline or
 * named environment variables), hosts, limits and timezone, described by one zod schema. Every
 * problem is named with the file, the project's index and key, and the field (issues.ts); JSON
 * errors keep only their position (the text may hold a secret).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { FamilyLimits, ProjectConfig } from './types.js';
import { HOST_FAMILIES, REGIONS, resolveBaseUrls } from '../mixpanel/hosts.js';
import type { ApiFamily, HostFamily, Region } from '../mixpanel/types.js';
import { Secret } from '../core/secret.js';
import { PROJECT_ID, type GlobalProjectDefaults } from './environment.js';
import { closedObject, formatIssues } from './issues.js';
import { checkBaseUrl, checkedBy, checkInteger, checkTimezone, quote, readEnv, TIMEZONE_RULE, type Env, type Problems } from './variables.js';

const PROJECT_KEY = /^[A-Za-z0-9_-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LIMIT_RANGE = { min: 1, max: 1_000_000 };
/** A decimal id, as a JSON string or a non-negative integer; read as its string. */
const numericId = (rule: string) =>
  z.union([z.string(), z.int().nonnegative().transform(String)], { error: rule }).pipe(z.string().regex(PROJECT_ID, { error: rule }));

const fileBaseUrl = z.string({ error: 'must be a URL string' }).transform(checkedBy(checkBaseUrl));

const inLimitRange = checkedBy((raw: number) => checkInteger(raw, LIMIT_RANGE));
/** A limit of the file: an integer in range, or null for "no such limit". */
const limitValue = z
  .number({ error: 'must be an integer or null' })
  .nullable()
  .transform((value, ctx) => (value === null ? undefined : inLimitRange(value, ctx)))
  .optional();

const familyLimits = closedObject(
  { perHour: limitValue, perMinute: limitValue, perSecond: limitValue, concurrent: limitValue } satisfies Record<keyof FamilyLimits, z.ZodType>,
  'must be an object with perHour, perMinute, perSecond, concurrent',
  { expected: true },
).optional();

const limitsShape = {
  query: familyLimits,
  export: familyLimits,
  lexicon: familyLimits,
  app: familyLimits,
  ingestion: familyLimits,
} satisfies Record<ApiFamily, z.ZodType>;
const API_FAMILIES = Object.keys(limitsShape) as ApiFamily[];

const baseUrlsEntry = closedObject(
  { query: fileBaseUrl.optional(), export: fileBaseUrl.optional(), ingestion: fileBaseUrl.optional(), app: fileBaseUrl.optional() } satisfies Record<
    HostFamily,
    z.ZodType
  >,
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
function projectSchema(env: Env, defaults: GlobalProjectDefaults) {
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
      limits: closedObject(limitsShape, `must be an object keyed by family (${API_FAMILIES.join(', ')})`, { noun: 'family', expected: true }).default({}),
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
function projectsFileSchema(env: Env, defaults: GlobalProjectDefaults) {
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

export interface ProjectsFile {
  /** The projects; none when the file has a problem (loadConfig then throws). */
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
  // The projects as written, to name each by its key (if it has one) beside its index.
  const entries: unknown = Array.isArray(parsed) ? parsed : (parsed as { projects?: unknown } | null)?.projects;
  const keyAt = (index: number): string | undefined => {
    const key = Array.isArray(entries) ? (entries[index] as { key?: unknown } | null | undefined)?.key : undefined;
    return typeof key === 'string' ? key : undefined;
  };
  const keys = Array.isArray(entries) ? entries.flatMap((_, index) => keyAt(index) ?? []) : [];
  const result = projectsFileSchema(env, defaults).safeParse(parsed);
  if (result.success) return { projects: result.data.projects, keys, defaultProject: result.data.defaultProject };
  const keyOf = ([field, index]: readonly PropertyKey[]) => {
    const key = field === 'projects' && typeof index === 'number' ? keyAt(index) : undefined;
    return key === undefined ? undefined : quote(key);
  };
  problems.push(...formatIssues(label, result.error.issues, keyOf));
  return { ...none, keys };
}
