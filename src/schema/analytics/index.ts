/**
 * Mixpanel's Query API reports as typed series: segmentation, event and
 * property counts, funnels, retention and saved Insights reports. Every
 * report field is generated from one table, REPORTS (name, description,
 * arguments, endpoint, parameter mapping, result type). Each is one Query
 * call (60 an hour per project), so each costs 20 in the complexity
 * estimate, and fails only with InvalidArgumentError or RateLimitedError;
 * answers over closed date ranges are cached long.
 *
 * This file registers the table's rows as Query fields; the rows are in
 * `reports.ts`, their shared arguments in `args.ts`, the argument checks in
 * `params.ts`, the answer types in `results.ts`.
 */
import { builder } from '../builder.js';
import { failures } from '../errors.js';
import { analytics } from '../loaders.js';
import { REPORTS } from './reports.js';

const REPORT_COST = 20;

// Each report is one field: nullable, one Query call, and its failures are a refused argument or a spent budget.
builder.queryFields((t) =>
  Object.fromEntries(
    Object.entries(REPORTS).map(([name, spec]) => [
      name,
      t.field({
        type: spec.type,
        nullable: true,
        complexity: REPORT_COST,
        description: spec.description,
        ...(spec.deprecationReason === undefined ? {} : { deprecationReason: spec.deprecationReason }),
        args: spec.args,
        errors: { types: failures(Object.keys(spec.args).length === 0 ? 'upstream' : 'arguments') },
        resolve: async (_root, args, ctx) => spec.result(await analytics(ctx, spec.endpoint, spec.params(ctx, args))),
      }),
    ]),
  ),
);
