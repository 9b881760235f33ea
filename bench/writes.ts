/**
 * Event ingestion: events per second through `importEvents` from 50
 * concurrent clients (the gateway merges their events into /import requests
 * of up to 2,000), against the baseline of the same 50 clients sending one
 * /import request per event straight to the emulator. Both sides use one
 * emulator with 20-60 ms of latency per request, and send the same number of
 * events, each with its own `$insert_id`.
 */
import { performance } from 'node:perf_hooks';
import { createEmulator, DEMO_PROJECT } from '../src/emulator/server.js';
import { postGraphQL, startBenchGateway } from './lib/gateway.js';
import { printTable, writeResult } from './lib/report.js';
import { ratio, summarizeLatencies } from './lib/stats.js';

const CLIENTS = 50;
const EVENTS_PER_CLIENT = 100;
const EVENTS_PER_MUTATION = 20;
const LATENCY = { min: 20, max: 60 } as const;

const IMPORT = /* GraphQL */ `
  mutation Import($events: [EventInput!]!) {
    importEvents(events: $events) { __typename ... on ImportEventsPayload { imported failures { index message } } ... on Error { code message } }
  }
`;

function eventsOf(client: number, side: string, from: number, count: number, at: number) {
  return Array.from({ length: count }, (_, i) => ({
    event: 'Bench Event',
    distinctId: `${side}-${client}`,
    time: new Date(at - (from + i) * 10).toISOString(),
    insertId: `${side}-${client}-${from + i}`,
    properties: { client, n: from + i, plan: 'Pro' },
  }));
}

interface SideResult {
  readonly side: string;
  readonly events: number;
  readonly imported: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly upstreamRequests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function runWritesBench(): Promise<void> {
  const emulator = await createEmulator({ size: 'small', latencyMs: LATENCY, callLogLimit: 100_000 });
  const gateway = await startBenchGateway({ emulatorUrl: emulator.url });
  const at = Date.now() - 60_000;
  const total = CLIENTS * EVENTS_PER_CLIENT;
  try {
    // Gateway: each client sends its events as mutations of 20, one after the other.
    emulator.resetCalls();
    let imported = 0;
    const gatewayLatencies: number[] = [];
    let started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        for (let from = 0; from < EVENTS_PER_CLIENT; from += EVENTS_PER_MUTATION) {
          const sent = performance.now();
          const result = await postGraphQL(gateway.graphqlUrl, IMPORT, { events: eventsOf(client, 'gw', from, EVENTS_PER_MUTATION, at) });
          gatewayLatencies.push(performance.now() - sent);
          const answer = result.data?.['importEvents'] as { imported?: number } | undefined;
          imported += answer?.imported ?? 0;
        }
      }),
    );
    const gatewaySeconds = (performance.now() - started) / 1000;
    const gatewaySide: SideResult = {
      side: 'gateway (importEvents, batched)',
      events: total,
      imported,
      seconds: Math.round(gatewaySeconds * 100) / 100,
      eventsPerSecond: Math.round(total / gatewaySeconds),
      upstreamRequests: emulator.calls('/import'),
      ...pick(summarizeLatencies(gatewayLatencies)),
    };

    // Baseline: each client sends one /import request per event, straight to Mixpanel (the emulator).
    emulator.resetCalls();
    const authorization = `Basic ${Buffer.from(`${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}`).toString('base64')}`;
    let baselineImported = 0;
    const baselineLatencies: number[] = [];
    started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        for (let n = 0; n < EVENTS_PER_CLIENT; n += 1) {
          const [event] = eventsOf(client, 'direct', n, 1, at);
          const record = {
            event: event!.event,
            properties: { ...event!.properties, time: Date.parse(event!.time), distinct_id: event!.distinctId, $insert_id: event!.insertId, ip: 0 },
          };
          const sent = performance.now();
          const response = await fetch(`${emulator.url}/import?strict=1&project_id=${DEMO_PROJECT.projectId}`, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/json' },
            body: JSON.stringify([record]),
          });
          const body = (await response.json()) as { num_records_imported?: number };
          baselineLatencies.push(performance.now() - sent);
          baselineImported += body.num_records_imported ?? 0;
        }
      }),
    );
    const baselineSeconds = (performance.now() - started) / 1000;
    const baselineSide: SideResult = {
      side: 'baseline (one /import per event)',
      events: total,
      imported: baselineImported,
      seconds: Math.round(baselineSeconds * 100) / 100,
      eventsPerSecond: Math.round(total / baselineSeconds),
      upstreamRequests: emulator.calls('/import'),
      ...pick(summarizeLatencies(baselineLatencies)),
    };

    const rows = [gatewaySide, baselineSide].map((side) => [
      side.side,
      side.events,
      side.imported,
      side.upstreamRequests,
      side.eventsPerSecond,
      ratio(side.eventsPerSecond, baselineSide.eventsPerSecond),
      side.p50Ms,
      side.p99Ms,
    ]);
    printTable(
      `${CLIENTS} concurrent clients, ${total.toLocaleString('en-US')} events each side`,
      ['side', 'events', 'imported', 'upstream requests', 'events/s', '× baseline', 'p50 ms', 'p99 ms'],
      rows,
    );
    await writeResult('writes', {
      workload: { clients: CLIENTS, eventsPerClient: EVENTS_PER_CLIENT, eventsPerMutation: EVENTS_PER_MUTATION, latencyMs: LATENCY },
      gateway: gatewaySide,
      baseline: baselineSide,
      speedup: ratio(gatewaySide.eventsPerSecond, baselineSide.eventsPerSecond),
    });
  } finally {
    await gateway.close();
    await emulator.close();
  }
}

function pick(summary: ReturnType<typeof summarizeLatencies>): { p50Ms: number; p99Ms: number } {
  return { p50Ms: summary.p50Ms, p99Ms: summary.p99Ms };
}
