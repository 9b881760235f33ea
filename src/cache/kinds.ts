/** Kinds of cached data; each has its own TTL (CacheConfig.ttlMs). */
export type CacheKind = 'lexicon' | 'cohorts' | 'profiles' | 'analyticsClosed' | 'analyticsToday' | 'events' | 'annotations' | 'none';
