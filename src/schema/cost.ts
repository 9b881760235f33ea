/**
 * What an operation costs upstream when nothing is cached, estimated before
 * it runs (admission control: src/server/plugins/use-admission-control.ts).
 *
 * The estimate is a lower bound, so that refusing on it is never wrong:
 * - Only calls the operation certainly makes are counted: the root fields
 *   (and the fields of non-null namespace objects such as `lexicon`) that
 *   send a REST call whenever they resolve. Nested fields are not counted: a
 *   list may be empty, a nullable parent null, a cohort synced by webhook
 *   free, so they may cost nothing.
 * - Calls the runtime shares count once: the same endpoint with the same
 *   arguments (nulls dropped), every `profile` of the operation (one batched
 *   engage call), every cohort lookup (the one cohorts list).
 * - An engage read after the first page counts against the hourly limit
 *   only when the project says follow-on pages do.
 *
 * Each field is described in FIELD_COSTS by its schema coordinate; fields
 * that send nothing are listed in FREE_ROOT_FIELDS, so a new root field
 * must be costed here (test/gateway-budget.test.ts checks it).
 */
import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getArgumentValues,
  getDirectiveValues,
  getOperationAST,
  getVariableValues,
  isAbstractType,
  isNonNullType,
  isObjectType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type SelectionSetNode,
} from 'graphql';
import { canonicalJson } from '../cache/keys.js';
import type { ApiFamily } from '../mixpanel/types.js';
import type { SegmentationParams } from '../mixpanel/types.js';
import { familyOf, isPlainSegmentation, type EndpointName } from '../upstream/endpoints.js';

/** One upstream call an operation certainly makes when nothing is cached. */
export interface UpstreamCall {
  readonly family: ApiFamily;
  /** Calls with the same key are one call (shared in flight or served by one batch). */
  readonly key: string;
  /** False for engage follow-on pages the project does not count against the hourly limit. */
  readonly countsAgainstHourly: boolean;
}

export interface CostOptions {
  /** Whether engage pages after the first count against the hourly Query limit (ProjectConfig.countEngageFollowOnPages). */
  readonly countEngageFollowOnPages: boolean;
}

/** Distinct calls of one family: all of them, and those counting against the hourly limit. */
export interface FamilyCost {
  readonly calls: number;
  readonly hourlyCalls: number;
}

/** Lower bound of an operation's uncached upstream calls, per family (families it does not use are absent). */
export type OperationCost = Partial<Record<ApiFamily, FamilyCost>>;

type Args = Record<string, unknown>;
type FieldCost = (args: Args, options: CostOptions, occurrence: number) => readonly UpstreamCall[];

/** Arguments as part of a key: nulls dropped, as the resolvers drop them before calling. */
const argsKey = (args: Args): string => canonicalJson(Object.fromEntries(Object.entries(args).filter(([, value]) => value !== null)));

const without = (args: Args, ...names: string[]): Args => Object.fromEntries(Object.entries(args).filter(([name]) => !names.includes(name)));

const call = (family: ApiFamily, key: string, countsAgainstHourly = true): UpstreamCall => ({ family, key, countsAgainstHourly });

/** A report field: one call of `endpoint` per distinct set of arguments. */
const report =
  (field: string, endpoint: EndpointName): FieldCost =>
  (args) => [call(familyOf(endpoint), `${field}:${argsKey(args)}`)];

/** A field served by one shared call of `endpoint`, whatever its arguments. */
const shared =
  (endpoint: EndpointName, key: string = endpoint): FieldCost =>
  () => [call(familyOf(endpoint), key)];

/** Arguments without their nulls, as the resolvers pass them on. */
const present = (args: Args): Args => Object.fromEntries(Object.entries(args).filter(([, value]) => value !== null && value !== undefined));

/**
 * Plain segmentations and eventCounts of one (type, unit, range), of any
 * request, merge into /events calls (src/upstream/event-counts.ts): one call
 * per range is certain, however many events.
 */
const eventCountsOfRange: FieldCost = (args) => {
  const { type = 'general', unit = 'day', from, to } = present(args);
  return [call(familyOf('events'), `events:${argsKey({ type, unit, from, to })}`)];
};

const segmentation: FieldCost = (args, options, occurrence) =>
  isPlainSegmentation(present(args) as unknown as SegmentationParams)
    ? eventCountsOfRange(args, options, occurrence)
    : report('segmentation', 'segmentation')(args, options, occurrence);

