/**
 * A request's body as the emulator's routes read it: gunzipped when sent gzip, then JSON, NDJSON or a
 * form, within Mixpanel's size limit.
 */
import type { IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { EmulatorHttpError } from './errors.js';

const MAX_BODY_BYTES = 64 * 1024 * 1024;

export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new EmulatorHttpError(413, `request exceeds max limit of ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  if (!/\bgzip\b/i.test(String(request.headers['content-encoding'] ?? ''))) return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES });
  } catch {
    throw new EmulatorHttpError(400, 'request body is not valid gzip');
  }
}

export interface ParsedBody {
  readonly json: unknown;
  readonly form: Record<string, string>;
}

export function parseBody(raw: Buffer, contentType: string): ParsedBody {
  const text = raw.toString('utf8');
  if (text.trim() === '') return { json: undefined, form: {} };
  const looksJson = /^\s*[[{]/.test(text);
  const isForm = contentType.includes('application/x-www-form-urlencoded') || (contentType === '' && !looksJson);
  if (isForm) return { json: undefined, form: Object.fromEntries(new URLSearchParams(text)) };
  if (!contentType.includes('json') && !looksJson) return { json: undefined, form: {} };
  try {
    if (contentType.includes('ndjson')) {
      return {
        json: text
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as unknown),
        form: {},
      };
    }
    return { json: JSON.parse(text) as unknown, form: {} };
  } catch {
    throw new EmulatorHttpError(400, 'request body is not valid JSON');
  }
}
