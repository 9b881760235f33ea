/**
 * What `/readyz` reports: whether each dependency answers now.
 *
 * - `redis`: a PING on the command connection (only when REDIS_URL is set);
 * - `membership`: one cheap read of the cohort membership store;
 * - `mixpanel`: a TCP connection to each Mixpanel host the projects use. No
 *   HTTP request is sent, so a probe never spends rate-limited budget.
 *
 * Every dependency is soft: without it the gateway keeps serving (cached
 * data, a local budget share, 503 to webhook pages so Mixpanel retries), so
 * a failing one makes the answer `"status": "degraded"` with HTTP 200, and
 * only a gateway that is shutting down answers 503 (a load balancer then
 * stops routing to it). Results are kept for `cacheMs`, so a flood of probes
 * costs the dependencies nothing more.
 */
import { connect } from 'node:net';
import type { MembershipStore } from '../membership/types.js';
import type { RedisConnections } from '../redis/connections.js';

export type DependencyStatus = 'up' | 'down';

export interface DependencyReport {
  readonly status: DependencyStatus;
  /** For Redis: since when it is unreachable (ISO time), while it is. */
  readonly since?: string;
  /** For Redis while down: how the budget is enforced meanwhile. */
  readonly budget?: string;
}

export interface ReadinessReport {
  readonly status: 'ready' | 'degraded' | 'shutting-down';
  readonly checks: {
    readonly redis?: DependencyReport;
    readonly membership: DependencyReport;
    readonly mixpanel: DependencyReport;
  };
}

export interface ReadinessOptions {
  readonly redis?: RedisConnections | undefined;
  /** The share of each budget limit the instance uses alone while Redis is down (for the report). */
  readonly localBudgetShare?: number;
  readonly membership: MembershipStore;
  /** A Mixpanel project id the membership probe reads (any served project). */
  readonly probeProjectId: string;
  /** Base URLs of the Mixpanel hosts to reach. */
  readonly mixpanelUrls: readonly string[];
  /** Longest wait for each probe; default 1000 ms. */
  readonly timeoutMs?: number;
  /** How long a report is reused; default 2000 ms. */
  readonly cacheMs?: number;
  /** True once the gateway is shutting down. */
  readonly shuttingDown: () => boolean;
}

export interface Readiness {
  report(): Promise<ReadinessReport>;
}

export function createReadiness(options: ReadinessOptions): Readiness {
  const timeoutMs = options.timeoutMs ?? 1000;
  const cacheMs = options.cacheMs ?? 2000;
  const hosts = [...new Set(options.mixpanelUrls.map(hostOf))];
  let cached: { at: number; report: Promise<ReadinessReport> } | undefined;

  const probe = async (): Promise<ReadinessReport> => {
    const [redisUp, membershipUp, mixpanelUp] = await Promise.all([
      options.redis ? options.redis.ping(timeoutMs) : Promise.resolve(undefined),
      within(
        options.membership.syncedCohorts(options.probeProjectId).then(() => true),
        timeoutMs,
      ),
      Promise.all(hosts.map((host) => reachable(host, timeoutMs))).then((all) => all.every(Boolean)),
    ]);
    const health = options.redis?.health();
    const redis: DependencyReport | undefined =
      redisUp === undefined
        ? undefined
        : redisUp
          ? { status: 'up' }
          : {
              status: 'down',
              since: new Date(health?.downSince ?? Date.now()).toISOString(),
              budget: `local share: ${Math.round((options.localBudgetShare ?? 1) * 100)}% of each limit`,
            };
    const checks = {
      ...(redis ? { redis } : {}),
      membership: { status: membershipUp ? 'up' : 'down' } as DependencyReport,
      mixpanel: { status: mixpanelUp ? 'up' : 'down' } as DependencyReport,
    };
    const allUp = Object.values(checks).every((check) => check.status === 'up');
    return { status: allUp ? 'ready' : 'degraded', checks };
  };

  return {
    async report() {
      const at = Date.now();
      if (!cached || at - cached.at >= cacheMs) cached = { at, report: probe() };
      const report = await cached.report;
      return options.shuttingDown() ? { ...report, status: 'shutting-down' } : report;
    },
  };
}

interface HostPort {
  readonly host: string;
  readonly port: number;
}

function hostOf(url: string): string {
  const parsed = new URL(url);
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
  return JSON.stringify({ host: parsed.hostname.replace(/^\[|\]$/g, ''), port } satisfies HostPort);
}

function reachable(key: string, timeoutMs: number): Promise<boolean> {
  const { host, port } = JSON.parse(key) as HostPort;
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

async function within(work: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([work.catch(() => false), timeout]);
  clearTimeout(timer);
  return result;
}
