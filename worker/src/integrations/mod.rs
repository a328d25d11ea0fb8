//! The integration use cases behind the GraphQL API: connecting providers, mapping fields,
//! starting and cancelling syncs, schedules, uploaded files. Callers have already authorised the workspace;
//! every function here still filters by it, so a wrong id reads as "not found".

pub mod connections;
pub mod fields;
pub mod mappings;
pub mod runs;
pub mod schedule;
pub mod scim;
pub mod uploads;
