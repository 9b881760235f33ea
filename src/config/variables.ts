/**
 * One environment variable as a zod schema: the raw value (trimmed; empty means unset) in, the typed
 * setting out, its default when unset. A bad value is an issue whose message says what the variable
 * must be; `readSection` prefixes the variable's name. Messages quote a value only where it is never
 * a secret, and never through zod's own messages (every schema takes a string or undefined).
 */
import { z } from 'zod';
import type { Secret } from '../core/secret.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** One message per problem, collected instead of throwing at the first. */
export type Problems = string[];

/** The variable each leaf of a section reads. */
const variables = z.registry<{ readonly env: string }>();

/** A check's outcome: the value, or what the input must be. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** Quotes a non-secret value for a message, shortened. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

export function readEnv(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A transform applying `check`: its value, or an issue saying what the input must be. */
export function checkedBy<I, T>(check: (raw: I) => Checked<T>) {
  return (raw: I, ctx: { readonly issues: z.core.$ZodRawIssue[] }): T => {
    const checked = check(raw);
    if (checked.ok) return checked.value;
    ctx.issues.push({ code: 'custom', message: checked.problem, input: raw });
    return z.NEVER;
  };
}

/** A leaf reading `env` through `check`; `fallback` when the variable is unset. */
function variable<T>(env: string, fallback: T, check: (raw: string) => Checked<T>) {
  const checked = checkedBy(check);
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx): T => (raw === undefined ? fallback : checked(raw, ctx)));
  schema.register(variables, { env });
  return schema;
}

export interface IntRange {
  readonly min: number;
  readonly max: number;
}

export function checkInteger(raw: string | number, range: IntRange): Checked<number> {
  const value = typeof raw === 'number' ? raw : /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    return { ok: false, problem: `must be an integer from ${range.min} to ${range.max} (got ${quote(String(raw))})` };
  }
  return { ok: true, value };
}

export const integer = (env: string, fallback: number, min: number, max: number) => variable(env, fallback, (raw) => checkInteger(raw, { min, max }));

export const flag = (env: string, fallback: boolean) => variable(env, fallback, checkFlag);
/** A flag whose default depends on other settings: undefined when unset. */
export const optionalFlag = (env: string) => variable<boolean | undefined>(env, undefined, checkFlag);

function checkFlag(raw: string): Checked<boolean> {
  const normalized = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(normalized)) return { ok: true, value: true };
  if (['false', '0', 'no', 'off'].includes(normalized)) return { ok: true, value: false };
  return { ok: false, problem: `must be true or false (got ${quote(raw)})` };
}

export interface OneOfOptions {
  /** Case-insensitive: the value is upper- or lower-cased first. */
  readonly normalize?: 'upper' | 'lower';
}

function checkOneOf<T extends string>(values: readonly T[], options: OneOfOptions) {
  return (raw: string): Checked<T> => {
    const value = options.normalize === 'upper' ? raw.toUpperCase() : options.normalize === 'lower' ? raw.toLowerCase() : raw;
    if ((values as readonly string[]).includes(value)) return { ok: true, value: value as T };
    return { ok: false, problem: `must be one of ${values.join(', ')} (got ${quote(value)})` };
  };
}

export const oneOf = <const T extends string>(env: string, values: readonly T[], fallback: T, options: OneOfOptions = {}) =>
  variable<T>(env, fallback, checkOneOf(values, options));
/** One of `values`, undefined when unset (its default depends on other settings). */
export const optionalOneOf = <const T extends string>(env: string, values: readonly T[], options: OneOfOptions = {}) =>
  variable<T | undefined>(env, undefined, checkOneOf(values, options));

export const text = (env: string, fallback: string) => variable(env, fallback, (raw) => ({ ok: true, value: raw }));
export const optionalText = (env: string) => variable<string | undefined>(env, undefined, (raw) => ({ ok: true, value: raw }));

/** A value matching `pattern`; `problem` says what it must be (and must not quote a secret). */
export const matching = (env: string, fallback: string, pattern: RegExp, problem: (raw: string) => string) =>
  variable(env, fallback, (raw) => (pattern.test(raw) ? { ok: true, value: raw } : { ok: false, problem: problem(raw) }));

