//! A file an admin uploaded as a connection's source: what reading it on arrival learned (its
//! columns, rows and findings), and whether its content is still kept (see
//! [`super::spreadsheet_upload_chunk`]).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "spreadsheet_upload")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: String,
    pub connection_id: Uuid,
    /// The name the file was uploaded under.
    pub file_name: String,
    /// `CSV` or `XLSX`, as uploaded; the content kept is CSV either way.
    pub format: String,
    /// The uploaded file's size in bytes.
    pub byte_size: i64,
    /// People rows (the header row not counted).
    pub row_count: i32,
    /// The header row's column names, in order (JSON list of strings).
    pub columns: Json,
    /// The column whose value is a row's id: an employee-id column, or the email column.
    pub key_column: String,
    /// The header's row number in the file; the content's rows follow it one by one.
    pub header_row: i32,
    /// What reading the file found worth an admin's look (JSON list of strings).
    pub findings: Json,
    pub created_at: DateTimeUtc,
    /// When the content was deleted (read by a run, or never used); `None` while it is kept.
    pub content_deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
