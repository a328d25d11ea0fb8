use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000002_create_connection::Connection;

/// Which system a bridge's linked account is (Merge links BambooHR, Personio, ...).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Connection::Table).add_column(string_null(Added::LinkedSystem)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Connection::Table).drop_column(Added::LinkedSystem).to_owned()).await
    }
}

/// The column this migration adds to [`Connection`].
#[derive(DeriveIden)]
enum Added {
    LinkedSystem,
}
