use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000002_create_connection::Connection;

/// Files admins upload as a source (a spreadsheet of the company): what was learned of each, and
/// its content, normalised to UTF-8 CSV, in chunks a reader takes one at a time. The content is
/// deleted once a run has read it; the rest (columns, counts) stays, as the mapping's fields.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SpreadsheetUpload::Table)
                    .col(uuid(SpreadsheetUpload::Id).primary_key())
                    .col(string(SpreadsheetUpload::WorkspaceId))
                    .col(uuid(SpreadsheetUpload::ConnectionId))
                    .col(string(SpreadsheetUpload::FileName))
                    .col(string_len(SpreadsheetUpload::Format, 16))
                    .col(big_integer(SpreadsheetUpload::ByteSize))
                    .col(integer(SpreadsheetUpload::RowCount))
                    .col(json(SpreadsheetUpload::Columns))
                    .col(string(SpreadsheetUpload::KeyColumn))
                    .col(integer(SpreadsheetUpload::HeaderRow))
                    .col(json(SpreadsheetUpload::Findings))
                    .col(timestamp_with_time_zone(SpreadsheetUpload::CreatedAt))
                    .col(timestamp_with_time_zone_null(SpreadsheetUpload::ContentDeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SpreadsheetUpload::Table, SpreadsheetUpload::ConnectionId)
                            .to(Connection::Table, Connection::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_spreadsheet_upload_connection")
                    .table(SpreadsheetUpload::Table)
                    .col(SpreadsheetUpload::ConnectionId)
                    .col(SpreadsheetUpload::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SpreadsheetUploadChunk::Table)
                    .col(uuid(SpreadsheetUploadChunk::UploadId))
                    .col(integer(SpreadsheetUploadChunk::Seq))
                    .col(blob(SpreadsheetUploadChunk::Data))
                    .primary_key(Index::create().col(SpreadsheetUploadChunk::UploadId).col(SpreadsheetUploadChunk::Seq))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SpreadsheetUploadChunk::Table, SpreadsheetUploadChunk::UploadId)
                            .to(SpreadsheetUpload::Table, SpreadsheetUpload::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SpreadsheetUploadChunk::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(SpreadsheetUpload::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum SpreadsheetUpload {
    Table,
    Id,
    WorkspaceId,
    ConnectionId,
    FileName,
    Format,
    ByteSize,
    RowCount,
    Columns,
    KeyColumn,
    HeaderRow,
    Findings,
    CreatedAt,
    ContentDeletedAt,
}

#[derive(DeriveIden)]
enum SpreadsheetUploadChunk {
    Table,
    UploadId,
    Seq,
    Data,
}
