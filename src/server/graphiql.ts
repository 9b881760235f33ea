/**
 * GraphiQL, self-contained: the page links only the gateway's own assets
 * (graphiql-assets.ts), and opens on a tab that explains the gateway followed
 * by one tab per example operation (examples/operations and
 * examples/project-operations) that the endpoint's schema accepts, each with
 * variables that work: dates relative to today and real ids of the project.
 *
 * The ids (a cohort, a profile, a saved funnel) are read through the
 * project's runtime, so they cost budget and are cached like any call (3
 * Query calls), at background priority, and only when a GraphiQL page is
 * first opened: a gateway nobody opens GraphiQL on spends nothing on them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, validate, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { GraphiQLOptions } from 'graphql-yoga';
import { BACKGROUND_PRIORITY } from '../limits/defaults.js';
import type { CallContext, ProjectRuntime } from '../runtime/types.js';
import { newRequestStats } from '../upstream/call-context.js';
import { graphiqlAssetUrl } from './graphiql-assets.js';

const EXAMPLE_DIRS = ['../../examples/operations/', '../../examples/project-operations/'].map((dir) => fileURLToPath(new URL(dir, import.meta.url)));

/** How long the ids read for the examples are reused; a failed read is tried again after RETRY_MS. */
const EXAMPLE_VALUES_TTL_MS = 60 * 60_000;
const EXAMPLE_VALUES_RETRY_MS = 60_000;
/** How long a GraphiQL page waits for the ids before it opens without them. */
const EXAMPLE_VALUES_WAIT_MS = 5_000;
const DAY_MS = 86_400_000;

type Tab = NonNullable<GraphiQLOptions['defaultTabs']>[number];

export interface ExampleOperation {
  /** File name, e.g. `cohorts.graphql`. */
  readonly file: string;
  readonly text: string;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
}

/** Values the example operations' variables take, by variable name. */
export interface ExampleValues {
  readonly cohortId?: string;
  readonly distinctId?: string;
  readonly funnelId?: string;
}

/** The example operations, in file order (generic ones first). */
export function readExampleOperations(dirs: readonly string[] = EXAMPLE_DIRS): ExampleOperation[] {
  return dirs.flatMap((dir) => {
    let files: string[];
    try {
      files = readdirSync(dir)
        .filter((name) => name.endsWith('.graphql'))
        .sort();
    } catch {
      return [];
    }
    return files.map((file) => {
      const text = readFileSync(`${dir}${file}`, 'utf8').trim();
      const document = parse(text);
      const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
      return { file, text, document, operation };
    });
  });
}

