/**
 * `/healthz` (and its older alias `/health`): the process is alive and
 * serving HTTP, nothing more; it never touches a dependency, so a probe
 * cannot be slowed or failed by Redis, SQLite or Mixpanel.
 *
 * `/readyz`: through yoga's `useReadinessCheck`, a JSON report of each
 * dependency (readiness.ts). HTTP 200 while the gateway serves, degraded or
 * not; 503 once it is shutting down.
 */
import { useReadinessCheck, type Plugin } from 'graphql-yoga';
import type { Readiness } from '../readiness.js';

export const LIVENESS_PATHS = ['/healthz', '/health'] as const;
export const READINESS_PATH = '/readyz';

const json = (body: unknown, status: number) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });

/** The liveness answer; the gateway writes it before any yoga plugin runs (yoga's own `/health` answers an empty body). */
export function livenessBody(startedAt: number): string {
  return JSON.stringify({ status: 'alive', uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000) });
}

export function useReadiness(readiness: Readiness): Plugin {
  return useReadinessCheck({
    endpoint: READINESS_PATH,
    check: async () => {
      const report = await readiness.report();
      return json(report, report.status === 'shutting-down' ? 503 : 200);
    },
  });
}
