/**
 * The authentication matrix (https://developer.mixpanel.com/reference/authentication
 * and each API family's page, e.g. https://developer.mixpanel.com/reference/query-api-authentication),
 * applied by the server before a route runs (the route's `auth` mode says which rules apply).
 */
import type { AuthMode, EmulatorProjectData } from './types.js';

export interface EmulatorServiceAccount {
  readonly username: string;
  readonly secret: string;
}

/** One emulated project and the credentials that reach it. */
export interface EmulatorProjectOptions {
  readonly projectId: string;
  /** Ingestion token ($token / properties.token, or /import Basic username). */
  readonly token: string;
  readonly serviceAccounts: readonly EmulatorServiceAccount[];
  /** Legacy project secret (Basic `secret:`); omitted = the project has none. */
  readonly legacySecret?: string | undefined;
  /**
   * The project's timezone (IANA name). Query API dates and buckets are in it; export dates too when
   * the project was created before 2023 (`createdBefore2023`). Default "UTC".
   */
  readonly timezone?: string | undefined;
  /** Export dates are in the project's timezone for projects created before 2023-01-01, UTC after. Default false. */
  readonly createdBefore2023?: boolean | undefined;
}

/** The default project's public demo credentials. */
export const DEMO_PROJECT = {
  projectId: '1000001',
  username: 'demo.7f3a2c.mp-service-account',
  secret: 'demo-secret',
  token: 'demo-token',
  legacySecret: 'demo-project-secret',
} as const;

/** The timezone `npm start`'s demo runs its project in: behind UTC, so "today" and day buckets differ from UTC's for part of each day. */
export const DEMO_TIMEZONE = 'America/Los_Angeles';

export const DEMO_PROJECT_OPTIONS: EmulatorProjectOptions = {
  projectId: DEMO_PROJECT.projectId,
  token: DEMO_PROJECT.token,
  serviceAccounts: [{ username: DEMO_PROJECT.username, secret: DEMO_PROJECT.secret }],
  legacySecret: DEMO_PROJECT.legacySecret,
};

export interface RegisteredProject {
  readonly options: EmulatorProjectOptions;
  readonly data: EmulatorProjectData;
}

export type AuthOutcome =
  | { readonly ok: true; readonly project: RegisteredProject }
  | { readonly ok: false; readonly status: 400 | 401 | 403; readonly message: string };

export interface AuthInput {
  readonly mode: AuthMode;
  readonly authorization: string | undefined;
  readonly params: Readonly<Record<string, string>>;
  readonly pathParams: Readonly<Record<string, string>>;
  readonly json: unknown;
}

/** Where the docs give no wording, these are chosen and kept stable (Mixpanel documents no exact 401/403 bodies). */
export const AuthMessage = {
  /**
   * The message clients match on (airbytehq/airbyte:
   * airbyte-integrations/connectors/source-mixpanel/source_mixpanel/errors_handlers/base_errors_handler.py).
   */
  unauthenticated: 'Unable to authenticate request',
  projectIdRequired: 'project_id is required when authenticating with a service account',
  forbidden: (projectId: string) => `Permission denied: the credentials have no access to project ${projectId}`,
  importInvalid: 'Invalid credentials',
  /** Seen when /import gets SA credentials without project_id (https://github.com/mixpanel/mixpanel-python/issues/110). */
  importNoProject: 'Unauthorized, invalid project secret. See docs for more details: https://developer.mixpanel.com/reference/authentication',
} as const;

/** Decodes `Basic base64(user:pass)` and the plain-text `Basic user:pass` Mixpanel also accepts. */
export function parseBasicAuth(header: string | undefined): { username: string; password: string } | undefined {
  if (!header) return undefined;
  const match = /^Basic\s+(.+)$/i.exec(header.trim());
  if (!match) return undefined;
  const credential = match[1] as string;
  // ':' is not in the base64 alphabet, so its presence means plain text.
  const decoded = credential.includes(':') ? credential : Buffer.from(credential, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The body of an ingestion call as JSON: the parsed JSON body, or the form
 * field `data` (base64 or plain JSON), which /track and /engage also take.
 */
export function readIngestionPayload(json: unknown, params: Readonly<Record<string, string>>): unknown {
  if (json !== undefined) return json;
  const data = params.data;
  if (data === undefined) return undefined;
  for (const text of [data, Buffer.from(data, 'base64').toString('utf8')]) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // try the next spelling
    }
  }
  return undefined;
}

