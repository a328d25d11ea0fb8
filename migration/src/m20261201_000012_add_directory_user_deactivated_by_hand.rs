use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000006_create_directory_user::DirectoryUser;

/// When an admin deactivated a synced person by hand: the next syncs keep them inactive until the
/// provider itself reports them as a leaver (see `sync::decide::status_after_sync`).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DirectoryUser::Table)
                    .add_column(timestamp_with_time_zone_null(Added::DeactivatedByHandAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(DirectoryUser::Table).drop_column(Added::DeactivatedByHandAt).to_owned())
            .await
    }
}

/// The column this migration adds to [`DirectoryUser`].
#[derive(DeriveIden)]
enum Added {
    DeactivatedByHandAt,
}
