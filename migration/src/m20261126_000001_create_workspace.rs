use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workspace::Table)
                    .col(string(Workspace::Id).primary_key())
                    .col(string(Workspace::Name))
                    .col(string_len(Workspace::Plan, 16))
                    .col(timestamp_with_time_zone(Workspace::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Workspace::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Workspace {
    Table,
    Id,
    Name,
    Plan,
    CreatedAt,
}
