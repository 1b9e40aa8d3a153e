// Marks a GraphQL document of the app, so that the tools that check them find every one:
// the document test (tests/web/test_web_documents.py) validates each gql`...` literal
// against schema.graphql, and GraphQL Code Generator (tools/codegen) generates types
// from them. Never write a document as a plain string: neither would see it.
//
//   export const ACCOUNT_FIELDS = gql`fragment AccountFields on Account { id number }`;
//   const ACCOUNTS = gql`query Accounts { me { accounts { ...AccountFields } } } ${ACCOUNT_FIELDS}`;
//
// A `${...}` in a document is only ever a fragment made with gql, appended to the
// document that spreads it. The result is the document's text, ready for graphql().

export function gql(strings, ...fragments) {
  return strings.reduce((text, part, i) => text + fragments[i - 1] + part);
}
