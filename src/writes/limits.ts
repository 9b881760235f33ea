/**
 * Mixpanel's documented write limits, checked before anything is sent.
 * Sources: https://developer.mixpanel.com/reference/import-events (events),
 * https://developer.mixpanel.com/reference/user-profile-limits (profile and
 * group updates), https://developer.mixpanel.com/reference/rate-limits (Lexicon).
 */

/** "We accept up to 2000 events and 10MB uncompressed per request." */
export const MAX_EVENTS_PER_REQUEST = 2000;
/** 10 MB of uncompressed JSON per /import request, read as decimal megabytes (the smaller reading). */
export const MAX_IMPORT_REQUEST_BYTES = 10_000_000;
/** "Each event must be smaller than 1MB of uncompressed JSON." */
export const MAX_EVENT_BYTES = 1024 * 1024;
/** "fewer than 255 properties", nested objects "fewer than 255 keys", arrays "fewer than 255 elements". */
export const MAX_KEYS = 255;
/** "a max nesting depth is 3". */
export const MAX_NESTING_DEPTH = 3;
/** "We will reject events with time values that are before 1971-01-01 or more than 1 hour in the future." */
export const MIN_EVENT_TIME_MS = Date.UTC(1971, 0, 1);
export const MAX_EVENT_FUTURE_MS = 60 * 60 * 1000;
/** "$insert_ids must be ≤ 36 bytes and contain only alphanumeric characters or "-"." */
export const INSERT_ID_PATTERN = /^[A-Za-z0-9-]{1,36}$/;
/** Mixpanel truncates longer strings; a name that would be cut is refused instead. */
export const MAX_NAME_LENGTH = 255;

/** "at most 2000 profile updates per request", "each individual update ... a maximum of 1 MB". Groups alike. */
export const MAX_UPDATES_PER_REQUEST = 2000;
export const MAX_UPDATE_BYTES = 1024 * 1024;

/** "under 4000 events and properties updated in each minute": at most 3,999. */
export const LEXICON_UPDATES_PER_MINUTE = 3999;
/** "less than 3000 total truncations/deletions per request". */
export const LEXICON_DELETIONS_PER_REQUEST = 2999;

/**
 * distinct_id values /import refuses ("To prevent accidental implementation
 * mistakes, we disallow the following values"); the same list applies to
 * $insert_id. Compared case-insensitively, trimmed.
 */
export const BANNED_IDS: ReadonlySet<string> = new Set([
  '00000000-0000-0000-0000-000000000000',
  'anon',
  'anonymous',
  'nil',
  'none',
  'null',
  'n/a',
  'na',
  'undefined',
  'unknown',
  '<nil>',
  '0',
  '-1',
  'true',
  'false',
  '[]',
  '{}',
]);

export const isBannedId = (id: string): boolean => BANNED_IDS.has(id.trim().toLowerCase());

/** UTF-8 bytes of a value's JSON. */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '');
