use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000002_create_connection::Connection;

/// The provider fields a connection can read, kept so reading `accessibleData` or a suggested
/// mapping does not ask the provider every time.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        manager
            .alter_table(
                Table::alter().table(Connection::Table).add_column(json_null(Added::DiscoveredFields)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Connection::Table)
                    .add_column(timestamp_with_time_zone_null(Added::FieldsDiscoveredAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Connection::Table).drop_column(Added::FieldsDiscoveredAt).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(Connection::Table).drop_column(Added::DiscoveredFields).to_owned())
            .await
    }
}

/// The columns this migration adds to [`Connection`].
#[derive(DeriveIden)]
enum Added {
    DiscoveredFields,
    FieldsDiscoveredAt,
}
