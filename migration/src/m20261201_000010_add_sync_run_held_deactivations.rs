use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000004_create_sync_run::SyncRun;

/// How many deactivations a complete pass held back (the deactivation guard).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SyncRun::Table)
                    .add_column(integer(Added::HeldDeactivations).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(SyncRun::Table).drop_column(Added::HeldDeactivations).to_owned()).await
    }
}

/// The column this migration adds to [`SyncRun`].
#[derive(DeriveIden)]
enum Added {
    HeldDeactivations,
}
