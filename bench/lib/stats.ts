/**
 * Latency and memory summaries shared by the benches.
 */

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Nearest-rank percentile of already sorted values; 0 for an empty list. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarizeLatencies(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? 0),
  };
}

/** `value / baseline`, rounded to two decimals; null when the baseline is zero. */
export function ratio(value: number, baseline: number): number | null {
  return baseline === 0 ? null : Math.round((value / baseline) * 100) / 100;
}

export interface MemoryPeak {
  /** Highest RSS seen minus RSS before the run, in MiB. */
  readonly rssDeltaMiB: number;
  /** Highest heapUsed seen minus heapUsed before the run, in MiB. */
  readonly heapDeltaMiB: number;
  readonly rssPeakMiB: number;
}

/**
 * Samples process.memoryUsage() on a timer; `stop()` returns the peak over the
 * baseline taken at `start`. Sampling is coarse (default every 20 ms), so short
 * spikes between samples can be missed: the figures are lower bounds.
 */
export function startMemorySampler(intervalMs = 20): { stop(): MemoryPeak } {
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const sample = () => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  };
  const timer = setInterval(sample, intervalMs);
  const mib = (bytes: number) => Math.round((bytes / 1024 ** 2) * 10) / 10;
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { rssDeltaMiB: mib(peakRss - base.rss), heapDeltaMiB: mib(peakHeap - base.heapUsed), rssPeakMiB: mib(peakRss) };
    },
  };
}
