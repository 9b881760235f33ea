/**
 * The cost estimate and the complexity check are linear in the document:
 * a fragment bomb (each fragment spreading the previous one twice, 2^40
 * expansions if walked naively) is estimated by walking each fragment once,
 * and an operation over the complexity limit gets exactly one error,
 * however many root fields it has.
 */
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';
import { estimateUpstreamCost } from '../src/schema/cost.js';
import { complexityError } from '../src/server/plugins/use-admission-control.js';
import { createTestApp } from './helpers/app.js';

/** F0 selects a profile; Fk spreads F(k-1) twice, so F40 names 2^40 profile selections. */
function fragmentBomb(levels: number): string {
  const fragments = [`fragment F0 on Query { profile(distinctId: "a") { __typename } cohorts { __typename } }`];
  for (let k = 1; k <= levels; k++) fragments.push(`fragment F${k} on Query { ...F${k - 1} ...F${k - 1} }`);
  return `query Bomb { ...F${levels} }\n${fragments.join('\n')}`;
}

describe('cost estimate', () => {
  it('estimates a fragment bomb by walking each fragment once per parent type', () => {
    const document = parse(fragmentBomb(40));
    const cost = estimateUpstreamCost(schema, document, 'Bomb', {}, { countEngageFollowOnPages: true });
    // One engage call (every profile merges) and one cohorts list, however many times they are spread.
    expect(cost).toEqual({ query: { calls: 2, hourlyCalls: 2 } });
  });

  it('counts plain charts of one range as the one /events call they merge into, and segmentations by a property one each', () => {
    const chart = (alias: string, event: string, extra = '') =>
      `${alias}: segmentation(event: "${event}", from: "2026-01-01", to: "2026-01-30"${extra}) { __typename }`;
    const plain = Array.from({ length: 61 }, (_, i) => chart(`c${i}`, `E${i}`)).join('\n');
    const counts = `counts: eventCounts(events: ["X", "Y"], from: "2026-01-01", to: "2026-01-30") { __typename }`;
    const byProperty = [chart('p1', 'A', ', on: "properties[\\"plan\\"]"'), chart('p2', 'B', ', on: "properties[\\"plan\\"]"')].join('\n');
    const otherRange = `later: segmentation(event: "A", from: "2026-02-01", to: "2026-02-02") { __typename }`;
    const cost = estimateUpstreamCost(
      schema,
      parse(`{ ${plain}\n${counts}\n${byProperty}\n${otherRange} }`),
      undefined,
      {},
      { countEngageFollowOnPages: true },
    );
    // One /events call for the 61 plain charts and the eventCounts of January, one for February, one /segmentation per property chart.
    expect(cost).toEqual({ query: { calls: 4, hourlyCalls: 4 } });
  });

  it('checks the complexity of a fragment bomb once, memoised per selection set', () => {
    const error = complexityError(schema, parse(fragmentBomb(40)), 'Bomb', {}, {});
    expect(error?.message).toMatch(/complexity/);
  });

  it('answers an operation over the complexity limit with one error, whatever the number of root fields, before any upstream call', async () => {
    // The document limits (tokens, aliases) would refuse this operation first: raised here so the complexity check is the one that answers.
    const gw = await createTestApp({ env: { MAX_TOKENS: '100000', MAX_ALIASES: '1000', MAX_SELECTIONS: '100000' } });
    const before = gw.emulator.calls('/api/query');
    const fields = Array.from({ length: 300 }, (_, i) => `p${i}: profiles(first: 1000) { ... on ProfileConnection { edges { node { email } } } }`);
    const result = await gw.query(`{ ${fields.join('\n')} }`);
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.message).toMatch(/complexity/);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'QUERY_COMPLEXITY' });
    expect(gw.emulator.calls('/api/query')).toBe(before);
  });
});
