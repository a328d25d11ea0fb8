use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000002_create_connection::Connection;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncRun::Table)
                    .col(uuid(SyncRun::Id).primary_key())
                    .col(string(SyncRun::WorkspaceId))
                    .col(uuid(SyncRun::ConnectionId))
                    .col(string_len(SyncRun::Mode, 16))
                    .col(string_len(SyncRun::Status, 16))
                    .col(string_len(SyncRun::Phase, 16))
                    .col(integer(SyncRun::Processed))
                    .col(integer_null(SyncRun::Total))
                    .col(integer(SyncRun::Created))
                    .col(integer(SyncRun::Updated))
                    .col(integer(SyncRun::Unchanged))
                    .col(integer(SyncRun::Deactivated))
                    .col(integer(SyncRun::Skipped))
                    .col(json_null(SyncRun::Checkpoint))
                    .col(text_null(SyncRun::Error))
                    .col(string(SyncRun::TriggeredBy))
                    .col(integer(SyncRun::MappingVersion))
                    .col(integer(SyncRun::Attempts))
                    .col(boolean(SyncRun::CancelRequested))
                    .col(string_null(SyncRun::LeaseOwner))
                    .col(timestamp_with_time_zone_null(SyncRun::LeaseExpiresAt))
                    .col(timestamp_with_time_zone(SyncRun::CreatedAt))
                    .col(timestamp_with_time_zone_null(SyncRun::StartedAt))
                    .col(timestamp_with_time_zone_null(SyncRun::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SyncRun::Table, SyncRun::ConnectionId)
                            .to(Connection::Table, Connection::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sync_run_connection")
                    .table(SyncRun::Table)
                    .col(SyncRun::ConnectionId)
                    .col(SyncRun::CreatedAt)
                    .to_owned(),
            )
            .await?;
        // One active run per connection, enforced where races cannot slip past it. Partial
        // indexes read the same in SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_sync_run_active ON sync_run (connection_id) \
                 WHERE status IN ('QUEUED', 'RUNNING')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SyncRun::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum SyncRun {
    Table,
    Id,
    WorkspaceId,
    ConnectionId,
    Mode,
    Status,
    Phase,
    Processed,
    Total,
    Created,
    Updated,
    Unchanged,
    Deactivated,
    Skipped,
    Checkpoint,
    Error,
    TriggeredBy,
    MappingVersion,
    Attempts,
    CancelRequested,
    LeaseOwner,
    LeaseExpiresAt,
    CreatedAt,
    StartedAt,
    FinishedAt,
}
