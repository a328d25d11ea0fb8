use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000002_create_connection::Connection;

/// A SCIM connection's side of the protocol: the users and groups its identity provider pushed
/// (kept as the provider sent them, so a GET answers what was PUT and a re-sync after a mapping
/// edit reads them again), group memberships, the request activity shown on the connection's
/// card, and the hash of the connection's bearer token.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Connection::Table)
                    .add_column(string_len_null(Added::PushTokenHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_connection_push_token_hash")
                    .table(Connection::Table)
                    .col(Added::PushTokenHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScimResource::Table)
                    .col(uuid(ScimResource::Id).primary_key())
                    .col(string(ScimResource::WorkspaceId))
                    .col(uuid(ScimResource::ConnectionId))
                    .col(string_len(ScimResource::ResourceType, 16))
                    .col(string(ScimResource::NameKey))
                    .col(string_null(ScimResource::ExternalId))
                    .col(string_null(ScimResource::DisplayName))
                    .col(boolean(ScimResource::Active))
                    .col(text(ScimResource::EmailsKey))
                    .col(json(ScimResource::Document))
                    .col(integer(ScimResource::Version))
                    .col(timestamp_with_time_zone(ScimResource::CreatedAt))
                    .col(timestamp_with_time_zone(ScimResource::UpdatedAt))
                    .col(timestamp_with_time_zone_null(ScimResource::DeletedAt))
                    .col(timestamp_with_time_zone_null(ScimResource::DeactivatedAt))
                    .col(boolean(ScimResource::DeactivationHeld))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScimResource::Table, ScimResource::ConnectionId)
                            .to(Connection::Table, Connection::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // userName is unique among a connection's live users (RFC 7643 §4.1.1), case-insensitively;
        // a deleted user's row stays for the directory's history and may be taken over.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_scim_user_name ON scim_resource (connection_id, name_key) \
                 WHERE resource_type = 'User' AND deleted_at IS NULL",
            )
            .await?;
        for (name, column) in [
            ("idx_scim_resource_external_id", ScimResource::ExternalId),
            ("idx_scim_resource_updated_at", ScimResource::UpdatedAt),
            ("idx_scim_resource_name", ScimResource::NameKey),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(ScimResource::Table)
                        .col(ScimResource::ConnectionId)
                        .col(ScimResource::ResourceType)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ScimMember::Table)
                    .col(uuid(ScimMember::GroupId))
                    .col(uuid(ScimMember::MemberId))
                    .col(string_null(ScimMember::Display))
                    .primary_key(Index::create().col(ScimMember::GroupId).col(ScimMember::MemberId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScimMember::Table, ScimMember::GroupId)
                            .to(ScimResource::Table, ScimResource::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scim_member_member")
                    .table(ScimMember::Table)
                    .col(ScimMember::MemberId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScimActivity::Table)
                    .col(uuid(ScimActivity::ConnectionId))
                    .col(string_len(ScimActivity::Day, 10))
                    .col(integer(ScimActivity::Requests))
                    .col(integer(ScimActivity::Changes))
                    .col(integer(ScimActivity::Errors))
                    .col(timestamp_with_time_zone(ScimActivity::LastRequestAt))
                    .col(string_null(ScimActivity::LastError))
                    .col(timestamp_with_time_zone_null(ScimActivity::LastErrorAt))
                    .primary_key(Index::create().col(ScimActivity::ConnectionId).col(ScimActivity::Day))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScimActivity::Table, ScimActivity::ConnectionId)
                            .to(Connection::Table, Connection::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ScimActivity::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ScimMember::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ScimResource::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Connection::Table).drop_column(Added::PushTokenHash).to_owned()).await
    }
}

/// The column this migration adds to [`Connection`].
#[derive(DeriveIden)]
enum Added {
    PushTokenHash,
}

#[derive(DeriveIden)]
enum ScimResource {
    Table,
    Id,
    WorkspaceId,
    ConnectionId,
    ResourceType,
    NameKey,
    ExternalId,
    DisplayName,
    Active,
    EmailsKey,
    Document,
    Version,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    DeactivatedAt,
    DeactivationHeld,
}

#[derive(DeriveIden)]
enum ScimMember {
    Table,
    GroupId,
    MemberId,
    Display,
}

#[derive(DeriveIden)]
enum ScimActivity {
    Table,
    ConnectionId,
    Day,
    Requests,
    Changes,
    Errors,
    LastRequestAt,
    LastError,
    LastErrorAt,
}
