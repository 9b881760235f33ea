/**
 * Service-account authentication (DIGEST.md §2): HTTP Basic `username:secret`
 * on Query, Export, App and /import calls. Ingestion calls that take the
 * project token carry it in the body instead (see client.ts).
 */
import type { Secret } from '../secret.js';

export interface ServiceAccount {
  /** e.g. `xxxx.6d4ee7.mp-service-account`. */
  readonly username: string;
  readonly secret: Secret;
}

/** The `Authorization` header value for a service account. */
export function basicAuthorization(account: ServiceAccount): string {
  return `Basic ${Buffer.from(`${account.username}:${account.secret.reveal()}`).toString('base64')}`;
}

/**
 * Removes the given secrets (and the Basic credentials built from them) from
 * text that came from upstream, before it can reach an error message: an
 * upstream body echoing a request must never leak a credential.
 */
export function createRedactor(account: ServiceAccount, others: readonly (Secret | undefined)[] = []): (text: string) => string {
  const needles = [
    basicAuthorization(account).slice('Basic '.length),
    account.secret.reveal(),
    ...others.map((secret) => secret?.reveal()),
  ].filter((value): value is string => value !== undefined && value.length > 0);
  return (text) => needles.reduce((redacted, needle) => redacted.split(needle).join('[redacted]'), text);
}
