use sea_orm_migration::{prelude::*, schema::*};

/// Webhooks: the endpoints a workspace subscribes (their signing secrets sealed like provider
/// credentials), the events published to them, and one delivery per event and endpoint, which
/// workers attempt until the endpoint accepts it or the retries run out. A person's history
/// entries that still await publication as events are marked, so a change and its event are
/// written in one transaction.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoint::Table)
                    .col(uuid(WebhookEndpoint::Id).primary_key())
                    .col(string(WebhookEndpoint::WorkspaceId))
                    .col(text(WebhookEndpoint::Url))
                    .col(json(WebhookEndpoint::Events))
                    .col(text_null(WebhookEndpoint::Description))
                    .col(blob(WebhookEndpoint::SealedSecret))
                    .col(blob_null(WebhookEndpoint::SealedPreviousSecret))
                    .col(timestamp_with_time_zone_null(WebhookEndpoint::PreviousSecretUntil))
                    .col(integer(WebhookEndpoint::ConsecutiveFailures).default(0))
                    .col(boolean(WebhookEndpoint::Failing).default(false))
                    .col(timestamp_with_time_zone(WebhookEndpoint::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_endpoint_workspace")
                    .table(WebhookEndpoint::Table)
                    .col(WebhookEndpoint::WorkspaceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookEvent::Table)
                    .col(uuid(WebhookEvent::Id).primary_key())
                    .col(string(WebhookEvent::WorkspaceId))
                    .col(string_len(WebhookEvent::EventType, 32))
                    .col(text(WebhookEvent::Payload))
                    .col(timestamp_with_time_zone(WebhookEvent::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDelivery::Table)
                    .col(uuid(WebhookDelivery::Id).primary_key())
                    .col(uuid(WebhookDelivery::EndpointId))
                    .col(uuid(WebhookDelivery::EventId))
                    .col(string_len(WebhookDelivery::EventType, 32))
                    .col(string_null(WebhookDelivery::OrderingKey))
                    .col(string_len(WebhookDelivery::Status, 16))
                    .col(integer(WebhookDelivery::Attempts))
                    .col(timestamp_with_time_zone(WebhookDelivery::NextAttemptAt))
                    .col(integer_null(WebhookDelivery::ResponseStatus))
                    .col(text_null(WebhookDelivery::LastError))
                    .col(timestamp_with_time_zone(WebhookDelivery::CreatedAt))
                    .col(timestamp_with_time_zone_null(WebhookDelivery::DeliveredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDelivery::Table, WebhookDelivery::EndpointId)
                            .to(WebhookEndpoint::Table, WebhookEndpoint::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDelivery::Table, WebhookDelivery::EventId)
                            .to(WebhookEvent::Table, WebhookEvent::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let indexes = [
            ("idx_webhook_delivery_due", vec![WebhookDelivery::Status, WebhookDelivery::NextAttemptAt]),
            ("idx_webhook_delivery_endpoint", vec![WebhookDelivery::EndpointId, WebhookDelivery::Id]),
            // "Is an earlier delivery of this person pending?", asked of every due one.
            (
                "idx_webhook_delivery_order",
                vec![
                    WebhookDelivery::EndpointId,
                    WebhookDelivery::OrderingKey,
                    WebhookDelivery::Status,
                    WebhookDelivery::Id,
                ],
            ),
        ];
        for (name, columns) in indexes {
            let mut index = Index::create().name(name).table(WebhookDelivery::Table).to_owned();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(UserChange::Table)
                    .add_column(boolean(UserChange::WebhookPending).default(false))
                    .to_owned(),
            )
            .await?;
        // Partial: the entries awaiting publication are few at any moment, the history is not.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_user_change_webhook_pending ON user_change (id) WHERE webhook_pending",
            )
            .await?;
        // A history entry is only ever written in the transaction that writes its person, and
        // people are never deleted; on PostgreSQL the foreign key's check, a trigger run for each
        // row, cost a first sync of 100,000 people about a tenth of its time. (SQLite's check is
        // cheap, and dropping it there would mean rebuilding the table.)
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE user_change DROP CONSTRAINT IF EXISTS user_change_user_id_fkey")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE user_change ADD CONSTRAINT user_change_user_id_fkey \
                     FOREIGN KEY (user_id) REFERENCES directory_user (id)",
                )
                .await?;
        }
        manager
            .drop_index(Index::drop().name("idx_user_change_webhook_pending").table(UserChange::Table).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(UserChange::Table).drop_column(UserChange::WebhookPending).to_owned())
            .await?;
        for table in
            [WebhookDelivery::Table.into_iden(), WebhookEvent::Table.into_iden(), WebhookEndpoint::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookEndpoint {
    Table,
    Id,
    WorkspaceId,
    Url,
    Events,
    Description,
    SealedSecret,
    SealedPreviousSecret,
    PreviousSecretUntil,
    ConsecutiveFailures,
    Failing,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookEvent {
    Table,
    Id,
    WorkspaceId,
    EventType,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookDelivery {
    Table,
    Id,
    EndpointId,
    EventId,
    EventType,
    OrderingKey,
    Status,
    Attempts,
    NextAttemptAt,
    ResponseStatus,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UserChange {
    Table,
    WebhookPending,
}
