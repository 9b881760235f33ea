/**
 * Mixpanel's official Node client (`mixpanel` on npm) writes through the
 * emulator's ingestion endpoints exactly as it would to Mixpanel, and the
 * gateway reads back what it wrote. The client sends service-account
 * credentials over HTTPS only, so it runs in a child process that trusts the
 * emulator's test certificate.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createEmulator, DEMO_PROJECT } from '../src/emulator/server.js';
import { createTestApp } from './helpers/app.js';

const run = promisify(execFile);
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const TLS = { key: readFileSync(fixture('tls/localhost-key.pem')), cert: readFileSync(fixture('tls/localhost-cert.pem')) };

describe('the official mixpanel client against the emulator', () => {
  it('tracks, imports (GET /import and import_batch without $insert_id), updates people and groups; the gateway reads it back', async () => {
    const emulator = await createEmulator({ size: 'small', tls: TLS, limits: { export: { perSecond: 100, perHour: 1000 } } });
    const gw = await createTestApp({ emulator });
    try {
      const now = emulator.clock.now();
      const ids = { user: 'official-user-1', group: 'official-co', deleted: [...emulator.data().profiles.keys()][0]! };
      const { port, hostname } = new URL(emulator.tlsUrl!);
      const input = {
        host: hostname,
        port,
        token: DEMO_PROJECT.token,
        username: DEMO_PROJECT.username,
        secret: DEMO_PROJECT.secret,
        projectId: DEMO_PROJECT.projectId,
        now,
        ids,
      };
      const { stdout } = await run(process.execPath, [fixture('official-client.cjs'), JSON.stringify(input)], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: fixture('tls/localhost-cert.pem') },
      });
      // Every call is answered the way the client accepts (`1`): no errors.
      expect(JSON.parse(stdout)).toEqual({
        track: null,
        import: null,
        importBatch: null,
        peopleSet: null,
        peopleIncrement: null,
        peopleUnion: null,
        peopleSetOnce: null,
        groupSet: null,
        peopleDelete: null,
      });
      // The client's import() is the legacy GET form; import_batch POSTs a form body. Both are non-strict.
      const imports = emulator.callLog.filter((c) => c.path === '/import');
      expect(imports.map((c) => c.method).sort()).toEqual(['GET', 'POST']);
      expect(imports.every((c) => c.status === 200 && c.params.strict === undefined && c.params.ip === '0')).toBe(true);

      const today = new Date(now).toISOString().slice(0, 10);
      const from = new Date(now - 4 * 86_400_000).toISOString().slice(0, 10);
      const result = await gw.query(
        `query($from: Date!, $to: Date!, $id: ID!) {
          events(from: $from, to: $to, names: ["Official Track", "Official Import", "Official Batch"], first: 10) {
            ... on EventConnection { edges { node { name distinctId insertId time property(name: "n") } } }
          }
          profile(distinctId: $id) { ... on Profile { distinctId properties } }
          groupProfile(groupKey: "company", groupId: "official-co") { ... on Profile { distinctId properties } }
          gone: profile(distinctId: "${ids.deleted}") { __typename }
        }`,
        { from, to: today, id: ids.user },
      );
      expect(result.errors).toBeUndefined();
      const events = result.data!['events'].edges.map((e: { node: Record<string, unknown> }) => e.node);
      expect(events.map((e: { name: string }) => e.name)).toEqual(['Official Import', 'Official Batch', 'Official Batch', 'Official Track']);
      expect(events.every((e: { distinctId: string }) => e.distinctId === ids.user)).toBe(true);
      // import_batch sent no $insert_id: Mixpanel keeps both events, without one.
      expect(
        events.filter((e: { name: string }) => e.name === 'Official Batch').map((e: { insertId: unknown; property: unknown }) => [e.insertId, e.property]),
      ).toEqual([
        [null, 1],
        [null, 2],
      ]);
      expect(events[0].insertId).toBe('official-import-1');
      expect(result.data!['profile'].properties).toMatchObject({
        $email: 'official@example.com',
        plan: 'Pro',
        logins: 3,
        tags: ['a', 'b'],
        first_seen: 'yesterday',
      });
      expect(result.data!['groupProfile'].properties).toMatchObject({ $name: 'Official Co', industry: 'widgets' });
      expect(result.data!['gone'].__typename).toBe('NotFoundError');
    } finally {
      await gw.close();
      await emulator.close();
    }
  });
});
