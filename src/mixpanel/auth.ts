/**
 * Service-account authentication
 * (https://developer.mixpanel.com/reference/service-accounts): HTTP Basic `username:secret`
 * on Query, Export, App and /import calls. Ingestion calls that take the
 * project token carry it in the body instead (see client.ts).
 */
import { registerSecret, secretForms, type Secret } from '../core/secret.js';

export interface ServiceAccount {
  /** e.g. `xxxx.6d4ee7.mp-service-account`. */
  readonly username: string;
  readonly secret: Secret;
}

/** The `Authorization` header value for a service account. */
export function basicAuthorization(account: ServiceAccount): string {
  const credentials = `${account.username}:${account.secret.reveal()}`;
  // The header form is as secret as the secret: logs and errors redact it too.
  registerSecret(credentials);
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

/**
 * Removes the given secrets and the Basic credentials built from them, in
 * every form (raw, JSON-escaped, URL-encoded, base64), from text that came from upstream, before it can reach an error message: an
 * upstream body echoing a request must never leak a credential.
 */
export function createRedactor(account: ServiceAccount, others: readonly (Secret | undefined)[] = []): (text: string) => string {
  const values = [`${account.username}:${account.secret.reveal()}`, account.secret.reveal(), ...others.map((secret) => secret?.reveal())].filter(
    (value): value is string => value !== undefined && value.length > 0,
  );
  // Longest first, so a form containing another is replaced whole.
  const needles = [...new Set(values.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  return (text) => needles.reduce((redacted, needle) => redacted.split(needle).join('[redacted]'), text);
}
