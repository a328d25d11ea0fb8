use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};

use entity::spreadsheet_upload;
use worker::uploads;

use super::connection::Connection;
use crate::access::ConnectionId;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::ContextExt;

/// A spreadsheet uploaded as a connection's source: what reading it found. Its content is kept
/// only until a sync succeeds with it; what is shown here stays.
pub struct SpreadsheetUpload(pub spreadsheet_upload::Model);

#[Object]
impl SpreadsheetUpload {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn connection(&self, ctx: &Context<'_>) -> ApiResult<Connection> {
        let integrations = ctx.integrations()?;
        let connection = integrations.connection_batched(ConnectionId(self.0.connection_id)).await?;
        connection.map(Connection).ok_or_else(|| ApiError::not_found("connection"))
    }

    async fn file_name(&self) -> &str {
        &self.0.file_name
    }

    /// `CSV` or `XLSX`, as told from the file's content.
    async fn format(&self) -> &str {
        &self.0.format
    }

    async fn byte_size(&self) -> i64 {
        self.0.byte_size
    }

    /// Rows of people (blank rows not counted).
    async fn rows(&self) -> i32 {
        self.0.row_count
    }

    /// The header row: the fields a mapping can read.
    async fn columns(&self) -> Vec<String> {
        uploads::columns(&self.0)
    }

    /// The column that tells people apart from one upload to the next: an employee id, else
    /// the email.
    async fn key_column(&self) -> &str {
        &self.0.key_column
    }

    /// Rows worth a look, each naming its row and column (formula-like cells kept as text,
    /// values past the last column); at most 50, then a count of the rest.
    async fn findings(&self) -> Vec<String> {
        uploads::findings(&self.0)
    }

    async fn uploaded_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Whether a sync can still read the file (its content is deleted once one succeeds with it).
    async fn readable(&self) -> bool {
        self.0.content_deleted_at.is_none()
    }
}
