/**
 * `npm run bench` runs every bench; `npm run bench -- dashboard` (or
 * `webhooks`, `security`) runs one. Benches run one after the other, each printing its
 * tables and writing bench/results/<name>.json. How to read the numbers:
 * bench/README.md.
 */
import { performance } from 'node:perf_hooks';

// Measure what a deployment runs: graphql-js reads NODE_ENV once, when first imported (the benches are imported below).
process.env.NODE_ENV ??= 'production';

const BENCHES: Readonly<Record<string, () => Promise<unknown>>> = {
  dashboard: async () => (await import('./dashboard.js')).runDashboardBench(),
  webhooks: async () => (await import('./webhooks.js')).runWebhooksBench(),
  'full-sync': async () => (await import('./full-sync.js')).runFullSyncBench(),
  events: async () => (await import('./events.js')).runEventsBench(),
  writes: async () => (await import('./writes.js')).runWritesBench(),
  security: async () => (await import('./security.js')).runSecurityBench(),
  team: async () => (await import('./team.js')).runTeamBench(),
  instances: async () => (await import('./instances.js')).runInstancesBench(),
};

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((arg) => arg !== '--');
  const unknown = asked.filter((name) => !(name in BENCHES));
  if (unknown.length > 0) {
    process.stderr.write(`unknown bench: ${unknown.join(', ')} (known: ${Object.keys(BENCHES).join(', ')})\n`);
    process.exitCode = 2;
    return;
  }
  const selected = asked.length > 0 ? asked : Object.keys(BENCHES);
  const summary: { bench: string; seconds: number; outcome: string }[] = [];
  for (const name of selected) {
    process.stdout.write(`\n=== bench: ${name} ===\n`);
    const started = performance.now();
    let outcome = 'ok';
    try {
      await BENCHES[name]?.();
    } catch (error) {
      outcome = `failed: ${error instanceof Error ? error.message : String(error)}`;
      process.exitCode = 1;
    }
    summary.push({ bench: name, seconds: Math.round((performance.now() - started) / 100) / 10, outcome });
  }
  process.stdout.write('\n=== summary ===\n');
  for (const row of summary)
    process.stdout.write(`${row.bench.padEnd(10)} ${String(row.seconds).padStart(6)} s  ${row.outcome}  (bench/results/${row.bench}.json)\n`);
}

await main();
