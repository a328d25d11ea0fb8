//! End-to-end tests through the public API: GraphQL over HTTP and graphql-transport-ws, against
//! the real service and a sandbox BambooHR tenant. One file per step of the admin flow.

mod helpers;

mod catalogue;
mod schema;
mod sync;
