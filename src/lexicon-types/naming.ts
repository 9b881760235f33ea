/**
 * The GraphQL names of Lexicon events (object types) and properties (fields).
 *
 * A published name must never change, so a name depends on the Mixpanel
 * name alone: never on which other names the project documents, their order,
 * or their types. Adding an event or a property renames nothing.
 *
 * 1. Names in the house style map without a suffix:
 *    - events in Title Case: words of an ASCII capital followed by lowercase
 *      letters or digits, one space apart (`Sign Up` → `SignUp`,
 *      `Add To Cart` → `AddToCart`, `Purchase` → `Purchase`);
 *    - properties in snake_case: words of an ASCII lowercase letter followed
 *      by lowercase letters or digits, one `_` apart (`utm_source` →
 *      `utmSource`, `plan` → `plan`, `mp_country_code` → `mpCountryCode`);
 *    - Mixpanel's reserved names, `$` then snake_case, for events and
 *      properties alike: `_` then the PascalCase (types) or camelCase
 *      (fields) form (`$mp_web_page_view` → `_MpWebPageView`, `$browser` →
 *      `_browser`, `$current_url` → `_currentUrl`).
 *    Each of these is one-to-one: the original can be read back from the
 *    result, so two of them never meet.
 * 2. Every other name keeps a readable base and gets `_` plus the first 8 hex
 *    digits of the SHA-256 of the original name (UTF-8): `Plan Type` →
 *    `planType_<hash>`, `sign_up` (an event) → `SignUp_<hash>`, `注册` →
 *    `Unnamed_<hash>`, `` (empty) → `unnamed_<hash>`. The base is made of the
 *    runs of ASCII letters and digits (anything else separates words), `_`
 *    in front when it would start with a digit or the name starts with `$`.
 * 3. A house-style result equal to a reserved name (a type of the generic
 *    schema or a GraphQL built-in for types; a field of `Event` or `Profile`
 *    for fields) takes the suffix as in 2, e.g. the property `name` on an
 *    event → `name_<hash>`. Reserved names come from the generic schema,
 *    whose changes CI reviews in schema/schema.graphql: adding a type or an
 *    `Event`/`Profile` field there is the one change that can rename a typed
 *    name, and should be checked against documented names first.
 *
 * Results of 1 never contain `_` except a leading one, and results of 2 and 3
 * always end in `_` + 8 hex digits, so the two sets are disjoint. Two
 * different names could only meet in 2 or 3 through a 32-bit hash collision;
 * `assignNames` then leaves the later one (by Mixpanel name) out.
 */
import { createHash } from 'node:crypto';

export type NameKind = 'type' | 'field';

const TITLE_CASE_EVENT = /^[A-Z][a-z0-9]*(?: [A-Z][a-z0-9]*)*$/;
const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*$/;
const RESERVED_PREFIX = '$';
const HASH_DIGITS = 8;

const capitalize = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

function joinWords(words: readonly string[], kind: NameKind): string {
  const pascal = words.map(capitalize).join('');
  return kind === 'type' ? pascal : pascal.charAt(0).toLowerCase() + pascal.slice(1);
}

/** The suffix-free name when `name` is in the house style of its kind, else undefined. */
function houseStyleName(name: string, kind: NameKind): string | undefined {
  if (name.startsWith(RESERVED_PREFIX)) {
    const rest = name.slice(RESERVED_PREFIX.length);
    return SNAKE_CASE.test(rest) ? `_${joinWords(rest.split('_'), kind)}` : undefined;
  }
  if (kind === 'type') return TITLE_CASE_EVENT.test(name) ? name.split(' ').join('') : undefined;
  return SNAKE_CASE.test(name) ? joinWords(name.split('_'), kind) : undefined;
}

/** First 8 hex digits of SHA-256 of the name: the stable collision suffix. */
export function nameHash(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex').slice(0, HASH_DIGITS);
}

function suffixedName(name: string, kind: NameKind): string {
  const words = name.match(/[A-Za-z0-9]+/g) ?? [];
  let base = words.length === 0 ? joinWords(['unnamed'], kind) : joinWords(words, kind);
  if (name.startsWith(RESERVED_PREFIX) || /^[0-9]/.test(base)) base = `_${base}`;
  return `${base}_${nameHash(name)}`;
}

/**
 * The GraphQL name of one Mixpanel event (`kind: 'type'`) or property
 * (`kind: 'field'`), by the rule in this module's header. `reserved` holds
 * the names the result may not take (see rule 3).
 */
export function graphqlName(name: string, kind: NameKind, reserved: ReadonlySet<string>): string {
  const plain = houseStyleName(name, kind);
  return plain !== undefined && !reserved.has(plain) ? plain : suffixedName(name, kind);
}

export interface NameAssignment {
  /** GraphQL name by Mixpanel name. */
  readonly names: ReadonlyMap<string, string>;
  /** Mixpanel names left out because another name got the same GraphQL name (a hash collision). */
  readonly clashes: readonly string[];
}

/** GraphQL names for a set of Mixpanel names of one kind, without duplicates. */
export function assignNames(originals: Iterable<string>, kind: NameKind, reserved: ReadonlySet<string>): NameAssignment {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  const clashes: string[] = [];
  for (const original of [...new Set(originals)].sort()) {
    const name = graphqlName(original, kind, reserved);
    if (taken.has(name)) {
      clashes.push(original);
      continue;
    }
    taken.add(name);
    names.set(original, name);
  }
  return { names, clashes };
}
