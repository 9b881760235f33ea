/**
 * Lexicon edits, merged: the edits of every client that arrive while a batch
 * forms (or while the previous one is being sent) are applied in order to the
 * project's current schemas and leave as one upload (plus one DELETE per
 * schema removed, the only way the Schemas API deletes).
 *
 * Two limits hold (https://developer.mixpanel.com/reference/rate-limits):
 * 5 requests a minute, which the budget enforces on every call; and fewer
 * than 4,000 events and properties updated a minute, counted here per
 * instance (each uploaded schema counts 1 plus 1 per property it describes).
 * An edit that does not fit the minute waits for room; one whose deadline
 * comes first is refused with RateLimitedError and `retryAfterMs`, never
 * sent to collect a 429.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { RateLimitedError } from '../mixpanel/errors.js';
import type { LexiconEntityType, LexiconSchema, LexiconSchemaEntry } from '../mixpanel/types.js';
import type { CallContext, ProjectRuntime } from '../runtime/types.js';
import { readLexiconList } from '../runtime/lexicon-list.js';
import { LEXICON_UPDATES_PER_MINUTE } from './limits.js';
import { batchCallContext, creditCalls } from './shared-call.js';

export interface LexiconEdit {
  readonly entityType: LexiconEntityType;
  readonly name: string;
  /**
   * The schema after this edit, from the one before it (undefined: none);
   * null deletes the schema. Throwing refuses this edit alone.
   */
  readonly apply: (current: LexiconSchema | undefined) => LexiconSchema | null;
}

export interface LexiconEditor {
  /** Resolves with the schema as this edit left it (null: deleted). */
  edit(edit: LexiconEdit, context: CallContext): Promise<LexiconSchema | null>;
  /** Upload calls sent so far. */
  readonly uploads: number;
  close(): void;
}

export interface LexiconEditorOptions {
  readonly project: ProjectRuntime;
  /** How long a batch waits for the next edit, in ms (at most 10 times that after its first edit). */
  readonly windowMs: number;
  readonly now?: () => number;
}

interface Pending {
  readonly edit: LexiconEdit;
  readonly context: CallContext;
  resolve(schema: LexiconSchema | null): void;
  reject(error: unknown): void;
}

const MINUTE_MS = 60_000;
/** How long the editor trusts its own picture of the schemas (a read plus its uploads). */
const SNAPSHOT_MS = 60_000;
/** Mixpanel timestamps an upload a little after we send it: count it a little longer. */
const WINDOW_MARGIN_MS = 1_000;

const keyOf = (entityType: string, name: string) => `${entityType}:${name}`;
/** "events and properties updated": the schema itself and each property it describes. */
export const updatesOf = (schema: LexiconSchema): number => 1 + Object.keys(schema.properties ?? {}).length;

