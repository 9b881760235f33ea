/**
 * Profile and group updates for /engage and /groups: each input update
 * checked before anything is sent and split into one Mixpanel update per
 * operation (the official SDKs send one operation per update object).
 * https://developer.mixpanel.com/reference/profile-set (and the other operations),
 * https://developer.mixpanel.com/reference/group-set-property,
 * https://developer.mixpanel.com/reference/user-profile-limits.
 */
import type { GroupUpdate, ProfileOperation, ProfileUpdate } from '../mixpanel/types.js';
import { distinctIdProblem, propertiesProblem, type EventProblem } from './events.js';
import { MAX_NAME_LENGTH, MAX_UPDATE_BYTES, jsonBytes } from './limits.js';

export interface ProfileOperationsShape {
  readonly set?: unknown;
  readonly setOnce?: unknown;
  readonly add?: unknown;
  readonly union?: unknown;
  readonly append?: unknown;
  readonly remove?: unknown;
  readonly unset?: readonly string[] | null | undefined;
  readonly delete?: boolean | null | undefined;
}

export interface ProfileUpdateShape extends ProfileOperationsShape {
  readonly distinctId: string | number;
}

export interface GroupUpdateShape extends ProfileOperationsShape {
  readonly groupKey: string;
  readonly groupId: string | number;
}

/** Input field → Mixpanel operation, in the order they are sent. */
const OPERATIONS: readonly (readonly [keyof ProfileOperationsShape, ProfileOperation])[] = [
  ['setOnce', '$set_once'],
  ['set', '$set'],
  ['add', '$add'],
  ['union', '$union'],
  ['append', '$append'],
  ['remove', '$remove'],
  ['unset', '$unset'],
  ['delete', '$delete'],
];

/**
 * Operations that change nothing when applied twice, so the budget may retry
 * them after a timeout or a 5xx. `$add` adds again, `$append` appends again,
 * and `$remove` removes one more occurrence: those are sent once.
 */
export const REPLAY_SAFE_OPERATIONS: ReadonlySet<ProfileOperation> = new Set(['$set', '$set_once', '$union', '$unset', '$delete']);

/** Room for `$token`, which the client adds to every update. */
const TOKEN_MARGIN_BYTES = 256;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export interface PreparedUpdate<U> {
  readonly update: U;
  readonly operation: ProfileOperation;
}

/** The operations of one update, or the first problem (`field` relative to the update). */
function operationsOf(
  input: ProfileOperationsShape,
  allowed: ReadonlySet<ProfileOperation>,
): { readonly operations: [ProfileOperation, unknown][] } | { readonly problem: EventProblem } {
  const operations: [ProfileOperation, unknown][] = [];
  for (const [field, operation] of OPERATIONS) {
    const value = input[field];
    if (value === null || value === undefined || value === false) continue;
    if (!allowed.has(operation)) return { problem: { field, message: `${field} is not an operation of this endpoint` } };
    if (field === 'delete') {
      operations.push([operation, null]);
      continue;
    }
    if (field === 'unset') {
      const names = value as readonly string[];
      if (names.length === 0) return { problem: { field, message: 'unset must name at least one property' } };
      const bad = names.find((name) => name.trim() === '' || name.length > MAX_NAME_LENGTH);
      if (bad !== undefined) return { problem: { field, message: `unset names an invalid property ${JSON.stringify(bad.slice(0, 40))}` } };
      operations.push([operation, [...new Set(names)]]);
      continue;
    }
    if (!isObject(value)) return { problem: { field, message: `${field} must be a JSON object of property names to values` } };
    if (Object.keys(value).length === 0) return { problem: { field, message: `${field} must name at least one property` } };
    const problem = propertiesProblem(value, field);
    if (problem) return { problem };
    for (const [name, argument] of Object.entries(value)) {
      if (operation === '$add' && (typeof argument !== 'number' || !Number.isFinite(argument))) {
        return { problem: { field: `${field}.${name}`, message: `add.${name} must be a number (the amount to add)` } };
      }
      if (operation === '$union' && !Array.isArray(argument)) {
        return { problem: { field: `${field}.${name}`, message: `union.${name} must be a list of values to merge in` } };
      }
    }
    operations.push([operation, value]);
  }
  if (operations.length === 0)
    return { problem: { field: 'set', message: 'an update needs at least one operation (set, setOnce, add, union, append, remove, unset or delete)' } };
  if (operations.some(([operation]) => operation === '$delete') && operations.length > 1) {
    return { problem: { field: 'delete', message: 'delete removes the whole profile: it cannot be combined with other operations' } };
  }
  return { operations };
}

function sized<U>(updates: PreparedUpdate<U>[]): { readonly updates: PreparedUpdate<U>[] } | { readonly problem: EventProblem } {
  for (const { update, operation } of updates) {
    if (jsonBytes(update) + TOKEN_MARGIN_BYTES > MAX_UPDATE_BYTES)
      return { problem: { field: operation, message: 'each operation of an update must be smaller than 1 MB of JSON' } };
  }
  return { updates };
}

const USER_OPERATIONS: ReadonlySet<ProfileOperation> = new Set(OPERATIONS.map(([, operation]) => operation));
/** /groups has no `$add` or `$append` (ingestion spec). */
const GROUP_OPERATIONS: ReadonlySet<ProfileOperation> = new Set(['$set', '$set_once', '$union', '$remove', '$unset', '$delete']);

export function prepareProfileUpdate(input: ProfileUpdateShape): { readonly updates: PreparedUpdate<ProfileUpdate>[] } | { readonly problem: EventProblem } {
  const distinctId = String(input.distinctId);
  if (distinctId.trim() === '') return { problem: { field: 'distinctId', message: 'distinctId must not be empty' } };
  const idProblem = distinctIdProblem(distinctId, 'distinctId');
  if (idProblem) return { problem: idProblem };
  const result = operationsOf(input, USER_OPERATIONS);
  if ('problem' in result) return result;
  return sized(result.operations.map(([operation, value]) => ({ operation, update: { $distinct_id: distinctId, [operation]: value } as ProfileUpdate })));
}

export function prepareGroupUpdate(input: GroupUpdateShape): { readonly updates: PreparedUpdate<GroupUpdate>[] } | { readonly problem: EventProblem } {
  const groupKey = input.groupKey;
  if (groupKey.trim() === '' || groupKey.length > MAX_NAME_LENGTH)
    return { problem: { field: 'groupKey', message: `groupKey must be 1 to ${MAX_NAME_LENGTH} characters` } };
  const groupId = String(input.groupId);
  if (groupId.trim() === '' || groupId.length > MAX_NAME_LENGTH)
    return { problem: { field: 'groupId', message: `groupId must be 1 to ${MAX_NAME_LENGTH} characters` } };
  const result = operationsOf(input, GROUP_OPERATIONS);
  if ('problem' in result) return result;
  return sized(
    result.operations.map(([operation, value]) => ({ operation, update: { $group_key: groupKey, $group_id: groupId, [operation]: value } as GroupUpdate })),
  );
}
