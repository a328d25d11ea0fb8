use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000002_create_connection::Connection;
use crate::m20261126_000003_create_field_mapping::FieldMapping;

/// Whether a mapping makes an applicant tracking system's users (its hiring team) people too:
/// null for an HR system's mapping; every ATS mapping saved before did (Greenhouse and Lever were
/// the ATSs then).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(FieldMapping::Table).add_column(boolean_null(Added::HiringTeam)).to_owned(),
            )
            .await?;
        let ats = Query::select()
            .column(Connection::Id)
            .from(Connection::Table)
            .and_where(Expr::col(Connection::ProviderId).is_in(["greenhouse", "lever"]))
            .to_owned();
        let update = Query::update()
            .table(FieldMapping::Table)
            .value(Added::HiringTeam, true)
            .and_where(Expr::col(FieldMapping::ConnectionId).in_subquery(ats))
            .to_owned();
        manager.exec_stmt(update).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(FieldMapping::Table).drop_column(Added::HiringTeam).to_owned()).await
    }
}

/// The column this migration adds to [`FieldMapping`].
#[derive(DeriveIden)]
enum Added {
    HiringTeam,
}
