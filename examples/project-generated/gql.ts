/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query LexiconDrift($days: Int = 1, $sample: Int = 1000) {\n  lexicon {\n    drift(days: $days, sample: $sample) {\n      __typename\n      ... on LexiconDrift {\n        from\n        to\n        sampledEvents\n        undocumentedEvents {\n          name\n          count\n        }\n        undocumentedProperties {\n          event\n          property\n          count\n        }\n        typeMismatches {\n          event\n          property\n          documented\n          actual\n          count\n          convertible\n        }\n      }\n      ... on Error {\n        message\n        code\n      }\n    }\n  }\n}": typeof types.LexiconDriftDocument,
    "query TypedEvents($from: Date!, $to: Date!, $first: Int = 25) {\n  events(from: $from, to: $to, names: [\"Sign Up\", \"Purchase\"], first: $first) {\n    __typename\n    ... on EventConnection {\n      edges {\n        node {\n          __typename\n          name\n          time\n          ... on SignUp {\n            plan\n            signupMethod\n            utmSource\n            _browser\n          }\n          ... on Purchase {\n            product\n            price\n            quantity\n            currency\n          }\n          ... on GenericEvent {\n            properties\n          }\n        }\n      }\n    }\n    ... on Error {\n      message\n      code\n    }\n  }\n}": typeof types.TypedEventsDocument,
    "query TypedProfile($distinctId: ID!) {\n  profile(distinctId: $distinctId) {\n    __typename\n    ... on Profile {\n      distinctId\n      plan\n      age\n      lifetimeValue\n      _created\n      _lastSeen\n    }\n    ... on Error {\n      message\n      code\n    }\n  }\n}": typeof types.TypedProfileDocument,
};
const documents: Documents = {
    "query LexiconDrift($days: Int = 1, $sample: Int = 1000) {\n  lexicon {\n    drift(days: $days, sample: $sample) {\n      __typename\n      ... on LexiconDrift {\n        from\n        to\n        sampledEvents\n        undocumentedEvents {\n          name\n          count\n        }\n        undocumentedProperties {\n          event\n          property\n          count\n        }\n        typeMismatches {\n          event\n          property\n          documented\n          actual\n          count\n          convertible\n        }\n      }\n      ... on Error {\n        message\n        code\n      }\n    }\n  }\n}": types.LexiconDriftDocument,
    "query TypedEvents($from: Date!, $to: Date!, $first: Int = 25) {\n  events(from: $from, to: $to, names: [\"Sign Up\", \"Purchase\"], first: $first) {\n    __typename\n    ... on EventConnection {\n      edges {\n        node {\n          __typename\n          name\n          time\n          ... on SignUp {\n            plan\n            signupMethod\n            utmSource\n            _browser\n          }\n          ... on Purchase {\n            product\n            price\n            quantity\n            currency\n          }\n          ... on GenericEvent {\n            properties\n          }\n        }\n      }\n    }\n    ... on Error {\n      message\n      code\n    }\n  }\n}": types.TypedEventsDocument,
    "query TypedProfile($distinctId: ID!) {\n  profile(distinctId: $distinctId) {\n    __typename\n    ... on Profile {\n      distinctId\n      plan\n      age\n      lifetimeValue\n      _created\n      _lastSeen\n    }\n    ... on Error {\n      message\n      code\n    }\n  }\n}": types.TypedProfileDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query LexiconDrift($days: Int = 1, $sample: Int = 1000) {\n  lexicon {\n    drift(days: $days, sample: $sample) {\n      __typename\n      ... on LexiconDrift {\n        from\n        to\n        sampledEvents\n        undocumentedEvents {\n          name\n          count\n        }\n        undocumentedProperties {\n          event\n          property\n          count\n        }\n        typeMismatches {\n          event\n          property\n          documented\n          actual\n          count\n          convertible\n        }\n      }\n      ... on Error {\n        message\n        code\n      }\n    }\n  }\n}"): (typeof documents)["query LexiconDrift($days: Int = 1, $sample: Int = 1000) {\n  lexicon {\n    drift(days: $days, sample: $sample) {\n      __typename\n      ... on LexiconDrift {\n        from\n        to\n        sampledEvents\n        undocumentedEvents {\n          name\n          count\n        }\n        undocumentedProperties {\n          event\n          property\n          count\n        }\n        typeMismatches {\n          event\n          property\n          documented\n          actual\n          count\n          convertible\n        }\n      }\n      ... on Error {\n        message\n        code\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query TypedEvents($from: Date!, $to: Date!, $first: Int = 25) {\n  events(from: $from, to: $to, names: [\"Sign Up\", \"Purchase\"], first: $first) {\n    __typename\n    ... on EventConnection {\n      edges {\n        node {\n          __typename\n          name\n          time\n          ... on SignUp {\n            plan\n            signupMethod\n            utmSource\n            _browser\n          }\n          ... on Purchase {\n            product\n            price\n            quantity\n            currency\n          }\n          ... on GenericEvent {\n            properties\n          }\n        }\n      }\n    }\n    ... on Error {\n      message\n      code\n    }\n  }\n}"): (typeof documents)["query TypedEvents($from: Date!, $to: Date!, $first: Int = 25) {\n  events(from: $from, to: $to, names: [\"Sign Up\", \"Purchase\"], first: $first) {\n    __typename\n    ... on EventConnection {\n      edges {\n        node {\n          __typename\n          name\n          time\n          ... on SignUp {\n            plan\n            signupMethod\n            utmSource\n            _browser\n          }\n          ... on Purchase {\n            product\n            price\n            quantity\n            currency\n          }\n          ... on GenericEvent {\n            properties\n          }\n        }\n      }\n    }\n    ... on Error {\n      message\n      code\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query TypedProfile($distinctId: ID!) {\n  profile(distinctId: $distinctId) {\n    __typename\n    ... on Profile {\n      distinctId\n      plan\n      age\n      lifetimeValue\n      _created\n      _lastSeen\n    }\n    ... on Error {\n      message\n      code\n    }\n  }\n}"): (typeof documents)["query TypedProfile($distinctId: ID!) {\n  profile(distinctId: $distinctId) {\n    __typename\n    ... on Profile {\n      distinctId\n      plan\n      age\n      lifetimeValue\n      _created\n      _lastSeen\n    }\n    ... on Error {\n      message\n      code\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;