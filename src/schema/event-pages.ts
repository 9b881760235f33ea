/**
 * Pages of the `events` connection, cut from the project's one read of the
 * (range, filter) (src/events/reads.ts). A cursor is the key of its event (time,
 * $insert_id, record hash) and how many events of that key came before, so
 * the next page starts right after it in any read of the same range: the
 * cursor stays exact when Mixpanel reorders the export and when the read is
 * renewed.
 */
import { createHash } from 'node:crypto';
import type { Context } from './context.js';
import { GatewayError } from '../core/errors.js';
import { toEvent, type EventShape } from './loaders.js';
import { decodeCursor, encodeCursor } from './validation.js';
import { eventReadsOf, type LeasedRead, type ReadParams } from '../events/reads.js';
import { ReadTooLargeError, type EventKey, type EventPosition, type SpilledEvent } from '../events/spill.js';

export interface EventPageShape {
  readonly edges: readonly { readonly cursor: string; readonly node: EventShape }[];
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    readonly hasPreviousPage: boolean;
    readonly startCursor: string | null;
    readonly endCursor: string | null;
  };
  /** Events in the whole range and filter, every page together. */
  readonly totalCount: number;
}

/** The range holds more events than the gateway keeps for paging. */
export class EventRangeTooLargeError extends GatewayError {
  readonly code = 'RANGE_TOO_LARGE';
}

/** Cursors name their query: a cursor of another range or filter is refused. */
function cursorTag(read: ReadParams): string {
  const identity = JSON.stringify([read.fromDate, read.toDate, read.events ? [...read.events].sort() : null, read.where ?? null]);
  return `events:${createHash('sha256').update(identity).digest('base64url').slice(0, 12)}`;
}

interface CursorFields {
  /** [time, insertId, hash]. */
  readonly k: EventKey;
  readonly n: number;
}

const isCursor = (value: Record<string, unknown>): value is Record<string, unknown> & CursorFields => {
  const k = value['k'];
  return (
    Array.isArray(k) &&
    k.length === 3 &&
    Number.isFinite(k[0]) &&
    typeof k[1] === 'string' &&
    typeof k[2] === 'string' &&
    Number.isInteger(value['n']) &&
    (value['n'] as number) >= 1
  );
};

/** The position an `after` cursor names; InvalidArgumentError (before any call) when it is not this query's. */
export function decodeEventCursor(read: ReadParams, after: string | null | undefined): EventPosition | undefined {
  const fields = decodeCursor(cursorTag(read), after, isCursor);
  return fields && { key: fields.k, n: fields.n };
}

export async function eventPage(ctx: Context, read: ReadParams, after: EventPosition | undefined, first: number): Promise<EventPageShape> {
  let leased: LeasedRead;
  try {
    leased = await eventReadsOf(ctx.project).read(read, ctx.upstream);
  } catch (error) {
    if (error instanceof ReadTooLargeError) {
      throw new EventRangeTooLargeError(
        `The range holds more than the ${Math.round(error.maxBytes / 1024 / 1024)} MiB of events kept for paging; ` +
          `narrow the range or filter, or download it as NDJSON`,
      );
    }
    throw error;
  }
  let events: SpilledEvent[];
  const totalCount = leased.read.count;
  try {
    events = await leased.read.page(after, first + 1);
  } finally {
    leased.release();
  }
  const tag = cursorTag(read);
  const edges = events.slice(0, first).map((event) => ({
    cursor: encodeCursor(tag, { k: event.position.key, n: event.position.n }),
    node: toEvent(event.record),
  }));
  return {
    edges,
    pageInfo: {
      hasNextPage: events.length > first,
      hasPreviousPage: after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}
