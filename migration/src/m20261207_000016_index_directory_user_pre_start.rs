use sea_orm_migration::prelude::*;

/// People hired who have not started (PRE_START), by start date: every maintenance sweep looks
/// for those whose start date came. Partial, so the many people already started cost
/// the index nothing (a first sync inserts them by the thousand).
#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_directory_user_pre_start";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The same statement in SQLite and PostgreSQL; sea-query builds no partial index.
        let sql = format!("CREATE INDEX {NAME} ON directory_user (start_date) WHERE employment_status = 'PRE_START'");
        manager.get_connection().execute_unprepared(&sql).await.map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NAME).table(Alias::new("directory_user")).to_owned()).await
    }
}
