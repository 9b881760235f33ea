/**
 * Zod issues of a JSON setting (the projects file, GATEWAY_API_KEYS) in the house wording:
 * `<label><entry> (key "<name>"): <field.path> <what it must be>`, e.g.
 * `MIXPANEL_PROJECTS_FILE (p.json) projects[1] (key "web"): limits.query.perHour must be ...` or
 * `GATEWAY_API_KEYS[0]: sha256 must be ...`. Only the schemas' own messages are used: none quotes a
 * secret, and zod's defaults (which may describe the input) never reach an operator. `closedObject`
 * gives an object's own wording: what it must be, and its unknown fields.
 */
import { z } from 'zod';
import { quote } from './variables.js';

type Path = readonly PropertyKey[];

const PLURAL = { field: 'fields', family: 'families' } as const;

/**
 * An object that refuses fields it does not name. `rule` is what it must be when it is not an object;
 * with `expected`, the unknown-field message lists its fields (small, fixed sets such as families).
 */
export function closedObject<S extends Record<string, z.ZodType>>(shape: S, rule: string, options: { noun?: keyof typeof PLURAL; expected?: boolean } = {}) {
  const { noun = 'field', expected = false } = options;
  const known = expected ? ` (expected ${Object.keys(shape).join(', ')})` : '';
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `has ${issue.keys.length === 1 ? `an unknown ${noun}` : `unknown ${PLURAL[noun]}`} ${issue.keys.map(quote).join(', ')}${known}`
        : rule,
  });
}

/** The entry (`projects[1]`, `[0]`) and the field path inside it (`limits.query.perHour`). */
function split(path: Path): { entry: Path; field: Path } {
  const index = path.findIndex((segment) => typeof segment === 'number');
  return index === -1 ? { entry: [], field: path } : { entry: path.slice(0, index + 1), field: path.slice(index + 1) };
}

function pathText(path: Path): string {
  return path.map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : i === 0 ? String(segment) : `.${String(segment)}`)).join('');
}

/**
 * One message per issue, in the schema's order except that an entry's own unknown fields come first
 * (zod finds them last; they often explain the entry's other problems, e.g. a misspelt field).
 * `nameOf` names an entry (a project's key) beside its index.
 */
export function formatIssues(label: string, issues: readonly z.core.$ZodIssue[], nameOf: (entry: Path) => string | undefined = () => undefined): string[] {
  const ordered: z.core.$ZodIssue[] = [];
  for (const issue of issues) {
    let at = ordered.length;
    if (issue.code === 'unrecognized_keys' && split(issue.path).field.length === 0) {
      const entry = pathText(split(issue.path).entry);
      while (at > 0 && ordered[at - 1]!.code !== 'unrecognized_keys' && pathText(split(ordered[at - 1]!.path).entry) === entry) at -= 1;
    }
    ordered.splice(at, 0, issue);
  }
  return ordered.map((issue) => {
    const { entry, field } = split(issue.path);
    const name = entry.length === 0 ? undefined : nameOf(entry);
    const where = `${label}${entry.length === 0 || typeof entry[0] === 'number' ? '' : ' '}${pathText(entry)}${name === undefined ? '' : ` (key ${name})`}`;
    return field.length === 0 ? `${where} ${issue.message}` : `${where}: ${pathText(field)} ${issue.message}`;
  });
}