/** The first project token in an ingestion payload (`$token` or `properties.token`). */
export function findToken(payload: unknown): string | undefined {
  const records = Array.isArray(payload) ? payload : [payload];
  for (const record of records) {
    if (typeof record !== 'object' || record === null) continue;
    const r = record as { $token?: unknown; properties?: { token?: unknown } };
    if (typeof r.$token === 'string') return r.$token;
    if (typeof r.properties?.token === 'string') return r.properties.token;
  }
  return undefined;
}

export interface ProjectRegistry {
  byId(projectId: string): RegisteredProject | undefined;
  byToken(token: string): RegisteredProject | undefined;
  bySecret(secret: string): RegisteredProject | undefined;
  /** Whether some project knows this service account with this secret. */
  knowsServiceAccount(username: string, secret: string): boolean;
  /**
   * Receives ingestion sent with an unknown token: /track answers `1` even for a
   * bogus token (https://github.com/mixpanel/mixpanel-node/issues/59), so such writes succeed and land nowhere visible.
   * Its projectId is the empty string.
   */
  readonly sink: RegisteredProject;
}

export function createProjectRegistry(projects: readonly RegisteredProject[], sink: RegisteredProject): ProjectRegistry {
  const byId = new Map(projects.map((p) => [p.options.projectId, p]));
  const byToken = new Map(projects.map((p) => [p.options.token, p]));
  const bySecret = new Map(projects.flatMap((p) => (p.options.legacySecret ? [[p.options.legacySecret, p] as const] : [])));
  return {
    byId: (id) => byId.get(id),
    byToken: (token) => byToken.get(token),
    bySecret: (secret) => bySecret.get(secret),
    knowsServiceAccount: (username, secret) => projects.some((p) => p.options.serviceAccounts.some((sa) => sa.username === username && sa.secret === secret)),
    sink,
  };
}

function hasAccount(project: RegisteredProject, username: string): boolean {
  return project.options.serviceAccounts.some((sa) => sa.username === username);
}

const fail = (status: 400 | 401 | 403, message: string): AuthOutcome => ({ ok: false, status, message });

/** Service account or legacy secret, project from `projectId` (query param or path). */
function serviceAccountAuth(
  registry: ProjectRegistry,
  basic: { username: string; password: string } | undefined,
  projectId: string | undefined,
  allowLegacySecret: boolean,
): AuthOutcome {
  if (!basic) return fail(401, AuthMessage.unauthenticated);
  if (basic.password === '') {
    const project = allowLegacySecret ? registry.bySecret(basic.username) : undefined;
    if (!project) return fail(401, AuthMessage.unauthenticated);
    // The secret names its project, so project_id is optional; a different one is refused.
    if (projectId !== undefined && projectId !== project.options.projectId) return fail(403, AuthMessage.forbidden(projectId));
    return { ok: true, project };
  }
  if (!registry.knowsServiceAccount(basic.username, basic.password)) return fail(401, AuthMessage.unauthenticated);
  if (projectId === undefined || projectId === '') return fail(400, AuthMessage.projectIdRequired);
  const project = registry.byId(projectId);
  if (!project || !hasAccount(project, basic.username)) return fail(403, AuthMessage.forbidden(projectId));
  return { ok: true, project };
}

function importAuth(registry: ProjectRegistry, input: AuthInput): AuthOutcome {
  const basic = parseBasicAuth(input.authorization);
  if (!basic) return fail(401, AuthMessage.importInvalid);
  if (basic.password === '') {
    const project = registry.bySecret(basic.username) ?? registry.byToken(basic.username);
    return project ? { ok: true, project } : fail(401, AuthMessage.importInvalid);
  }
  if (!registry.knowsServiceAccount(basic.username, basic.password)) return fail(401, AuthMessage.importInvalid);
  const projectId = input.params.project_id;
  if (projectId === undefined || projectId === '') return fail(401, AuthMessage.importNoProject);
  const project = registry.byId(projectId);
  if (!project || !hasAccount(project, basic.username)) return fail(403, AuthMessage.forbidden(projectId));
  return { ok: true, project };
}

/** Resolves the project a request may act on, or the status and message to refuse it with. */
export function authenticate(registry: ProjectRegistry, input: AuthInput): AuthOutcome {
  switch (input.mode) {
    case 'service-account':
      return serviceAccountAuth(registry, parseBasicAuth(input.authorization), input.params.project_id, true);
    case 'service-account-path':
      return serviceAccountAuth(registry, parseBasicAuth(input.authorization), input.pathParams.projectId, false);
    case 'import':
      return importAuth(registry, input);
    case 'token': {
      const token = findToken(readIngestionPayload(input.json, input.params));
      return { ok: true, project: (token !== undefined ? registry.byToken(token) : undefined) ?? registry.sink };
    }
  }
}