/** Report fields and the endpoint each one calls (src/upstream/endpoints.ts). */
const REPORT_FIELDS: Readonly<Record<string, EndpointName>> = {
  segmentationNumeric: 'segmentationNumeric',
  segmentationSum: 'segmentationSum',
  segmentationAverage: 'segmentationAverage',
  eventPropertyCounts: 'eventProperties',
  eventNames: 'eventsNames',
  topEvents: 'eventsTop',
  topPropertyNames: 'eventPropertiesTop',
  topPropertyValues: 'eventPropertyValues',
  funnel: 'funnels',
  retention: 'retention',
  retentionFrequency: 'retentionAddiction',
  insights: 'insights',
};

export const FIELD_COSTS: Readonly<Record<string, FieldCost>> = {
  ...Object.fromEntries(Object.entries(REPORT_FIELDS).map(([name, endpoint]) => [`Query.${name}`, report(name, endpoint)])),
  'Query.segmentation': segmentation,
  'Query.eventCounts': eventCountsOfRange,
  'Query.funnels': shared('funnelsList'),
  'Query.cohort': shared('cohortsList'),
  'Query.cohorts': shared('cohortsList'),
  // Every `profile` of an operation (of every request, even) merges into engage calls of up to 1000 ids.
  'Query.profile': shared('engage', 'engage:byDistinctId'),
  'Query.groupProfile': (args) => [call(familyOf('engage'), `engage:group:${argsKey(args)}`)],
  // Pages of one filter may come from the same engage page: `first` and `after` do not make a call distinct.
  'Query.profiles': (args, options) => [
    call(familyOf('engage'), `engage:${argsKey(without(args, 'first', 'after'))}`, args['after'] == null || options.countEngageFollowOnPages),
  ],
  // Export reads whole blocks, shared by nearby pages of one query.
  'Query.events': (args) => [call(familyOf('exportEvents'), `export:${argsKey(without(args, 'first', 'after'))}`)],
  'Query.annotations': (args) => [call(familyOf('annotationsList'), `annotationsList:${argsKey(args)}`)],
  'Query.annotation': (args) => [call(familyOf('annotationGet'), `annotationGet:${argsKey(args)}`)],
  'Lexicon.events': shared('lexiconList'),
  'Lexicon.eventDefinition': shared('lexiconList'),
  'Lexicon.profileProperties': shared('lexiconList'),
  'Lexicon.profileProperty': shared('lexiconList'),
  // Annotation writes are never shared: each occurrence is its own call.
  'Mutation.createAnnotation': (_args, _options, occurrence) => [call('app', `annotationCreate#${occurrence}`)],
  'Mutation.updateAnnotation': (_args, _options, occurrence) => [call('app', `annotationUpdate#${occurrence}`)],
  'Mutation.deleteAnnotation': (args) => [call('app', `annotationDelete:${argsKey(args)}`)],
  'Mutation.createAnnotationTag': (_args, _options, occurrence) => [call('app', `annotationTagCreate#${occurrence}`)],
  'Query.annotationTags': () => [call('app', 'annotationTags')],
  // Ingestion writes of an operation (and of every other client) are merged into shared batches (src/writes).
  'Mutation.importEvents': () => [call('ingestion', 'import')],
  'Mutation.mergeProfiles': () => [call('ingestion', 'import')],
  'Mutation.updateProfiles': () => [call('ingestion', 'engage')],
  'Mutation.updateGroupProfiles': () => [call('ingestion', 'groups')],
  // Lexicon edits are merged into one upload (the schemas they start from may be known already: no read is
  // certain); a schema deleted costs its own DELETE.
  ...Object.fromEntries(
    [
      'updateLexiconEventDefinition',
      'createEventDefinition',
      'updateEventDefinition',
      'createPropertyDefinition',
      'updatePropertyDefinition',
      'deletePropertyDefinition',
    ].map((name) => [`Mutation.${name}`, (() => [call('lexicon', 'lexiconUpload')]) satisfies FieldCost]),
  ),
  'Mutation.deleteEventDefinition': (args) => [call('lexicon', `lexiconDelete:${argsKey(without(args, 'idempotencyKey'))}`)],
};

/** Root fields that send no call themselves; non-null object ones are namespaces whose fields are costed. */
export const FREE_ROOT_FIELDS: readonly string[] = ['Query.project', 'Query.lexicon'];

