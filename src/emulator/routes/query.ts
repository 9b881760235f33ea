/**
 * The Query API (https://developer.mixpanel.com/reference/query-api), answered from the project's data so a test can
 * compare the gateway's answer with the emulator's. Every route accepts GET
 * and POST, parameters in the query string or a form body.
 */
import { listCohorts } from '../cohorts.js';
import type { Clock, EmulatorRoute } from '../types.js';
import { createEngage } from './engage.js';
import { events, eventsNames, eventsTop, eventProperties, eventPropertiesTop, eventPropertyValues } from './event-breakdown.js';
import { funnels } from './funnels.js';
import { insights } from './insights.js';
import { addiction, retention } from './retention.js';
import { segmentation, segmentationAggregate, segmentationNumeric } from './segmentation.js';
import { streamQuery } from './activity-stream.js';

export { UNCACHED_PAGE_MESSAGE } from './engage.js';

// ---------- routes ----------

export interface QueryRouteOptions {
  readonly clock: Clock;
  /** How long an engage session_id stays usable, in emulated ms. */
  readonly engageSessionTtlMs: number;
}

const route = (path: string, handle: EmulatorRoute['handle']): EmulatorRoute => ({
  method: 'GET|POST',
  pattern: `/api/query/${path}`,
  host: 'query',
  family: 'query',
  auth: 'service-account',
  handle,
});

export function createQueryRoutes(options: QueryRouteOptions): EmulatorRoute[] {
  return [
    route('engage', createEngage(options.clock, options.engageSessionTtlMs)),
    route('cohorts/list', (request) => ({ status: 200, json: listCohorts(request.project) })),
    route('stream/query', streamQuery),
    route('segmentation', segmentation),
    route('segmentation/numeric', segmentationNumeric),
    route('segmentation/sum', segmentationAggregate('sum')),
    route('segmentation/average', segmentationAggregate('average')),
    route('events', events),
    route('events/top', eventsTop),
    route('events/names', eventsNames),
    route('events/properties', eventProperties),
    route('events/properties/top', eventPropertiesTop),
    route('events/properties/values', eventPropertyValues),
    route('insights', insights),
    route('funnels', funnels),
    route('funnels/list', (request) => ({
      status: 200,
      json: request.project.funnels.map((f) => ({ funnel_id: f.funnelId, name: f.name })),
    })),
    route('retention', retention),
    route('retention/addiction', addiction),
  ];
}
