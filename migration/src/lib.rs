//! Schema migrations, registered in order in [`Migrator`]. They run at start-up in embedded
//! mode and through `directory-sync migrate` in production.
pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_workspace;
mod m20261126_000002_create_connection;
mod m20261126_000003_create_field_mapping;
mod m20261126_000004_create_sync_run;
mod m20261126_000005_create_sync_issue;
mod m20261126_000006_create_directory_user;
mod m20261126_000007_create_user_source;
mod m20261201_000008_add_connection_linked_system;
mod m20261201_000009_add_connection_discovered_fields;
mod m20261201_000010_add_sync_run_held_deactivations;
mod m20261201_000011_add_sync_run_expected_total;
mod m20261201_000012_add_directory_user_deactivated_by_hand;
mod m20261201_000013_create_activity_and_invitation;
mod m20261201_000014_create_user_change;
mod m20261201_000015_create_webhooks;
mod m20261207_000016_index_directory_user_pre_start;
mod m20261207_000017_create_person_join;
mod m20261207_000018_add_field_mapping_hiring_team;
mod m20261207_000019_create_spreadsheet_upload;
mod m20261208_000020_create_scim;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_workspace::Migration),
            Box::new(m20261126_000002_create_connection::Migration),
            Box::new(m20261126_000003_create_field_mapping::Migration),
            Box::new(m20261126_000004_create_sync_run::Migration),
            Box::new(m20261126_000005_create_sync_issue::Migration),
            Box::new(m20261126_000006_create_directory_user::Migration),
            Box::new(m20261126_000007_create_user_source::Migration),
            Box::new(m20261201_000008_add_connection_linked_system::Migration),
            Box::new(m20261201_000009_add_connection_discovered_fields::Migration),
            Box::new(m20261201_000010_add_sync_run_held_deactivations::Migration),
            Box::new(m20261201_000011_add_sync_run_expected_total::Migration),
            Box::new(m20261201_000012_add_directory_user_deactivated_by_hand::Migration),
            Box::new(m20261201_000013_create_activity_and_invitation::Migration),
            Box::new(m20261201_000014_create_user_change::Migration),
            Box::new(m20261201_000015_create_webhooks::Migration),
            Box::new(m20261207_000016_index_directory_user_pre_start::Migration),
            Box::new(m20261207_000017_create_person_join::Migration),
            Box::new(m20261207_000018_add_field_mapping_hiring_team::Migration),
            Box::new(m20261207_000019_create_spreadsheet_upload::Migration),
            Box::new(m20261208_000020_create_scim::Migration),
        ]
    }
}
