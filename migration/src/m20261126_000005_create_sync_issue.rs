use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000004_create_sync_run::SyncRun;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncIssue::Table)
                    .col(uuid(SyncIssue::Id).primary_key())
                    .col(uuid(SyncIssue::SyncRunId))
                    .col(string_null(SyncIssue::RemoteId))
                    .col(string_len(SyncIssue::Kind, 32))
                    .col(text(SyncIssue::Message))
                    .col(timestamp_with_time_zone(SyncIssue::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SyncIssue::Table, SyncIssue::SyncRunId)
                            .to(SyncRun::Table, SyncRun::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_sync_issue_run").table(SyncIssue::Table).col(SyncIssue::SyncRunId).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SyncIssue::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum SyncIssue {
    Table,
    Id,
    SyncRunId,
    RemoteId,
    Kind,
    Message,
    CreatedAt,
}
