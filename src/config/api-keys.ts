/**
 * GATEWAY_API_KEYS: the clients and what each may do, in one of two forms:
 * - a JSON array of clients: `[{"id": "dashboard", "sha256": "<hex>", "projects": ["web"], "write": false}]`
 *   (`projects` is required, a list of project keys or "*"; `write` defaults to false), described by
 *   `apiKeysSchema`;
 * - comma-separated full-access keys (every project, mutations allowed): `sha256:<hex>` digests, or plain
 *   keys of at least 16 characters, hashed here at once (`loadConfig` reports them in `plainApiKeys`).
 * No message ever quotes a key.
 */
import { z } from 'zod';
import { hashApiKey } from '../core/secret.js';
import { closedObject, formatIssues } from './issues.js';
import { quote, readEnv, type Env, type Problems } from './variables.js';

const SHA256_ENTRY = /^sha256:([0-9a-f]{64})$/i;
const MIN_KEY_LENGTH = 16;
const KEY_RULE = `must be the key's SHA-256 in hex (npm run hash-key), or key a plain key of at least ${MIN_KEY_LENGTH} characters`;
const PLAIN_KEY_RULE = `must be a plain key of at least ${MIN_KEY_LENGTH} characters (or give sha256, its SHA-256 in hex)`;
const CLIENT_ID_RULE = 'must be 1 to 64 letters, digits, ".", "-" or "_"';

const digestOf = (key: string) => hashApiKey(key).slice('sha256:'.length);

/** The JSON form; `projectKeys` are the configured projects a client may be scoped to. */
function apiKeysSchema(projectKeys: readonly string[]) {
  const client = closedObject(
    {
      id: z.string({ error: CLIENT_ID_RULE }).regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: CLIENT_ID_RULE }),
      /** The key's SHA-256, hex, optionally `sha256:`-prefixed (what `npm run hash-key` prints). */
      sha256: z
        .string({ error: KEY_RULE })
        .regex(/^(sha256:)?[0-9a-f]{64}$/i, { error: KEY_RULE })
        .transform((digest) => digest.replace(/^sha256:/i, '').toLowerCase())
        .optional(),
      /** A plain key instead, hashed at once (start-up warns). */
      key: z.string({ error: PLAIN_KEY_RULE }).min(MIN_KEY_LENGTH, { error: PLAIN_KEY_RULE }).optional(),
      projects: z
        .union([z.literal('*'), z.array(z.string()).min(1)], { error: 'must be "*" or a non-empty list of project keys' })
        .superRefine((projects, ctx) => {
          const unknown = projects === '*' ? [] : projects.filter((key) => !projectKeys.includes(key));
          if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `names unknown project keys ${unknown.map(quote).join(', ')}` });
        }),
      write: z.boolean({ error: 'must be true or false' }).default(false),
    },
    'must be {"id", "sha256", "projects", "write"}',
  )
    .superRefine(({ sha256, key }, ctx) => {
      if (sha256 === undefined && key === undefined) ctx.addIssue({ code: 'custom', path: ['sha256'], message: KEY_RULE });
      if (sha256 !== undefined && key !== undefined) ctx.addIssue({ code: 'custom', message: 'must set either sha256 or key, not both' });
    })
    .transform(({ id, sha256, key, projects, write }) => ({
      /** Non-secret name of the client: `Context.client.id`, `CallContext.clientId`, logs. */
      id,
      /** SHA-256 of the key, lowercase hex (the key itself is never kept). */
      sha256: sha256 ?? digestOf(key!),
      /** Project keys the client may read, or '*' for every project. */
      projects: projects as readonly string[] | '*',
      /** Whether the client may run mutations. */
      canWrite: write,
      /** Given as a plain key (start-up warns). */
      plain: sha256 === undefined,
    }));
  return z.array(client, { error: 'must be a JSON array of clients or comma-separated keys' });
}

/** One client as the configuration holds it. */
export type ApiKeyEntry = Omit<z.output<ReturnType<typeof apiKeysSchema>>[number], 'plain'>;

/** GATEWAY_API_KEYS, either form. No message ever quotes a key. */
export function readApiKeys(env: Env, projectKeys: readonly string[], problems: Problems): { keys: ApiKeyEntry[]; plain: number } {
  const raw = readEnv(env, 'GATEWAY_API_KEYS');
  if (raw === undefined) return { keys: [], plain: 0 };
  let keys: ApiKeyEntry[] = [];
  let plain = 0;
  if (raw.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      problems.push('GATEWAY_API_KEYS starts with "[" but is not valid JSON');
      return { keys: [], plain: 0 };
    }
    const result = apiKeysSchema(projectKeys).safeParse(parsed);
    if (!result.success) {
      problems.push(...formatIssues('GATEWAY_API_KEYS', result.error.issues));
      return { keys: [], plain: 0 };
    }
    keys = result.data.map(({ plain: _plain, ...key }) => key);
    plain = result.data.filter((key) => key.plain).length;
  } else {
    for (const entry of raw.split(',').map((key) => key.trim())) {
      const hashed = SHA256_ENTRY.exec(entry);
      if (!hashed && entry.length < MIN_KEY_LENGTH) {
        problems.push(`GATEWAY_API_KEYS must be comma-separated sha256:<hex> digests or keys of at least ${MIN_KEY_LENGTH} characters each`);
        break;
      }
      if (!hashed) plain += 1;
      const sha256 = hashed ? hashed[1]!.toLowerCase() : digestOf(entry);
      // A digest prefix names the client without revealing anything usable.
      keys.push({ id: `key-${sha256.slice(0, 8)}`, sha256, projects: '*', canWrite: true });
    }
  }
  const ids = keys.map((k) => k.id);
  for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`GATEWAY_API_KEYS: client id ${quote(id)} appears more than once`);
  return { keys, plain };
}