/** An http(s) origin (optionally with a path prefix); credentials in the URL are refused. */
export function checkBaseUrl(raw: string): Checked<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: `must be an http:// or https:// URL (got ${raw.includes('@') ? 'a value that is not a URL' : quote(raw)})` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, problem: 'must not contain credentials: the service account is configured separately' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, problem: `must be an http:// or https:// URL (got ${quote(url.protocol)} scheme)` };
  }
  if (url.search !== '' || url.hash !== '') return { ok: false, problem: 'must not have a query string or fragment' };
  return { ok: true, value: raw.replace(/\/+$/, '') };
}

export const baseUrl = (env: string) => variable<string | undefined>(env, undefined, checkBaseUrl);

export const urlPath = (env: string, fallback: string) =>
  variable(env, fallback, (raw) =>
    /^\/[A-Za-z0-9._~\-/]*$/.test(raw)
      ? { ok: true, value: raw.length > 1 ? raw.replace(/\/+$/, '') : raw }
      : { ok: false, problem: `must be a URL path starting with "/" (got ${quote(raw)})` },
  );

/** An IANA timezone name Intl knows (e.g. "America/Los_Angeles"), in its canonical spelling. */
export const TIMEZONE_RULE = 'must be an IANA timezone name such as "UTC" or "America/Los_Angeles"';

export function checkTimezone(raw: string): Checked<string> {
  if (raw.trim() === '') return { ok: false, problem: TIMEZONE_RULE };
  try {
    return { ok: true, value: new Intl.DateTimeFormat('en-US', { timeZone: raw.trim() }).resolvedOptions().timeZone };
  } catch {
    return { ok: false, problem: `${TIMEZONE_RULE} (got ${quote(raw)})` };
  }
}

export const timezone = (env: string, fallback: string) => variable(env, fallback, checkTimezone);

/** A URL that may hold a password: never quoted. */
export const secretUrl = (env: string, protocols: readonly string[], wrap: (raw: string) => Secret) =>
  variable<Secret | undefined>(env, undefined, (raw) => {
    let protocol: string | undefined;
    try {
      protocol = new URL(raw).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol !== undefined && protocols.includes(protocol)) return { ok: true, value: wrap(raw) };
    return { ok: false, problem: `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL` };
  });

/** Comma-separated `scheme://host[:port]` origins; `*` is refused (it would let any page read). One issue per bad entry. */
export function originList(env: string) {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx): string[] => {
      const origins: string[] = [];
      for (const entry of (raw ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== '')) {
        let origin: string | undefined;
        try {
          const url = new URL(entry);
          if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === entry.replace(/\/$/, '')) origin = url.origin;
        } catch {
          origin = undefined;
        }
        if (origin === undefined) {
          const message = `must list origins such as https://app.example.com (no path, no "*"; got ${quote(entry)})`;
          ctx.issues.push({ code: 'custom', message, input: entry });
        } else origins.push(origin);
      }
      return origins;
    });
  schema.register(variables, { env });
  return schema;
}

/**
 * Reads every variable of a section (nested sections included), in the order the schema lists them.
 * A bad value is reported as `<VARIABLE> <what it must be>` and replaced by its default, so every
 * problem is found in one pass.
 */
export function readSection<S extends z.ZodObject>(section: S, env: Env, problems: Problems): z.output<S> {
  const values: Record<string, unknown> = {};
  for (const [field, leaf] of Object.entries(section.shape as Record<string, z.ZodType>)) {
    if (leaf instanceof z.ZodObject) {
      values[field] = readSection(leaf, env, problems);
      continue;
    }
    const name = variables.get(leaf)?.env;
    if (name === undefined) throw new Error(`config schema: ${field} names no variable`);
    const parsed = leaf.safeParse(readEnv(env, name));
    if (parsed.success) values[field] = parsed.data;
    else {
      for (const issue of parsed.error.issues) problems.push(`${name} ${issue.message}`);
      values[field] = leaf.parse(undefined);
    }
  }
  return values as z.output<S>;
}
