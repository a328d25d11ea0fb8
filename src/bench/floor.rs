//! The physical floor of a first sync (issue 24): after the same connector's download, the rows
//! the sync writes (each person with their manager link, their provenance row and their
//! history entry) loaded the fastest plain way each store has, into the same tables with their
//! indexes: PostgreSQL `COPY … FROM STDIN` (text format), one table after another in one
//! transaction; SQLite one transaction of prepared multi-row inserts. Nothing of the sync's is
//! involved (no ORM, no lookups, no checkpoints): what is left is what storing the rows costs.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use sea_orm::sea_query::Value;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityName, EntityTrait, Iterable, Statement,
};

/// A table's rows, as the columns they set.
pub struct Rows {
    table: String,
    columns: Vec<String>,
    values: Vec<Vec<Value>>,
}

impl Rows {
    /// `rows` of one entity, by the columns the first of them sets (the sync's rows set all of
    /// theirs).
    pub fn of<A: ActiveModelTrait>(rows: Vec<A>) -> Self {
        let table = <A::Entity as Default>::default().table_name().to_string();
        let set: Vec<<A::Entity as EntityTrait>::Column> = match rows.first() {
            Some(first) => <A::Entity as EntityTrait>::Column::iter().filter(|c| first.get(*c).is_set()).collect(),
            None => Vec::new(),
        };
        let columns = set.iter().map(|c| sea_orm::IdenStatic::as_str(c).to_string()).collect();
        let values = rows
            .into_iter()
            .map(|row| set.iter().map(|c| row.get(*c).into_value().expect("a set column")).collect())
            .collect();
        Self { table, columns, values }
    }
}

/// Loads `tables` in one transaction, in order; answers how long it took.
pub async fn load(db: &DatabaseConnection, tables: &[Rows]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    match db.get_database_backend() {
        DbBackend::Postgres => copy(db, tables).await?,
        _ => insert(db, tables).await?,
    }
    Ok(started.elapsed())
}

async fn copy(db: &DatabaseConnection, tables: &[Rows]) -> anyhow::Result<()> {
    use sea_orm::sqlx;
    let mut connection = db.get_postgres_connection_pool().acquire().await?;
    sqlx::query("BEGIN").execute(&mut *connection).await?;
    let copied = copy_tables(&mut connection, tables).await;
    let end = if copied.is_ok() { "COMMIT" } else { "ROLLBACK" };
    sqlx::query(end).execute(&mut *connection).await?;
    copied
}

async fn copy_tables(connection: &mut sea_orm::sqlx::PgConnection, tables: &[Rows]) -> anyhow::Result<()> {
    for rows in tables.iter().filter(|r| !r.values.is_empty()) {
        let statement = format!("COPY {} ({}) FROM STDIN", rows.table, rows.columns.join(", "));
        let mut copy = connection.copy_in_raw(&statement).await.context("COPY")?;
        let mut text = String::new();
        for (n, row) in rows.values.iter().enumerate() {
            for (i, value) in row.iter().enumerate() {
                if i > 0 {
                    text.push('\t');
                }
                copy_text(value, &mut text)?;
            }
            text.push('\n');
            // In slices of about a megabyte, as a client streams a dump.
            if text.len() > 1 << 20 || n + 1 == rows.values.len() {
                copy.send(text.as_bytes()).await?;
                text.clear();
            }
        }
        copy.finish().await?;
    }
    Ok(())
}

/// `value` in `COPY`'s text format: `\N` for null, text with its backslashes, tabs and line
/// breaks escaped.
fn copy_text(value: &Value, out: &mut String) -> anyhow::Result<()> {
    let text = match value {
        Value::String(Some(s)) => s.clone(),
        Value::Uuid(Some(u)) => u.to_string(),
        Value::ChronoDateTimeUtc(Some(t)) => t.to_rfc3339(),
        Value::Bool(Some(b)) => if *b { "t" } else { "f" }.to_string(),
        Value::Int(Some(n)) => n.to_string(),
        Value::BigInt(Some(n)) => n.to_string(),
        Value::Json(Some(j)) => j.to_string(),
        Value::Enum(sea_orm::sea_query::OptionEnum::Some(e)) => e.value.to_string(),
        other if !other.is_some() => {
            out.push_str("\\N");
            return Ok(());
        }
        other => anyhow::bail!("the floor cannot COPY {other:?}"),
    };
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    Ok(())
}

/// Most parameters one SQLite statement takes.
const SQLITE_PARAMETERS: usize = 32_766;

async fn insert(db: &DatabaseConnection, tables: &[Rows]) -> anyhow::Result<()> {
    let txn = sea_orm::TransactionTrait::begin(db).await?;
    for rows in tables.iter().filter(|r| !r.values.is_empty()) {
        // As many rows a statement as the parameters allow, up to 500: one prepared statement
        // for every full chunk, as sqlx caches it by its text.
        let per_statement = (SQLITE_PARAMETERS / rows.columns.len()).min(500);
        let placeholders = format!("({})", vec!["?"; rows.columns.len()].join(", "));
        for chunk in rows.values.chunks(per_statement) {
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}",
                rows.table,
                rows.columns.join(", "),
                vec![placeholders.as_str(); chunk.len()].join(", ")
            );
            let values: Vec<Value> = chunk.iter().flatten().cloned().collect();
            txn.execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_and_nulls() {
        let mut out = String::new();
        copy_text(&Value::String(Some("a\tb\\c\nd".into())), &mut out).unwrap();
        assert_eq!(out, "a\\tb\\\\c\\nd");
        out.clear();
        copy_text(&Value::String(None), &mut out).unwrap();
        copy_text(&Value::Bool(Some(true)), &mut out).unwrap();
        assert_eq!(out, "\\Nt");
    }
}
