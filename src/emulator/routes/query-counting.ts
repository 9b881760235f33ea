/**
 * Counting events per segment and bucket, as segmentation and the event breakdowns answer them.
 */
import type { CountType } from '../../mixpanel/types.js';
import { eventFilter, eventsBetween } from '../events.js';
import type { EmulatorEvent, EmulatorProjectData } from '../types.js';
import { segmentKey, type CompiledExpression, type WhereValue } from '../where.js';

/** Per segment, per bucket: events and distinct users. */
export class SeriesCounter {
  private readonly counts = new Map<string, Map<string, { events: number; users: Set<string> }>>();

  add(segment: string, bucket: string, distinctId: string): void {
    let buckets = this.counts.get(segment);
    if (!buckets) {
      buckets = new Map();
      this.counts.set(segment, buckets);
    }
    let cell = buckets.get(bucket);
    if (!cell) {
      cell = { events: 0, users: new Set() };
      buckets.set(bucket, cell);
    }
    cell.events++;
    cell.users.add(distinctId);
  }

  /** `{segment: {bucket: n}}` for the top `limit` segments, every bucket of `series` filled. */
  values(type: CountType, series: readonly string[], limit = Number.POSITIVE_INFINITY, always: readonly string[] = []): Record<string, Record<string, number>> {
    const measure = (cell: { events: number; users: Set<string> } | undefined): number => {
      if (!cell) return 0;
      if (type === 'unique') return cell.users.size;
      if (type === 'average') return cell.users.size === 0 ? 0 : cell.events / cell.users.size;
      return cell.events;
    };
    const totals = [...this.counts.entries()].map(([segment, buckets]) => ({
      segment,
      total: [...buckets.values()].reduce((sum, cell) => sum + cell.events, 0),
    }));
    totals.sort((a, b) => b.total - a.total || (a.segment < b.segment ? -1 : 1));
    const segments = [...new Set([...always, ...totals.slice(0, limit).map((t) => t.segment)])];
    const values: Record<string, Record<string, number>> = {};
    for (const segment of segments) {
      const buckets = this.counts.get(segment);
      values[segment] = Object.fromEntries(series.map((key) => [key, measure(buckets?.get(key))]));
    }
    return values;
  }
}

/** Segmentation keys drop events whose `on` value is unset, as the UI's "(not set)" rows are not in the API's values. */
export function segmentOf(value: WhereValue): string | undefined {
  return value === undefined || value === null ? undefined : segmentKey(value);
}

export function seriesResponse(series: readonly string[], values: Record<string, Record<string, number>>) {
  return { data: { series, values }, legend_size: Object.keys(values).length };
}

export function* matchingEvents(
  data: EmulatorProjectData,
  names: ReadonlySet<string> | undefined,
  range: { startMs: number; endMs: number },
  where: CompiledExpression | undefined,
): Generator<EmulatorEvent> {
  const passes = eventFilter(data, where);
  for (const event of eventsBetween(data, range.startMs, range.endMs)) {
    if ((names === undefined || names.has(event.event)) && passes(event)) yield event;
  }
}
