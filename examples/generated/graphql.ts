/* eslint-disable */
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A calendar day in the form `yyyy-mm-dd`, in UTC. Date ranges are inclusive at both ends, as in Mixpanel. */
  Date: { input: string; output: string; }
  /** An instant, serialised as an ISO 8601 string in UTC (for example `2024-05-01T12:00:00.000Z`). */
  DateTime: { input: string; output: string; }
  /** Any JSON value, as Mixpanel sends it (property bags, raw series). */
  JSON: { input: unknown; output: unknown; }
};

/** A user's events. */
export type ActivityConnection = {
  __typename?: 'ActivityConnection';
  /** The events, oldest first. */
  nodes: Array<Event>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** A note pinned to a moment on Mixpanel charts (a release, an outage, a campaign). */
export type Annotation = {
  __typename?: 'Annotation';
  /** The moment it marks. */
  date: Scalars['DateTime']['output'];
  /** The note. */
  description: Scalars['String']['output'];
  /** Annotation id. */
  id: Scalars['ID']['output'];
  /** Its tags. */
  tags: Array<AnnotationTag>;
  /** Who wrote it. */
  user: AnnotationUser;
};

/** Annotations. */
export type AnnotationConnection = {
  __typename?: 'AnnotationConnection';
  /** Annotations, as Mixpanel orders them. */
  nodes: Array<Annotation>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type AnnotationResult = Annotation | InvalidArgumentError | NotFoundError | RateLimitedError;

/** A tag grouping annotations. */
export type AnnotationTag = {
  __typename?: 'AnnotationTag';
  /** Tag id. */
  id: Scalars['ID']['output'];
  /** Tag name. */
  name: Scalars['String']['output'];
};

/** Annotation tags. */
export type AnnotationTagConnection = {
  __typename?: 'AnnotationTagConnection';
  /** Tags, as Mixpanel orders them. */
  nodes: Array<AnnotationTagDetail>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** An annotation tag of the project. */
export type AnnotationTagDetail = {
  __typename?: 'AnnotationTagDetail';
  /** Whether any annotation carries it. */
  hasAnnotations: Scalars['Boolean']['output'];
  /** Tag id. */
  id: Scalars['ID']['output'];
  /** Tag name. */
  name: Scalars['String']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type AnnotationTagsResult = AnnotationTagConnection | RateLimitedError;

/** The Mixpanel user who wrote an annotation. */
export type AnnotationUser = {
  __typename?: 'AnnotationUser';
  /** First name. */
  firstName: Scalars['String']['output'];
  /** Mixpanel user id. */
  id: Scalars['ID']['output'];
  /** Last name. */
  lastName: Scalars['String']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type AnnotationsResult = AnnotationConnection | InvalidArgumentError | RateLimitedError;

/** Rate-limit families: Mixpanel counts each separately, per project. */
export type ApiFamily =
  /** App APIs such as annotations (limits not documented by Mixpanel). */
  | 'APP'
  /** Raw event export. 60 calls/hour, 3/second, 100 concurrent. */
  | 'EXPORT'
  /** Ingestion: track, import, profile and group updates. */
  | 'INGESTION'
  /** Lexicon Schemas API. 5 calls/minute. */
  | 'LEXICON'
  /** Query API: engage, cohorts, segmentation, events, funnels, retention, insights, stream. 60 calls/hour and 5 concurrent. */
  | 'QUERY';

/** A saved Mixpanel cohort. */
export type Cohort = {
  __typename?: 'Cohort';
  /** Members, as Mixpanel last counted them. */
  count?: Maybe<Scalars['Int']['output']>;
  /** When the cohort was created. */
  createdAt?: Maybe<Scalars['DateTime']['output']>;
  /** Cohort description (null when known only from a webhook sync). */
  description?: Maybe<Scalars['String']['output']>;
  /** Mixpanel cohort id. */
  id: Scalars['ID']['output'];
  /** Whether it shows in Mixpanel’s cohort list. */
  isVisible?: Maybe<Scalars['Boolean']['output']>;
  /** Members, a page at a time: from the webhook copy when synced (profiles carry the exported properties; others load on demand), else from engage. */
  members?: Maybe<CohortMembersResult>;
  /** Cohort name. */
  name: Scalars['String']['output'];
  /** Mixpanel project id. */
  projectId: Scalars['ID']['output'];
  /** Where its members are read from, and the last webhook sync. */
  sync: CohortSync;
};


/** A saved Mixpanel cohort. */
export type CohortMembersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** What a webhook page did to a cohort. */
export type CohortChangeKind =
  /** Members joined (an `add_members` page). */
  | 'ADDED'
  /** Members left (a `remove_members` page). */
  | 'REMOVED'
  /** A full sync replaced the membership; `members` is the new membership, page by page. */
  | 'REPLACED';

/** Cohorts. */
export type CohortConnection = {
  __typename?: 'CohortConnection';
  /** The cohorts, in cohort-list order. */
  nodes: Array<Cohort>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type CohortMembersResult = InvalidArgumentError | ProfileConnection | RateLimitedError;

/** One applied webhook page of a cohort sync. */
export type CohortMembershipChange = {
  __typename?: 'CohortMembershipChange';
  /** When the gateway applied it. */
  at: Scalars['DateTime']['output'];
  /** The cohort (from the cohorts list, or the sync). */
  cohort?: Maybe<Cohort>;
  /** Mixpanel cohort id. */
  cohortId: Scalars['ID']['output'];
  /** Added, removed or replaced. */
  kind: CohortChangeKind;
  /** The members concerned, carrying the webhook's email, names and exported properties; any other field loads the full profile. */
  members: Array<Profile>;
  /** This page, from 1. */
  page: Scalars['Int']['output'];
  /** Mixpanel's id of the sync session. */
  sessionId: Scalars['String']['output'];
  /** Pages in the session. */
  totalPages: Scalars['Int']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type CohortResult = Cohort | InvalidArgumentError | NotFoundError | RateLimitedError;

/** How the gateway knows a cohort’s members. */
export type CohortSync = {
  __typename?: 'CohortSync';
  /** When the last complete webhook sync was applied (null for API). */
  lastSyncAt?: Maybe<Scalars['DateTime']['output']>;
  /** Members in the webhook copy (null for API: see `Cohort.count`). */
  memberCount?: Maybe<Scalars['Int']['output']>;
  /** Mixpanel's session id of the last sync (null for API). */
  sessionId?: Maybe<Scalars['String']['output']>;
  /** Webhook copy or Mixpanel API. */
  source: CohortSyncSource;
};

/** Every page of a sync session has arrived and been applied. */
export type CohortSyncCompleted = {
  __typename?: 'CohortSyncCompleted';
  /** When the session completed. */
  at: Scalars['DateTime']['output'];
  /** The cohort. */
  cohort?: Maybe<Cohort>;
  /** Mixpanel cohort id. */
  cohortId: Scalars['ID']['output'];
  /** Members after the sync. */
  memberCount: Scalars['Int']['output'];
  /** Mixpanel's id of the sync session. */
  sessionId: Scalars['String']['output'];
  /** Pages in the session. */
  totalPages: Scalars['Int']['output'];
};

/** Where the gateway reads a cohort’s members from. */
export type CohortSyncSource =
  /** No webhook sync: members are read from Mixpanel’s engage API, within the Query budget. */
  | 'API'
  /** Mixpanel's cohort-sync webhook keeps a copy in the gateway: reading members costs no Mixpanel call. */
  | 'WEBHOOK';

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type CohortsResult = CohortConnection | RateLimitedError;

/** What a count measures. */
export type CountType =
  /** Events per user. */
  | 'AVERAGE'
  /** Every event. */
  | 'GENERAL'
  /** Distinct users. */
  | 'UNIQUE';

/** A new annotation. */
export type CreateAnnotationInput = {
  /** The moment it marks (stored to the second, UTC). */
  date: Scalars['DateTime']['input'];
  /** The note (1..2000 characters). */
  description: Scalars['String']['input'];
  /** Ids of existing annotation tags. */
  tagIds?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Tag names; a name no tag has yet gets a new tag. */
  tags?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type CreateAnnotationResult = Annotation | IdempotencyConflictError | InvalidArgumentError | RateLimitedError;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type CreateAnnotationTagResult = AnnotationTagDetail | InvalidArgumentError | RateLimitedError;

/** A new event definition. */
export type CreateEventDefinitionInput = {
  /** Owner email addresses (replaces the current list). */
  contacts?: InputMaybe<Array<Scalars['String']['input']>>;
  /** What the event records (null removes it). */
  description?: InputMaybe<Scalars['String']['input']>;
  /** Name shown in Mixpanel reports (null removes it). */
  displayName?: InputMaybe<Scalars['String']['input']>;
  /** Drop the event at ingestion. */
  dropped?: InputMaybe<Scalars['Boolean']['input']>;
  /** Hide the event from Mixpanel menus. */
  hidden?: InputMaybe<Scalars['Boolean']['input']>;
  /** The event name the definition documents. */
  name: Scalars['String']['input'];
  /** Lexicon tags (replaces the current list). */
  tags?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Owner teams (replaces the current list). */
  teamContacts?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type CreateEventDefinitionResult = EventDefinition | IdempotencyConflictError | InvalidArgumentError | RateLimitedError;

/** A new property definition: of an event (`event`), or of user profiles (no `event`). */
export type CreatePropertyDefinitionInput = {
  /** What it records (null removes it). */
  description?: InputMaybe<Scalars['String']['input']>;
  /** Name shown in Mixpanel reports (null removes it). */
  displayName?: InputMaybe<Scalars['String']['input']>;
  /** Drop it at ingestion. */
  dropped?: InputMaybe<Scalars['Boolean']['input']>;
  /** The event that carries the property; leave it out for a user-profile property. */
  event?: InputMaybe<Scalars['String']['input']>;
  /** Hide it from Mixpanel menus. */
  hidden?: InputMaybe<Scalars['Boolean']['input']>;
  /** The property name. */
  name: Scalars['String']['input'];
  /** Its JSON type (required to create a definition). */
  type?: InputMaybe<JsonType>;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type CreatePropertyDefinitionResult = IdempotencyConflictError | InvalidArgumentError | PropertyDefinition | RateLimitedError;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type DeleteAnnotationResult = DeletedAnnotation | IdempotencyConflictError | InvalidArgumentError | NotFoundError | RateLimitedError;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type DeleteEventDefinitionResult = DeletedDefinition | IdempotencyConflictError | InvalidArgumentError | NotFoundError | RateLimitedError;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type DeletePropertyDefinitionResult = DeletedDefinition | IdempotencyConflictError | InvalidArgumentError | NotFoundError | RateLimitedError;

/** An annotation that was deleted. */
export type DeletedAnnotation = {
  __typename?: 'DeletedAnnotation';
  /** Its id. */
  id: Scalars['ID']['output'];
};

/** A Lexicon definition that was deleted. */
export type DeletedDefinition = {
  __typename?: 'DeletedDefinition';
  /** For an event property, its event; null for events and profile properties. */
  event?: Maybe<Scalars['String']['output']>;
  /** The event or property name. */
  name: Scalars['String']['output'];
};

/** A failure the client can act on. Other failures are not typed: they appear in `errors`, with `extensions.code`. */
export type Error = {
  /** Stable machine-readable code, e.g. `NOT_FOUND` or `MIXPANEL_RATE_LIMITED`. */
  code: Scalars['String']['output'];
  /** What went wrong, for people. Never carries a secret. */
  message: Scalars['String']['output'];
};

/** Something a user did, as Mixpanel recorded it. */
export type Event = {
  /** Its Lexicon definition, or null when Lexicon does not document the event. */
  definition?: Maybe<EventDefinition>;
  /** Distinct id of the user who did it. */
  distinctId?: Maybe<Scalars['ID']['output']>;
  /** The `$insert_id` Mixpanel deduplicates on. */
  insertId?: Maybe<Scalars['String']['output']>;
  /** The event name, e.g. `Sign Up`. */
  name: Scalars['String']['output'];
  /** The profile of the user who did it (batched: one engage call for all events of the operation). */
  profile?: Maybe<Profile>;
  /** Every property, as Mixpanel stores them. */
  properties: Scalars['JSON']['output'];
  /** One property by name (null when absent). */
  property?: Maybe<Scalars['JSON']['output']>;
  /** Every property with its Lexicon definition. */
  propertyValues: Array<PropertyValue>;
  /** When it happened. */
  time: Scalars['DateTime']['output'];
};


/** Something a user did, as Mixpanel recorded it. */
export type EventPropertyArgs = {
  name: Scalars['String']['input'];
};

/** A page of exported events, oldest first (ties in time broken by `$insert_id`). */
export type EventConnection = {
  __typename?: 'EventConnection';
  /** The items of the page, with their cursors. */
  edges: Array<EventEdge>;
  /** The items of the page, without cursors. */
  nodes: Array<Event>;
  /** Paging information. */
  pageInfo: PageInfo;
  /** Events in the whole range and filter, every page together. */
  totalCount?: Maybe<Scalars['Int']['output']>;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type EventCountsResult = InvalidArgumentError | RateLimitedError | Series;

/** What an event means and which properties it carries, as documented in Lexicon. */
export type EventDefinition = {
  __typename?: 'EventDefinition';
  /** What the event records. */
  description?: Maybe<Scalars['String']['output']>;
  /** Name shown in Mixpanel reports. */
  displayName?: Maybe<Scalars['String']['output']>;
  /** Dropped at ingestion: new data is discarded. */
  dropped: Scalars['Boolean']['output'];
  /** Hidden from Mixpanel menus. */
  hidden: Scalars['Boolean']['output'];
  /** The event name as tracked. */
  name: Scalars['String']['output'];
  /** Owners named in Lexicon. */
  owners: LexiconOwners;
  /** Properties the event is documented to carry, by name. */
  properties: Array<PropertyDefinition>;
  /** One documented property of the event, or null. */
  property?: Maybe<PropertyDefinition>;
  /** Lexicon tags. */
  tags: Array<Scalars['String']['output']>;
};


/** What an event means and which properties it carries, as documented in Lexicon. */
export type EventDefinitionPropertyArgs = {
  name: Scalars['String']['input'];
};

/** Event definitions. */
export type EventDefinitionConnection = {
  __typename?: 'EventDefinitionConnection';
  /** Event definitions, by name. */
  nodes: Array<EventDefinition>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** An event and its cursor. */
export type EventEdge = {
  __typename?: 'EventEdge';
  /** Opaque position of this item: pass it as `after` to continue after it. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: Event;
};

/** An event to import. Validated before anything is sent; an invalid event is reported in `failures` and the others still land. */
export type EventInput = {
  /** The user who did it; leave it out for an event tied to no user. */
  distinctId?: InputMaybe<Scalars['ID']['input']>;
  /** Event name (1 to 255 characters). */
  event: Scalars['String']['input'];
  /** Mixpanel de-duplicates on (event, time, distinctId, insertId): up to 36 letters, digits or "-". Default: a hash of the event, so a retry never counts twice. */
  insertId?: InputMaybe<Scalars['String']['input']>;
  /** Other properties, a JSON object (fewer than 250 keys, nested at most 3 deep). */
  properties?: InputMaybe<Scalars['JSON']['input']>;
  /** When it happened: after 1971-01-01 and at most 1 hour ahead of now. */
  time: Scalars['DateTime']['input'];
};

/** Event names. */
export type EventNameConnection = {
  __typename?: 'EventNameConnection';
  /** Event names, alphabetical. */
  nodes: Array<Scalars['String']['output']>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type EventNamesResult = EventNameConnection | InvalidArgumentError | RateLimitedError;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type EventPropertyCountsResult = InvalidArgumentError | RateLimitedError | Series;

/** The range holds more events than the gateway keeps for paging. Narrow the range or the filter, or download it as NDJSON. */
export type EventRangeTooLargeError = Error & {
  __typename?: 'EventRangeTooLargeError';
  /** Stable machine-readable code, e.g. `NOT_FOUND` or `MIXPANEL_RATE_LIMITED`. */
  code: Scalars['String']['output'];
  /** What went wrong, for people. Never carries a secret. */
  message: Scalars['String']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type EventsResult = EventConnection | EventRangeTooLargeError | InvalidArgumentError | RateLimitedError;

/** How often users did the event within one period: `counts[i]` users did it in at least i+1 hours or days. */
export type FrequencyRow = {
  __typename?: 'FrequencyRow';
  /** Users active in at least 1, 2, … hours or days of the period. */
  counts: Array<Scalars['Int']['output']>;
  /** The period. */
  date: Scalars['String']['output'];
};

/** A frequency (addiction) report. */
export type FrequencyRowConnection = {
  __typename?: 'FrequencyRowConnection';
  /** One row per period, oldest first. */
  nodes: Array<FrequencyRow>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** Granularity at which frequency counts activity. */
export type FrequencyUnit =
  /** Days. */
  | 'DAY'
  /** Hours. */
  | 'HOUR';

/** A funnel’s steps for users who entered it in one period. */
export type FunnelDay = {
  __typename?: 'FunnelDay';
  /** Users who completed every step. */
  completion: Scalars['Int']['output'];
  /** The period (its first day). */
  date: Scalars['String']['output'];
  /** Users who entered the funnel. */
  startingAmount: Scalars['Int']['output'];
  /** Number of steps. */
  stepCount: Scalars['Int']['output'];
  /** Steps in order. */
  steps: Array<FunnelStep>;
  /** Index of the step losing most users. */
  worstStep: Scalars['Int']['output'];
};

/** Unit of the time a user has to complete a funnel. */
export type FunnelLengthUnit =
  /** Days. */
  | 'DAY'
  /** Hours. */
  | 'HOUR'
  /** Minutes. */
  | 'MINUTE'
  /** Seconds. */
  | 'SECOND';

/** A saved funnel’s conversion per period. */
export type FunnelReport = {
  __typename?: 'FunnelReport';
  /** The periods, in order. */
  dates: Array<Scalars['String']['output']>;
  /** One entry per period. */
  days: Array<FunnelDay>;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type FunnelResult = FunnelReport | InvalidArgumentError | RateLimitedError;

/** One step of a funnel on one day. */
export type FunnelStep = {
  __typename?: 'FunnelStep';
  /** Average seconds from the previous step. */
  averageSeconds?: Maybe<Scalars['Float']['output']>;
  /** Average seconds from the first step. */
  averageSecondsFromStart?: Maybe<Scalars['Float']['output']>;
  /** Users who reached the step. */
  count: Scalars['Int']['output'];
  /** The event of the step. */
  event: Scalars['String']['output'];
  /** The step’s label. */
  goal: Scalars['String']['output'];
  /** Share of the first step’s users who reached this one (0..1). */
  overallConversion: Scalars['Float']['output'];
  /** Share of the previous step’s users who reached this one (0..1). */
  stepConversion: Scalars['Float']['output'];
};

/** A saved funnel. */
export type FunnelSummary = {
  __typename?: 'FunnelSummary';
  /** Funnel id. */
  id: Scalars['ID']['output'];
  /** Funnel name. */
  name: Scalars['String']['output'];
};

/** Saved funnels. */
export type FunnelSummaryConnection = {
  __typename?: 'FunnelSummaryConnection';
  /** Saved funnels. */
  nodes: Array<FunnelSummary>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type FunnelsResult = FunnelSummaryConnection | RateLimitedError;

/** An event of any name, with its properties as JSON. */
export type GenericEvent = Event & {
  __typename?: 'GenericEvent';
  /** Its Lexicon definition, or null when Lexicon does not document the event. */
  definition?: Maybe<EventDefinition>;
  /** Distinct id of the user who did it. */
  distinctId?: Maybe<Scalars['ID']['output']>;
  /** The `$insert_id` Mixpanel deduplicates on. */
  insertId?: Maybe<Scalars['String']['output']>;
  /** The event name, e.g. `Sign Up`. */
  name: Scalars['String']['output'];
  /** The profile of the user who did it (batched: one engage call for all events of the operation). */
  profile?: Maybe<Profile>;
  /** Every property, as Mixpanel stores them. */
  properties: Scalars['JSON']['output'];
  /** One property by name (null when absent). */
  property?: Maybe<Scalars['JSON']['output']>;
  /** Every property with its Lexicon definition. */
  propertyValues: Array<PropertyValue>;
  /** When it happened. */
  time: Scalars['DateTime']['output'];
};


/** An event of any name, with its properties as JSON. */
export type GenericEventPropertyArgs = {
  name: Scalars['String']['input'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type GroupProfileResult = InvalidArgumentError | NotFoundError | Profile | RateLimitedError;

/** Changes to one group profile; give at least one operation (groups have no `add` or `append`). */
export type GroupProfileUpdateInput = {
  /** Delete the whole group profile (`$delete`); not combined with other operations. */
  delete?: InputMaybe<Scalars['Boolean']['input']>;
  /** The group. */
  groupId: Scalars['ID']['input'];
  /** The group key, e.g. `company_id`. */
  groupKey: Scalars['String']['input'];
  /** A value to remove from each named list (`$remove`; sent once, never retried). */
  remove?: InputMaybe<Scalars['JSON']['input']>;
  /** Properties to set (`$set`), a JSON object. */
  set?: InputMaybe<Scalars['JSON']['input']>;
  /** Properties to set only where not yet set (`$set_once`). */
  setOnce?: InputMaybe<Scalars['JSON']['input']>;
  /** Lists to merge values into (`$union`): each value a JSON list. */
  union?: InputMaybe<Scalars['JSON']['input']>;
  /** Properties to remove (`$unset`). */
  unset?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** The idempotency key was already used with another input. Nothing was sent; use a new key for a new write. */
export type IdempotencyConflictError = Error & {
  __typename?: 'IdempotencyConflictError';
  /** Stable machine-readable code, e.g. `NOT_FOUND` or `MIXPANEL_RATE_LIMITED`. */
  code: Scalars['String']['output'];
  /** The key that was reused. */
  idempotencyKey: Scalars['String']['output'];
  /** What went wrong, for people. Never carries a secret. */
  message: Scalars['String']['output'];
};

/** What an import did: the events that landed and those that did not. */
export type ImportEventsPayload = {
  __typename?: 'ImportEventsPayload';
  /** Events that did not land, by index. */
  failures: Array<ImportFailure>;
  /** Events Mixpanel ingested. */
  imported: Scalars['Int']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type ImportEventsResult = IdempotencyConflictError | ImportEventsPayload | InvalidArgumentError | RateLimitedError;

/** An event that did not land. */
export type ImportFailure = {
  __typename?: 'ImportFailure';
  /** The field at fault (e.g. `time`, `properties.plan`), when one is. */
  field?: Maybe<Scalars['String']['output']>;
  /** Its position in the `events` you sent. */
  index: Scalars['Int']['output'];
  /** Its `$insert_id`, when it had one. */
  insertId?: Maybe<Scalars['String']['output']>;
  /** Why it did not land. */
  message: Scalars['String']['output'];
};

/** A saved Insights report, as its series. */
export type InsightsReport = {
  __typename?: 'InsightsReport';
  /** When Mixpanel computed it. */
  computedAt?: Maybe<Scalars['DateTime']['output']>;
  /** First day of the report’s range. */
  fromDate: Scalars['String']['output'];
  /** What each level of the series is broken down by. */
  headers: Array<Scalars['String']['output']>;
  /** One line per leaf of the report, named by its path (`Logged in / US`). */
  segments: Array<Segment>;
  /** Last day of the report’s range. */
  toDate: Scalars['String']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type InsightsResult = InsightsReport | InvalidArgumentError | RateLimitedError;

/** An argument failed validation. Nothing was sent to Mixpanel and no budget was spent. */
export type InvalidArgumentError = Error & {
  __typename?: 'InvalidArgumentError';
  /** The argument at fault, when one is. */
  argument?: Maybe<Scalars['String']['output']>;
  /** Stable machine-readable code, e.g. `NOT_FOUND` or `MIXPANEL_RATE_LIMITED`. */
  code: Scalars['String']['output'];
  /** What went wrong, for people. Never carries a secret. */
  message: Scalars['String']['output'];
};

/** JSON Schema types a Lexicon property may declare. */
export type JsonType =
  /** A list. */
  | 'ARRAY'
  /** True or false. */
  | 'BOOLEAN'
  /** A whole number. */
  | 'INTEGER'
  /** May be null. */
  | 'NULL'
  /** Any number. */
  | 'NUMBER'
  /** A nested object. */
  | 'OBJECT'
  /** Text. */
  | 'STRING';

/** The project's data dictionary (Lexicon). Only entities that have a schema appear. */
export type Lexicon = {
  __typename?: 'Lexicon';
  /** Compares Lexicon with a sample of recent events: one export call (Export budget) and the cached Lexicon schemas. */
  drift?: Maybe<LexiconDriftResult>;
  /** One event definition by event name. */
  eventDefinition?: Maybe<LexiconEventDefinitionResult>;
  /** Every documented event, by name. */
  events?: Maybe<LexiconEventsResult>;
  /** Every documented user-profile property, by name. */
  profileProperties?: Maybe<LexiconProfilePropertiesResult>;
  /** One user-profile property definition by name. */
  profileProperty?: Maybe<LexiconProfilePropertyResult>;
};


/** The project's data dictionary (Lexicon). Only entities that have a schema appear. */
export type LexiconDriftArgs = {
  days?: InputMaybe<Scalars['Int']['input']>;
  sample?: InputMaybe<Scalars['Int']['input']>;
};


/** The project's data dictionary (Lexicon). Only entities that have a schema appear. */
export type LexiconEventDefinitionArgs = {
  name: Scalars['String']['input'];
};


/** The project's data dictionary (Lexicon). Only entities that have a schema appear. */
export type LexiconProfilePropertyArgs = {
  name: Scalars['String']['input'];
};

/** Where a sample of recent events departs from Lexicon. */
export type LexiconDrift = {
  __typename?: 'LexiconDrift';
  /** First day sampled (UTC). */
  from: Scalars['Date']['output'];
  /** How many events were compared (the first ones of the range, up to `sample`). */
  sampledEvents: Scalars['Int']['output'];
  /** Last day sampled (UTC). */
  to: Scalars['Date']['output'];
  /** Documented properties holding values of another type, most frequent first. */
  typeMismatches: Array<LexiconTypeMismatch>;
  /** Events Lexicon does not document, most frequent first. */
  undocumentedEvents: Array<UndocumentedEvent>;
  /** Properties of documented events that their schema does not list, most frequent first. */
  undocumentedProperties: Array<UndocumentedProperty>;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type LexiconDriftResult = InvalidArgumentError | LexiconDrift | RateLimitedError;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type LexiconEventDefinitionResult = EventDefinition | InvalidArgumentError | NotFoundError | RateLimitedError;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type LexiconEventsResult = EventDefinitionConnection | RateLimitedError;

/** Who to ask about a definition. */
export type LexiconOwners = {
  __typename?: 'LexiconOwners';
  /** Email addresses of the people who own it. */
  contacts: Array<Scalars['String']['output']>;
  /** Teams that own it. */
  teamContacts: Array<Scalars['String']['output']>;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type LexiconProfilePropertiesResult = PropertyDefinitionConnection | RateLimitedError;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type LexiconProfilePropertyResult = InvalidArgumentError | NotFoundError | PropertyDefinition | RateLimitedError;

/** A documented property whose values in the data do not have the documented JSON type. */
export type LexiconTypeMismatch = {
  __typename?: 'LexiconTypeMismatch';
  /** The other types seen in the data (a whole number counts as INTEGER). */
  actual: Array<JsonType>;
  /** Whether every such value converts to the documented type without loss (e.g. "42" for an integer), as typed fields do. */
  convertible: Scalars['Boolean']['output'];
  /** How many sampled values did not have the documented type. */
  count: Scalars['Int']['output'];
  /** The types Lexicon documents. */
  documented: Array<JsonType>;
  /** The event name. */
  event: Scalars['String']['output'];
  /** The property name. */
  property: Scalars['String']['output'];
};

/** What a merge did. */
export type MergeProfilesPayload = {
  __typename?: 'MergeProfilesPayload';
  /** Profiles merged into the first one (one `$merge` each). */
  merged: Scalars['Int']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type MergeProfilesResult = IdempotencyConflictError | InvalidArgumentError | MergeProfilesPayload | RateLimitedError;

/** The few writes the gateway offers; each is budgeted like a read. */
export type Mutation = {
  __typename?: 'Mutation';
  /** Pins a note to a moment on Mixpanel charts. Needs an Analyst (or higher) service account. Sent once, never retried: pass an idempotencyKey to retry safely. */
  createAnnotation?: Maybe<CreateAnnotationResult>;
  /** Creates an annotation tag (Mixpanel answers the existing tag for a name already taken). */
  createAnnotationTag?: Maybe<CreateAnnotationTagResult>;
  /** Creates the Lexicon definition of an event that has none. Needs an admin service account. Concurrent edits of every client are merged into one upload, within 5 Lexicon calls and 4,000 updates a minute; the typed schema follows at once. */
  createEventDefinition?: Maybe<CreateEventDefinitionResult>;
  /** Creates the definition of an event or user-profile property. Needs an admin service account. Concurrent edits of every client are merged into one upload, within 5 Lexicon calls and 4,000 updates a minute; the typed schema follows at once. */
  createPropertyDefinition?: Maybe<CreatePropertyDefinitionResult>;
  /** Deletes an annotation. */
  deleteAnnotation?: Maybe<DeleteAnnotationResult>;
  /** Deletes an event definition and the property definitions it holds (one Lexicon call of its own). Needs an admin service account. Concurrent edits of every client are merged into one upload, within 5 Lexicon calls and 4,000 updates a minute; the typed schema follows at once. */
  deleteEventDefinition?: Maybe<DeleteEventDefinitionResult>;
  /** Deletes a property definition (its event's or the profile schema is uploaded without it). Needs an admin service account. Concurrent edits of every client are merged into one upload, within 5 Lexicon calls and 4,000 updates a minute; the typed schema follows at once. */
  deletePropertyDefinition?: Maybe<DeletePropertyDefinitionResult>;
  /** Imports up to 10,000 events (/import, strict validation). Concurrent imports of every client leave together, in requests of at most 2,000 events and 10 MB. Safe to retry: every event carries a `$insert_id`. */
  importEvents?: Maybe<ImportEventsResult>;
  /** Merges up to 100 profiles into the first (`$merge` through /import), for projects on Mixpanel's Original ID Merge API (MIXPANEL_ID_MERGE_API=original). */
  mergeProfiles?: Maybe<MergeProfilesResult>;
  /** Changes the note or the tags of an annotation. */
  updateAnnotation?: Maybe<UpdateAnnotationResult>;
  /** Changes an existing event definition. Needs an admin service account. Concurrent edits of every client are merged into one upload, within 5 Lexicon calls and 4,000 updates a minute; the typed schema follows at once. */
  updateEventDefinition?: Maybe<UpdateEventDefinitionResult>;
  /** Updates up to 10,000 group profiles (/groups), merged like `updateProfiles`. */
  updateGroupProfiles?: Maybe<UpdateGroupProfilesResult>;
  /**
   * Documents an event in Lexicon, creating its schema if it has none. Needs an admin service account. Concurrent edits of every client are merged into one upload, within 5 Lexicon calls and 4,000 updates a minute; the typed schema follows at once.
   * @deprecated Use updateEventDefinition (or createEventDefinition).
   */
  updateLexiconEventDefinition?: Maybe<UpdateLexiconEventDefinitionResult>;
  /** Updates up to 10,000 user profiles (/engage). Merged with other clients' updates into requests of at most 2,000; a read of the profile right after sees the change. */
  updateProfiles?: Maybe<UpdateProfilesResult>;
  /** Changes an existing property definition. Needs an admin service account. Concurrent edits of every client are merged into one upload, within 5 Lexicon calls and 4,000 updates a minute; the typed schema follows at once. */
  updatePropertyDefinition?: Maybe<UpdatePropertyDefinitionResult>;
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationCreateAnnotationArgs = {
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: CreateAnnotationInput;
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationCreateAnnotationTagArgs = {
  name: Scalars['String']['input'];
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationCreateEventDefinitionArgs = {
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: CreateEventDefinitionInput;
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationCreatePropertyDefinitionArgs = {
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: CreatePropertyDefinitionInput;
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationDeleteAnnotationArgs = {
  id: Scalars['ID']['input'];
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationDeleteEventDefinitionArgs = {
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  name: Scalars['String']['input'];
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationDeletePropertyDefinitionArgs = {
  event?: InputMaybe<Scalars['String']['input']>;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  name: Scalars['String']['input'];
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationImportEventsArgs = {
  events: Array<EventInput>;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationMergeProfilesArgs = {
  distinctIds: Array<Scalars['ID']['input']>;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationUpdateAnnotationArgs = {
  id: Scalars['ID']['input'];
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: UpdateAnnotationInput;
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationUpdateEventDefinitionArgs = {
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: UpdateEventDefinitionInput;
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationUpdateGroupProfilesArgs = {
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  updates: Array<GroupProfileUpdateInput>;
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationUpdateLexiconEventDefinitionArgs = {
  input: UpdateLexiconEventDefinitionInput;
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationUpdateProfilesArgs = {
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  updates: Array<ProfileUpdateInput>;
};


/** The few writes the gateway offers; each is budgeted like a read. */
export type MutationUpdatePropertyDefinitionArgs = {
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: UpdatePropertyDefinitionInput;
};

/** The entity does not exist in this Mixpanel project. */
export type NotFoundError = Error & {
  __typename?: 'NotFoundError';
  /** Stable machine-readable code, e.g. `NOT_FOUND` or `MIXPANEL_RATE_LIMITED`. */
  code: Scalars['String']['output'];
  /** What was looked up, e.g. `Profile` or `Cohort`. */
  entity: Scalars['String']['output'];
  /** The id that matched nothing. */
  id: Scalars['String']['output'];
  /** What went wrong, for people. Never carries a secret. */
  message: Scalars['String']['output'];
};

/** Where a page sits in its connection. Only forward paging (`first`/`after`) is offered. */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Cursor of the last item of the page: pass it as `after` for the next page. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** Whether another page follows (pass `endCursor` as `after`). */
  hasNextPage: Scalars['Boolean']['output'];
  /** Whether this page was reached with `after`. */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** Cursor of the first item of the page. */
  startCursor?: Maybe<Scalars['String']['output']>;
};

/** Calendar period of a funnel or retention row. */
export type PeriodUnit =
  /** Daily. */
  | 'DAY'
  /** Monthly. */
  | 'MONTH'
  /** Weekly. */
  | 'WEEK';

/** One value of a time series. */
export type Point = {
  __typename?: 'Point';
  /** The bucket, as Mixpanel labels it: a day (`2024-05-01`), an hour or minute, or a range for numeric buckets. */
  date: Scalars['String']['output'];
  /** The value in that bucket. */
  value: Scalars['Float']['output'];
};

/** A Mixpanel user profile (or a group profile, when loaded by group key). */
export type Profile = {
  __typename?: 'Profile';
  /** The user's events between two days, oldest first (at most 90 days, within the last 365). One /stream/query call serves every profile of the list. */
  activity?: Maybe<ProfileActivityResult>;
  /** City, from geolocation or as set (`$city`). */
  city?: Maybe<Scalars['String']['output']>;
  /** Cohorts the user belongs to. Webhook-synced cohorts cost nothing; each other non-empty cohort is read whole once (one engage call per 1000 members) and shared by every profile and request for the cohorts cache TTL. One operation starts at most a few such reads; while more are read in the background the field answers RateLimitedError (retry shortly, or pass `among`). */
  cohorts?: Maybe<ProfileCohortsResult>;
  /** ISO 3166 country code (`$country_code`). */
  country?: Maybe<Scalars['String']['output']>;
  /** When the profile was created (`$created`). */
  created?: Maybe<Scalars['DateTime']['output']>;
  /** The distinct id (for a group profile, the group id). */
  distinctId: Scalars['ID']['output'];
  /** Email address (`$email`). */
  email?: Maybe<Scalars['String']['output']>;
  /** When the gateway read this profile from Mixpanel (null when it came from a list page or a webhook copy). Profiles are shared between requests for the profile cache TTL. */
  fetchedAt?: Maybe<Scalars['DateTime']['output']>;
  /** First name (`$first_name`). */
  firstName?: Maybe<Scalars['String']['output']>;
  /** The group key of a group profile; null for user profiles. */
  groupKey?: Maybe<Scalars['String']['output']>;
  /** Last name (`$last_name`). */
  lastName?: Maybe<Scalars['String']['output']>;
  /** When the user was last seen (`$last_seen`). */
  lastSeen?: Maybe<Scalars['DateTime']['output']>;
  /** Full name (`$name`). */
  name?: Maybe<Scalars['String']['output']>;
  /** Phone number (`$phone`). */
  phone?: Maybe<Scalars['String']['output']>;
  /** Every property of the profile, as Mixpanel stores them. */
  properties: Scalars['JSON']['output'];
  /** One property by name (null when the profile does not have it). */
  property?: Maybe<Scalars['JSON']['output']>;
  /** Every property with its Lexicon definition (one Lexicon call serves the whole operation). */
  propertyValues: Array<PropertyValue>;
  /** Region or state (`$region`). */
  region?: Maybe<Scalars['String']['output']>;
  /** True when served past its cache TTL because the project’s Query budget could not fit a fresh read: `fetchedAt` says how old it is. */
  stale: Scalars['Boolean']['output'];
  /** IANA timezone (`$timezone`). */
  timezone?: Maybe<Scalars['String']['output']>;
};


/** A Mixpanel user profile (or a group profile, when loaded by group key). */
export type ProfileActivityArgs = {
  from: Scalars['Date']['input'];
  to: Scalars['Date']['input'];
};


/** A Mixpanel user profile (or a group profile, when loaded by group key). */
export type ProfileCohortsArgs = {
  among?: InputMaybe<Array<Scalars['ID']['input']>>;
};


/** A Mixpanel user profile (or a group profile, when loaded by group key). */
export type ProfilePropertyArgs = {
  name: Scalars['String']['input'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type ProfileActivityResult = ActivityConnection | InvalidArgumentError | RateLimitedError;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type ProfileCohortsResult = CohortConnection | InvalidArgumentError | RateLimitedError;

/** A page of profiles. */
export type ProfileConnection = {
  __typename?: 'ProfileConnection';
  /** The items of the page, with their cursors. */
  edges: Array<ProfileEdge>;
  /** The items of the page, without cursors. */
  nodes: Array<Profile>;
  /** Paging information. */
  pageInfo: PageInfo;
  /** How many profiles match in all, as Mixpanel reports it (null when unknown). */
  totalCount?: Maybe<Scalars['Int']['output']>;
};

/** A profile and its cursor. */
export type ProfileEdge = {
  __typename?: 'ProfileEdge';
  /** Opaque position of this item: pass it as `after` to continue after it. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: Profile;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type ProfileResult = InvalidArgumentError | NotFoundError | Profile | RateLimitedError;

/** Changes to one user profile; give at least one operation. Each operation travels as its own Mixpanel update. */
export type ProfileUpdateInput = {
  /** Numbers to add to numeric properties (`$add`; sent once, never retried). */
  add?: InputMaybe<Scalars['JSON']['input']>;
  /** A value to append to each named list (`$append`; sent once, never retried). */
  append?: InputMaybe<Scalars['JSON']['input']>;
  /** Delete the whole profile (`$delete`); not combined with other operations. */
  delete?: InputMaybe<Scalars['Boolean']['input']>;
  /** The profile. */
  distinctId: Scalars['ID']['input'];
  /** A value to remove from each named list (`$remove`; sent once, never retried). */
  remove?: InputMaybe<Scalars['JSON']['input']>;
  /** Properties to set (`$set`), a JSON object. */
  set?: InputMaybe<Scalars['JSON']['input']>;
  /** Properties to set only where not yet set (`$set_once`). */
  setOnce?: InputMaybe<Scalars['JSON']['input']>;
  /** Lists to merge values into (`$union`): each value a JSON list. */
  union?: InputMaybe<Scalars['JSON']['input']>;
  /** Properties to remove (`$unset`). */
  unset?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type ProfilesResult = InvalidArgumentError | ProfileConnection | RateLimitedError;

/** The Mixpanel project this endpoint serves. */
export type Project = {
  __typename?: 'Project';
  /** Mixpanel project id. */
  id: Scalars['ID']['output'];
  /** The gateway’s short name for the project (in `/projects/{key}/graphql`). */
  key: Scalars['String']['output'];
  /** Budget left per rate-limit family. Reading it costs no Mixpanel call. */
  rateLimits: Array<RateLimit>;
  /** Data residency region. */
  region: Region;
};

/** A property name and how many events carried it. */
export type PropertyCount = {
  __typename?: 'PropertyCount';
  /** Events carrying it. */
  count: Scalars['Float']['output'];
  /** Property name. */
  name: Scalars['String']['output'];
};

/** Property names with their counts. */
export type PropertyCountConnection = {
  __typename?: 'PropertyCountConnection';
  /** Property names with their counts, most common first. */
  nodes: Array<PropertyCount>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** What a property means, as documented in Lexicon. */
export type PropertyDefinition = {
  __typename?: 'PropertyDefinition';
  /** What the property records. */
  description?: Maybe<Scalars['String']['output']>;
  /** Name shown in Mixpanel reports. */
  displayName?: Maybe<Scalars['String']['output']>;
  /** Dropped at ingestion: new data no longer carries it. */
  dropped: Scalars['Boolean']['output'];
  /** Hidden from Mixpanel menus. */
  hidden: Scalars['Boolean']['output'];
  /** The property name as sent with events or profiles, e.g. `$city` or `plan`. */
  name: Scalars['String']['output'];
  /** The declared type, ignoring `null` (see `types` for all of them). */
  type?: Maybe<JsonType>;
  /** Every declared JSON Schema type. */
  types: Array<JsonType>;
};

/** Property definitions. */
export type PropertyDefinitionConnection = {
  __typename?: 'PropertyDefinitionConnection';
  /** Property definitions, by name. */
  nodes: Array<PropertyDefinition>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** One property of an event or profile, with its Lexicon definition. */
export type PropertyValue = {
  __typename?: 'PropertyValue';
  /** Its Lexicon definition, or null when Lexicon does not document it. */
  definition?: Maybe<PropertyDefinition>;
  /** Property name. */
  name: Scalars['String']['output'];
  /** The value as Mixpanel stores it. */
  value?: Maybe<Scalars['JSON']['output']>;
};

/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type Query = {
  __typename?: 'Query';
  /** One annotation by id. */
  annotation?: Maybe<AnnotationResult>;
  /** The project's annotation tags. */
  annotationTags?: Maybe<AnnotationTagsResult>;
  /** Annotations, optionally only those between two days. */
  annotations?: Maybe<AnnotationsResult>;
  /** One cohort by id. */
  cohort?: Maybe<CohortResult>;
  /** Every saved cohort of the project (one cached call), plus cohorts known only from webhook syncs. */
  cohorts?: Maybe<CohortsResult>;
  /** Counts of several events over time, one segment per event. */
  eventCounts?: Maybe<EventCountsResult>;
  /** Names of the events most common over the last 31 days, in alphabetical order (Mixpanel promises none). */
  eventNames?: Maybe<EventNamesResult>;
  /** Counts of one event over time, one segment per value of a property. */
  eventPropertyCounts?: Maybe<EventPropertyCountsResult>;
  /** Raw events from Mixpanel's export, oldest first, a page at a time (at most 1000 per page). The range is read from Mixpanel once and pages are cut from that read, so paging costs one export call per range and filter while the read is kept. */
  events?: Maybe<EventsResult>;
  /**
   * Conversion through a saved funnel, per period.
   * @deprecated Mixpanel's Funnels Query API is in maintenance mode; prefer `insights` with a saved funnel report.
   */
  funnel?: Maybe<FunnelResult>;
  /**
   * Saved funnels.
   * @deprecated Mixpanel's Funnels Query API is in maintenance mode; prefer `insights` with a saved funnel report.
   */
  funnels?: Maybe<FunnelsResult>;
  /** One group profile (e.g. a company) by group key and group id. */
  groupProfile?: Maybe<GroupProfileResult>;
  /** A saved Insights report by bookmark id (the number in the report’s URL). */
  insights?: Maybe<InsightsResult>;
  /** The project's Lexicon: event and profile property definitions. */
  lexicon: Lexicon;
  /** One user profile by distinct id. Profiles asked for anywhere in the operation are fetched in one engage call. */
  profile?: Maybe<ProfileResult>;
  /** Profiles matching a filter, a page at a time (at most 1000 per page). Follows Mixpanel's engage paging; cursors expire with Mixpanel's query session. */
  profiles?: Maybe<ProfilesResult>;
  /** The project this endpoint serves. */
  project: Project;
  /** Retention: for users who started in each period, how many came back in each later interval. */
  retention?: Maybe<RetentionResult>;
  /** Frequency (addiction): per period, how many users did the event in at least 1, 2, … hours or days of it. */
  retentionFrequency?: Maybe<RetentionFrequencyResult>;
  /** Counts of one event over time, optionally segmented by a property. */
  segmentation?: Maybe<SegmentationResult>;
  /** Average of a numeric property of one event, per bucket. */
  segmentationAverage?: Maybe<SegmentationAverageResult>;
  /** Counts of one event over time, segmented into numeric buckets of a property (segment names are ranges such as `2,000 - 2,100`). */
  segmentationNumeric?: Maybe<SegmentationNumericResult>;
  /** Sum of a numeric property of one event, per bucket. */
  segmentationSum?: Maybe<SegmentationSumResult>;
  /** Today’s most common events, with their change against yesterday. */
  topEvents?: Maybe<TopEventsResult>;
  /** The property names most often sent with an event, most common first. */
  topPropertyNames?: Maybe<TopPropertyNamesResult>;
  /** The most common values of an event property. */
  topPropertyValues?: Maybe<TopPropertyValuesResult>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryAnnotationArgs = {
  id: Scalars['ID']['input'];
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryAnnotationsArgs = {
  from?: InputMaybe<Scalars['Date']['input']>;
  to?: InputMaybe<Scalars['Date']['input']>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryCohortArgs = {
  id: Scalars['ID']['input'];
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryEventCountsArgs = {
  events: Array<Scalars['String']['input']>;
  from: Scalars['Date']['input'];
  to: Scalars['Date']['input'];
  type?: InputMaybe<CountType>;
  unit?: InputMaybe<TimeUnit>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryEventNamesArgs = {
  limit?: InputMaybe<Scalars['Int']['input']>;
  type?: InputMaybe<CountType>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryEventPropertyCountsArgs = {
  event: Scalars['String']['input'];
  from: Scalars['Date']['input'];
  limit?: InputMaybe<Scalars['Int']['input']>;
  name: Scalars['String']['input'];
  to: Scalars['Date']['input'];
  type?: InputMaybe<CountType>;
  unit?: InputMaybe<TimeUnit>;
  values?: InputMaybe<Array<Scalars['String']['input']>>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  from: Scalars['Date']['input'];
  names?: InputMaybe<Array<Scalars['String']['input']>>;
  to: Scalars['Date']['input'];
  where?: InputMaybe<Scalars['String']['input']>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryFunnelArgs = {
  from: Scalars['Date']['input'];
  id: Scalars['ID']['input'];
  interval?: InputMaybe<Scalars['Int']['input']>;
  length?: InputMaybe<Scalars['Int']['input']>;
  lengthUnit?: InputMaybe<FunnelLengthUnit>;
  limit?: InputMaybe<Scalars['Int']['input']>;
  on?: InputMaybe<Scalars['String']['input']>;
  to: Scalars['Date']['input'];
  unit?: InputMaybe<PeriodUnit>;
  where?: InputMaybe<Scalars['String']['input']>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryGroupProfileArgs = {
  groupId: Scalars['ID']['input'];
  groupKey: Scalars['String']['input'];
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryInsightsArgs = {
  bookmarkId: Scalars['ID']['input'];
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryProfileArgs = {
  distinctId: Scalars['ID']['input'];
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryProfilesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  cohortId?: InputMaybe<Scalars['ID']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  where?: InputMaybe<Scalars['String']['input']>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryRetentionArgs = {
  bornEvent?: InputMaybe<Scalars['String']['input']>;
  bornWhere?: InputMaybe<Scalars['String']['input']>;
  event?: InputMaybe<Scalars['String']['input']>;
  from: Scalars['Date']['input'];
  interval?: InputMaybe<Scalars['Int']['input']>;
  intervalCount?: InputMaybe<Scalars['Int']['input']>;
  limit?: InputMaybe<Scalars['Int']['input']>;
  on?: InputMaybe<Scalars['String']['input']>;
  retentionType?: InputMaybe<RetentionType>;
  to: Scalars['Date']['input'];
  unbounded?: InputMaybe<Scalars['Boolean']['input']>;
  unit?: InputMaybe<PeriodUnit>;
  where?: InputMaybe<Scalars['String']['input']>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryRetentionFrequencyArgs = {
  event?: InputMaybe<Scalars['String']['input']>;
  frequencyUnit: FrequencyUnit;
  from: Scalars['Date']['input'];
  limit?: InputMaybe<Scalars['Int']['input']>;
  on?: InputMaybe<Scalars['String']['input']>;
  to: Scalars['Date']['input'];
  unit: PeriodUnit;
  where?: InputMaybe<Scalars['String']['input']>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QuerySegmentationArgs = {
  event: Scalars['String']['input'];
  from: Scalars['Date']['input'];
  interval?: InputMaybe<Scalars['Int']['input']>;
  limit?: InputMaybe<Scalars['Int']['input']>;
  on?: InputMaybe<Scalars['String']['input']>;
  to: Scalars['Date']['input'];
  type?: InputMaybe<CountType>;
  unit?: InputMaybe<SegmentationUnit>;
  where?: InputMaybe<Scalars['String']['input']>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QuerySegmentationAverageArgs = {
  event: Scalars['String']['input'];
  from: Scalars['Date']['input'];
  on: Scalars['String']['input'];
  to: Scalars['Date']['input'];
  unit?: InputMaybe<FrequencyUnit>;
  where?: InputMaybe<Scalars['String']['input']>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QuerySegmentationNumericArgs = {
  event: Scalars['String']['input'];
  from: Scalars['Date']['input'];
  interval?: InputMaybe<Scalars['Int']['input']>;
  limit?: InputMaybe<Scalars['Int']['input']>;
  on: Scalars['String']['input'];
  to: Scalars['Date']['input'];
  type?: InputMaybe<CountType>;
  unit?: InputMaybe<SegmentationUnit>;
  where?: InputMaybe<Scalars['String']['input']>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QuerySegmentationSumArgs = {
  event: Scalars['String']['input'];
  from: Scalars['Date']['input'];
  on: Scalars['String']['input'];
  to: Scalars['Date']['input'];
  unit?: InputMaybe<FrequencyUnit>;
  where?: InputMaybe<Scalars['String']['input']>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryTopEventsArgs = {
  limit?: InputMaybe<Scalars['Int']['input']>;
  type?: InputMaybe<CountType>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryTopPropertyNamesArgs = {
  event: Scalars['String']['input'];
  limit?: InputMaybe<Scalars['Int']['input']>;
};


/** Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations. */
export type QueryTopPropertyValuesArgs = {
  event: Scalars['String']['input'];
  limit?: InputMaybe<Scalars['Int']['input']>;
  name: Scalars['String']['input'];
};

/** One family's budget right now, as this gateway enforces it (shared by every instance when Redis is configured). */
export type RateLimit = {
  __typename?: 'RateLimit';
  /** Until when the budget is tightened after Mixpanel answered 429. */
  backoffUntil?: Maybe<Scalars['DateTime']['output']>;
  /** Calls allowed at once (null: no such limit). */
  concurrentLimit?: Maybe<Scalars['Int']['output']>;
  /** The rate-limit family. */
  family: ApiFamily;
  /** Calls being sent now. */
  inFlight: Scalars['Int']['output'];
  /** Calls allowed per window (null: no such limit). */
  limit?: Maybe<Scalars['Int']['output']>;
  /** Hourly calls the gateway’s pacing lets through at once now (it spreads the hour’s calls instead of spending them in the first minute); null without an hourly limit. */
  pacedCalls?: Maybe<Scalars['Int']['output']>;
  /** Calls waiting for budget. */
  queued: Scalars['Int']['output'];
  /** Calls of the hourly window kept for interactive requests: background cache refreshes never spend them. */
  reserve: Scalars['Int']['output'];
  /** Calls counted in the current window. */
  used: Scalars['Int']['output'];
  /** The window `used` and `limit` count over. */
  window?: Maybe<RateLimitWindow>;
  /** When the oldest counted call leaves the window. */
  windowResetsAt?: Maybe<Scalars['DateTime']['output']>;
};

/** The rolling window a limit counts calls over. */
export type RateLimitWindow =
  /** A rolling hour. */
  | 'HOUR'
  /** A rolling minute. */
  | 'MINUTE'
  /** A rolling second. */
  | 'SECOND';

/** The project's Mixpanel budget for this family is spent (or Mixpanel answered 429). Nothing more was sent; retry after `retryAfterSeconds`. */
export type RateLimitedError = Error & {
  __typename?: 'RateLimitedError';
  /** Stable machine-readable code, e.g. `NOT_FOUND` or `MIXPANEL_RATE_LIMITED`. */
  code: Scalars['String']['output'];
  /** The family whose budget is spent. */
  family: ApiFamily;
  /** What went wrong, for people. Never carries a secret. */
  message: Scalars['String']['output'];
  /** Seconds until a call of this family may succeed, when known. */
  retryAfterSeconds?: Maybe<Scalars['Int']['output']>;
};

/** Where the project’s data lives; every call goes to that region’s hosts. */
export type Region =
  /** European Union (eu.mixpanel.com). */
  | 'EU'
  /** India (in.mixpanel.com). */
  | 'IN'
  /** United States (mixpanel.com). */
  | 'US';

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type RetentionFrequencyResult = FrequencyRowConnection | InvalidArgumentError | RateLimitedError;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type RetentionResult = InvalidArgumentError | RateLimitedError | RetentionRowConnection;

/** Users who started in one period, and how many came back in each later one. */
export type RetentionRow = {
  __typename?: 'RetentionRow';
  /** Users retained in each following interval. */
  counts: Array<Scalars['Int']['output']>;
  /** The period the users started in. */
  date: Scalars['String']['output'];
  /** Users who started then. */
  first: Scalars['Int']['output'];
};

/** A retention report. */
export type RetentionRowConnection = {
  __typename?: 'RetentionRowConnection';
  /** One row per starting period, oldest first. */
  nodes: Array<RetentionRow>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** How users are grouped for retention. */
export type RetentionType =
  /** First-time retention: users grouped by when they first did `bornEvent`. */
  | 'BIRTH'
  /** Recurring retention: users grouped by when they did `event`. */
  | 'COMPOUNDED';

/** One value per bucket (a sum or an average of a numeric property). */
export type ScalarSeries = {
  __typename?: 'ScalarSeries';
  /** When Mixpanel computed it. */
  computedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Values by bucket, in order. */
  points: Array<Point>;
};

/** One line of a report: an event, or one value of the property segmented on. */
export type Segment = {
  __typename?: 'Segment';
  /** The event name or property value. */
  name: Scalars['String']['output'];
  /** Values in series order. */
  points: Array<Point>;
  /** Sum of the points. */
  total: Scalars['Float']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type SegmentationAverageResult = InvalidArgumentError | RateLimitedError | ScalarSeries;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type SegmentationNumericResult = InvalidArgumentError | RateLimitedError | Series;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type SegmentationResult = InvalidArgumentError | RateLimitedError | Series;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type SegmentationSumResult = InvalidArgumentError | RateLimitedError | ScalarSeries;

/** Bucket size of a segmentation report. */
export type SegmentationUnit =
  /** One bucket per day. */
  | 'DAY'
  /** One bucket per hour. */
  | 'HOUR'
  /** One bucket per minute. */
  | 'MINUTE'
  /** One bucket per month. */
  | 'MONTH';

/** A time series per segment. */
export type Series = {
  __typename?: 'Series';
  /** One line per segment. */
  segments: Array<Segment>;
  /** The buckets, in order. */
  series: Array<Scalars['String']['output']>;
};

/** Live cohort membership, fed by Mixpanel's cohort-sync webhooks. */
export type Subscription = {
  __typename?: 'Subscription';
  /** Each membership change applied from a cohort-sync webhook page, as it is applied. */
  cohortMembershipChanged: CohortMembershipChange;
  /** Each completed cohort-sync session. */
  cohortSyncCompleted: CohortSyncCompleted;
};


/** Live cohort membership, fed by Mixpanel's cohort-sync webhooks. */
export type SubscriptionCohortMembershipChangedArgs = {
  cohortIds?: InputMaybe<Array<Scalars['ID']['input']>>;
};


/** Live cohort membership, fed by Mixpanel's cohort-sync webhooks. */
export type SubscriptionCohortSyncCompletedArgs = {
  cohortIds?: InputMaybe<Array<Scalars['ID']['input']>>;
};

/** Bucket size of a time series. */
export type TimeUnit =
  /** One bucket per day. */
  | 'DAY'
  /** One bucket per hour. */
  | 'HOUR'
  /** One bucket per minute. */
  | 'MINUTE'
  /** One bucket per month. */
  | 'MONTH'
  /** One bucket per week. */
  | 'WEEK';

/** An event among today’s most common. */
export type TopEvent = {
  __typename?: 'TopEvent';
  /** Count today. */
  amount: Scalars['Float']['output'];
  /** Event name. */
  event: Scalars['String']['output'];
  /** Change against yesterday, as a ratio (-0.35 is 35% fewer). */
  percentChange: Scalars['Float']['output'];
};

/** Today’s most common events. */
export type TopEventConnection = {
  __typename?: 'TopEventConnection';
  /** Top events, most common first. */
  nodes: Array<TopEvent>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type TopEventsResult = InvalidArgumentError | RateLimitedError | TopEventConnection;

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type TopPropertyNamesResult = InvalidArgumentError | PropertyCountConnection | RateLimitedError;

/** The most common values of a property. */
export type TopPropertyValueConnection = {
  __typename?: 'TopPropertyValueConnection';
  /** Property values, most common first. */
  nodes: Array<Scalars['String']['output']>;
  /** How many items there are (all of them are in `nodes`). */
  totalCount: Scalars['Int']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type TopPropertyValuesResult = InvalidArgumentError | RateLimitedError | TopPropertyValueConnection;

/** An event in the data that Lexicon does not document. */
export type UndocumentedEvent = {
  __typename?: 'UndocumentedEvent';
  /** How many sampled events had it. */
  count: Scalars['Int']['output'];
  /** The event name. */
  name: Scalars['String']['output'];
};

/** A property a documented event carries in the data but not in its Lexicon schema (Mixpanel's ingestion properties aside). */
export type UndocumentedProperty = {
  __typename?: 'UndocumentedProperty';
  /** How many sampled events carried it. */
  count: Scalars['Int']['output'];
  /** The event name. */
  event: Scalars['String']['output'];
  /** The property name. */
  property: Scalars['String']['output'];
};

/** Changes to an annotation; fields left out keep their value. */
export type UpdateAnnotationInput = {
  /** The note (1..2000 characters). */
  description?: InputMaybe<Scalars['String']['input']>;
  /** Ids of its tags (with `tags`, replaces the current list). */
  tagIds?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Names of its tags (with `tagIds`, replaces the current list); new names get new tags. */
  tags?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type UpdateAnnotationResult = Annotation | IdempotencyConflictError | InvalidArgumentError | NotFoundError | RateLimitedError;

/** Changes to an event definition: fields left out keep their current value and null removes one. */
export type UpdateEventDefinitionInput = {
  /** Owner email addresses (replaces the current list). */
  contacts?: InputMaybe<Array<Scalars['String']['input']>>;
  /** What the event records (null removes it). */
  description?: InputMaybe<Scalars['String']['input']>;
  /** Name shown in Mixpanel reports (null removes it). */
  displayName?: InputMaybe<Scalars['String']['input']>;
  /** Drop the event at ingestion. */
  dropped?: InputMaybe<Scalars['Boolean']['input']>;
  /** Hide the event from Mixpanel menus. */
  hidden?: InputMaybe<Scalars['Boolean']['input']>;
  /** The event name the definition documents. */
  name: Scalars['String']['input'];
  /** Lexicon tags (replaces the current list). */
  tags?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Owner teams (replaces the current list). */
  teamContacts?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type UpdateEventDefinitionResult = EventDefinition | IdempotencyConflictError | InvalidArgumentError | NotFoundError | RateLimitedError;

/** An update that did not reach Mixpanel. */
export type UpdateFailure = {
  __typename?: 'UpdateFailure';
  /** Its position in the `updates` you sent. */
  index: Scalars['Int']['output'];
  /** Why. */
  message: Scalars['String']['output'];
};

/** What a batch of group profile updates did. */
export type UpdateGroupProfilesPayload = {
  __typename?: 'UpdateGroupProfilesPayload';
  /** Updates that did not reach Mixpanel, by index. */
  failures: Array<UpdateFailure>;
  /** Updates Mixpanel accepted. */
  updated: Scalars['Int']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type UpdateGroupProfilesResult = IdempotencyConflictError | InvalidArgumentError | RateLimitedError | UpdateGroupProfilesPayload;

/** Changes to an event definition. Fields left out keep their current value. */
export type UpdateLexiconEventDefinitionInput = {
  /** Owner email addresses (replaces the current list). */
  contacts?: InputMaybe<Array<Scalars['String']['input']>>;
  /** What the event records (null removes it). */
  description?: InputMaybe<Scalars['String']['input']>;
  /** Name shown in Mixpanel reports (null removes it). */
  displayName?: InputMaybe<Scalars['String']['input']>;
  /** Drop the event at ingestion. */
  dropped?: InputMaybe<Scalars['Boolean']['input']>;
  /** Hide the event from Mixpanel menus. */
  hidden?: InputMaybe<Scalars['Boolean']['input']>;
  /** The event name the definition documents. */
  name: Scalars['String']['input'];
  /** Lexicon tags (replaces the current list). */
  tags?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Owner teams (replaces the current list). */
  teamContacts?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type UpdateLexiconEventDefinitionResult = EventDefinition | InvalidArgumentError | RateLimitedError;

/** What a batch of profile updates did. */
export type UpdateProfilesPayload = {
  __typename?: 'UpdateProfilesPayload';
  /** Updates that did not reach Mixpanel, by index. */
  failures: Array<UpdateFailure>;
  /** Updates Mixpanel accepted. */
  updated: Scalars['Int']['output'];
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type UpdateProfilesResult = IdempotencyConflictError | InvalidArgumentError | RateLimitedError | UpdateProfilesPayload;

/** Changes to a property definition: of an event (`event`), or of user profiles (no `event`). Fields left out keep their value. */
export type UpdatePropertyDefinitionInput = {
  /** What it records (null removes it). */
  description?: InputMaybe<Scalars['String']['input']>;
  /** Name shown in Mixpanel reports (null removes it). */
  displayName?: InputMaybe<Scalars['String']['input']>;
  /** Drop it at ingestion. */
  dropped?: InputMaybe<Scalars['Boolean']['input']>;
  /** The event that carries the property; leave it out for a user-profile property. */
  event?: InputMaybe<Scalars['String']['input']>;
  /** Hide it from Mixpanel menus. */
  hidden?: InputMaybe<Scalars['Boolean']['input']>;
  /** The property name. */
  name: Scalars['String']['input'];
  /** Its JSON type (required to create a definition). */
  type?: InputMaybe<JsonType>;
};

/** The value, or a failure the client can act on for this field (each implements `Error`). */
export type UpdatePropertyDefinitionResult = IdempotencyConflictError | InvalidArgumentError | NotFoundError | PropertyDefinition | RateLimitedError;

export type AnnotationsQueryVariables = Exact<{ [key: string]: never; }>;


export type AnnotationsQuery = { __typename?: 'Query', annotations?: { __typename?: 'AnnotationConnection', nodes: Array<{ __typename?: 'Annotation', id: string, date: string, description: string, user: { __typename?: 'AnnotationUser', firstName: string, lastName: string }, tags: Array<{ __typename?: 'AnnotationTag', name: string }> }> } | { __typename?: 'InvalidArgumentError', message: string } | { __typename?: 'RateLimitedError', message: string } | null };

export type CohortChangesSubscriptionVariables = Exact<{
  cohortIds?: InputMaybe<Array<Scalars['ID']['input']> | Scalars['ID']['input']>;
}>;


export type CohortChangesSubscription = { __typename?: 'Subscription', cohortMembershipChanged: { __typename?: 'CohortMembershipChange', cohortId: string, kind: CohortChangeKind, page: number, totalPages: number, members: Array<{ __typename?: 'Profile', distinctId: string, email?: string | null, firstName?: string | null }>, cohort?: { __typename?: 'Cohort', name: string } | null } };

export type CohortMembersQueryVariables = Exact<{
  cohortId: Scalars['ID']['input'];
  first?: InputMaybe<Scalars['Int']['input']>;
}>;


export type CohortMembersQuery = { __typename?: 'Query', cohorts?: { __typename?: 'CohortConnection', totalCount: number, nodes: Array<{ __typename?: 'Cohort', id: string, name: string, count?: number | null, sync: { __typename?: 'CohortSync', source: CohortSyncSource, lastSyncAt?: string | null } }> } | { __typename?: 'RateLimitedError', retryAfterSeconds?: number | null } | null, cohort?: { __typename: 'Cohort', name: string, members?: { __typename?: 'InvalidArgumentError', message: string } | { __typename?: 'ProfileConnection', totalCount?: number | null, edges: Array<{ __typename?: 'ProfileEdge', node: { __typename?: 'Profile', distinctId: string, email?: string | null } }> } | { __typename?: 'RateLimitedError', message: string } | null } | { __typename: 'InvalidArgumentError', message: string, code: string } | { __typename: 'NotFoundError', message: string, code: string } | { __typename: 'RateLimitedError', message: string, code: string } | null };

export type RecentEventsQueryVariables = Exact<{
  from: Scalars['Date']['input'];
  to: Scalars['Date']['input'];
  names?: InputMaybe<Array<Scalars['String']['input']> | Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
}>;


export type RecentEventsQuery = { __typename?: 'Query', events?: { __typename: 'EventConnection', pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null }, edges: Array<{ __typename?: 'EventEdge', node: { __typename?: 'GenericEvent', name: string, time: string, distinctId?: string | null, definition?: { __typename?: 'EventDefinition', description?: string | null } | null, profile?: { __typename?: 'Profile', email?: string | null } | null } }> } | { __typename: 'EventRangeTooLargeError', message: string, code: string } | { __typename: 'InvalidArgumentError', message: string, code: string } | { __typename: 'RateLimitedError', message: string, code: string } | null };

export type FunnelConversionQueryVariables = Exact<{
  funnelId: Scalars['ID']['input'];
  from: Scalars['Date']['input'];
  to: Scalars['Date']['input'];
}>;


export type FunnelConversionQuery = { __typename?: 'Query', funnels?: { __typename?: 'FunnelSummaryConnection', nodes: Array<{ __typename?: 'FunnelSummary', id: string, name: string }> } | { __typename?: 'RateLimitedError', message: string } | null, funnel?: { __typename: 'FunnelReport', days: Array<{ __typename?: 'FunnelDay', date: string, startingAmount: number, completion: number, steps: Array<{ __typename?: 'FunnelStep', event: string, count: number, stepConversion: number }> }> } | { __typename: 'InvalidArgumentError', message: string, code: string } | { __typename: 'RateLimitedError', message: string, code: string } | null };

export type LexiconEventsQueryVariables = Exact<{ [key: string]: never; }>;


export type LexiconEventsQuery = { __typename?: 'Query', lexicon: { __typename?: 'Lexicon', events?: { __typename?: 'EventDefinitionConnection', totalCount: number, nodes: Array<{ __typename?: 'EventDefinition', name: string, displayName?: string | null, description?: string | null, tags: Array<string>, owners: { __typename?: 'LexiconOwners', contacts: Array<string> }, properties: Array<{ __typename?: 'PropertyDefinition', name: string, type?: JsonType | null, description?: string | null }> }> } | { __typename?: 'RateLimitedError', retryAfterSeconds?: number | null } | null } };

export type ProfileActivityQueryVariables = Exact<{
  distinctId: Scalars['ID']['input'];
  from: Scalars['Date']['input'];
  to: Scalars['Date']['input'];
}>;


export type ProfileActivityQuery = { __typename?: 'Query', profile?: { __typename: 'InvalidArgumentError', message: string, code: string } | { __typename: 'NotFoundError', message: string, code: string } | { __typename: 'Profile', distinctId: string, email?: string | null, city?: string | null, country?: string | null, created?: string | null, propertyValues: Array<{ __typename?: 'PropertyValue', name: string, value?: unknown | null, definition?: { __typename?: 'PropertyDefinition', description?: string | null } | null }>, activity?: { __typename?: 'ActivityConnection', nodes: Array<{ __typename?: 'GenericEvent', name: string, time: string, definition?: { __typename?: 'EventDefinition', displayName?: string | null } | null }> } | { __typename?: 'InvalidArgumentError', message: string } | { __typename?: 'RateLimitedError', message: string } | null } | { __typename: 'RateLimitedError', message: string, code: string } | null };

export type ProfilesWithCohortsQueryVariables = Exact<{
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  where?: InputMaybe<Scalars['String']['input']>;
}>;


export type ProfilesWithCohortsQuery = { __typename?: 'Query', profiles?: { __typename: 'InvalidArgumentError', message: string, code: string } | { __typename: 'ProfileConnection', totalCount?: number | null, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null }, edges: Array<{ __typename?: 'ProfileEdge', node: { __typename?: 'Profile', distinctId: string, email?: string | null, name?: string | null, country?: string | null, lastSeen?: string | null, cohorts?: { __typename?: 'CohortConnection', nodes: Array<{ __typename?: 'Cohort', id: string, name: string }> } | { __typename?: 'InvalidArgumentError', message: string } | { __typename?: 'RateLimitedError', message: string } | null } }> } | { __typename: 'RateLimitedError', message: string, code: string } | null };

export type ProjectBudgetQueryVariables = Exact<{ [key: string]: never; }>;


export type ProjectBudgetQuery = { __typename?: 'Query', project: { __typename?: 'Project', id: string, key: string, region: Region, rateLimits: Array<{ __typename?: 'RateLimit', family: ApiFamily, used: number, limit?: number | null, window?: RateLimitWindow | null, windowResetsAt?: string | null, inFlight: number, queued: number }> } };

export type SignUpsByMethodQueryVariables = Exact<{
  from: Scalars['Date']['input'];
  to: Scalars['Date']['input'];
}>;


export type SignUpsByMethodQuery = { __typename?: 'Query', segmentation?: { __typename: 'InvalidArgumentError', message: string, code: string } | { __typename: 'RateLimitedError', retryAfterSeconds?: number | null, message: string, code: string } | { __typename: 'Series', series: Array<string>, segments: Array<{ __typename?: 'Segment', name: string, total: number, points: Array<{ __typename?: 'Point', date: string, value: number }> }> } | null };


export const AnnotationsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Annotations"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"annotations"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AnnotationConnection"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"date"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"firstName"}},{"kind":"Field","name":{"kind":"Name","value":"lastName"}}]}},{"kind":"Field","name":{"kind":"Name","value":"tags"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<AnnotationsQuery, AnnotationsQueryVariables>;
export const CohortChangesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"CohortChanges"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"cohortIds"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cohortMembershipChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"cohortIds"},"value":{"kind":"Variable","name":{"kind":"Name","value":"cohortIds"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cohortId"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"page"}},{"kind":"Field","name":{"kind":"Name","value":"totalPages"}},{"kind":"Field","name":{"kind":"Name","value":"members"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"distinctId"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"firstName"}}]}},{"kind":"Field","name":{"kind":"Name","value":"cohort"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]} as unknown as DocumentNode<CohortChangesSubscription, CohortChangesSubscriptionVariables>;
export const CohortMembersDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"CohortMembers"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"cohortId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"10"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cohorts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CohortConnection"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"count"}},{"kind":"Field","name":{"kind":"Name","value":"sync"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncAt"}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"RateLimitedError"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"cohort"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"cohortId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Cohort"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"members"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ProfileConnection"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"distinctId"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<CohortMembersQuery, CohortMembersQueryVariables>;
export const RecentEventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"RecentEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"from"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Date"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"to"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Date"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"names"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"25"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"events"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"from"},"value":{"kind":"Variable","name":{"kind":"Name","value":"from"}}},{"kind":"Argument","name":{"kind":"Name","value":"to"},"value":{"kind":"Variable","name":{"kind":"Name","value":"to"}}},{"kind":"Argument","name":{"kind":"Name","value":"names"},"value":{"kind":"Variable","name":{"kind":"Name","value":"names"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"EventConnection"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"time"}},{"kind":"Field","name":{"kind":"Name","value":"distinctId"}},{"kind":"Field","name":{"kind":"Name","value":"definition"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"description"}}]}},{"kind":"Field","name":{"kind":"Name","value":"profile"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"email"}}]}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<RecentEventsQuery, RecentEventsQueryVariables>;
export const FunnelConversionDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"FunnelConversion"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"funnelId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"from"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Date"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"to"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Date"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"funnels"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"FunnelSummaryConnection"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"funnel"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"funnelId"}}},{"kind":"Argument","name":{"kind":"Name","value":"from"},"value":{"kind":"Variable","name":{"kind":"Name","value":"from"}}},{"kind":"Argument","name":{"kind":"Name","value":"to"},"value":{"kind":"Variable","name":{"kind":"Name","value":"to"}}},{"kind":"Argument","name":{"kind":"Name","value":"unit"},"value":{"kind":"EnumValue","value":"DAY"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"FunnelReport"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"days"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"date"}},{"kind":"Field","name":{"kind":"Name","value":"startingAmount"}},{"kind":"Field","name":{"kind":"Name","value":"completion"}},{"kind":"Field","name":{"kind":"Name","value":"steps"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"event"}},{"kind":"Field","name":{"kind":"Name","value":"count"}},{"kind":"Field","name":{"kind":"Name","value":"stepConversion"}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<FunnelConversionQuery, FunnelConversionQueryVariables>;
export const LexiconEventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"LexiconEvents"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"lexicon"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"events"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"EventDefinitionConnection"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"tags"}},{"kind":"Field","name":{"kind":"Name","value":"owners"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"contacts"}}]}},{"kind":"Field","name":{"kind":"Name","value":"properties"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"description"}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"RateLimitedError"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}}]}}]}}]}}]} as unknown as DocumentNode<LexiconEventsQuery, LexiconEventsQueryVariables>;
export const ProfileActivityDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ProfileActivity"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"distinctId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"from"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Date"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"to"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Date"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"profile"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"distinctId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"distinctId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Profile"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"distinctId"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"city"}},{"kind":"Field","name":{"kind":"Name","value":"country"}},{"kind":"Field","name":{"kind":"Name","value":"created"}},{"kind":"Field","name":{"kind":"Name","value":"propertyValues"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"definition"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"description"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"activity"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"from"},"value":{"kind":"Variable","name":{"kind":"Name","value":"from"}}},{"kind":"Argument","name":{"kind":"Name","value":"to"},"value":{"kind":"Variable","name":{"kind":"Name","value":"to"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ActivityConnection"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"time"}},{"kind":"Field","name":{"kind":"Name","value":"definition"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"displayName"}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"NotFoundError"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<ProfileActivityQuery, ProfileActivityQueryVariables>;
export const ProfilesWithCohortsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ProfilesWithCohorts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"20"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"where"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"profiles"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"where"},"value":{"kind":"Variable","name":{"kind":"Name","value":"where"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ProfileConnection"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"distinctId"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"country"}},{"kind":"Field","name":{"kind":"Name","value":"lastSeen"}},{"kind":"Field","name":{"kind":"Name","value":"cohorts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CohortConnection"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<ProfilesWithCohortsQuery, ProfilesWithCohortsQueryVariables>;
export const ProjectBudgetDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ProjectBudget"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"project"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"region"}},{"kind":"Field","name":{"kind":"Name","value":"rateLimits"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"family"}},{"kind":"Field","name":{"kind":"Name","value":"used"}},{"kind":"Field","name":{"kind":"Name","value":"limit"}},{"kind":"Field","name":{"kind":"Name","value":"window"}},{"kind":"Field","name":{"kind":"Name","value":"windowResetsAt"}},{"kind":"Field","name":{"kind":"Name","value":"inFlight"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}}]}}]}}]}}]} as unknown as DocumentNode<ProjectBudgetQuery, ProjectBudgetQueryVariables>;
export const SignUpsByMethodDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SignUpsByMethod"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"from"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Date"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"to"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Date"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"segmentation"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"event"},"value":{"kind":"StringValue","value":"Sign Up","block":false}},{"kind":"Argument","name":{"kind":"Name","value":"from"},"value":{"kind":"Variable","name":{"kind":"Name","value":"from"}}},{"kind":"Argument","name":{"kind":"Name","value":"to"},"value":{"kind":"Variable","name":{"kind":"Name","value":"to"}}},{"kind":"Argument","name":{"kind":"Name","value":"on"},"value":{"kind":"StringValue","value":"properties[\"signup_method\"]","block":true}},{"kind":"Argument","name":{"kind":"Name","value":"unit"},"value":{"kind":"EnumValue","value":"DAY"}},{"kind":"Argument","name":{"kind":"Name","value":"limit"},"value":{"kind":"IntValue","value":"5"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Series"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"series"}},{"kind":"Field","name":{"kind":"Name","value":"segments"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"points"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"date"}},{"kind":"Field","name":{"kind":"Name","value":"value"}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"RateLimitedError"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<SignUpsByMethodQuery, SignUpsByMethodQueryVariables>;