/**
 * GraphiQL in a real browser: Debian's chromium, headless, driven through
 * playwright-core (no browser download). The page opens on the gateway's
 * typed endpoint with nothing but loopback reachable: every request to
 * another host is blocked and the test asserts none was attempted. Each tab
 * is run as a person would (click the tab, press run), and every example
 * operation's result, read off the wire (HTTP for queries, the graphql-ws
 * socket for the subscription), has data and no errors, typed ones included.
 * A screenshot is kept in test/artifacts/graphiql.png.
 *
 * Outside CI the test skips, saying so, when chromium is not installed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from 'graphql';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCohortSyncSender } from '../src/emulator/cohort-sync.js';
import { DEMO_PROJECT } from '../src/emulator/server.js';
import { readExampleOperations } from '../src/server/graphiql.js';
import { startGateway, type TestGateway, WEBHOOK_BASIC_AUTH } from './helpers/gateway.js';
import { restQuery } from './helpers/schema.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env['CI']) {
  console.warn(`graphiql-browser: skipped, no chromium at ${CHROMIUM} (apt-get install chromium); CI installs it`);
}

const isLoopback = (url: string): boolean => {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return true;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
};

interface WireResult {
  readonly data?: unknown;
  readonly errors?: unknown;
}

describe.skipIf(!haveChromium && !process.env['CI'])('GraphiQL in chromium', () => {
  let gw: TestGateway;
  let userDataDir: string;
  let context: BrowserContext;
  let page: Page;
  /** Every URL the page or its workers asked for, and those refused for not being loopback. */
  const requested: string[] = [];
  const blocked: string[] = [];

  beforeAll(async () => {
    gw = await startGateway();
    userDataDir = await mkdtemp(join(tmpdir(), 'graphiql-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: LAUNCH_ARGS,
      viewport: { width: 1400, height: 900 },
    });
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (isLoopback(url)) return route.continue();
      blocked.push(url);
      return route.abort('blockedbyclient');
    });
    context.on('request', (request) => {
      requested.push(request.url());
      if (process.env['DEBUG_BROWSER']) console.log(request.method(), request.url(), request.postData()?.slice(0, 100));
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('websocket', (ws) => requested.push(ws.url()));
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  it('opens offline on the typed schema and runs every example operation without errors', async () => {
    const schema = gw.gateway.lexiconTypes.get('default')!.current();
    const examples = readExampleOperations().filter((example) => validate(schema, example.document).length === 0);
    const expectedTabs = ['Welcome', ...examples.map((example) => example.operation.name!.value)];
    // The typed examples are among them: /graphql serves the Lexicon-typed schema.
    expect(expectedTabs).toEqual(expect.arrayContaining(['TypedEvents', 'TypedProfile', 'CohortMembers', 'FunnelConversion']));

    await page.goto(gw.graphqlUrl);
    await page
      .locator('.graphiql-tab')
      .nth(expectedTabs.length - 1)
      .waitFor({ timeout: 30_000 });
    expect(await page.locator('.graphiql-tab').allInnerTexts()).toEqual(expectedTabs);

    const results = new Map<string, WireResult>();
    for (const [index, name] of expectedTabs.entries()) {
      await openTab(page, index);
      const example = examples.find((e) => e.operation.name?.value === name);
      if (example?.operation.operation === 'subscription') {
        results.set(name, await runSubscription(page, gw));
        continue;
      }
      const response = page.waitForResponse(
        (r) =>
          r.request().method() === 'POST' &&
          new URL(r.url()).pathname === '/graphql' &&
          (r.request().postDataJSON() as { operationName?: string } | null)?.operationName === name,
        { timeout: 30_000 },
      );
      await page.locator('.graphiql-execute-button').click();
      const answered = await response.catch(async (error: Error) => {
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, 'graphiql-failure.png') });
        throw new Error(`tab ${name} sent no request (see test/artifacts/graphiql-failure.png): ${error.message}`);
      });
      results.set(name, (await answered.json()) as WireResult);
    }

    for (const name of expectedTabs) {
      const result = results.get(name);
      expect({ name, errors: result?.errors }).toEqual({ name, errors: undefined });
      expect({ name, hasData: result?.data != null }).toEqual({ name, hasData: true });
      // A typed error in the data (NotFoundError for a made-up id, ...) would mean the default variables did not work.
      expect({ name, typedError: /"code":"[A-Z_]+"/.test(JSON.stringify(result?.data)) }).toEqual({ name, typedError: false });
    }

    // Back on a tab with a result to look at, for the screenshot.
    await openTab(page, expectedTabs.indexOf('TypedEvents'));
    await page.locator('.graphiql-execute-button').click();
    await page.waitForTimeout(1_000);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'graphiql.png') });

    expect(blocked).toEqual([]);
    expect(requested.length).toBeGreaterThan(5);
    expect(requested.filter((url) => !isLoopback(url))).toEqual([]);
  }, 180_000);
});

/**
 * Activates a tab and waits until GraphiQL shows it as the active one. The
 * tabs are reorderable (dragged with the mouse), and a mouse click on one is
 * taken for the start of a drag in headless chromium: the click event is
 * dispatched on the tab's button instead, which is what its handler reads.
 */
async function openTab(page: Page, index: number): Promise<void> {
  const tab = page.locator('.graphiql-tab').nth(index);
  await tab.locator('.graphiql-tab-button').dispatchEvent('click');
  await expect.poll(() => tab.getAttribute('class'), { timeout: 10_000 }).toContain('graphiql-tab-active');
  // GraphiQL reads the tab's operation name from its editor after a short debounce: run it at a person's pace.
  await page.waitForTimeout(500);
}

/**
 * Runs the subscription tab and sends a cohort sync to the gateway's webhook,
 * as Mixpanel would, until an event arrives on the page's graphql-ws socket
 * (a sync sent before the subscription is registered is not delivered).
 */
async function runSubscription(page: Page, gw: TestGateway): Promise<WireResult> {
  const [cohort] = await restQuery<{ id: number; name: string }[]>(gw.emulator, 'cohorts/list');
  let completed = false;
  const event = new Promise<WireResult>((resolve) => {
    page.on('websocket', (ws) => {
      ws.on('framesent', ({ payload }) => {
        if ((JSON.parse(String(payload)) as { type: string }).type === 'complete') completed = true;
      });
      ws.on('framereceived', ({ payload }) => {
        const message = JSON.parse(String(payload)) as { type: string; payload?: WireResult };
        if (message.type === 'next' || message.type === 'error') resolve(message.type === 'next' ? message.payload! : { errors: message.payload });
      });
    });
  });
  await page.locator('.graphiql-execute-button').click();
  const sender = createCohortSyncSender({ url: `${gw.url}/webhooks/mixpanel/cohorts`, retryDelaysMs: [], basicAuth: WEBHOOK_BASIC_AUTH });
  let arrived: WireResult | undefined;
  void event.then((result) => (arrived = result));
  for (let attempt = 0; attempt < 40 && arrived === undefined; attempt++) {
    await sender.sync({
      projectId: DEMO_PROJECT.projectId,
      cohortId: cohort!.id,
      cohortName: cohort!.name,
      members: [{ distinctId: `browser-${attempt}`, email: `browser-${attempt}@example.com`, firstName: 'Browser' }],
      full: true,
    });
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // Stop the subscription (the run button toggles), so the next tab's run starts a query.
  await page.locator('.graphiql-execute-button').click();
  await expect.poll(() => completed, { timeout: 10_000 }).toBe(true);
  return arrived ?? { errors: ['no subscription event arrived'] };
}
