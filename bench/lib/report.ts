/**
 * Output of the benches: a fixed-width table on stdout and a small JSON file
 * per bench under bench/results/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

export type Cell = string | number | boolean | null | undefined;

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

function text(cell: Cell): string {
  if (cell === null || cell === undefined) return '-';
  if (typeof cell === 'number') return Number.isInteger(cell) ? cell.toLocaleString('en-US') : cell.toFixed(2);
  return String(cell);
}

/** Renders rows as a Markdown table (readable in a terminal, pasteable into the README). */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = rows.map((row) => row.map(text));
  const widths = headers.map((header, k) => Math.max(header.length, ...cells.map((row) => (row[k] ?? '').length)));
  const line = (values: readonly string[]) =>
    `| ${values.map((value, k) => (k === 0 ? value.padEnd(widths[k] ?? 0) : value.padStart(widths[k] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((width, k) => (k === 0 ? `${'-'.repeat(width + 1)}-` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(headers), rule, ...cells.map(line)].join('\n');
}

export function printTable(title: string, headers: readonly string[], rows: readonly (readonly Cell[])[]): void {
  process.stdout.write(`\n### ${title}\n\n${formatTable(headers, rows)}\n`);
}

/** Where and on what the numbers were taken: ratios travel between machines, absolute figures do not. */
export function environment() {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
  };
}

/** Writes bench/results/<name>.json and returns its path. */
export async function writeResult(name: string, result: Record<string, unknown>): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  const body = { bench: name, at: new Date().toISOString(), environment: environment(), ...result };
  await writeFile(path, `${JSON.stringify(body, null, 2)}\n`);
  return path;
}
