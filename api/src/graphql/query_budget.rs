//! The first check a query meets: how many fields it selects once its fragments are expanded.
//!
//! async-graphql's depth and complexity limits walk the query with every fragment spread
//! expanded in place, so a 1.4 KB query whose fragments each spread the next one twice costs
//! 2^30 steps before those limits can refuse it. Here each fragment is sized once (memoised),
//! so the check costs time linear in the query's text and refuses such a query before any
//! walk that grows with its expansion, and (over HTTP) before the caller is authenticated.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned, ServerResult, Variables};

use crate::error::ApiError;

/// Fields one document may select after expanding its fragments. GraphiQL's introspection
/// query selects about 200; an org-chart page about 30.
pub const MAX_EXPANDED_FIELDS: usize = 5_000;

/// Refuses a document that selects more than [`MAX_EXPANDED_FIELDS`] fields once expanded, or
/// whose fragments spread themselves.
pub fn check(document: &ExecutableDocument) -> Result<(), ApiError> {
    let mut sizer = Sizer { fragments: &document.fragments, sizes: HashMap::new() };
    let mut total = 0usize;
    for (_, operation) in document.operations.iter() {
        total = total.saturating_add(sizer.selection_set(&operation.node.selection_set.node)?);
        if total > MAX_EXPANDED_FIELDS {
            return Err(too_large());
        }
    }
    Ok(())
}

fn too_large() -> ApiError {
    ApiError::validation(
        "query",
        format!(
            "the query selects more than {MAX_EXPANDED_FIELDS} fields once its fragments are expanded; \
             ask for less in one request"
        ),
    )
}

enum Size {
    InProgress,
    Known(usize),
}

struct Sizer<'d> {
    fragments: &'d HashMap<Name, Positioned<FragmentDefinition>>,
    sizes: HashMap<&'d str, Size>,
}

impl<'d> Sizer<'d> {
    fn selection_set(&mut self, set: &'d SelectionSet) -> Result<usize, ApiError> {
        let mut total = 0usize;
        for item in &set.items {
            let size = match &item.node {
                Selection::Field(field) => 1 + self.selection_set(&field.node.selection_set.node)?,
                Selection::InlineFragment(inline) => self.selection_set(&inline.node.selection_set.node)?,
                Selection::FragmentSpread(spread) => self.fragment(spread.node.fragment_name.node.as_str())?,
            };
            total = total.saturating_add(size);
            if total > MAX_EXPANDED_FIELDS {
                return Err(too_large());
            }
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'d str) -> Result<usize, ApiError> {
        match self.sizes.get(name) {
            Some(Size::Known(size)) => return Ok(*size),
            Some(Size::InProgress) => {
                return Err(ApiError::validation("query", format!("fragment '{name}' spreads itself")))
            }
            None => {}
        }
        // An unknown fragment is validation's to report; it selects nothing here.
        let Some((key, definition)) = self.fragments.get_key_value(name) else { return Ok(0) };
        self.sizes.insert(key.as_str(), Size::InProgress);
        let size = self.selection_set(&definition.node.selection_set.node)?;
        self.sizes.insert(key.as_str(), Size::Known(size));
        Ok(size)
    }
}

/// Applies [`check`] to every parsed document, over HTTP and WebSocket alike.
pub struct QueryBudget;

impl ExtensionFactory for QueryBudget {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(QueryBudget)
    }
}

#[async_trait::async_trait]
impl Extension for QueryBudget {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        check(&document).map_err(|err| err.to_server_error())?;
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("query parses")
    }

    /// Each fragment spreads the next one twice: 2^levels fields once expanded.
    fn doubling(levels: usize) -> String {
        let mut query = String::from("query { viewer { ...F0 } }\n");
        for level in 0..levels {
            query.push_str(&format!(
                "fragment F{level} on Viewer {{ ...F{next} ...F{next} subject }}\n",
                next = level + 1
            ));
        }
        query.push_str(&format!("fragment F{levels} on Viewer {{ subject }}\n"));
        query
    }

    #[test]
    fn a_doubling_fragment_chain_is_refused_without_expanding_it() {
        let err = check(&parse(&doubling(30))).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("query"));
        assert!(err.message.contains("5000"), "{}", err.message);
        // 2^11 - 1 + 2^11 fields: under the limit, and counted exactly.
        assert!(check(&parse(&doubling(10))).is_ok());
    }

    #[test]
    fn fragments_are_counted_where_they_are_spread() {
        let doc = parse("{ a { ...F ...F } } fragment F on T { b c { d } }");
        let mut sizer = Sizer { fragments: &doc.fragments, sizes: HashMap::new() };
        let (_, operation) = doc.operations.iter().next().unwrap();
        assert_eq!(sizer.selection_set(&operation.node.selection_set.node).unwrap(), 1 + 2 * 3);
    }

    #[test]
    fn a_fragment_cycle_is_an_error_not_a_loop() {
        let err = check(&parse("{ a { ...F } } fragment F on T { ...G } fragment G on T { ...F }")).unwrap_err();
        assert!(err.message.contains("spreads itself"), "{}", err.message);
    }

    #[test]
    fn many_operations_share_one_budget() {
        let field_list = (0..1_000).map(|i| format!("f{i}: subject")).collect::<Vec<_>>().join(" ");
        let query =
            (0..6).map(|i| format!("query Q{i} {{ viewer {{ {field_list} }} }}")).collect::<Vec<_>>().join("\n");
        assert!(check(&parse(&query)).is_err());
    }
}
