/**
 * Mixpanel's error bodies differ per host family; routes throw
 * EmulatorHttpError and the server shapes the body for the family that
 * served the request (the error responses of each endpoint in
 * https://developer.mixpanel.com/reference/overview).
 */
import { STATUS_CODES } from 'node:http';
import type { EmulatorResponse } from './types.js';

/** A Mixpanel-style error: `message` becomes the `error` field (or the text body on export). */
export class EmulatorHttpError extends Error {
  readonly code = 'EMULATOR_HTTP_ERROR';
  constructor(
    readonly status: number,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'EmulatorHttpError';
  }
}

/**
 * query:     `{"request":"/api/2.0/<endpoint>?<query>","error":"…"}`
 * export:    plain text
 * app:       `{"error":"…","status":"error"}` (lexicon, annotations)
 * import:    `{"code":N,"error":"…","status":"<reason>"}`
 * ingestion: `{"error":"…","status":"error"}` (/track, /engage, /groups; their 429 uses the import shape)
 */
export type ErrorStyle = 'query' | 'export' | 'app' | 'import' | 'ingestion';

// The ingestion spec's 413 example says "Request Entity Too Large", not Node's "Payload Too Large".
const REASONS: Record<number, string> = { 413: 'Request Entity Too Large' };

function reason(status: number): string {
  return REASONS[status] ?? STATUS_CODES[status] ?? 'Error';
}

/**
 * Builds the error response of one family. `request` is the path and query
 * string Query bodies echo; Mixpanel echoes the /api/2.0 spelling.
 */
export function errorResponse(style: ErrorStyle, status: number, message: string, request: string, headers?: Record<string, string>): EmulatorResponse {
  const withHeaders = headers === undefined ? {} : { headers };
  switch (style) {
    case 'query':
      return { status, json: { request, error: message }, ...withHeaders };
    case 'export':
      return { status, text: message, ...withHeaders };
    case 'app':
      return { status, json: { error: message, status: 'error' }, ...withHeaders };
    case 'import':
      return { status, json: { code: status, error: message, status: reason(status) }, ...withHeaders };
    case 'ingestion':
      if (status === 429) return { status, json: { code: status, error: message, status: reason(status) }, ...withHeaders };
      return { status, json: { error: message, status: 'error' }, ...withHeaders };
  }
}
