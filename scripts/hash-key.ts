/**
 * `npm run hash-key`: prints a new random API key and the `sha256:<hex>`
 * digest to put in GATEWAY_API_KEYS (give the key to the client, keep only
 * the digest in configuration). `npm run hash-key -- -` hashes a key read
 * from standard input instead (kept out of shell history).
 */
import { randomBytes } from 'node:crypto';
import { hashApiKey } from '../src/core/secret.js';

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.trim();
}

const fromStdin = process.argv.slice(2).includes('-');
const key = fromStdin ? await readStdin() : `mpgw_${randomBytes(32).toString('base64url')}`;
if (key.length < 16) {
  process.stderr.write('An API key must be at least 16 characters long\n');
  process.exit(2);
}
if (!fromStdin) process.stdout.write(`key:    ${key}\n`);
process.stdout.write(`digest: ${hashApiKey(key)}\n`);
