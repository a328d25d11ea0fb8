//! Uploading a spreadsheet as a connection's source: a new connection with its first file, or a
//! newer file for one. The file is read whole on arrival (see [`crate::uploads`]); a file that
//! cannot be a table of people is refused before anything is stored.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
use uuid::Uuid;

use entity::connection::{self, AuthMethod as StoredAuthMethod, ConnectionStatus};
use entity::spreadsheet_upload;

use super::{connections, runs};
use crate::environment::{begin_write, Environment};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::providers::catalogue::{self, AuthMethod};
use crate::providers::spreadsheet;
use crate::uploads::{self, UploadError};

/// A file as the API received it: its name, and its bytes in a temporary file.
pub struct UploadInput {
    /// The connection the file is for; `None` connects a new spreadsheet.
    pub connection_id: Option<Uuid>,
    pub file_name: String,
    pub file: std::fs::File,
}

/// Reads the file, and keeps it as the connection's source until a sync reads it.
pub async fn upload_spreadsheet(
    env: &Environment,
    workspace_id: &str,
    input: UploadInput,
) -> Result<(connection::Model, spreadsheet_upload::Model)> {
    let provider = catalogue::find(spreadsheet::ID).ok_or(Error::NotFound("provider"))?;
    let existing = match input.connection_id {
        Some(id) => {
            let connection = connections::find(&env.db, workspace_id, id).await?;
            if !catalogue::is_uploaded(&connection.provider_id) {
                return Err(Error::Validation {
                    field: "connectionId",
                    message: "this connection reads its provider's API; only a spreadsheet connection takes a file"
                        .into(),
                });
            }
            Some(connection)
        }
        None => None,
    };
    debug_assert!(provider.info().auth_methods().contains(&AuthMethod::Upload));
    let limits = env.upload_limits.clone();
    let received = tokio::task::spawn_blocking(move || uploads::receive(input.file, &limits))
        .await
        // A reader that panics on a file has met a file it cannot read.
        .map_err(|_| {
            Error::Upload(UploadError::Unsupported("the file could not be read: save it again, or as CSV".into()))
        })??;
    let columns = received.summary.columns.clone();
    let encoding = received.summary.encoding;

    let txn = begin_write(&env.db).await?;
    let connection = match existing {
        Some(connection) => {
            if let Some(active) = runs::active_run(&txn, connection.id).await? {
                return Err(Error::SyncAlreadyRunning { run_id: active.id });
            }
            if let Some(before) = uploads::latest(&txn, connection.id).await? {
                if before.key_column != received.summary.key_column {
                    return Err(Error::Upload(UploadError::KeyColumnChanged {
                        before: before.key_column,
                        now: received.summary.key_column,
                    }));
                }
            }
            connection
        }
        None => {
            let mut active = connections::new_connection(Uuid::now_v7(), workspace_id, provider, None);
            active.auth_method = Set(StoredAuthMethod::Upload);
            active.insert(&txn).await?
        }
    };
    let upload = uploads::store(&txn, workspace_id, connection.id, &input.file_name, received).await?;
    let fields = spreadsheet::column_fields(&columns);
    let mut active = connection.into_active_model();
    active.status = Set(ConnectionStatus::Connected);
    active.status_message = Set(None);
    active.discovered_fields = Set(Some(serde_json::to_value(&fields).expect("fields serialise")));
    active.fields_discovered_at = Set(Some(Utc::now()));
    active.updated_at = Set(Utc::now());
    let connection = active.update(&txn).await?;
    txn.commit().await?;
    env.events.publish(Event::ConnectionChanged { connection_id: connection.id }).await;
    tracing::info!(connection_id = %connection.id, rows = upload.row_count, format = %upload.format, encoding, "received a spreadsheet");
    Ok((connection, upload))
}
