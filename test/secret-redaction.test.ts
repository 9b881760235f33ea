/**
 * Secrets never leave the process in any form: raw, JSON-escaped,
 * URL-encoded, base64, or as the Basic credential built from them, whether
 * upstream echoes them into an error body or they reach a log line.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_PROJECT } from '../src/emulator/server.js';
import { createLogger } from '../src/observability/logger.js';
import { createRedactor } from '../src/mixpanel/auth.js';
import { redactSecrets, Secret, secretForms } from '../src/core/secret.js';
import { createTestApp } from './helpers/app.js';

/** A secret with characters every encoding changes. */
const SECRET_VALUE = 'p@ss "word"/+ü=&x';

function formsOf(value: string, username = 'svc.user'): string[] {
  return [...secretForms(value), Buffer.from(`${username}:${value}`).toString('base64'), `${username}:${value}`];
}

describe('secret redaction', () => {
  it('removes every encoded form of a secret and of its Basic credential', () => {
    const secret = new Secret(SECRET_VALUE);
    const redact = createRedactor({ username: 'svc.user', secret });
    const forms = formsOf(SECRET_VALUE);
    expect(new Set(forms).size).toBeGreaterThanOrEqual(6);
    for (const form of forms) {
      const text = `upstream said: ${form} (end)`;
      expect(redact(text)).not.toContain(form);
      expect(redact(text)).toContain('[redacted]');
      // The process-wide redaction (logs, GraphQL errors) knows every Secret too.
      expect(redactSecrets(text)).not.toContain(form);
    }
    expect(redact(`Basic ${Buffer.from(`svc.user:${SECRET_VALUE}`).toString('base64')}`)).toBe('Basic [redacted]');
  });

  it('redacts log lines however the secret got into them', () => {
    new Secret(SECRET_VALUE);
    const lines: string[] = [];
    const logger = createLogger('debug', (line) => lines.push(line));
    for (const form of formsOf(SECRET_VALUE)) logger.warn(`failed: ${form}`, { body: form, nested: { form } });
    logger.error('upstream', new Error(`echo ${JSON.stringify({ secret: SECRET_VALUE })}`));
    const text = lines.join('');
    for (const form of formsOf(SECRET_VALUE)) expect(text).not.toContain(form);
    expect(text).toContain('[redacted]');
  });

  it('keeps every form of the service-account secret out of responses and logs when upstream echoes it', async () => {
    const lines: string[] = [];
    const gw = await createTestApp({
      env: { NODE_ENV: 'development', LOG_LEVEL: 'debug' },
      gatewayOptions: { logger: createLogger('debug', (line) => lines.push(line)) },
    });
    const echoed = formsOf(DEMO_PROJECT.secret, DEMO_PROJECT.username);
    gw.emulator.faults.inject({
      path: '/api/query/',
      kind: 'status',
      status: 500,
      body: JSON.stringify({ error: echoed.join(' | '), request: { secret: DEMO_PROJECT.secret } }),
    });
    const result = await gw.query('{ cohorts { __typename } profile(distinctId: "x") { __typename } }');
    expect(result.data?.['cohorts']).toBeNull();
    expect(result.errors?.find((e) => e.path?.[0] === 'cohorts')?.extensions?.['code']).toBe('MIXPANEL_UNAVAILABLE');
    const seen = JSON.stringify(result) + lines.join('');
    for (const form of echoed) expect(seen).not.toContain(form);
  });
});
