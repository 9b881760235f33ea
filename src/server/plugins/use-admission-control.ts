/**
 * Admission control: refuses, before any resolver runs and so before any
 * call is sent, an operation that could not be served within one request
 * even from an empty budget.
 *
 * The rule, per rate-limit family: an operation is refused when the calls
 * it certainly makes uncached (src/schema/cost.ts, a lower bound) exceed
 * what the family's limits allow between now and the request deadline,
 * counted from an empty window: `limit × (1 + ⌊deadline / window⌋)` for each
 * window (hour, minute, second; engage follow-on pages the project does not
 * count skip the hour). With the documented limits and a deadline of
 * seconds, that is more than 60 Query or Export calls, more than 3 × (1 +
 * seconds) Export calls, or more than 5 Lexicon calls in one operation.
 *
 * The rule never looks at how much of the window is already used: the
 * data may be cached (served without budget), and the budget already fails
 * each uncached field fast, on its own, when its call cannot be sent before
 * the deadline, so one field refused never sinks the rest. Such an
 * operation is refused only when even cached pieces could not make it
 * servable without spending more than a whole window, which splitting it
 * into smaller operations fixes; retrying it unchanged never does.
 */
import { createComplexityRule } from '@pothos/plugin-complexity';
import { validate, type DocumentNode, type GraphQLError, type GraphQLSchema } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { FamilyLimits } from '../../config/types.js';
import type { Context } from '../../schema/context.js';
import { WINDOW_MS, type WindowName } from '../../limits/defaults.js';
import type { ApiFamily } from '../../mixpanel/types.js';
import { DEFAULT_COMPLEXITY_LIMIT } from '../../schema/builder.js';
import { estimateUpstreamCost, type FamilyCost, type OperationCost } from '../../schema/cost.js';

/** `extensions.code` of an operation refused by admission control. */
export const BUDGET_EXCEEDED = 'BUDGET_EXCEEDED';

export interface AdmissionControlOptions {
  /** Clock (epoch ms) the request deadline is measured on. Default Date.now. */
  readonly now?: () => number;
}

/** Why an operation was refused: the first family and window its calls cannot fit. */
export interface AdmissionRefusal {
  readonly family: ApiFamily;
  readonly window: WindowName;
  /** The window's limit. */
  readonly limit: number;
  /** Calls the operation certainly makes uncached that this window counts. */
  readonly estimatedCalls: number;
  /** The most such calls the window lets through before the deadline. */
  readonly capacity: number;
}

const LIMIT_OF: Readonly<Record<WindowName, keyof FamilyLimits>> = { hour: 'perHour', minute: 'perMinute', second: 'perSecond' };
const WINDOWS: readonly WindowName[] = ['hour', 'minute', 'second'];

/** The first window of any family the estimated calls cannot fit in `durationMs`, or undefined when all fit. */
export function admissionRefusal(cost: OperationCost, limitsOf: (family: ApiFamily) => FamilyLimits, durationMs: number): AdmissionRefusal | undefined {
  for (const [family, familyCost] of Object.entries(cost) as [ApiFamily, FamilyCost][]) {
    const limits = limitsOf(family);
    for (const window of WINDOWS) {
      const limit = limits[LIMIT_OF[window]];
      if (limit === undefined) continue;
      const estimatedCalls = window === 'hour' ? familyCost.hourlyCalls : familyCost.calls;
      const capacity = Math.max(0, limit) * (1 + Math.floor(Math.max(0, durationMs) / WINDOW_MS[window]));
      if (estimatedCalls > capacity) return { family, window, limit, estimatedCalls, capacity };
    }
  }
  return undefined;
}

/**
 * The operation's complexity (depth, breadth and the fields' `complexity`
 * weights, as the Pothos complexity plugin computes them: memoised per
 * selection set, so linear in the document) checked once per operation:
 * an operation over the limit gets one error, however many root fields it has.
 */
export function complexityError(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  context: object,
  limit: { readonly complexity: number; readonly depth: number; readonly breadth: number } = DEFAULT_COMPLEXITY_LIMIT,
): GraphQLError | undefined {
  let first: GraphQLError | undefined;
  const rule = createComplexityRule({
    variableValues: { ...variables },
    operationName: operationName ?? undefined,
    context,
    // Only the limits are ours to report: invalid variables and the like are execution's (a 400, as before).
    validate(state) {
      if (state.complexity > limit.complexity)
        first ??= createGraphQLError(`Query complexity of ${state.complexity} exceeds max complexity of ${limit.complexity}`, {
          extensions: { code: 'QUERY_COMPLEXITY', queryComplexity: { max: limit.complexity, actual: state.complexity } },
        });
      else if (state.depth > limit.depth)
        first ??= createGraphQLError(`Query depth of ${state.depth} exceeds max depth of ${limit.depth}`, {
          extensions: { code: 'QUERY_DEPTH', queryDepth: { max: limit.depth, actual: state.depth } },
        });
      else if (state.breadth > limit.breadth)
        first ??= createGraphQLError(`Query breadth of ${state.breadth} exceeds max breadth of ${limit.breadth}`, {
          extensions: { code: 'QUERY_BREADTH', queryBreadth: { max: limit.breadth, actual: state.breadth } },
        });
    },
  });
  validate(schema, document, [rule]);
  return first;
}

export function useAdmissionControl(options: AdmissionControlOptions = {}): Plugin<Context> {
  const now = options.now ?? Date.now;
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = complexityError(args.schema, args.document, args.operationName, args.variableValues, args.contextValue as object);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    async onExecute({ args, setResultAndStopExecution }) {
      const complexity = complexityError(args.schema, args.document, args.operationName, args.variableValues, args.contextValue as object);
      if (complexity) {
        setResultAndStopExecution({ data: null, errors: [complexity] });
        return;
      }
      const context = args.contextValue as Context;
      const { config, budget } = context.project;
      const cost = estimateUpstreamCost(args.schema, args.document, args.operationName, args.variableValues, {
        countEngageFollowOnPages: config.countEngageFollowOnPages,
      });
      if (!cost) return;
      context.stats.estimatedCalls = Object.fromEntries(Object.entries(cost).map(([family, familyCost]) => [family, familyCost.calls]));
      const refusal = admissionRefusal(cost, (family) => config.limits[family] ?? {}, context.upstream.deadline - now());
      if (!refusal) return;
      const snapshot = await budget.snapshot(refusal.family);
      const used = snapshot.window === refusal.window ? snapshot.used : undefined;
      const error = createGraphQLError(
        `This operation needs at least ${refusal.estimatedCalls} Mixpanel ${refusal.family} calls when nothing is cached, ` +
          `more than the project's limit of ${refusal.limit} per ${refusal.window} lets through in one request. ` +
          'Nothing was sent; split it into smaller operations.',
        {
          extensions: {
            code: BUDGET_EXCEEDED,
            family: refusal.family,
            window: refusal.window,
            limit: refusal.limit,
            estimatedCalls: refusal.estimatedCalls,
            ...(used === undefined ? {} : { used, remaining: Math.max(0, refusal.limit - used) }),
          },
        },
      );
      setResultAndStopExecution({ data: null, errors: [error] });
    },
  };
}