export function createLexiconEditor(options: LexiconEditorOptions): LexiconEditor {
  const { project } = options;
  const now = options.now ?? Date.now;
  const closed = new AbortController();
  const pending: Pending[] = [];
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let firstAt = 0;
  let uploads = 0;
  /** Updates sent in the rolling minute. */
  const sentUpdates: { at: number; count: number }[] = [];

  const usedUpdates = (at: number): number => {
    while (sentUpdates.length > 0 && sentUpdates[0]!.at + MINUTE_MS + WINDOW_MARGIN_MS <= at) sentUpdates.shift();
    return sentUpdates.reduce((sum, entry) => sum + entry.count, 0);
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const handle = setTimeout(resolve, ms);
      closed.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(handle);
          resolve();
        },
        { once: true },
      );
    });

  /**
   * The schemas as of the last read plus this instance's uploads since. Reused for
   * SNAPSHOT_MS: re-reading after each upload would spend a Lexicon call per edit,
   * and would queue behind the typed schema's own background re-read.
   */
  let snapshot: { entries: Map<string, LexiconSchemaEntry>; at: number } | undefined;

  async function currentSchemas(contexts: readonly CallContext[]): Promise<Map<string, LexiconSchemaEntry>> {
    if (snapshot && now() - snapshot.at < SNAPSHOT_MS) return new Map(snapshot.entries);
    const shared = batchCallContext(contexts, closed.signal);
    const entries = await readLexiconList(project, shared);
    creditCalls(contexts, shared);
    snapshot = { entries: new Map(entries.map((entry) => [keyOf(entry.entityType, entry.name), entry])), at: now() };
    return new Map(snapshot.entries);
  }

  async function runBatch(): Promise<void> {
    const state = new Map<string, LexiconSchemaEntry | null>(await currentSchemas(pending.map((p) => p.context)));
    const touched = new Set<string>();
    const deleted = new Set<string>();
    const taken: { pending: Pending; result: LexiconSchema | null }[] = [];
    const room = LEXICON_UPDATES_PER_MINUTE - usedUpdates(now());
    const cost = (keys: Iterable<string>) => [...keys].reduce((sum, key) => sum + (state.get(key) ? updatesOf(state.get(key)!.schemaJson) : 0), 0);

    for (const item of [...pending]) {
      const key = keyOf(item.edit.entityType, item.edit.name);
      const before = state.get(key);
      let after: LexiconSchema | null;
      try {
        after = item.edit.apply(before?.schemaJson);
      } catch (error) {
        pending.splice(pending.indexOf(item), 1);
        item.reject(error);
        continue;
      }
      const next: LexiconSchemaEntry | null = after === null ? null : { entityType: item.edit.entityType, name: item.edit.name, schemaJson: after };
      if (next && updatesOf(next.schemaJson) > LEXICON_UPDATES_PER_MINUTE) {
        pending.splice(pending.indexOf(item), 1);
        item.reject(
          new InvalidArgumentError(
            `This schema would describe ${updatesOf(next.schemaJson) - 1} properties; Mixpanel updates fewer than 4,000 events and properties a minute`,
            'input',
          ),
        );
        continue;
      }
      state.set(key, next);
      if (cost([...touched, key]) > room) {
        // Does not fit this minute: it and everything after it wait for the next batch.
        state.set(key, before ?? null);
        if (before === undefined) state.delete(key);
        break;
      }
      touched.add(key);
      if (next === null && before) deleted.add(key);
      pending.splice(pending.indexOf(item), 1);
      taken.push({ pending: item, result: after });
    }

    if (taken.length === 0) {
      if (pending.length === 0) return;
      // Nothing fits before the oldest upload leaves the minute: wait for it, refusing edits that cannot wait that long.
      const oldest = sentUpdates[0];
      if (!oldest) throw new Error('A Lexicon edit fits no empty minute'); // excluded above: each edit is under the limit
      const at = oldest.at + MINUTE_MS + WINDOW_MARGIN_MS;
      for (const item of [...pending]) {
        if (item.context.deadline < at) {
          pending.splice(pending.indexOf(item), 1);
          item.reject(
            new RateLimitedError(
              'lexicon',
              at - now(),
              'Mixpanel Lexicon updates 4,000 events and properties a minute; this edit does not fit before its deadline; retry later',
            ),
          );
        }
      }
      if (pending.length > 0) await sleep(Math.max(0, at - now()));
      return;
    }

    const takenContexts = taken.map((t) => t.pending.context);
    let sentAny = false;
    try {
      for (const key of deleted) {
        // A schema deleted and created again in one batch is deleted first: the upload must not merge old metadata into it.
        const [entityType, ...rest] = key.split(':') as [LexiconEntityType, ...string[]];
        const name = rest.join(':');
        const call = batchCallContext(takenContexts, closed.signal);
        await project.fetch('lexiconDelete', { entityType, name }, call);
        creditCalls(takenContexts, call);
        sentAny = true;
      }
      const upload = [...touched].map((key) => state.get(key)).filter((entry): entry is LexiconSchemaEntry => entry !== null && entry !== undefined);
      if (upload.length > 0) {
        const call = batchCallContext(takenContexts, closed.signal);
        // An upload sets the schemas it carries: sending it twice leaves the same state, so the budget may retry it.
        await project.fetch('lexiconUpload', { entries: upload }, call);
        creditCalls(takenContexts, call);
        uploads += 1;
        sentUpdates.push({ at: now(), count: upload.reduce((sum, entry) => sum + updatesOf(entry.schemaJson), 0) });
      }
    } catch (error) {
      // Unless the budget refused before sending, part of the batch may have been applied: read Lexicon again.
      const neverSent = !sentAny && error instanceof RateLimitedError && error.status === undefined;
      if (!neverSent) {
        snapshot = undefined;
        stale = true;
      }
      for (const { pending: item } of taken) item.reject(error);
      return;
    }
    if (snapshot) {
      for (const key of touched) {
        const entry = state.get(key);
        if (entry) snapshot.entries.set(key, entry);
        else snapshot.entries.delete(key);
      }
    }
    stale = true;
    for (const { pending: item, result } of taken) item.resolve(result);
  }

  /** Whether an upload happened since the cached Lexicon was last dropped. */
  let stale = false;

  async function run(): Promise<void> {
    timer = undefined;
    if (running) return;
    running = true;
    try {
      while (pending.length > 0 && !closed.signal.aborted) {
        try {
          await runBatch();
        } catch (error) {
          // The Lexicon read failed: every waiting edit fails with it (nothing was uploaded).
          for (const item of pending.splice(0)) item.reject(error);
        }
      }
    } finally {
      running = false;
      // The typed schema follows once the queue drains: dropping the cached Lexicon makes the project
      // re-read and retype it (one read for a run of batches, not one per batch).
      if (stale) {
        stale = false;
        project.invalidate('lexicon');
      }
    }
  }

  return {
    edit(edit, context) {
      return new Promise<LexiconSchema | null>((resolve, reject) => {
        if (closed.signal.aborted) return reject(new DOMException('The gateway is closing', 'AbortError'));
        pending.push({ edit, context, resolve, reject });
        if (running) return; // picked up by the batch after the one being sent
        // Like the ingestion batches: wait for a quiet `windowMs`, at most 10 windows after the first edit.
        if (timer === undefined) firstAt = now();
        clearTimeout(timer);
        timer = setTimeout(() => void run(), Math.max(0, Math.min(options.windowMs, firstAt + options.windowMs * 10 - now())));
        timer.unref();
      });
    },
    get uploads() {
      return uploads;
    },
    close() {
      closed.abort();
      clearTimeout(timer);
      for (const item of pending.splice(0)) item.reject(new DOMException('The gateway is closing', 'AbortError'));
    },
  };
}
