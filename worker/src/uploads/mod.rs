//! Files admins upload as a connection's source (a spreadsheet of the company, for companies
//! whose HR system is one).
//!
//! A file is read once on arrival ([`receive`]): refused whole when it cannot be read as a table
//! of people (its encoding, its headings, its size), otherwise written out normalised as UTF-8
//! CSV, whatever it came as (CSV in UTF-8, UTF-16 or Windows-1252, with commas, semicolons or
//! tabs; or Excel's .xlsx). The normalised content is kept in the database in chunks, so any
//! worker can read it, a chunk at a time, and deleted as soon as a run has synced it, or after
//! [`UploadLimits::unused_for`] when no run does; what was learned of it (its columns, its row
//! count, its findings) stays, as the connection's fields.

pub mod cells;
pub mod normalize;
mod xlsx;

use std::io::{self, Read, Seek, SeekFrom};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{self, Stream};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use entity::sync_run::{self, SyncStatus};
use entity::{spreadsheet_upload, spreadsheet_upload_chunk};

pub use normalize::Summary;

/// Bytes of normalised content per stored chunk.
const CHUNK_BYTES: usize = 1024 * 1024;

/// What one upload may be (each a setting, see the README).
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// `UPLOAD_MAX_BYTES`: the largest file accepted.
    pub max_bytes: usize,
    /// `CSV_MAX_ROWS`: the most rows of people one file may hold.
    pub max_rows: usize,
    /// The most an .xlsx may unpack to, all its parts together: a zip bomb is refused by its
    /// declared sizes before anything is unpacked.
    pub max_unpacked_bytes: u64,
    /// How long content no run has read is kept.
    pub unused_for: Duration,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            max_bytes: 50 * 1024 * 1024,
            max_rows: 1_000_000,
            max_unpacked_bytes: 500 * 1024 * 1024,
            unused_for: Duration::from_secs(24 * 3600),
        }
    }
}

/// Why a file cannot be a source, in words the admin can act on.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is empty")]
    Empty,
    #[error("the file has a header row but no rows of people")]
    HeaderOnly,
    #[error("the file has more than {limit} rows of people, the most one upload may hold (CSV_MAX_ROWS)")]
    TooManyRows { limit: usize },
    #[error("the file is over {} MB, the largest upload accepted (UPLOAD_MAX_BYTES)", .limit / (1024 * 1024))]
    TooLarge { limit: usize },
    #[error("the file has more than {limit} columns, the most a spreadsheet has")]
    TooManyColumns { limit: usize },
    #[error(
        "the file would be over {} MB written out as a table, the most allowed (UPLOAD_MAX_UNPACKED_BYTES)",
        .limit / (1024 * 1024)
    )]
    Unpacked { limit: u64 },
    #[error("{0}")]
    Encoding(String),
    #[error(
        "columns {first} and {second} are both headed '{name}': rename one so that each heading says what it holds"
    )]
    DuplicateHeader { name: String, first: usize, second: usize },
    #[error(
        "the file has no column of each person's email (headed \"Email\", say) or employee id (\"Employee ID\"): add one, \
         so that people are told apart from one upload to the next"
    )]
    NoKeyColumn,
    #[error("{}the file is not a readable CSV ({detail})", .row.map(|r| format!("row {r}: ")).unwrap_or_default())]
    Malformed { row: Option<u64>, detail: String },
    #[error("{0}")]
    Unsupported(String),
    #[error(
        "the earlier file told people apart by '{before}', this one by '{now}': keep the '{before}' column, so that \
         everyone stays who they are"
    )]
    KeyColumnChanged { before: String, now: String },
    #[error("could not read the upload: {0}")]
    Io(#[from] io::Error),
}

/// Where uploads are kept, for the connectors that read them: the database, so that any worker
/// can read any upload.
#[derive(Debug, Clone)]
pub struct UploadStore {
    db: DatabaseConnection,
}

impl UploadStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub async fn latest(&self, connection_id: Uuid) -> Result<Option<spreadsheet_upload::Model>, sea_orm::DbErr> {
        latest(&self.db, connection_id).await
    }

    pub async fn readable(&self, connection_id: Uuid) -> Result<Option<spreadsheet_upload::Model>, sea_orm::DbErr> {
        readable(&self.db, connection_id).await
    }

    pub fn content(&self, upload_id: Uuid) -> impl Stream<Item = io::Result<io::Cursor<Vec<u8>>>> + Send + 'static {
        content(self.db.clone(), upload_id)
    }
}

