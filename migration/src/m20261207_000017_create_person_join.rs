use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000006_create_directory_user::DirectoryUser;

/// Two people the sync could not match (POSSIBLE_DUPLICATE): the issue names both and can be
/// dismissed; an admin's join of two people is kept whole, so it can be undone.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one change at a time.
        for column in
            [uuid_null(Added::UserId), uuid_null(Added::OtherUserId), timestamp_with_time_zone_null(Added::DismissedAt)]
        {
            let mut column = column;
            manager.alter_table(Table::alter().table(Added::SyncIssue).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PersonJoin::Table)
                    .col(uuid(PersonJoin::Id).primary_key())
                    .col(string(PersonJoin::WorkspaceId))
                    .col(uuid(PersonJoin::IntoUserId))
                    .col(uuid(PersonJoin::OtherUserId))
                    .col(json(PersonJoin::Moved))
                    .col(string(PersonJoin::JoinedBy))
                    .col(timestamp_with_time_zone(PersonJoin::JoinedAt))
                    .col(timestamp_with_time_zone_null(PersonJoin::SeparatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PersonJoin::Table, PersonJoin::IntoUserId)
                            .to(DirectoryUser::Table, DirectoryUser::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_person_join_into")
                    .table(PersonJoin::Table)
                    .col(PersonJoin::IntoUserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PersonJoin::Table).to_owned()).await?;
        for column in [Added::UserId, Added::OtherUserId, Added::DismissedAt] {
            manager.alter_table(Table::alter().table(Added::SyncIssue).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

/// The columns this migration adds to the sync issues.
#[derive(DeriveIden)]
enum Added {
    SyncIssue,
    UserId,
    OtherUserId,
    DismissedAt,
}

#[derive(DeriveIden)]
enum PersonJoin {
    Table,
    Id,
    WorkspaceId,
    IntoUserId,
    OtherUserId,
    /// What the join moved, to move it back: the other person's row, and the ids of their
    /// sources, history entries, activities and invitations.
    Moved,
    JoinedBy,
    JoinedAt,
    SeparatedAt,
}
