import { inspect } from 'node:util';
import { createHash } from 'node:crypto';

const REDACTED = '[redacted]';

/** Shorter values are not redacted everywhere: they would garble ordinary text. */
const MIN_REDACTED_LENGTH = 8;

/** Every secret value this process holds, with the encoded forms it may travel in. */
const registered = new Set<string>();

/**
 * The forms a secret can leave the process in: raw, JSON-escaped,
 * URL-encoded (path and form style), base64 and base64url.
 */
export function secretForms(value: string): string[] {
  const forms = new Set([
    value,
    JSON.stringify(value).slice(1, -1),
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    Buffer.from(value, 'utf8').toString('base64'),
    Buffer.from(value, 'utf8').toString('base64url'),
  ]);
  return [...forms].filter((form) => form.length > 0);
}

/** Adds a value (and its encoded forms) to what `redactSecrets` removes, e.g. a Basic credential built from a secret. */
export function registerSecret(value: string): void {
  if (value.length < MIN_REDACTED_LENGTH) return;
  for (const form of secretForms(value)) registered.add(form);
}

/**
 * Replaces every form of every secret the process holds (each Secret, and
 * whatever `registerSecret` added) with "[redacted]": applied to log lines
 * and to GraphQL error messages before they leave the process.
 */
export function redactSecrets(text: string): string {
  let redacted = text;
  for (const form of registered) if (redacted.includes(form)) redacted = redacted.split(form).join(REDACTED);
  return redacted;
}

/**
 * A secret value (service-account secret, webhook password, Redis password).
 * It prints as "[redacted]" through String(), JSON.stringify and
 * util.inspect, so a logged config or error can never leak it. Call
 * `reveal()` only where the value goes on the wire.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    registerSecret(value);
  }
  reveal(): string {
    return this.#value;
  }
  get isEmpty(): boolean {
    return this.#value.length === 0;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

/** `sha256:<hex>`: how an API key is written in configuration (GATEWAY_API_KEYS). */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}
