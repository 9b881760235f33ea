/**
 * Backpressure for long publications on one instance (a full sync's
 * completion stream: thousands of events in a few seconds). The publisher
 * waits, before each event, until the events already waiting here are few:
 * those published but not yet dispatched by the in-process pubsub, and the
 * longest queue of a fan-out group (taken from the pubsub, not yet written to
 * its sockets). A group's queue then stays well under its limit
 * (`MAX_PENDING_EVENTS`) however long the stream, so busy but healthy
 * subscribers are not failed by a big sync; the stream goes as fast as the
 * slowest group drains. A subscriber that does not read is still closed by
 * its transport (send-buffer limit), which is what lets its group drain.
 *
 * What it cannot see: events on their way through Redis (published by this
 * or another instance) and the groups of other instances. Across instances
 * there is no drain signal, so there each group's queue limit still applies.
 */

/** Waiting events at which a long publication pauses: a quarter of a group's queue limit (1,000). */
export const PUBLISH_HIGH_WATER_MARK = 250;

export interface PublishFlow {
  /** Events waiting on this instance: the sum of every tracked measure. */
  backlog(): number;
  /**
   * Resolves once `backlog()` is at most `mark`. Checked after a turn of the event loop, so events just
   * dispatched have reached their groups' queues first.
   */
  whenBelow(mark: number): Promise<void>;
  /** Adds a measure of waiting events (its owner calls `changed` when it falls); the returned function removes it. */
  track(measure: () => number): () => void;
  /** A measure fell: waiters are checked again. */
  changed(): void;
}

export function createPublishFlow(): PublishFlow {
  const measures = new Set<() => number>();
  const waiters: { readonly mark: number; readonly resume: () => void }[] = [];
  let scheduled = false;

  const backlog = () => {
    let total = 0;
    for (const measure of measures) total += measure();
    return total;
  };

  const check = () => {
    scheduled = false;
    if (waiters.length === 0) return;
    const now = backlog();
    for (let i = 0; i < waiters.length; ) {
      const waiter = waiters[i]!;
      if (now <= waiter.mark) {
        waiters.splice(i, 1);
        waiter.resume();
      } else i += 1;
    }
  };

  const changed = () => {
    if (scheduled || waiters.length === 0) return;
    scheduled = true;
    setImmediate(check);
  };

  return {
    backlog,
    whenBelow: (mark) =>
      new Promise<void>((resume) => {
        waiters.push({ mark, resume });
        changed();
      }),
    track(measure) {
      measures.add(measure);
      return () => {
        measures.delete(measure);
        changed();
      };
    },
    changed,
  };
}
