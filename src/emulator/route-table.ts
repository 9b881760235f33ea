/**
 * How the emulator matches a request to a route (`/api/app/projects/:projectId/...` patterns,
 * a method list), and which error style each API family answers in.
 */
import type { ErrorStyle } from './errors.js';
import type { EmulatorRoute } from './types.js';

export interface CompiledRoute {
  readonly route: EmulatorRoute;
  readonly methods: readonly string[];
  readonly regex: RegExp;
  readonly names: readonly string[];
}

export function compileRoute(route: EmulatorRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.pattern
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { route, methods: route.method.split('|'), regex: new RegExp(`^${source}$`), names };
}

/** Query endpoints also answer on /api/2.0/<endpoint>, the spelling Mixpanel's own bodies echo. */
export function canonicalPath(path: string): string {
  if (path.startsWith('/api/2.0/') && path !== '/api/2.0/export') return `/api/query/${path.slice('/api/2.0/'.length)}`;
  return path;
}

export function styleOf(route: EmulatorRoute): ErrorStyle {
  if (route.host === 'query') return 'query';
  if (route.host === 'export') return 'export';
  if (route.host === 'app') return 'app';
  return route.auth === 'import' ? 'import' : 'ingestion';
}

export function styleOfPath(path: string): ErrorStyle {
  if (path.startsWith('/api/query/')) return 'query';
  if (path.startsWith('/api/app/')) return 'app';
  return path === '/import' ? 'import' : 'ingestion';
}
