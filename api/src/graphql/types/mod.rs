//! GraphQL output and input types. They wrap domain and storage types and convert at this edge,
//! so the public schema never follows the tables by accident.

pub mod connection;
pub mod mapping;
pub mod provider;
pub mod scim;
pub mod sync_run;
pub mod upload;
pub mod user;
pub mod webhook;
