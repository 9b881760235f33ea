/**
 * Limits on the shape of a document, checked before anything else looks at
 * it: size before parsing, tokens while parsing (the parser stops at the
 * limit), then aliases, depth, directives and expanded selections before
 * graphql-js validation, the cost estimate or any resolver. An over-limit
 * document gets one error and costs work proportional to the limit, not to
 * the document.
 *
 * Tokens, aliases, depth and directives are graphql-armor's rules
 * (@escape.tech/graphql-armor-*); the selection count is ours: armor's cost
 * limit multiplies by `first`, which the schema's complexity limit already
 * covers at execution, while what a fragment bomb inflates is the number of
 * selections once every spread is expanded. Each fragment is counted once
 * (memoised), so the count is linear in the document's size.
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import {
  GraphQLError,
  Kind,
  validate,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { DocumentLimits } from '../../config/types.js';

/** `extensions.code` of a document refused by a limit. */
export const DOCUMENT_LIMIT = 'DOCUMENT_LIMIT';

function limitError(message: string, status = 400): GraphQLError {
  return createGraphQLError(message.replace(/^Syntax Error: /, ''), { extensions: { code: DOCUMENT_LIMIT, http: { status } } });
}

/** Field selections of each operation with every fragment spread expanded; refuses past `max`. */
export function maxSelectionsRule(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const perFragment = new Map<string, number>();
    const countSet = (set: SelectionSetNode | undefined, visiting: Set<string>): number => {
      let count = 0;
      for (const selection of set?.selections ?? []) {
        if (selection.kind === Kind.FIELD) count += 1 + countSet(selection.selectionSet, visiting);
        else if (selection.kind === Kind.INLINE_FRAGMENT) count += countSet(selection.selectionSet, visiting);
        else count += countFragment(context.getFragment(selection.name.value), visiting);
        // Saturate: past the limit the exact figure no longer matters, and sums of expansions would overflow.
        if (count > max) return max + 1;
      }
      return count;
    };
    const countFragment = (fragment: FragmentDefinitionNode | null | undefined, visiting: Set<string>): number => {
      if (!fragment) return 0;
      const name = fragment.name.value;
      const known = perFragment.get(name);
      if (known !== undefined) return known;
      if (visiting.has(name)) return 0; // a cycle: NoFragmentCyclesRule reports it
      visiting.add(name);
      const count = countSet(fragment.selectionSet, visiting);
      visiting.delete(name);
      perFragment.set(name, count);
      return count;
    };
    return {
      OperationDefinition(operation) {
        const count = countSet(operation.selectionSet, new Set());
        if (count > max) throw limitError(`Selections limit of ${max} exceeded once fragments are expanded`);
      },
    };
  };
}

export interface DocumentLimitChecks {
  /** Parses with the token limit; throws a GraphQLError past it. */
  parse(source: string): DocumentNode;
  /** Errors of the shape limits (empty when within them); never runs graphql-js's own rules. */
  check(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
}

export function createDocumentLimits(limits: DocumentLimits): DocumentLimitChecks {
  const rules: ValidationRule[] = [
    maxAliasesRule({ n: limits.maxAliases }),
    maxDepthRule({ n: limits.maxDepth, flattenFragments: true }),
    maxDirectivesRule({ n: limits.maxDirectives }),
    maxSelectionsRule(limits.maxSelections),
  ];
  return {
    parse(source) {
      try {
        return new MaxTokensParserWLexer(source, { n: limits.maxTokens } as never).parseDocument();
      } catch (error) {
        if (error instanceof GraphQLError && /Token limit/.test(error.message)) throw limitError(error.message);
        throw error;
      }
    },
    check(schema, document) {
      try {
        return validate(schema, document, rules, { maxErrors: 1 });
      } catch (error) {
        // armor's rules throw their rejection, which stops the traversal at the first one.
        if (error instanceof GraphQLError) return [error.extensions['code'] === DOCUMENT_LIMIT ? error : limitError(error.message)];
        throw error;
      }
    },
  };
}

/**
 * The limits as a yoga plugin. Register it before any plugin that reads the
 * document (admission control's cost estimate runs on execute, after it).
 */
export function useDocumentLimits(limits: DocumentLimits): Plugin {
  const checks = createDocumentLimits(limits);
  return {
    onParams({ params }) {
      if (typeof params.query === 'string' && Buffer.byteLength(params.query, 'utf8') > limits.maxBytes) {
        throw limitError(`The document is larger than ${limits.maxBytes} bytes`, 413);
      }
    },
    onParse({ setParseFn }) {
      setParseFn((source) => checks.parse(typeof source === 'string' ? source : source.body));
    },
    onValidate({ params, setResult }) {
      const errors = checks.check(params.schema, params.documentAST);
      if (errors.length > 0) setResult(errors);
    },
  };
}
