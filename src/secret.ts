import { inspect } from 'node:util';
import { createHash } from 'node:crypto';

const REDACTED = '[redacted]';

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
