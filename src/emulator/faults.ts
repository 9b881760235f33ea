/**
 * Injected failures, so clients can be tested against Mixpanel's bad days:
 * 5xx, hangs, 429 storms, slow first bytes and broken export streams.
 */

export type FaultKind =
  /** Answer `status` (default 500) with `body` or the family's error body. */
  | 'status'
  /** Never answer; the connection stays open until the client gives up or the emulator closes. */
  | 'hang'
  /** A streamed (export) body stops after `afterLines` lines with the literal line `terminated early`. */
  | 'truncate'
  /** The record at index `afterLines` of a streamed body is split across two lines. */
  | 'split-record'
  /** Wait `delayMs` (real time) before the status line. */
  | 'slow-first-byte'
  /** Answer 429 with the family's rate-limit body, as if the budget were spent. */
  | 'rate-limit';

export interface Fault {
  /** Path prefix (e.g. "/api/2.0/export"), or a RegExp tested on the path. Both spellings of Query paths match. */
  readonly path: string | RegExp;
  readonly kind: FaultKind;
  /** How many requests it hits; default: every one until `faults.clear()`. */
  readonly times?: number | undefined;
  /** For 'status'; default 500. */
  readonly status?: number | undefined;
  /** For 'status': the raw body; default the family's error body. */
  readonly body?: string | undefined;
  /** For 'slow-first-byte' (default 5000) and 'hang' (default: forever), in real ms. */
  readonly delayMs?: number | undefined;
  /** For 'truncate' and 'split-record': lines before the fault; default 1 and 0. */
  readonly afterLines?: number | undefined;
}

export const STREAM_FAULTS: readonly FaultKind[] = ['truncate', 'split-record'];

export interface FaultRegistry {
  inject(fault: Fault): void;
  clear(): void;
}

interface ActiveFault {
  readonly fault: Fault;
  remaining: number;
}

export interface FaultSet extends FaultRegistry {
  /** Takes (and counts down) the first fault of one of `kinds` matching any of `paths`. */
  take(paths: readonly string[], kinds: readonly FaultKind[]): Fault | undefined;
}

export function createFaultSet(): FaultSet {
  let active: ActiveFault[] = [];
  const matches = (fault: Fault, paths: readonly string[]): boolean =>
    paths.some((path) => (typeof fault.path === 'string' ? path.startsWith(fault.path) : fault.path.test(path)));
  return {
    inject(fault) {
      if (fault.times !== undefined && !(fault.times > 0)) return;
      active.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
    },
    clear() {
      active = [];
    },
    take(paths, kinds) {
      const hit = active.find((a) => kinds.includes(a.fault.kind) && matches(a.fault, paths));
      if (!hit) return undefined;
      hit.remaining--;
      if (hit.remaining <= 0) active = active.filter((a) => a !== hit);
      return hit.fault;
    },
  };
}
