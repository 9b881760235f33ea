/**
 * Fails when the folders under `src/` import each other in a circle, directly or through other folders.
 *
 * Each first-level folder (`src/cache`, `src/server`, …) is one layer; `src/main.ts` and other loose
 * files count as the folder `src`. Every relative import counts, type-only and dynamic ones included,
 * because a type that a lower layer borrows from a higher one ties the two together just as much.
 *
 * Usage: `npm run check:cycles` (prints the cycles and exits 1, or prints nothing and exits 0).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `src/cache/keys.ts` → `src/cache`; `src/main.ts` → `src`. */
function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : 'src';
}

function sourceFiles(): string[] {
  return (
    execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'src/*.ts'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      // Tracked files deleted from the work tree are listed by --cached too: they import nothing any more.
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && existsSync(path.join(root, file)))
  );
}

/** For each folder, the folders it imports, each with the file-level imports that make the edge. */
function folderEdges(files: string[]): Map<string, Map<string, string[]>> {
  const edges = new Map<string, Map<string, string[]>>();
  for (const file of files) {
    const text = readFileSync(path.join(root, file), 'utf8');
    const { importedFiles } = ts.preProcessFile(text, true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('./') && !fileName.startsWith('../')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), fileName));
      if (!target.startsWith('src/')) continue;
      const from = folderOf(file);
      const to = folderOf(target);
      if (from === to) continue;
      const byTarget = edges.get(from) ?? new Map<string, string[]>();
      edges.set(from, byTarget);
      const lines = byTarget.get(to) ?? [];
      byTarget.set(to, lines);
      const line = `${file} -> ${target.replace(/\.js$/, '.ts')}`;
      if (!lines.includes(line)) lines.push(line);
    }
  }
  return edges;
}

/** Strongly connected components with more than one folder (Tarjan). */
function cyclicGroups(edges: Map<string, Map<string, string[]>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  // Every folder read here was visited, so has both numbers.
  const lowOf = (node: string): number => low.get(node) ?? 0;
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node) ?? 0);
    stack.push(node);
    onStack.add(node);
    for (const target of edges.get(node)?.keys() ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(lowOf(node), lowOf(target)));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(lowOf(node), index.get(target) ?? 0));
      }
    }
    if (lowOf(node) !== index.get(node)) return;
    const group: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = member === node ? undefined : stack.pop()) {
      onStack.delete(member);
      group.push(member);
    }
    if (group.length > 1) groups.push(group.sort());
  };
  for (const node of [...edges.keys()].sort()) if (!index.has(node)) visit(node);
  return groups;
}

/** The shortest cycle through `start` inside `group` (breadth-first), as folders from `start` back to it. */
function shortestCycle(edges: Map<string, Map<string, string[]>>, group: ReadonlySet<string>, start: string): string[] {
  const reached = new Set([start]);
  const queue: string[][] = [[start]];
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    for (const target of edges.get(path.at(-1) ?? start)?.keys() ?? []) {
      if (target === start) return [...path, start];
      if (!group.has(target) || reached.has(target)) continue;
      reached.add(target);
      queue.push([...path, target]);
    }
  }
  return [];
}

const edges = folderEdges(sourceFiles());
const groups = cyclicGroups(edges);
for (const group of groups) {
  console.log(`Import cycle between ${group.join(', ')}:`);
  const named = new Set<string>();
  for (const start of group) {
    const cycle = shortestCycle(edges, new Set(group), start);
    // The same cycle found from another of its folders: name it once, by its sorted folders.
    const name = cycle.slice(1).sort().join(' ');
    if (named.has(name)) continue;
    named.add(name);
    console.log(`  ${cycle.join(' -> ')}`);
    cycle.slice(1).forEach((to, i) => {
      for (const line of edges.get(cycle[i] ?? to)?.get(to) ?? []) console.log(`    ${line}`);
    });
  }
}
process.exitCode = groups.length > 0 ? 1 : 0;
