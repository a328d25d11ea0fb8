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
                    .table(FieldMapping::Table)
                    .col(uuid(FieldMapping::Id).primary_key())
                    .col(uuid(FieldMapping::ConnectionId))
                    .col(integer(FieldMapping::Version))
                    .col(string_len(FieldMapping::Status, 16))
                    .col(json(FieldMapping::Entries))
                    .col(timestamp_with_time_zone(FieldMapping::SavedAt))
                    .col(timestamp_with_time_zone_null(FieldMapping::ConfirmedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(FieldMapping::Table, FieldMapping::ConnectionId)
                            .to(Connection::Table, Connection::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_field_mapping_version")
                    .table(FieldMapping::Table)
                    .col(FieldMapping::ConnectionId)
                    .col(FieldMapping::Version)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(FieldMapping::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum FieldMapping {
    Table,
    Id,
    ConnectionId,
    Version,
    Status,
    Entries,
    SavedAt,
    ConfirmedAt,
}
