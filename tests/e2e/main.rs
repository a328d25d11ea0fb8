//! End-to-end tests through the public API: GraphQL over HTTP and graphql-transport-ws, against
//! the real service and a sandbox provider tenant. One file per step of the admin flow (and one
//! conformance suite every provider in the catalogue passes); each
//! test runs on the embedded parts and on PostgreSQL + Redis.

mod helpers;
mod mail_server;
mod webhook_receiver;

mod ats;
mod bridge;
mod catalogue;
mod conformance;
mod connect;
mod credentials;
mod directory;
mod hardening;
mod history;
mod invitations;
mod mapping;
mod operator;
mod people;
mod portal;
mod production;
mod query_limits;
mod sandbox_cli;
mod schedule;
mod schema;
mod scim;
mod sources;
mod spreadsheet;
mod sync;
mod webhooks;
mod workday;
