use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000006_create_directory_user::DirectoryUser;

/// Activities assigned to people, and the invitation outbox their first assignment writes (in
/// the same transaction), which workers deliver by SMTP; plus why a person's last invitation
/// failed.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ActivityAssignment::Table)
                    .col(uuid(ActivityAssignment::Id).primary_key())
                    .col(string(ActivityAssignment::WorkspaceId))
                    .col(uuid(ActivityAssignment::UserId))
                    .col(string(ActivityAssignment::Title))
                    .col(string_null(ActivityAssignment::DueDate))
                    .col(string(ActivityAssignment::AssignedBy))
                    .col(timestamp_with_time_zone(ActivityAssignment::AssignedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActivityAssignment::Table, ActivityAssignment::UserId)
                            .to(DirectoryUser::Table, DirectoryUser::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_activity_assignment_user")
                    .table(ActivityAssignment::Table)
                    .col(ActivityAssignment::UserId)
                    .col(ActivityAssignment::AssignedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Invitation::Table)
                    .col(uuid(Invitation::Id).primary_key())
                    .col(string(Invitation::WorkspaceId))
                    .col(uuid(Invitation::UserId))
                    .col(string(Invitation::ActivityTitle))
                    .col(string_null(Invitation::ActivityDueDate))
                    .col(string_len(Invitation::Status, 16))
                    .col(integer(Invitation::Attempts))
                    .col(timestamp_with_time_zone(Invitation::NextAttemptAt))
                    .col(text_null(Invitation::LastError))
                    .col(timestamp_with_time_zone(Invitation::CreatedAt))
                    .col(timestamp_with_time_zone_null(Invitation::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitation::Table, Invitation::UserId)
                            .to(DirectoryUser::Table, DirectoryUser::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invitation_due")
                    .table(Invitation::Table)
                    .col(Invitation::Status)
                    .col(Invitation::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(DirectoryUser::Table).add_column(text_null(Added::InvitationError)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(DirectoryUser::Table).drop_column(Added::InvitationError).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(Invitation::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ActivityAssignment::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ActivityAssignment {
    Table,
    Id,
    WorkspaceId,
    UserId,
    Title,
    DueDate,
    AssignedBy,
    AssignedAt,
}

#[derive(DeriveIden)]
enum Invitation {
    Table,
    Id,
    WorkspaceId,
    UserId,
    ActivityTitle,
    ActivityDueDate,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    SentAt,
}

/// The column this migration adds to [`DirectoryUser`].
#[derive(DeriveIden)]
enum Added {
    InvitationError,
}
