/**
 * A round-robin TCP load balancer for the several-instances example: each
 * new connection goes to the next gateway, whatever it carries (HTTP,
 * graphql-ws, SSE). Production would use nginx, HAProxy or a cloud load
 * balancer; this one only shows that any of them will do, as the instances
 * share their state through Redis rather than through sticky sessions.
 *
 *   node --import tsx examples/deploy/balancer.ts LISTEN_PORT TARGET_PORT...
 */
import { createServer, connect, type Server } from 'node:net';
import { pathToFileURL } from 'node:url';

/** Listens on `port` (loopback) and hands each connection to the next of `targets`, in turn. */
export function createBalancer(targets: readonly { host: string; port: number }[]): Server {
  if (targets.length === 0) throw new Error('the balancer needs at least one target');
  let next = 0;
  return createServer((client) => {
    const target = targets[next++ % targets.length]!;
    const upstream = connect(target.port, target.host);
    client.pipe(upstream).pipe(client);
    // One side gone: the other goes too (no half-open connections left behind).
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [listen, ...ports] = process.argv.slice(2).map(Number);
  if (listen === undefined || ports.length === 0 || [listen, ...ports].some((p) => !Number.isInteger(p))) {
    process.stderr.write('Usage: node --import tsx examples/deploy/balancer.ts LISTEN_PORT TARGET_PORT...\n');
    process.exit(2);
  }
  const server = createBalancer(ports.map((port) => ({ host: '127.0.0.1', port })));
  server.listen(listen, '127.0.0.1', () => process.stdout.write(`Balancing http://127.0.0.1:${listen} over ports ${ports.join(', ')}\n`));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => process.exit(0)));
}
