//! SeaORM entities: one module per table. These are storage types only; the GraphQL types live in
//! `api` and the domain types in `worker`, so the public schema never follows the tables by accident.

pub mod activity_assignment;
pub mod connection;
pub mod directory_user;
pub mod field_mapping;
pub mod invitation;
pub mod person_join;
pub mod scim_activity;
pub mod scim_member;
pub mod scim_resource;
pub mod spreadsheet_upload;
pub mod spreadsheet_upload_chunk;
pub mod sync_issue;
pub mod sync_run;
pub mod user_change;
pub mod user_source;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_event;
pub mod workspace;
