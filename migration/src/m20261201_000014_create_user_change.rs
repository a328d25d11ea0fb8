use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000006_create_directory_user::DirectoryUser;

/// Each person's change history: one row per field a sync or an admin changed (and one for a
/// creation), written in the transaction of the change.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserChange::Table)
                    .col(uuid(UserChange::Id).primary_key())
                    .col(string(UserChange::WorkspaceId))
                    .col(uuid(UserChange::UserId))
                    .col(uuid_null(UserChange::SyncRunId))
                    .col(timestamp_with_time_zone(UserChange::At))
                    .col(string_len(UserChange::Field, 32))
                    .col(text_null(UserChange::OldValue))
                    .col(text_null(UserChange::NewValue))
                    .col(string(UserChange::ChangedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserChange::Table, UserChange::UserId)
                            .to(DirectoryUser::Table, DirectoryUser::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in
            [("idx_user_change_user", UserChange::UserId), ("idx_user_change_run", UserChange::SyncRunId)]
        {
            manager
                .create_index(
                    Index::create().name(name).table(UserChange::Table).col(column).col(UserChange::Id).to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(UserChange::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum UserChange {
    Table,
    Id,
    WorkspaceId,
    UserId,
    SyncRunId,
    At,
    Field,
    OldValue,
    NewValue,
    ChangedBy,
}
