/**
 * Sizes of every argument, before any resolver runs and so before any
 * upstream call: no string longer than MAX_ARGUMENT_STRING_LENGTH, no list
 * longer than MAX_ARGUMENT_LIST_LENGTH, no nesting deeper than
 * MAX_ARGUMENT_DEPTH, in the variables or in the document's literals
 * (src/schema/validation.ts). Per-argument caps (names, expressions, lists
 * of names) are checked by the resolvers, also before any call.
 */
import { BREAK, visit, type DocumentNode } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { findOversizedValue, MAX_ARGUMENT_LIST_LENGTH, MAX_ARGUMENT_STRING_LENGTH } from '../../schema/validation.js';

function oversizedLiteral(document: DocumentNode): string | undefined {
  let found: string | undefined;
  visit(document, {
    StringValue(node) {
      if (node.value.length > MAX_ARGUMENT_STRING_LENGTH) {
        found = `A string literal is longer than ${MAX_ARGUMENT_STRING_LENGTH} characters`;
        return BREAK;
      }
      return undefined;
    },
    ListValue(node) {
      if (node.values.length > MAX_ARGUMENT_LIST_LENGTH) {
        found = `A list literal has more than ${MAX_ARGUMENT_LIST_LENGTH} items`;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

export function useArgumentLimits(): Plugin {
  const checked = new WeakMap<DocumentNode, string | undefined>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (!checked.has(args.document)) checked.set(args.document, oversizedLiteral(args.document));
      const problem = checked.get(args.document) ?? findOversizedValue(args.variableValues ?? {}, 'variables');
      if (problem === undefined) return;
      setResultAndStopExecution({
        errors: [createGraphQLError(`${problem}; nothing was sent`, { extensions: { code: 'INVALID_ARGUMENT', http: { status: 400 } } })],
      });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const problem = oversizedLiteral(args.document) ?? findOversizedValue(args.variableValues ?? {}, 'variables');
      if (problem === undefined) return;
      setResultAndStopExecution({
        errors: [createGraphQLError(`${problem}; nothing was sent`, { extensions: { code: 'INVALID_ARGUMENT', http: { status: 400 } } })],
      });
    },
  };
}
