//! directory-sync: fills a workspace's User Directory from its HR system and keeps it filled.
//! This crate is the binary's library: configuration, assembly of the service from the `api`
//! and `worker` crates, the demo, the sandbox server, and the GraphQL client the demo and tests
//! share.

pub mod admin_flow;
pub mod bench;
pub mod client;
pub mod config;
pub mod demo;
pub mod operations;
pub mod sandbox_server;
pub mod service;
