use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_workspace::Workspace;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Connection::Table)
                    .col(uuid(Connection::Id).primary_key())
                    .col(string(Connection::WorkspaceId))
                    .col(string_len(Connection::ProviderId, 64))
                    .col(string_len(Connection::AuthMethod, 32))
                    .col(string_null(Connection::Subdomain))
                    .col(string_len(Connection::Status, 32))
                    .col(text_null(Connection::StatusMessage))
                    .col(blob_null(Connection::CredentialsCiphertext))
                    .col(string_null(Connection::CredentialHint))
                    .col(string_null(Connection::OauthState))
                    .col(boolean(Connection::ScheduleEnabled))
                    .col(integer(Connection::ScheduleIntervalMinutes))
                    .col(timestamp_with_time_zone_null(Connection::NextRunAt))
                    .col(boolean(Connection::ResyncRequired))
                    .col(timestamp_with_time_zone(Connection::CreatedAt))
                    .col(timestamp_with_time_zone(Connection::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Connection::Table, Connection::WorkspaceId)
                            .to(Workspace::Table, Workspace::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_connection_workspace")
                    .table(Connection::Table)
                    .col(Connection::WorkspaceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_connection_oauth_state")
                    .table(Connection::Table)
                    .col(Connection::OauthState)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Connection::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Connection {
    Table,
    Id,
    WorkspaceId,
    ProviderId,
    AuthMethod,
    Subdomain,
    Status,
    StatusMessage,
    CredentialsCiphertext,
    CredentialHint,
    OauthState,
    ScheduleEnabled,
    ScheduleIntervalMinutes,
    NextRunAt,
    ResyncRequired,
    CreatedAt,
    UpdatedAt,
}
