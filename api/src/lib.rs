//! The public API: actix-web routes serving the async-graphql schema (queries, mutations,
//! subscriptions over graphql-transport-ws), JWT auth, the OAuth callback and health checks.
//! Resolvers authorise, validate and call the `worker` crate's use cases; nothing else.

pub mod access;
pub mod auth;
pub mod error;
pub mod graphql;
pub mod http;

pub use access::ApiContext;
pub use auth::{JwtKeys, Plan, Role};
pub use http::limits::ApiLimits;
pub use http::{routes, ApiState};
