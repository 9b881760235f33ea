/**
 * Schema discovery, switchable (INTROSPECTION, FIELD_SUGGESTIONS): off by
 * default once the gateway has API keys or listens beyond loopback, on in
 * demo mode and keyless on loopback (GraphiQL needs introspection).
 *
 * Without introspection, `__schema` and `__type` fail validation
 * (`__typename` still works). Without suggestions, "Did you mean …?" is cut
 * from validation errors (graphql-armor's rule) and from the variable
 * coercion errors graphql-js reports at execution.
 */
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface IntrospectionPolicyOptions {
  readonly introspection: boolean;
  readonly fieldSuggestions: boolean;
}

const SUGGESTION = /\s*Did you mean [^?]*\?/g;

export function useIntrospectionPolicy(options: IntrospectionPolicyOptions): Plugin[] {
  const plugins: Plugin[] = [];
  if (!options.introspection) {
    plugins.push({
      onValidate({ addValidationRule }) {
        addValidationRule(NoSchemaIntrospectionCustomRule);
      },
    });
  }
  if (!options.fieldSuggestions) {
    plugins.push(blockFieldSuggestionsPlugin({ mask: '' }) as Plugin, {
      onExecute() {
        return {
          onExecuteDone({ result, setResult }) {
            if (!('errors' in result) || !result.errors?.some((error) => SUGGESTION.test(error.message))) return;
            setResult({
              ...result,
              errors: result.errors.map((error) =>
                error.message.match(SUGGESTION)
                  ? new GraphQLError(error.message.replace(SUGGESTION, ''), {
                      nodes: error.nodes,
                      path: error.path,
                      extensions: error.extensions,
                      originalError: error.originalError,
                    })
                  : error,
              ),
            });
          },
        };
      },
    });
  }
  return plugins;
}
