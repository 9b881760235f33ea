/**
 * The test Redis at 127.0.0.1:6379. A Redis suite may skip only when Redis is
 * unreachable and CI is unset; `redisSkip` says so on the console.
 */
import { Redis } from 'ioredis';

export const REDIS = { host: '127.0.0.1', port: 6379 } as const;

export async function redisReachable(): Promise<boolean> {
  const probe = new Redis({ ...REDIS, lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** True when the suite named `what` must skip (Redis down, outside CI); warns once when it does. */
export async function redisSkip(what: string): Promise<boolean> {
  const skip = !(await redisReachable()) && !process.env['CI'];
  if (skip) console.warn(`Redis is unreachable at 127.0.0.1:6379 and CI is unset: skipping ${what}`);
  return skip;
}
