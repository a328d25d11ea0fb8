use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000004_create_sync_run::SyncRun;

/// How many records a run expects (its connection's last successful run read that many), so
/// progress moves while the provider's answer is still downloading and the total is unknown.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(SyncRun::Table).add_column(integer_null(Added::ExpectedTotal)).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(SyncRun::Table).drop_column(Added::ExpectedTotal).to_owned()).await
    }
}

/// The column this migration adds to [`SyncRun`].
#[derive(DeriveIden)]
enum Added {
    ExpectedTotal,
}
