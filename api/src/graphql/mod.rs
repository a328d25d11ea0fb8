//! The GraphQL schema: query and mutation roots merged per domain, subscriptions, limits.

pub mod context;
mod error_codes;
pub mod mutation;
pub mod query;
pub mod query_budget;
pub mod subscription;
pub mod types;

use async_graphql::Schema;

use crate::access::ApiContext;
use crate::error::ErrorCode;

pub type AppSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Deep enough for a 10-level org chart and GraphiQL's introspection, no deeper.
pub const MAX_DEPTH: usize = 32;
/// What one query may cost: each field counts 1, a list field counts its page size (`first`,
/// or its documented cap) times what is selected in it, and a live provider read
/// [`PROVIDER_READ_COST`]. A page of 500 people with their managers costs about 3,500; 200
/// people with their reports' ids about 20,600; six nested levels of `manager { directReports }`
/// a million.
pub const MAX_COMPLEXITY: usize = 50_000;
/// Cost of a field that reads live from the provider (`previewFieldMapping`): two per query.
pub const PROVIDER_READ_COST: usize = 20_000;

/// Cost of a list field: its possible size times the cost of one item. `first` is clamped to
/// what the resolver accepts (it refuses the rest), and a null `first` counts as the cap.
pub fn list_cost(first: Option<i32>, cap: i32, child_complexity: usize) -> usize {
    first.unwrap_or(cap).clamp(1, cap) as usize * child_complexity.max(1)
}

pub fn build_schema(api: Option<ApiContext>) -> AppSchema {
    let mut builder = Schema::build(query::Query::default(), mutation::Mutation::default(), subscription::Subscription)
        .register_output_type::<ErrorCode>()
        .extension(query_budget::QueryBudget)
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