interface Walk {
  readonly schema: GraphQLSchema;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly variables: Record<string, unknown>;
  readonly options: CostOptions;
  /** The calls of each fragment per parent type, collected once: a spread reuses them instead of walking the fragment again. */
  readonly memo: Map<string, ReadonlyMap<string, UpstreamCall>>;
  /** Fragments being collected (a cycle is invalid; execution reports it). */
  readonly active: Set<string>;
  occurrences: number;
}

/**
 * The lower bound of an operation's uncached upstream calls, per family.
 * Undefined when the operation or its variables are invalid (execution
 * reports that itself) and for subscriptions (they cost per event, later).
 *
 * Linear in the document: each fragment is walked once per parent type it
 * is spread on, however often (and however deeply nested) it is spread.
 */
export function estimateUpstreamCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Readonly<Record<string, unknown>> | null | undefined,
  options: CostOptions,
): OperationCost | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation === 'subscription') return undefined;
  const rootType = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  if (!rootType) return undefined;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
  if (coerced.errors) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const walk: Walk = { schema, fragments, variables: coerced.coerced, options, memo: new Map(), active: new Set(), occurrences: 0 };
  const calls = new Map<string, UpstreamCall>();
  try {
    collect(walk, operation.selectionSet, rootType, calls);
  } catch {
    // Arguments that do not coerce: execution reports them.
    return undefined;
  }
  const cost: { [F in ApiFamily]?: { calls: number; hourlyCalls: number } } = {};
  for (const { family, countsAgainstHourly } of calls.values()) {
    const familyCost = cost[family] ?? { calls: 0, hourlyCalls: 0 };
    cost[family] = familyCost;
    familyCost.calls += 1;
    if (countsAgainstHourly) familyCost.hourlyCalls += 1;
  }
  return cost;
}

/** Adds a call; shared calls count once, and the cheaper reading wins so the estimate stays a lower bound. */
function add(calls: Map<string, UpstreamCall>, upstream: UpstreamCall): void {
  const known = calls.get(upstream.key);
  calls.set(upstream.key, known && !known.countsAgainstHourly ? known : upstream);
}

function collect(walk: Walk, selectionSet: SelectionSetNode, parentType: GraphQLObjectType, calls: Map<string, UpstreamCall>): void {
  for (const selection of selectionSet.selections) {
    if (!isIncluded(selection, walk.variables)) continue;
    if (selection.kind === Kind.FIELD) collectField(walk, selection, parentType, calls);
    else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (appliesTo(walk.schema, selection.typeCondition?.name.value, parentType)) collect(walk, selection.selectionSet, parentType, calls);
    } else {
      const fragment = walk.fragments.get(selection.name.value);
      if (!fragment || walk.active.has(fragment.name.value) || !appliesTo(walk.schema, fragment.typeCondition.name.value, parentType)) continue;
      const memoKey = `${fragment.name.value}\u0000${parentType.name}`;
      let own = walk.memo.get(memoKey);
      if (!own) {
        const collected = new Map<string, UpstreamCall>();
        walk.active.add(fragment.name.value);
        collect(walk, fragment.selectionSet, parentType, collected);
        walk.active.delete(fragment.name.value);
        walk.memo.set(memoKey, collected);
        own = collected;
      }
      for (const upstream of own.values()) add(calls, upstream);
    }
  }
}

function collectField(walk: Walk, node: FieldNode, parentType: GraphQLObjectType, calls: Map<string, UpstreamCall>): void {
  const field = parentType.getFields()[node.name.value];
  if (!field) return;
  const cost = FIELD_COSTS[`${parentType.name}.${field.name}`];
  if (cost) {
    const args = getArgumentValues(field, node, walk.variables);
    for (const upstream of cost(args, walk.options, walk.occurrences++)) add(calls, upstream);
    return;
  }
  // A non-null object always resolves: its costed fields are as certain as the root's.
  if (node.selectionSet && isNonNullType(field.type) && isObjectType(field.type.ofType)) {
    collect(walk, node.selectionSet, field.type.ofType, calls);
  }
}

function isIncluded(node: FieldNode | InlineFragmentNode | FragmentSpreadNode, variables: Record<string, unknown>): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.['if'] === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.['if'] !== false;
}

function appliesTo(schema: GraphQLSchema, typeCondition: string | undefined, type: GraphQLObjectType): boolean {
  if (typeCondition === undefined || typeCondition === type.name) return true;
  const condition = schema.getType(typeCondition);
  return condition !== undefined && isAbstractType(condition) && schema.isSubType(condition, type);
}
