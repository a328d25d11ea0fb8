use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000002_create_connection::Connection;
use crate::m20261126_000006_create_directory_user::DirectoryUser;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserSource::Table)
                    .col(uuid(UserSource::Id).primary_key())
                    .col(uuid(UserSource::UserId))
                    .col(uuid(UserSource::ConnectionId))
                    .col(string(UserSource::RemoteId))
                    .col(string_null(UserSource::RemoteManagerId))
                    .col(string_len(UserSource::ContentHash, 64))
                    .col(uuid(UserSource::LastSeenRunId))
                    .col(timestamp_with_time_zone(UserSource::LastSyncedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserSource::Table, UserSource::UserId)
                            .to(DirectoryUser::Table, DirectoryUser::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserSource::Table, UserSource::ConnectionId)
                            .to(Connection::Table, Connection::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_user_source_remote")
                    .table(UserSource::Table)
                    .col(UserSource::ConnectionId)
                    .col(UserSource::RemoteId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_source_user")
                    .table(UserSource::Table)
                    .col(UserSource::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(UserSource::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum UserSource {
    Table,
    Id,
    UserId,
    ConnectionId,
    RemoteId,
    RemoteManagerId,
    ContentHash,
    LastSeenRunId,
    LastSyncedAt,
}
