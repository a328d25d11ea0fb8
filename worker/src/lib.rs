//! The sync engine: provider connectors, field mapping, the fetch → map → upsert pipeline, the
//! job queue, and the integration use cases the API calls. Free of GraphQL and HTTP serving.

pub mod activities;
pub mod credentials;
pub mod directory;
pub mod environment;
pub mod error;
pub mod events;
pub mod history;
pub mod input;
pub mod integrations;
pub mod invitations;
pub mod jobs;
pub mod joins;
pub mod mapping;
pub mod people;
pub mod providers;
pub mod scim;
pub mod starters;
pub mod sync;
mod task;
pub mod text;
pub mod uploads;
pub mod webhooks;
pub mod workspaces;

pub use environment::{Environment, SyncSettings};

/// How long a Redis command (or connecting) may take before it counts as failed. redis-rs gives
/// up after half a second by default; a busy Redis, or a busy host, is slower than that at times
/// without being down, and a failed enqueue fails the admin's `startSync`.
pub(crate) const REDIS_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);
pub use error::{Error, Result};