/** `yyyy-mm-dd`, `days` from today in `timeZone` (the Query API reads dates in the project's timezone). */
function dayFrom(now: number, days: number, timeZone = 'UTC'): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  return new Date(Date.parse(`${today}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Variables for one operation: those it declares and a value is known for.
 * Dates cover the last 7 days; a variable with no known value is left out
 * (GraphiQL then says which one is missing).
 */
export function exampleVariables(operation: OperationDefinitionNode, values: ExampleValues, now: number, timeZone?: string): Record<string, unknown> {
  const known: Record<string, unknown> = {
    from: dayFrom(now, -6, timeZone),
    to: dayFrom(now, 0, timeZone),
    ...(values.cohortId === undefined ? {} : { cohortId: values.cohortId, cohortIds: [values.cohortId] }),
    ...(values.distinctId === undefined ? {} : { distinctId: values.distinctId }),
    ...(values.funnelId === undefined ? {} : { funnelId: values.funnelId }),
  };
  const names = (operation.variableDefinitions ?? []).map((v) => v.variable.name.value);
  return Object.fromEntries(names.filter((name) => name in known).map((name) => [name, known[name]]));
}

export interface ExampleTabsOptions {
  readonly project: ProjectRuntime;
  /** The schema of the endpoint the page belongs to: examples it does not validate are left out. */
  readonly schema: () => GraphQLSchema;
  /** Where this endpoint's generic / typed counterpart is, for the first tab. */
  readonly intro: IntroOptions;
  readonly examples?: readonly ExampleOperation[];
  readonly values?: () => Promise<ExampleValues>;
  readonly now?: () => number;
  /** The project's timezone (IANA name): "today" of the example dates. Default UTC. */
  readonly timeZone?: string | undefined;
}

export interface IntroOptions {
  readonly projectKey: string;
  readonly demo: boolean;
  /** Whether this endpoint serves the Lexicon-typed schema. */
  readonly typed: boolean;
  /** The other schema's endpoint for this project (generic for a typed one, typed for the generic one), if any. */
  readonly otherEndpoint?: string | undefined;
}

/** The first tab: what the gateway is, in a few lines, and an operation that costs no Mixpanel call. */
export function introTab(options: IntroOptions): Tab {
  const other = options.otherEndpoint;
  const schemaLines = options.typed
    ? [
        "This endpoint serves the project's Lexicon-typed schema:",
        'each documented event is its own type (`... on SignUp`).',
        ...(other ? [`The generic schema is at ${other}.`] : []),
      ]
    : ['This endpoint serves the generic schema (alike for every', 'project).', ...(other ? [`The Lexicon-typed one is at ${other}.`] : [])];
  const lines = [
    `Mixpanel GraphQL gateway, project "${options.projectKey}"`,
    ...(options.demo ? ['Demo mode: the built-in Mixpanel emulator, seeded data.'] : []),
    '',
    "One GraphQL endpoint over Mixpanel's REST APIs: events,",
    'profiles, cohorts, Lexicon, reports, annotations, and live',
    'cohort subscriptions.',
    ...schemaLines,
    '',
    'Every call goes through a shared cache, batching loaders',
    "and a per-project budget that keeps inside Mixpanel's rate",
    'limits (60 Query calls an hour); "extensions.mixpanel" in',
    'each response says what it cost upstream.',
    '',
    'The next tabs hold example operations with working',
    'variables. This one costs no Mixpanel call: press run.',
  ];
  const query = `${lines.map((line) => (line === '' ? '#' : `# ${line}`)).join('\n')}
query Welcome {
  project {
    key
    region
    rateLimits {
      family
      used
      limit
      window
    }
  }
}
`;
  return { query, variables: null };
}

/**
 * The tabs a GraphiQL page opens with: the intro, then each example the
 * schema accepts. `withIds: false` leaves the project's ids out (and reads
 * none): the page is served without an API key, and a profile's distinct id
 * is the project's data.
 */
export function createExampleTabs(options: ExampleTabsOptions): (withIds: boolean) => Promise<Tab[]> {
  const examples = options.examples ?? readExampleOperations();
  const values = options.values ?? createExampleValues(options.project, options.now);
  const now = options.now ?? Date.now;
  return async (withIds) => {
    const schema = options.schema();
    const accepted = examples.filter((example) => validate(schema, example.document).length === 0);
    const known = withIds ? await withinMs(values(), EXAMPLE_VALUES_WAIT_MS, {}) : {};
    return [
      introTab(options.intro),
      ...accepted.map((example) => {
        const variables = exampleVariables(example.operation, known, now(), options.timeZone);
        return { query: `${example.text}\n`, variables: Object.keys(variables).length > 0 ? JSON.stringify(variables, null, 2) : null };
      }),
    ];
  };
}

async function withinMs<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work.catch(() => fallback), new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads ids for the examples through the project's runtime: the cohort list
 * (the same request as the `cohorts` field, so one cache entry serves both),
 * one engage profile with an email, and the saved funnels. Each read that
 * fails is left out and tried again on a later page after a short pause.
 */
export function createExampleValues(project: ProjectRuntime, now: () => number = Date.now): () => Promise<ExampleValues> {
  let cached: { values: ExampleValues; until: number } | undefined;
  let reading: Promise<ExampleValues> | undefined;

  const context = (): CallContext => ({
    deadline: now() + EXAMPLE_VALUES_WAIT_MS,
    signal: AbortSignal.timeout(60_000),
    stats: newRequestStats(),
    priority: BACKGROUND_PRIORITY,
  });

  const read = async (): Promise<ExampleValues> => {
    const [cohorts, profiles, funnels] = await Promise.allSettled([
      // The same requests as the `cohorts` and `funnels` fields: one cache entry serves both.
      project.fetch('cohortsList', {}, context()),
      project.fetch('engage', { where: EXAMPLE_PROFILE_WHERE, pageSize: 1 }, context()),
      project.fetch('funnelsList', {}, context()),
    ]);
    const cohort = cohorts.status === 'fulfilled' ? (cohorts.value.find((c) => (c.count ?? 0) > 0) ?? cohorts.value[0]) : undefined;
    const profile = profiles.status === 'fulfilled' ? profiles.value.results[0] : undefined;
    const funnel = funnels.status === 'fulfilled' ? funnels.value[0] : undefined;
    const values: ExampleValues = {
      ...(cohort ? { cohortId: String(cohort.id) } : {}),
      ...(profile ? { distinctId: String(profile.$distinct_id) } : {}),
      ...(funnel ? { funnelId: String(funnel.funnel_id) } : {}),
    };
    const complete = [cohorts, profiles, funnels].every((r) => r.status === 'fulfilled');
    cached = { values, until: now() + (complete ? EXAMPLE_VALUES_TTL_MS : EXAMPLE_VALUES_RETRY_MS) };
    return values;
  };

  return () => {
    if (cached && now() < cached.until) return Promise.resolve(cached.values);
    reading ??= read().finally(() => (reading = undefined));
    return reading;
  };
}

/** A profile with an email makes the profile example show something. */
const EXAMPLE_PROFILE_WHERE = 'defined(properties["$email"])';

export interface GraphiqlPageOptions {
  readonly title: string;
  readonly tabs: (withIds: boolean) => Promise<Tab[]>;
  /** Whether the page request may see the project's ids (the gateway's API-key check). */
  readonly mayReadData: (request: Request) => boolean;
}

/** yoga's `graphiql` option: the page's options, computed per page load (the ids are cached). */
export function graphiqlOptions(options: GraphiqlPageOptions): (request: Request) => Promise<GraphiQLOptions> {
  return async (request) => {
    const defaultTabs = await options.tabs(options.mayReadData(request));
    return {
      title: options.title,
      subscriptionsProtocol: 'WS',
      favicon: graphiqlAssetUrl('favicon.ico'),
      defaultQuery: defaultTabs[0]?.query ?? undefined,
      defaultTabs,
    };
  };
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** JSON inside a <script type="application/json">: nothing in it can close the element. */
const scriptJson = (value: unknown): string =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/** yoga's `renderGraphiQL`: a page that loads only the gateway's own assets. */
export function renderGraphiqlPage(options: GraphiQLOptions): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title ?? 'GraphiQL')}</title>
    <link rel="icon" href="${escapeHtml(graphiqlAssetUrl('favicon.ico'))}" />
    <link rel="stylesheet" href="${escapeHtml(graphiqlAssetUrl('graphiql.css'))}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-options">${scriptJson(options)}</script>
    <script src="${escapeHtml(graphiqlAssetUrl('boot.js'))}"></script>
    <script src="${escapeHtml(graphiqlAssetUrl('graphiql.js'))}"></script>
  </body>
</html>
`;
}
