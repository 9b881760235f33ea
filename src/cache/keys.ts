/**
 * Canonical cache keys: the same call always yields the same string, and a
 * key never carries a secret (only a hash of the service-account username).
 */
import { createHash } from 'node:crypto';
import type { ApiFamily } from '../mixpanel/types.js';
import type { CacheKind } from './kinds.js';

/** Identifies whose view of the data an entry is: permissions differ per service account. */
export function credentialsIdentity(username: string): string {
  return createHash('sha256').update(username).digest('base64url').slice(0, 22);
}

/** JSON with object keys sorted and undefined (or function) members dropped; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value)) ?? 'null';
}

function normalise(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : value;
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return normalise(withJson.toJSON());
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : normalise(item)));
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined && typeof member !== 'function') sorted[key] = normalise(member);
  }
  return sorted;
}

export interface CacheKeyParts {
  /** The project key (config.key). */
  readonly project: string;
  readonly kind: CacheKind;
  readonly family: ApiFamily;
  readonly endpoint: string;
  readonly params: unknown;
  /** credentialsIdentity() of the service account. */
  readonly credentials: string;
}

// Keys are JSON arrays: no separator can be forged by a project key or a parameter.
export function cacheKey(parts: CacheKeyParts): string {
  const head = JSON.stringify([parts.project, parts.kind, parts.family, parts.endpoint, parts.credentials]);
  return `${head.slice(0, -1)},${canonicalJson(parts.params)}]`;
}

/** The prefix shared by every key of one project and kind (for invalidation). */
export function cacheKeyPrefix(project: string, kind: CacheKind): string {
  return `${JSON.stringify([project, kind]).slice(0, -1)},`;
}
