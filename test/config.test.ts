import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, withDemoProject, type Env } from '../src/config/index.js';
import { ConfigError } from '../src/core/errors.js';
import { hashApiKey, Secret } from '../src/core/secret.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const SECRET = 'sa-secret-do-not-print-7731';
const TOKEN = 'project-token-do-not-print-5521';
/** Outside demo mode the webhook's credentials are required. */
const WEBHOOK_ENV = { WEBHOOK_USERNAME: 'mixpanel', WEBHOOK_PASSWORD: 'webhook-password-0001' } as const;
const CREDENTIALS: Env = {
  MIXPANEL_PROJECT_ID: '12345',
  MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'gateway.abc123.mp-service-account',
  MIXPANEL_SERVICE_ACCOUNT_SECRET: SECRET,
  MIXPANEL_PROJECT_TOKEN: TOKEN,
  ...WEBHOOK_ENV,
};

const directory = mkdtempSync(join(tmpdir(), 'mpgw-config-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let fileCount = 0;
function projectsFile(content: unknown): string {
  const path = join(directory, `projects-${fileCount++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** The problems a ConfigError lists (fails the test when loading succeeds). */
function problemsOf(env: Env, options?: Parameters<typeof loadConfig>[1]): readonly string[] {
  try {
    loadConfig(env, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(CREDENTIALS);
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      graphqlPath: '/graphql',
      integrationId: 'mixpanel-graphql-gateway',
      defaultProjectKey: 'default',
      demo: false,
      requestDeadlineMs: 5000,
      upstreamTimeoutMs: 60_000,
      redisUrl: undefined,
      store: { kind: 'sqlite', sqlitePath: './data/membership.sqlite' },
      webhook: {
        path: '/webhooks/mixpanel/cohorts',
        username: 'mixpanel',
        maxBodyBytes: 5 * 1024 * 1024,
        sessionTtlMs: 6 * 3_600_000,
        maxAuthFailures: 10,
        authFailureWindowMs: 60_000,
      },
      cache: {
        maxBytes: 64 * 1024 * 1024,
        ttlMs: {
          lexicon: 600_000,
          cohorts: 300_000,
          profiles: 60_000,
          analyticsClosed: 21_600_000,
          analyticsToday: 60_000,
          events: 60_000,
          annotations: 300_000,
        },
      },
      logLevel: 'info',
      graphiql: true,
      maskErrors: true,
      apiKeys: [],
      plainApiKeys: 0,
      security: {
        corsOrigins: [],
        corsLoopback: false,
        // Keyless on loopback: the schema may be explored.
        introspection: true,
        fieldSuggestions: true,
        persistedOperationsFile: undefined,
        documentLimits: { maxBytes: 65_536, maxTokens: 2_000, maxAliases: 100, maxDepth: 12, maxDirectives: 50, maxSelections: 2_000 },
        wsMaxPayloadBytes: 1_048_576,
        wsMaxSubscriptions: 50,
        maxBodyBytes: 1_048_576,
      },
      subscriptions: { maxBufferedBytes: 4 * 1024 * 1024, fanOutBatchSize: 256 },
    });
    const [project] = config.projects;
    expect(config.projects).toHaveLength(1);
    expect(project).toMatchObject({
      key: 'default',
      projectId: '12345',
      region: 'US',
      workspaceId: undefined,
      countEngageFollowOnPages: true,
      baseUrls: { query: 'https://mixpanel.com', export: 'https://data.mixpanel.com', ingestion: 'https://api.mixpanel.com', app: 'https://mixpanel.com' },
      limits: {
        query: { perHour: 60, concurrent: 5 },
        export: { perHour: 60, perSecond: 3, concurrent: 100 },
        lexicon: { perMinute: 5 },
        app: {},
        ingestion: {},
      },
    });
    expect(project?.serviceAccount.secret.reveal()).toBe(SECRET);
    expect(project?.projectToken?.reveal()).toBe(TOKEN);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ...CREDENTIALS,
      HOST: '0.0.0.0',
      PORT: '8080',
      GRAPHQL_PATH: '/api/graphql/',
      MIXPANEL_WORKSPACE_ID: '77',
      MIXPANEL_REGION: 'eu',
      MIXPANEL_INTEGRATION_ID: 'acme-gateway',
      MIXPANEL_EXPORT_BASE_URL: 'http://127.0.0.1:9000/',
      LIMIT_QUERY_PER_HOUR: '400',
      LIMIT_QUERY_CONCURRENT: '3',
      LIMIT_EXPORT_PER_HOUR: '100',
      LIMIT_EXPORT_PER_SECOND: '2',
      LIMIT_EXPORT_CONCURRENT: '10',
      LIMIT_LEXICON_PER_MINUTE: '4',
      COUNT_ENGAGE_FOLLOW_ON_PAGES: 'false',
      REQUEST_DEADLINE_MS: '2500',
      UPSTREAM_TIMEOUT_MS: '30000',
      CACHE_MAX_BYTES: '1024',
      CACHE_TTL_LEXICON_MS: '1',
      CACHE_TTL_COHORTS_MS: '2',
      CACHE_TTL_PROFILES_MS: '3',
      CACHE_TTL_ANALYTICS_CLOSED_MS: '4',
      CACHE_TTL_ANALYTICS_TODAY_MS: '5',
      CACHE_TTL_EVENTS_MS: '6',
      CACHE_TTL_ANNOTATIONS_MS: '7',
      CACHE_STALE_MS: '8',
      REDIS_URL: 'redis://:hunter2@127.0.0.1:6379/0',
      SQLITE_PATH: '/tmp/m.sqlite',
      WEBHOOK_PATH: '/hooks/cohorts',
      WEBHOOK_USERNAME: 'mixpanel',
      WEBHOOK_PASSWORD: 'webhook-pass-0042',
      WEBHOOK_MAX_BODY_BYTES: '2048',
      WEBHOOK_SESSION_TTL_MS: '60000',
      LOG_LEVEL: 'DEBUG',
      GRAPHIQL: 'off',
      NODE_ENV: 'development',
      GATEWAY_API_KEYS: 'key-aaaaaaaaaaaaaaaa, key-bbbbbbbbbbbbbbbb',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      graphqlPath: '/api/graphql',
      integrationId: 'acme-gateway',
      requestDeadlineMs: 2500,
      upstreamTimeoutMs: 30_000,
      store: { kind: 'redis', sqlitePath: '/tmp/m.sqlite' },
      webhook: { path: '/hooks/cohorts', username: 'mixpanel', maxBodyBytes: 2048, sessionTtlMs: 60_000 },
      cache: { maxBytes: 1024, ttlMs: { lexicon: 1, cohorts: 2, profiles: 3, analyticsClosed: 4, analyticsToday: 5, events: 6, annotations: 7 }, staleMs: 8 },
      logLevel: 'debug',
      graphiql: false,
      maskErrors: false,
    });
    expect(config.redisUrl?.reveal()).toBe('redis://:hunter2@127.0.0.1:6379/0');
    expect(config.webhook.password?.reveal()).toBe('webhook-pass-0042');
    // Plain keys are hashed at once: only their digests are kept, as full-access clients.
    expect(config.apiKeys).toEqual(
      ['key-aaaaaaaaaaaaaaaa', 'key-bbbbbbbbbbbbbbbb'].map((key) => {
        const sha256 = hashApiKey(key).slice('sha256:'.length);
        return { id: `key-${sha256.slice(0, 8)}`, sha256, projects: '*', canWrite: true };
      }),
    );
    expect(config.plainApiKeys).toBe(2);
    expect(JSON.stringify(config)).not.toContain('key-aaaaaaaaaaaaaaaa');
    expect(config.projects[0]).toMatchObject({
      region: 'EU',
      workspaceId: '77',
      countEngageFollowOnPages: false,
      baseUrls: { query: 'https://eu.mixpanel.com', export: 'http://127.0.0.1:9000', ingestion: 'https://api-eu.mixpanel.com', app: 'https://eu.mixpanel.com' },
      limits: { query: { perHour: 400, concurrent: 3 }, export: { perHour: 100, perSecond: 2, concurrent: 10 }, lexicon: { perMinute: 4 } },
    });
  });

  it('MIXPANEL_BASE_URL sends every family to one origin; per-family variables still win', () => {
    const config = loadConfig({ ...CREDENTIALS, MIXPANEL_BASE_URL: 'http://127.0.0.1:4100', MIXPANEL_APP_BASE_URL: 'http://127.0.0.1:4200' });
    expect(config.projects[0]?.baseUrls).toEqual({
      query: 'http://127.0.0.1:4100',
      export: 'http://127.0.0.1:4100',
      ingestion: 'http://127.0.0.1:4100',
      app: 'http://127.0.0.1:4200',
    });
  });

  it('treats empty variables as unset and uses redis by default when REDIS_URL is set', () => {
    const config = loadConfig({ ...CREDENTIALS, PORT: '', MIXPANEL_REGION: ' ', REDIS_URL: 'rediss://cache:6380' });
    expect(config.port).toBe(4000);
    expect(config.projects[0]?.region).toBe('US');
    expect(config.store.kind).toBe('redis');
  });

  it('returns a deeply frozen config', () => {
    const config = loadConfig(CREDENTIALS);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.projects)).toBe(true);
    expect(Object.isFrozen(config.projects[0]?.limits.query)).toBe(true);
    expect(Object.isFrozen(config.cache.ttlMs)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('never prints a secret: not in JSON.stringify, util.inspect or String()', () => {
    const config = loadConfig({
      ...CREDENTIALS,
      REDIS_URL: 'redis://:redis-pass-3390@127.0.0.1:6379',
      WEBHOOK_USERNAME: 'mixpanel',
      WEBHOOK_PASSWORD: 'webhook-pass-8812',
      GATEWAY_API_KEYS: 'api-key-0000000000000042',
    });
    for (const printed of [JSON.stringify(config), inspect(config, { depth: 10 }), String(config.projects[0]?.serviceAccount.secret)]) {
      for (const secret of [SECRET, TOKEN, 'redis-pass-3390', 'webhook-pass-8812', 'api-key-0000000000000042']) {
        expect(printed).not.toContain(secret);
      }
    }
    expect(JSON.stringify(config)).toContain('[redacted]');
  });

  it('lists every problem at once, one message each', () => {
    const problems = problemsOf({
      ...CREDENTIALS,
      PORT: '70000',
      MIXPANEL_REGION: 'APAC',
      MIXPANEL_BASE_URL: 'ftp://example.com',
      LIMIT_QUERY_PER_HOUR: '0',
      LIMIT_EXPORT_CONCURRENT: '2.5',
      COUNT_ENGAGE_FOLLOW_ON_PAGES: 'maybe',
      UPSTREAM_TIMEOUT_MS: 'soon',
      LOG_LEVEL: 'verbose',
      GRAPHQL_PATH: 'graphql',
      MEMBERSHIP_STORE: 'postgres',
    });
    expect(problems).toEqual([
      'MIXPANEL_REGION must be one of US, EU, IN (got "APAC")',
      'MIXPANEL_BASE_URL must be an http:// or https:// URL (got "ftp:" scheme)',
      'LIMIT_QUERY_PER_HOUR must be an integer from 1 to 1000000 (got "0")',
      'LIMIT_EXPORT_CONCURRENT must be an integer from 1 to 1000000 (got "2.5")',
      'COUNT_ENGAGE_FOLLOW_ON_PAGES must be true or false (got "maybe")',
      'GRAPHQL_PATH must be a URL path starting with "/" (got "graphql")',
      'PORT must be an integer from 0 to 65535 (got "70000")',
      'UPSTREAM_TIMEOUT_MS must be an integer from 100 to 3600000 (got "soon")',
      'MEMBERSHIP_STORE must be one of memory, sqlite, redis (got "postgres")',
      'LOG_LEVEL must be one of debug, info, warn, error, silent (got "verbose")',
    ]);
  });

  it.each([
    [{ MIXPANEL_QUERY_BASE_URL: 'not a url' }, 'MIXPANEL_QUERY_BASE_URL must be an http:// or https:// URL (got "not a url")'],
    [{ MIXPANEL_BASE_URL: 'http://user:pw@host' }, 'MIXPANEL_BASE_URL must not contain credentials: the service account is configured separately'],
    [{ MIXPANEL_EXPORT_BASE_URL: 'http://host/?x=1' }, 'MIXPANEL_EXPORT_BASE_URL must not have a query string or fragment'],
    [{ MIXPANEL_PROJECT_ID: 'abc' }, 'MIXPANEL_PROJECT_ID must be a numeric Mixpanel project id (got "abc")'],
    [{ MIXPANEL_WORKSPACE_ID: 'w1' }, 'MIXPANEL_WORKSPACE_ID must be a numeric workspace (data view) id (got "w1")'],
    [{ MIXPANEL_INTEGRATION_ID: 'bad\u0001id' }, 'MIXPANEL_INTEGRATION_ID must be 1 to 100 printable ASCII characters (got "bad\\u0001id")'],
    [{ WEBHOOK_PASSWORD: undefined }, 'WEBHOOK_USERNAME and WEBHOOK_PASSWORD must be set together (or both left unset)'],
    [
      { WEBHOOK_USERNAME: undefined, WEBHOOK_PASSWORD: undefined },
      'WEBHOOK_USERNAME and WEBHOOK_PASSWORD must be set outside demo mode: the cohort-sync webhook never runs without Basic authentication',
    ],
    [{ WEBHOOK_PASSWORD: 'fifteen-chars-x' }, 'WEBHOOK_PASSWORD must be at least 16 characters'],
    [{ WEBHOOK_MAX_AUTH_FAILURES: '0' }, 'WEBHOOK_MAX_AUTH_FAILURES must be an integer from 1 to 1000000 (got "0")'],
    [{ WEBHOOK_PATH: '/graphql' }, 'WEBHOOK_PATH and GRAPHQL_PATH must differ'],
    [{ MEMBERSHIP_STORE: 'redis' }, 'MEMBERSHIP_STORE=redis needs REDIS_URL'],
    [{ GATEWAY_API_KEYS: 'short' }, 'GATEWAY_API_KEYS must be comma-separated sha256:<hex> digests or keys of at least 16 characters each'],
    [{ CORS_ORIGINS: '*' }, 'CORS_ORIGINS must list origins such as https://app.example.com (no path, no "*"; got "*")'],
    [
      { CORS_ORIGINS: 'https://app.example.com/path' },
      'CORS_ORIGINS must list origins such as https://app.example.com (no path, no "*"; got "https://app.example.com/path")',
    ],
    [
      { GATEWAY_API_KEYS: '[{"id": "x", "sha256": "abc", "projects": "*"}]' },
      "GATEWAY_API_KEYS[0]: sha256 must be the key's SHA-256 in hex (npm run hash-key), or key a plain key of at least 16 characters",
    ],
    [
      { GATEWAY_API_KEYS: `[{"id": "x", "sha256": "${'a'.repeat(64)}", "projects": ["nope"]}]` },
      'GATEWAY_API_KEYS[0]: projects names unknown project keys "nope"',
    ],
    [
      { PERSISTED_OPERATIONS_FILE: '/nonexistent/persisted.json' },
      'PERSISTED_OPERATIONS_FILE (/nonexistent/persisted.json) must be a readable JSON object mapping SHA-256 hashes to documents',
    ],
    [{ WS_MAX_PAYLOAD_BYTES: '10' }, 'WS_MAX_PAYLOAD_BYTES must be an integer from 1024 to 67108864 (got "10")'],
    [{ REQUEST_DEADLINE_MS: '-1' }, 'REQUEST_DEADLINE_MS must be an integer from 1 to 3600000 (got "-1")'],
    [{ WEBHOOK_MAX_BODY_BYTES: '10' }, 'WEBHOOK_MAX_BODY_BYTES must be an integer from 1024 to 1073741824 (got "10")'],
    [{ CACHE_TTL_PROFILES_MS: 'x' }, 'CACHE_TTL_PROFILES_MS must be an integer from 0 to 2592000000 (got "x")'],
  ])('rejects %o', (env, message) => {
    expect(problemsOf({ ...CREDENTIALS, ...env })).toEqual([message]);
  });

  it('never quotes a secret in a validation message', () => {
    const problems = problemsOf({
      ...CREDENTIALS,
      REDIS_URL: 'http://:redis-pass-3390@host',
      WEBHOOK_USERNAME: undefined,
      WEBHOOK_PASSWORD: 'webhook-pass-8812',
      MIXPANEL_BASE_URL: 'https://user:base-url-pass-1@[bad',
      GATEWAY_API_KEYS: 'tiny-secret',
    });
    expect(problems).toHaveLength(4);
    for (const secret of ['redis-pass-3390', 'webhook-pass-8812', 'base-url-pass-1', 'tiny-secret', SECRET]) {
      expect(problems.join('\n')).not.toContain(secret);
    }
    expect(problems).toContain('REDIS_URL must be a redis:// or rediss:// URL');
  });

  describe('API keys and security defaults', () => {
    const digest = (key: string) => hashApiKey(key).slice('sha256:'.length);

    it('reads scoped clients from JSON: digests, project lists, write off unless granted', () => {
      const config = loadConfig({
        ...CREDENTIALS,
        GATEWAY_API_KEYS: JSON.stringify([
          { id: 'dashboard', sha256: hashApiKey('dashboard-key-0000000001'), projects: ['default'] },
          { id: 'admin', sha256: digest('admin-key-000000000000002').toUpperCase(), projects: '*', write: true },
        ]),
      });
      expect(config.apiKeys).toEqual([
        { id: 'dashboard', sha256: digest('dashboard-key-0000000001'), projects: ['default'], canWrite: false },
        { id: 'admin', sha256: digest('admin-key-000000000000002'), projects: '*', canWrite: true },
      ]);
      expect(config.plainApiKeys).toBe(0);
      // Keyed: no introspection and no field suggestions unless asked for.
      expect(config.security).toMatchObject({ introspection: false, fieldSuggestions: false });
      expect(loadConfig({ ...CREDENTIALS, GATEWAY_API_KEYS: hashApiKey('x'.repeat(32)), INTROSPECTION: 'true' }).security.introspection).toBe(true);
    });

    it('accepts sha256 digests in the comma-separated form as full-access clients', () => {
      const config = loadConfig({ ...CREDENTIALS, GATEWAY_API_KEYS: `${hashApiKey('k'.repeat(20))}, ${hashApiKey('j'.repeat(20))}` });
      expect(config.apiKeys.map((k) => [k.sha256, k.projects, k.canWrite])).toEqual([
        [digest('k'.repeat(20)), '*', true],
        [digest('j'.repeat(20)), '*', true],
      ]);
      expect(config.plainApiKeys).toBe(0);
    });

    it('npm run hash-key prints the digest GATEWAY_API_KEYS takes, for a new key or one read from stdin', async () => {
      const run = (args: string[], input?: string) =>
        new Promise<string>((resolve, reject) => {
          const child = execFile(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'scripts/hash-key.ts'), ...args], { cwd: ROOT }, (error, stdout) =>
            error ? reject(error) : resolve(stdout),
          );
          child.stdin?.end(input ?? '');
        });
      const given = await run(['-'], 'given-key-0123456789\n');
      expect(given).toBe(`digest: ${hashApiKey('given-key-0123456789')}\n`);
      const fresh = await run([]);
      const [, key, digest] = /^key: +(\S+)\ndigest: (sha256:[0-9a-f]{64})\n$/.exec(fresh) ?? [];
      expect(key!.length).toBeGreaterThanOrEqual(32);
      expect(digest).toBe(hashApiKey(key!));
      expect(loadConfig({ ...CREDENTIALS, GATEWAY_API_KEYS: digest! }).apiKeys[0]?.sha256).toBe(digest!.slice('sha256:'.length));
    });

    it('closes the schema off loopback, opens it in demo mode with loopback CORS origins', () => {
      expect(loadConfig({ ...CREDENTIALS, HOST: '0.0.0.0' }).security).toMatchObject({ introspection: false, fieldSuggestions: false, corsLoopback: false });
      expect(loadConfig({}).security).toMatchObject({ introspection: true, fieldSuggestions: true, corsLoopback: true, corsOrigins: [] });
      expect(loadConfig({ ...CREDENTIALS, CORS_ORIGINS: 'https://app.example.com, http://localhost:5173/' }).security.corsOrigins).toEqual([
        'https://app.example.com',
        'http://localhost:5173',
      ]);
    });
  });

  describe('demo mode', () => {
    it('starts in demo mode with a placeholder project when no credentials are given', () => {
      const config = loadConfig({ MIXPANEL_REGION: 'IN' });
      expect(config.demo).toBe(true);
      expect(config.projects.map((p) => p.key)).toEqual(['default']);
      expect(config.defaultProjectKey).toBe('default');
      expect(config.projects[0]?.baseUrls.query).toBe('https://in.mixpanel.com');
    });

    it('withDemoProject points the default project at the emulator and stays frozen', () => {
      const demo = loadConfig({});
      const config = withDemoProject(demo, {
        projectId: '1000001',
        username: 'demo.sa',
        secret: 'demo-secret',
        token: 'demo-token',
        baseUrl: 'http://127.0.0.1:5555',
      });
      const [project] = config.projects;
      expect(project?.projectId).toBe('1000001');
      expect(project?.serviceAccount.username).toBe('demo.sa');
      expect(project?.serviceAccount.secret).toBeInstanceOf(Secret);
      expect(project?.serviceAccount.secret.reveal()).toBe('demo-secret');
      expect(project?.projectToken?.reveal()).toBe('demo-token');
      expect(project?.baseUrls).toEqual({
        query: 'http://127.0.0.1:5555',
        export: 'http://127.0.0.1:5555',
        ingestion: 'http://127.0.0.1:5555',
        app: 'http://127.0.0.1:5555',
      });
      expect(config.demo).toBe(true);
      expect(Object.isFrozen(config.projects[0]?.serviceAccount)).toBe(true);
      expect(demo.projects[0]?.projectId).not.toBe('1000001');
    });

    it('partially given credentials are an error, not demo mode', () => {
      expect(problemsOf({ MIXPANEL_PROJECT_ID: '12345', ...WEBHOOK_ENV })).toEqual([
        'MIXPANEL_PROJECT_ID, MIXPANEL_SERVICE_ACCOUNT_USERNAME, MIXPANEL_SERVICE_ACCOUNT_SECRET must be set together: ' +
          'MIXPANEL_SERVICE_ACCOUNT_USERNAME, MIXPANEL_SERVICE_ACCOUNT_SECRET are missing',
      ]);
      const noSecret = problemsOf({ MIXPANEL_PROJECT_ID: '12345', MIXPANEL_SERVICE_ACCOUNT_USERNAME: 'u' });
      expect(noSecret[0]).toMatch(/MIXPANEL_SERVICE_ACCOUNT_SECRET is missing/);
      expect(problemsOf({ MIXPANEL_PROJECT_TOKEN: TOKEN })[0]).toMatch(/MIXPANEL_PROJECT_TOKEN is set but the service account is not/);
    });
  });

  describe('projects file', () => {
    const WEB_SECRET = 'web-secret-from-env-4410';
    it('reads several projects, secrets from named variables, per-project URLs and limits', () => {
      const path = projectsFile({
        defaultProject: 'app',
        projects: [
          {
            key: 'web',
            projectId: 111,
            region: 'EU',
            workspaceId: '5',
            serviceAccount: { username: 'web.sa', secretEnv: 'WEB_MP_SECRET' },
            projectTokenEnv: 'WEB_MP_TOKEN',
            limits: { query: { perHour: 400, concurrent: null }, lexicon: { perMinute: 2 } },
            countEngageFollowOnPages: false,
          },
          {
            key: 'app',
            projectId: '222',
            serviceAccount: { username: 'app.sa', secret: 'inline-secret' },
            baseUrls: { export: 'http://127.0.0.1:7000' },
          },
        ],
      });
      const config = loadConfig({
        ...WEBHOOK_ENV,
        MIXPANEL_PROJECTS_FILE: path,
        WEB_MP_SECRET: WEB_SECRET,
        WEB_MP_TOKEN: 'web-token',
        LIMIT_QUERY_CONCURRENT: '4',
      });
      expect(config.demo).toBe(false);
      expect(config.defaultProjectKey).toBe('app');
      expect(config.projects.map((p) => p.key)).toEqual(['web', 'app']);
      const [web, app] = config.projects;
      expect(web).toMatchObject({
        projectId: '111',
        region: 'EU',
        workspaceId: '5',
        countEngageFollowOnPages: false,
        baseUrls: { query: 'https://eu.mixpanel.com', export: 'https://data-eu.mixpanel.com' },
        limits: { query: { perHour: 400, concurrent: undefined }, export: { perHour: 60 }, lexicon: { perMinute: 2 } },
      });
      expect(web?.serviceAccount.secret.reveal()).toBe(WEB_SECRET);
      expect(web?.projectToken?.reveal()).toBe('web-token');
      expect(app).toMatchObject({
        projectId: '222',
        region: 'US',
        baseUrls: { query: 'https://mixpanel.com', export: 'http://127.0.0.1:7000' },
        limits: { query: { perHour: 60, concurrent: 4 } },
      });
      expect(app?.serviceAccount.secret.reveal()).toBe('inline-secret');
      expect(JSON.stringify(config)).not.toContain(WEB_SECRET);
      expect(JSON.stringify(config)).not.toContain('inline-secret');
    });

    it('reads a timezone per project (IANA, validated), MIXPANEL_TIMEZONE as the default', () => {
      const path = projectsFile([
        { key: 'la', projectId: '2', timezone: 'America/Los_Angeles', serviceAccount: { username: 'u2', secret: 's2' } },
        { key: 'plain', projectId: '3', serviceAccount: { username: 'u3', secret: 's3' } },
      ]);
      const config = loadConfig({ ...CREDENTIALS, MIXPANEL_TIMEZONE: 'Europe/Paris' }, { projectsFile: path });
      expect(config.projects.map((p) => [p.key, p.timezone])).toEqual([
        ['default', 'Europe/Paris'],
        ['la', 'America/Los_Angeles'],
        ['plain', 'Europe/Paris'],
      ]);
      expect(loadConfig(CREDENTIALS).projects[0]?.timezone).toBe('UTC');
      expect(problemsOf({ ...CREDENTIALS, MIXPANEL_TIMEZONE: 'Mars/Olympus' })).toEqual([
        'MIXPANEL_TIMEZONE must be an IANA timezone name such as "UTC" or "America/Los_Angeles" (got "Mars/Olympus")',
      ]);
      const bad = projectsFile([{ key: 'x', projectId: '2', timezone: 7, serviceAccount: { username: 'u2', secret: 's2' } }]);
      expect(problemsOf({}, { projectsFile: bad })[0]).toMatch(/timezone must be an IANA timezone name/);
    });

    it('takes the path from options, accepts a bare array, and adds the MIXPANEL_* project as "default"', () => {
      const path = projectsFile([{ key: 'second', projectId: '2', serviceAccount: { username: 'u2', secret: 's2' } }]);
      const config = loadConfig({ ...CREDENTIALS, MIXPANEL_BASE_URL: 'http://127.0.0.1:4100' }, { projectsFile: path });
      expect(config.projects.map((p) => p.key)).toEqual(['default', 'second']);
      expect(config.defaultProjectKey).toBe('default');
      // The global base URL applies to file projects that set none.
      expect(config.projects[1]?.baseUrls.app).toBe('http://127.0.0.1:4100');

      const clash = projectsFile([{ key: 'default', projectId: '2', serviceAccount: { username: 'u2', secret: 's2' } }]);
      expect(problemsOf(CREDENTIALS, { projectsFile: clash })).toEqual([
        'Project key "default" is used both by the MIXPANEL_* variables and MIXPANEL_PROJECTS_FILE; rename the file\'s project',
      ]);
    });

    it('reports each problem with its project', () => {
      const path = projectsFile({
        defaultProject: 'missing',
        projects: [
          { key: 'a', projectId: '1', serviceAccount: { username: 'u', secretEnv: 'UNSET_SECRET_VAR' } },
          { key: 'a', projectId: '2', serviceAccount: { username: 'u', secret: 's' } },
          { key: 'bad key!', projectId: 'x', region: 'MARS', serviceAccount: { secret: 's', secretEnv: 'X' }, baseUrl: 'ftp://h', colour: 'blue' },
          { key: 'c', projectId: '3', serviceAccount: { username: 'u', secret: 's' }, limits: { query: { perDay: 3 }, export: { perHour: 0 } } },
        ],
      });
      const problems = problemsOf(WEBHOOK_ENV, { projectsFile: path });
      const at = (index: number, key: string) => `MIXPANEL_PROJECTS_FILE (${path}) projects[${index}] (key "${key}")`;
      expect(problems).toEqual([
        `${at(0, 'a')}: serviceAccount.secretEnv names UNSET_SECRET_VAR, which is not set`,
        `${at(2, 'bad key!')} has an unknown field "colour"`,
        `${at(2, 'bad key!')}: key must be 1 to 64 letters, digits, "-" or "_"`,
        `${at(2, 'bad key!')}: projectId must be a numeric Mixpanel project id`,
        `${at(2, 'bad key!')}: region must be one of US, EU, IN`,
        `${at(2, 'bad key!')}: serviceAccount.username is required`,
        `${at(2, 'bad key!')}: serviceAccount must set either secret or secretEnv, not both`,
        `${at(2, 'bad key!')}: baseUrl must be an http:// or https:// URL (got "ftp:" scheme)`,
        `${at(3, 'c')}: limits.query has an unknown field "perDay" (expected perHour, perMinute, perSecond, concurrent)`,
        `${at(3, 'c')}: limits.export.perHour must be an integer from 1 to 1000000 (got "0")`,
        `${at(1, 'a')}: key "a" appears more than once (also at projects[0])`,
        `MIXPANEL_PROJECTS_FILE (${path}): defaultProject "missing" is not the key of any project`,
      ]);
    });

    it('never quotes a secret written where a name or another type belongs', () => {
      const path = projectsFile([
        { key: 'a', projectId: '1', serviceAccount: { username: 'u', secretEnv: 'pastedSecretValue0042' }, projectToken: 'tok' },
        { key: 'b', projectId: '2', serviceAccount: { username: 'u', secret: 'inline-secret-0043', secretEnv: 'pasted-secret-0044' }, projectTokenEnv: 7 },
      ]);
      const problems = problemsOf(WEBHOOK_ENV, { projectsFile: path });
      const at = (index: number, key: string) => `MIXPANEL_PROJECTS_FILE (${path}) projects[${index}] (key "${key}")`;
      expect(problems).toEqual([
        `${at(0, 'a')}: serviceAccount.secretEnv names an environment variable that is not set`,
        `${at(1, 'b')}: serviceAccount.secretEnv must be the name of an environment variable`,
        `${at(1, 'b')}: serviceAccount must set either secret or secretEnv, not both`,
        `${at(1, 'b')}: projectTokenEnv must be the name of an environment variable`,
      ]);
      for (const secret of ['pastedSecretValue0042', 'inline-secret-0043', 'pasted-secret-0044']) expect(problems.join('\n')).not.toContain(secret);
      const keys = problemsOf({
        ...CREDENTIALS,
        GATEWAY_API_KEYS: JSON.stringify([{ id: 'c', key: 'short-key-0045', sha256: 'plain-key-in-digest-0046', projects: '*', scope: 1 }]),
      });
      expect(keys).toEqual([
        'GATEWAY_API_KEYS[0] has an unknown field "scope"',
        "GATEWAY_API_KEYS[0]: sha256 must be the key's SHA-256 in hex (npm run hash-key), or key a plain key of at least 16 characters",
        'GATEWAY_API_KEYS[0]: key must be a plain key of at least 16 characters (or give sha256, its SHA-256 in hex)',
        'GATEWAY_API_KEYS[0] must set either sha256 or key, not both',
      ]);
      for (const secret of ['short-key-0045', 'plain-key-in-digest-0046']) expect(keys.join('\n')).not.toContain(secret);
    });

    it('reports an unreadable or invalid file without quoting its content', () => {
      expect(problemsOf({ ...WEBHOOK_ENV, MIXPANEL_PROJECTS_FILE: join(directory, 'nope.json') })).toEqual([
        `MIXPANEL_PROJECTS_FILE (${join(directory, 'nope.json')}) cannot be read: ENOENT`,
      ]);
      const broken = projectsFile('[{"key":"a","serviceAccount":{"secret":"leaky-secret-991" oops}}]');
      const [problem] = problemsOf({ MIXPANEL_PROJECTS_FILE: broken });
      expect(problem).toMatch(/is not valid JSON/);
      expect(problem).not.toContain('leaky-secret-991');
      expect(readFileSync(broken, 'utf8')).toContain('leaky-secret-991');
      expect(problemsOf({ MIXPANEL_PROJECTS_FILE: projectsFile({ projects: [] }) })[0]).toMatch(/lists no project/);
    });
  });
});
