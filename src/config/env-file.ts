/**
 * `.env` in the working folder, parsed by Node's own parser (util.parseEnv,
 * the format of `node --env-file`): its variables fill in what the real
 * environment leaves unset, so a variable set in the environment always wins.
 * A missing file is no error; an unreadable one is (a configuration the
 * operator wrote must not be skipped silently).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import type { Env } from './index.js';
import { ConfigError } from '../core/errors.js';

export const ENV_FILE_NAME = '.env';

export interface EnvWithFile {
  /** The environment with the file's variables added where the environment has none. */
  readonly env: Env;
  /** Path of the file read, or undefined when there is none. */
  readonly path: string | undefined;
  /** Variables that came from the file (not those the environment overrode). */
  readonly fromFile: ReadonlySet<string>;
}

/** Reads `<dir>/.env` into `env`. Throws ConfigError when the file exists but cannot be read. */
export function withEnvFile(env: Env, dir: string = process.cwd()): EnvWithFile {
  const path = join(dir, ENV_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { env, path: undefined, fromFile: new Set() };
    throw new ConfigError([`${path} cannot be read: ${code ?? 'unknown error'}`]);
  }
  const parsed = parseEnv(text);
  const fromFile = new Set(Object.keys(parsed).filter((name) => env[name] === undefined));
  return { env: { ...parsed, ...env }, path, fromFile };
}
