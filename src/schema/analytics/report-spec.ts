/**
 * The shape of one row of the REPORTS table, and the constructor that checks
 * a row's types against its endpoint.
 */
import type { InputFieldMap, InputShapeFromFields, ObjectRef } from '@pothos/core';
import type { EndpointName, ParamsOf, ResultOf } from '../../upstream/endpoints.js';
import type { BuilderTypes } from '../builder.js';
import type { Context } from '../context.js';

/**
 * One report field: one Query call to `endpoint` with the parameters `params`
 * makes of the (validated) arguments, and the answer reshaped by `result`.
 */
export interface Report<Args extends InputFieldMap, E extends EndpointName, Shape> {
  readonly description: string;
  readonly type: ObjectRef<BuilderTypes, Shape>;
  readonly args: Args;
  readonly endpoint: E;
  /** Validates the arguments (throwing InvalidArgumentError) into Mixpanel's parameters. */
  readonly params: (ctx: Context, args: InputShapeFromFields<Args>) => ParamsOf<E>;
  readonly result: (response: ResultOf<E>) => Shape;
  readonly deprecationReason?: string;
}

export type AnyReport = Report<InputFieldMap, EndpointName, unknown>;

/** Checks one report's types against its endpoint; the table then holds them alike. */
export const report = <Args extends InputFieldMap, E extends EndpointName, Shape>(spec: Report<Args, E, Shape>): AnyReport => spec as unknown as AnyReport;
