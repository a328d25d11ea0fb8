//! The GraphQL schema: query and mutation roots merged per domain, subscriptions, limits.

pub mod context;
mod error_codes;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::Schema;

use crate::error::ErrorCode;
use context::ApiContext;

pub type AppSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Deep enough for a 10-level org chart and GraphiQL's introspection, no deeper.
const MAX_DEPTH: usize = 32;
const MAX_COMPLEXITY: usize = 20_000;

pub fn build_schema(api: Option<ApiContext>) -> AppSchema {
    let mut builder = Schema::build(query::Query::default(), mutation::Mutation::default(), subscription::Subscription)
        .register_output_type::<ErrorCode>()
        .extension(error_codes::ErrorCodes)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY);
    if let Some(api) = api {
        builder = builder.data(api);
    }
    builder.finish()
}

/// The SDL checked in as `schema.graphql`.
pub fn sdl() -> String {
    build_schema(None).sdl()
}
