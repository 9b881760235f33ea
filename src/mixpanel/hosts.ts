/**
 * Mixpanel's hosts per API family and data-residency region
 * (https://docs.mixpanel.com/docs/privacy/eu-residency, https://docs.mixpanel.com/docs/privacy/in-residency).
 * A project's region is fixed: every family must use that region's hosts.
 */
import type { BaseUrls, HostFamily, Region } from './types.js';

export const REGIONS: readonly Region[] = Object.freeze(['US', 'EU', 'IN']);

export const HOST_FAMILIES: readonly HostFamily[] = Object.freeze(['query', 'export', 'ingestion', 'app']);

export const REGION_BASE_URLS: Readonly<Record<Region, BaseUrls>> = Object.freeze({
  US: Object.freeze({
    query: 'https://mixpanel.com',
    export: 'https://data.mixpanel.com',
    ingestion: 'https://api.mixpanel.com',
    app: 'https://mixpanel.com',
  }),
  EU: Object.freeze({
    query: 'https://eu.mixpanel.com',
    export: 'https://data-eu.mixpanel.com',
    ingestion: 'https://api-eu.mixpanel.com',
    app: 'https://eu.mixpanel.com',
  }),
  IN: Object.freeze({
    query: 'https://in.mixpanel.com',
    export: 'https://data-in.mixpanel.com',
    ingestion: 'https://api-in.mixpanel.com',
    app: 'https://in.mixpanel.com',
  }),
});

export function isRegion(value: string): value is Region {
  return (REGIONS as readonly string[]).includes(value);
}

export interface BaseUrlOverrides {
  /**
   * Sends every family to this one origin (an emulator, a proxy), keeping
   * Mixpanel's paths. Default: the region's hosts.
   */
  readonly baseUrl?: string | undefined;
  /** Per-family base URLs; they win over `baseUrl` and the region. */
  readonly overrides?: Partial<Record<HostFamily, string | undefined>> | undefined;
}

/**
 * The base URL of each host family: the per-family override, else `baseUrl`,
 * else the region's host. Trailing slashes are dropped so paths join cleanly.
 */
export function resolveBaseUrls(region: Region, options: BaseUrlOverrides = {}): BaseUrls {
  const regional = REGION_BASE_URLS[region];
  const resolved = {} as Record<HostFamily, string>;
  for (const family of HOST_FAMILIES) {
    const url = options.overrides?.[family] ?? options.baseUrl ?? regional[family];
    resolved[family] = url.replace(/\/+$/, '');
  }
  return Object.freeze(resolved);
}
