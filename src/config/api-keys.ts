/**
 * GATEWAY_API_KEYS: the clients and what each may do. No message ever quotes a key.
 */
import type { ApiKeyConfig } from './types.js';
import { hashApiKey } from '../shared/secret.js';
import { isPlainObject, quote, readEnv, type Env, type Problems } from './variables.js';

const SHA256_ENTRY = /^sha256:([0-9a-f]{64})$/i;
const CLIENT_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const MIN_KEY_LENGTH = 16;
const API_KEY_FIELDS = new Set(['id', 'sha256', 'key', 'projects', 'write']);

/**
 * GATEWAY_API_KEYS, in one of two forms:
 * - a JSON array of clients: `[{"id": "dashboard", "sha256": "<hex>", "projects": ["web"], "write": false}]`
 *   (`projects` is required, a list of project keys or "*"; `write` defaults to false);
 * - comma-separated full-access keys (every project, mutations allowed): `sha256:<hex>` digests, or plain
 *   keys of at least 16 characters, hashed here at once (`loadConfig` reports them in `plainApiKeys`).
 * No message ever quotes a key.
 */
export function readApiKeys(env: Env, projectKeys: readonly string[], problems: Problems): { keys: ApiKeyConfig[]; plain: number } {
  const raw = readEnv(env, 'GATEWAY_API_KEYS');
  if (raw === undefined) return { keys: [], plain: 0 };
  const keys: ApiKeyConfig[] = [];
  let plain = 0;
  if (raw.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      problems.push('GATEWAY_API_KEYS starts with "[" but is not valid JSON');
      return { keys: [], plain: 0 };
    }
    for (const [index, entry] of (parsed as unknown[]).entries()) {
      const label = `GATEWAY_API_KEYS[${index}]`;
      if (!isPlainObject(entry)) {
        problems.push(`${label} must be {"id", "sha256", "projects", "write"}`);
        continue;
      }
      for (const field of Object.keys(entry)) if (!API_KEY_FIELDS.has(field)) problems.push(`${label} has an unknown field ${quote(field)}`);
      const id = typeof entry.id === 'string' && CLIENT_ID.test(entry.id) ? entry.id : undefined;
      if (id === undefined) problems.push(`${label}: id must be 1 to 64 letters, digits, ".", "-" or "_"`);
      let sha256: string | undefined;
      if (typeof entry.sha256 === 'string' && /^(sha256:)?[0-9a-f]{64}$/i.test(entry.sha256)) sha256 = entry.sha256.replace(/^sha256:/i, '').toLowerCase();
      else if (entry.sha256 === undefined && typeof entry.key === 'string' && entry.key.length >= MIN_KEY_LENGTH) {
        sha256 = hashApiKey(entry.key).slice('sha256:'.length);
        plain += 1;
      } else problems.push(`${label}: sha256 must be the key's SHA-256 in hex (npm run hash-key), or key a plain key of at least ${MIN_KEY_LENGTH} characters`);
      let projects: readonly string[] | '*' | undefined;
      if (entry.projects === '*') projects = '*';
      else if (Array.isArray(entry.projects) && entry.projects.length > 0 && entry.projects.every((p) => typeof p === 'string')) {
        const unknown = (entry.projects as string[]).filter((p) => !projectKeys.includes(p));
        if (unknown.length > 0) problems.push(`${label}: projects names unknown project keys ${unknown.map(quote).join(', ')}`);
        projects = entry.projects as string[];
      } else problems.push(`${label}: projects must be "*" or a non-empty list of project keys`);
      if (entry.write !== undefined && typeof entry.write !== 'boolean') problems.push(`${label}: write must be true or false`);
      if (id !== undefined && sha256 !== undefined && projects !== undefined) keys.push({ id, sha256, projects, canWrite: entry.write === true });
    }
    if (!Array.isArray(parsed)) problems.push('GATEWAY_API_KEYS must be a JSON array of clients or comma-separated keys');
  } else {
    for (const entry of raw.split(',').map((key) => key.trim())) {
      const hashed = SHA256_ENTRY.exec(entry);
      if (!hashed && entry.length < MIN_KEY_LENGTH) {
        problems.push(`GATEWAY_API_KEYS must be comma-separated sha256:<hex> digests or keys of at least ${MIN_KEY_LENGTH} characters each`);
        break;
      }
      if (!hashed) plain += 1;
      const sha256 = hashed ? hashed[1]!.toLowerCase() : hashApiKey(entry).slice('sha256:'.length);
      // A digest prefix names the client without revealing anything usable.
      keys.push({ id: `key-${sha256.slice(0, 8)}`, sha256, projects: '*', canWrite: true });
    }
  }
  const ids = keys.map((k) => k.id);
  for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`GATEWAY_API_KEYS: client id ${quote(id)} appears more than once`);
  return { keys, plain };
}

