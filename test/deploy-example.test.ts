/**
 * The several-instances example (examples/deploy/): the balancer hands
 * connections to its targets in turn, and every gateway line of the
 * Procfile is a configuration the gateway accepts, all on one Redis under
 * one key prefix, with its own port.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createBalancer } from '../examples/deploy/balancer.js';
import { loadConfig } from '../src/config/index.js';

const listen = (server: Server | ReturnType<typeof createBalancer>): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

describe('the several-instances example', () => {
  it('balances connections round-robin over its targets', async () => {
    const servers = [0, 1, 2].map((n) => createServer((_req, res) => res.writeHead(200, { connection: 'close' }).end(String(n))));
    const ports = await Promise.all(servers.map(listen));
    const balancer = createBalancer(ports.map((port) => ({ host: '127.0.0.1', port })));
    const port = await listen(balancer);
    onTestFinished(() => {
      balancer.close();
      for (const s of servers) s.close();
    });
    const answers: string[] = [];
    // One request per connection, in sequence: the order of targets is the balancer's.
    for (let i = 0; i < 6; i++) answers.push(await (await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } })).text());
    expect(answers).toEqual(['0', '1', '2', '0', '1', '2']);
  });

  it('starts three gateways the gateway accepts, on one Redis and key prefix, behind the balancer', () => {
    const procfile = readFileSync(new URL('../examples/deploy/Procfile', import.meta.url), 'utf8');
    const gateways = procfile.split('\n').filter((line) => /^gateway\d+:/.test(line));
    expect(gateways).toHaveLength(3);
    const configs = gateways.map((line) => {
      const env = Object.fromEntries([...line.matchAll(/\b([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
      return loadConfig(env);
    });
    expect(new Set(configs.map((c) => c.redisUrl?.reveal())).size).toBe(1);
    expect(new Set(configs.map((c) => c.redisKeyPrefix))).toEqual(new Set(['example:']));
    expect(configs.map((c) => c.port)).toEqual([4001, 4002, 4003]);
    expect(configs.every((c) => c.redisSharedCache && !c.demo)).toBe(true);
    expect(procfile).toMatch(/^balancer: .*balancer\.ts 4000 4001 4002 4003$/m);
    expect(procfile).toMatch(/^redis: redis-server --port 6380 /m);
  });
});