/// An upload's header row, in order.
pub fn columns(upload: &spreadsheet_upload::Model) -> Vec<String> {
    serde_json::from_value(upload.columns.clone()).unwrap_or_default()
}

/// What reading an upload found worth the admin's look.
pub fn findings(upload: &spreadsheet_upload::Model) -> Vec<String> {
    serde_json::from_value(upload.findings.clone()).unwrap_or_default()
}

/// The kind of file an upload is, from its first bytes (not its name, which may say anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "CSV",
            Self::Xlsx => "XLSX",
        }
    }

    fn of(file: &mut (impl Read + Seek)) -> Result<Self, UploadError> {
        let mut magic = [0u8; 8];
        file.seek(SeekFrom::Start(0))?;
        let read = file.read(&mut magic)?;
        file.seek(SeekFrom::Start(0))?;
        match &magic[..read] {
            [b'P', b'K', 3, 4, ..] => Ok(Self::Xlsx),
            [0xD0, 0xCF, 0x11, 0xE0, ..] => Err(UploadError::Unsupported(
                "the file is an old Excel workbook (.xls); save it as .xlsx or as CSV".into(),
            )),
            _ => Ok(Self::Csv),
        }
    }
}

/// A file read on arrival: its normalised content (UTF-8 CSV, in a temporary file) and what the
/// read learned.
pub struct Received {
    pub format: Format,
    pub byte_size: u64,
    pub summary: Summary,
    pub content: std::fs::File,
}

/// Reads an uploaded `file` (blocking: run it off the async threads).
pub fn receive(mut file: std::fs::File, limits: &UploadLimits) -> Result<Received, UploadError> {
    let byte_size = file.seek(SeekFrom::End(0))?;
    if byte_size > limits.max_bytes as u64 {
        return Err(UploadError::TooLarge { limit: limits.max_bytes });
    }
    let format = Format::of(&mut file)?;
    let mut content = tempfile::tempfile()?;
    let summary = {
        let out = io::BufWriter::new(&mut content);
        match format {
            Format::Csv => normalize::normalize_csv(&mut file, limits, out)?,
            Format::Xlsx => xlsx::normalize_xlsx(file, limits, out)?,
        }
    };
    content.seek(SeekFrom::Start(0))?;
    Ok(Received { format, byte_size, summary, content })
}

/// Stores `received` as connection `connection_id`'s newest upload, in the caller's
/// transaction; content of its older uploads that no run read is dropped (the new file
/// replaces it).
pub async fn store<C: ConnectionTrait>(
    db: &C,
    workspace_id: &str,
    connection_id: Uuid,
    file_name: &str,
    mut received: Received,
) -> Result<spreadsheet_upload::Model, sea_orm::DbErr> {
    release(db, connection_id, Utc::now()).await?;
    let summary = &received.summary;
    let upload = spreadsheet_upload::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(workspace_id.to_string()),
        connection_id: Set(connection_id),
        file_name: Set(file_name.to_string()),
        format: Set(received.format.as_str().to_string()),
        byte_size: Set(received.byte_size as i64),
        row_count: Set(summary.rows as i32),
        columns: Set(serde_json::json!(summary.columns)),
        key_column: Set(summary.key_column.clone()),
        header_row: Set(summary.header_row as i32),
        findings: Set(serde_json::json!(summary.findings)),
        created_at: Set(Utc::now()),
        content_deleted_at: Set(None),
    };
    let upload = spreadsheet_upload::Entity::insert(upload).exec_with_returning(db).await?;
    let mut seq = 0;
    loop {
        let mut chunk = Vec::with_capacity(CHUNK_BYTES);
        (&mut received.content).take(CHUNK_BYTES as u64).read_to_end(&mut chunk).map_err(io_to_db)?;
        if chunk.is_empty() {
            break;
        }
        let row = spreadsheet_upload_chunk::ActiveModel { upload_id: Set(upload.id), seq: Set(seq), data: Set(chunk) };
        spreadsheet_upload_chunk::Entity::insert(row).exec_without_returning(db).await?;
        seq += 1;
    }
    Ok(upload)
}

