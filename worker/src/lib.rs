//! The sync engine: provider connectors, field mapping, the fetch → map → upsert pipeline, the
//! job queue, and the integration use cases the API calls. Free of GraphQL and HTTP serving.

pub mod credentials;
pub mod directory;
pub mod environment;
pub mod error;
pub mod events;
pub mod integrations;
pub mod jobs;
pub mod mapping;
pub mod providers;
pub mod sync;
mod task;
pub mod workspaces;

pub use environment::{Environment, SyncSettings};
pub use error::{Error, Result};
