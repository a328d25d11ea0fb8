use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_workspace::Workspace;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DirectoryUser::Table)
                    .col(uuid(DirectoryUser::Id).primary_key())
                    .col(string(DirectoryUser::WorkspaceId))
                    .col(string(DirectoryUser::Email))
                    .col(string(DirectoryUser::EmailNormalized))
                    .col(string_null(DirectoryUser::FirstName))
                    .col(string_null(DirectoryUser::LastName))
                    .col(string(DirectoryUser::DisplayName))
                    .col(string_null(DirectoryUser::JobTitle))
                    .col(string_null(DirectoryUser::Department))
                    .col(string_null(DirectoryUser::Location))
                    .col(string_len(DirectoryUser::EmploymentStatus, 16))
                    .col(string_null(DirectoryUser::StartDate))
                    .col(uuid_null(DirectoryUser::ManagerId))
                    .col(string_len(DirectoryUser::InvitationStatus, 16))
                    .col(timestamp_with_time_zone_null(DirectoryUser::InvitedAt))
                    .col(timestamp_with_time_zone(DirectoryUser::CreatedAt))
                    .col(timestamp_with_time_zone(DirectoryUser::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DirectoryUser::Table, DirectoryUser::WorkspaceId)
                            .to(Workspace::Table, Workspace::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_directory_user_email")
                    .table(DirectoryUser::Table)
                    .col(DirectoryUser::WorkspaceId)
                    .col(DirectoryUser::EmailNormalized)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_directory_user_manager")
                    .table(DirectoryUser::Table)
                    .col(DirectoryUser::ManagerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(DirectoryUser::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum DirectoryUser {
    Table,
    Id,
    WorkspaceId,
    Email,
    EmailNormalized,
    FirstName,
    LastName,
    DisplayName,
    JobTitle,
    Department,
    Location,
    EmploymentStatus,
    StartDate,
    ManagerId,
    InvitationStatus,
    InvitedAt,
    CreatedAt,
    UpdatedAt,
}