fn io_to_db(err: io::Error) -> sea_orm::DbErr {
    sea_orm::DbErr::Custom(format!("reading the normalised upload: {err}"))
}

/// The connection's newest upload, its content kept or not.
pub async fn latest<C: ConnectionTrait>(
    db: &C,
    connection_id: Uuid,
) -> Result<Option<spreadsheet_upload::Model>, sea_orm::DbErr> {
    spreadsheet_upload::Entity::find()
        .filter(spreadsheet_upload::Column::ConnectionId.eq(connection_id))
        .order_by_desc(spreadsheet_upload::Column::CreatedAt)
        .order_by_desc(spreadsheet_upload::Column::Id)
        .one(db)
        .await
}

/// The connection's newest upload, when its content is still there for a run to read.
pub async fn readable<C: ConnectionTrait>(
    db: &C,
    connection_id: Uuid,
) -> Result<Option<spreadsheet_upload::Model>, sea_orm::DbErr> {
    Ok(latest(db, connection_id).await?.filter(|upload| upload.content_deleted_at.is_none()))
}

/// The upload's content, a chunk at a time.
pub fn content(db: DatabaseConnection, upload_id: Uuid) -> impl Stream<Item = io::Result<io::Cursor<Vec<u8>>>> + Send {
    stream::try_unfold((db, 0), move |(db, seq)| async move {
        let chunk =
            spreadsheet_upload_chunk::Entity::find_by_id((upload_id, seq)).one(&db).await.map_err(io::Error::other)?;
        Ok(chunk.map(|chunk| (io::Cursor::new(chunk.data), (db, seq + 1))))
    })
}

/// Deletes the content of the connection's uploads made up to `until` (a run that started then
/// has read them, or a newer file replaces them); what was learned of them stays.
pub async fn release<C: ConnectionTrait>(
    db: &C,
    connection_id: Uuid,
    until: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let held: Vec<Uuid> = spreadsheet_upload::Entity::find()
        .select_only()
        .column(spreadsheet_upload::Column::Id)
        .filter(spreadsheet_upload::Column::ConnectionId.eq(connection_id))
        .filter(spreadsheet_upload::Column::ContentDeletedAt.is_null())
        .filter(spreadsheet_upload::Column::CreatedAt.lte(until))
        .into_tuple()
        .all(db)
        .await?;
    forget(db, held).await
}

/// Deletes the content no run synced within `unused_for` of its upload, but not while a run of
/// its connection may be reading it.
pub async fn sweep<C: ConnectionTrait>(db: &C, unused_for: Duration) -> Result<usize, sea_orm::DbErr> {
    let before = Utc::now() - chrono::Duration::from_std(unused_for).unwrap_or(chrono::Duration::MAX);
    let reading = Query::select()
        .column(sync_run::Column::ConnectionId)
        .from(sync_run::Entity)
        .and_where(sync_run::Column::Status.is_in([SyncStatus::Queued, SyncStatus::Running]))
        .to_owned();
    let stale: Vec<Uuid> = spreadsheet_upload::Entity::find()
        .select_only()
        .column(spreadsheet_upload::Column::Id)
        .filter(spreadsheet_upload::Column::ContentDeletedAt.is_null())
        .filter(spreadsheet_upload::Column::CreatedAt.lt(before))
        .filter(spreadsheet_upload::Column::ConnectionId.not_in_subquery(reading))
        .into_tuple()
        .all(db)
        .await?;
    let count = stale.len();
    forget(db, stale).await?;
    Ok(count)
}

async fn forget<C: ConnectionTrait>(db: &C, uploads: Vec<Uuid>) -> Result<(), sea_orm::DbErr> {
    if uploads.is_empty() {
        return Ok(());
    }
    spreadsheet_upload_chunk::Entity::delete_many()
        .filter(spreadsheet_upload_chunk::Column::UploadId.is_in(uploads.clone()))
        .exec(db)
        .await?;
    spreadsheet_upload::Entity::update_many()
        .col_expr(spreadsheet_upload::Column::ContentDeletedAt, Expr::value(Utc::now()))
        .filter(spreadsheet_upload::Column::Id.is_in(uploads))
        .exec(db)
        .await?;
    Ok(())
}
