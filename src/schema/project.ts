/**
 * The project this endpoint serves, and what is left of its Mixpanel budget.
 */
import type { BudgetSnapshot, PacingSnapshot } from '../limits/types.js';
import type { ApiFamily, Region } from '../mixpanel/types.js';
import { builder } from './builder.js';
import { ApiFamilyEnum } from './errors.js';

const FAMILIES: readonly ApiFamily[] = ['query', 'export', 'lexicon', 'app', 'ingestion'];

const RegionEnum = builder.enumType('Region', {
  description: 'Where the project’s data lives; every call goes to that region’s hosts.',
  values: {
    US: { description: 'United States (mixpanel.com).' },
    EU: { description: 'European Union (eu.mixpanel.com).' },
    IN: { description: 'India (in.mixpanel.com).' },
  } as const satisfies Record<Region, { description: string }>,
});

const WindowEnum = builder.enumType('RateLimitWindow', {
  description: 'The rolling window a limit counts calls over.',
  values: {
    HOUR: { value: 'hour', description: 'A rolling hour.' },
    MINUTE: { value: 'minute', description: 'A rolling minute.' },
    SECOND: { value: 'second', description: 'A rolling second.' },
  } as const,
});

const instant = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

const RateLimit = builder.objectRef<BudgetSnapshot & PacingSnapshot>('RateLimit').implement({
  description: "One family's budget right now, as this gateway enforces it (shared by every instance when Redis is configured).",
  fields: (t) => ({
    family: t.field({ type: ApiFamilyEnum, description: 'The rate-limit family.', resolve: (s) => s.family }),
    used: t.exposeInt('used', { description: 'Calls counted in the current window.' }),
    limit: t.exposeInt('limit', { nullable: true, description: 'Calls allowed per window (null: no such limit).' }),
    window: t.field({ type: WindowEnum, nullable: true, description: 'The window `used` and `limit` count over.', resolve: (s) => s.window }),
    windowResetsAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the oldest counted call leaves the window.',
      resolve: (s) => instant(s.windowResetsAt),
    }),
    inFlight: t.exposeInt('inFlight', { description: 'Calls being sent now.' }),
    concurrentLimit: t.exposeInt('concurrentLimit', { nullable: true, description: 'Calls allowed at once (null: no such limit).' }),
    queued: t.exposeInt('queued', { description: 'Calls waiting for budget.' }),
    pacedCalls: t.exposeInt('pacedCalls', {
      nullable: true,
      description:
        'Hourly calls the gateway’s pacing lets through at once now (it spreads the hour’s calls instead of spending ' +
        'them in the first minute); null without an hourly limit.',
    }),
    reserve: t.exposeInt('reserve', {
      description: 'Calls of the hourly window kept for interactive requests: background cache refreshes never spend them.',
    }),
    backoffUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Until when the budget is tightened after Mixpanel answered 429.',
      resolve: (s) => instant(s.backoffUntil),
    }),
  }),
});

const Project = builder.objectRef<Record<string, never>>('Project').implement({
  description: 'The Mixpanel project this endpoint serves.',
  fields: (t) => ({
    id: t.id({ description: 'Mixpanel project id.', resolve: (_p, _a, ctx) => ctx.project.config.projectId }),
    key: t.string({
      description: 'The gateway’s short name for the project (in `/projects/{key}/graphql`).',
      resolve: (_p, _a, ctx) => ctx.project.config.key,
    }),
    region: t.field({ type: RegionEnum, description: 'Data residency region.', resolve: (_p, _a, ctx) => ctx.project.config.region }),
    rateLimits: t.field({
      type: [RateLimit],
      description: 'Budget left per rate-limit family. Reading it costs no Mixpanel call.',
      resolve: (_p, _a, ctx) =>
        Promise.all(FAMILIES.map(async (family) => ({ ...(await ctx.project.budget.snapshot(family)), ...ctx.project.budget.pacing(family) }))),
    }),
  }),
});

builder.queryField('project', (t) => t.field({ type: Project, description: 'The project this endpoint serves.', resolve: () => ({}) }));
