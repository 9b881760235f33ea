/**
 * Demo mode: with no Mixpanel credentials the default project holds placeholders until the
 * in-process emulator runs, then `withDemoProject` points it there.
 */
import type { Config, ProjectConfig } from './types.js';
import { resolveBaseUrls } from '../mixpanel/hosts.js';
import { Secret } from '../core/secret.js';
import { defaultProject, type GlobalProjectDefaults } from './environment.js';
import { deepFreeze } from './freeze.js';

/** Placeholder credentials of the demo project, replaced by `withDemoProject`. */
export function demoPlaceholder(defaults: GlobalProjectDefaults): ProjectConfig {
  return defaultProject(defaults, {
    projectId: '0',
    workspaceId: undefined,
    serviceAccount: { username: 'demo', secret: new Secret('') },
    projectToken: undefined,
  });
}

export interface DemoProjectCredentials {
  readonly projectId: string;
  readonly username: string;
  readonly secret: string | Secret;
  readonly token: string | Secret;
  /** The emulator's origin: every host family goes there. */
  readonly baseUrl: string;
  /** The emulated project's timezone; default: the configured one. */
  readonly timezone?: string;
}

/** The demo configuration pointed at a running emulator: its credentials on the default project. */
export function withDemoProject(config: Config, demo: DemoProjectCredentials): Config {
  const asSecret = (value: string | Secret): Secret => (typeof value === 'string' ? new Secret(value) : value);
  const projects = config.projects.map((project) =>
    project.key !== config.defaultProjectKey
      ? project
      : {
          ...project,
          projectId: demo.projectId,
          serviceAccount: { username: demo.username, secret: asSecret(demo.secret) },
          projectToken: asSecret(demo.token),
          baseUrls: resolveBaseUrls(project.region, { baseUrl: demo.baseUrl }),
          ...(demo.timezone === undefined ? {} : { timezone: demo.timezone }),
        },
  );
  return deepFreeze({ ...config, projects });
}
