//! Workspaces come into being on first use: a token names one, and its plan follows the token.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, EntityTrait, Set};

use entity::workspace;

use crate::error::Result;

pub async fn ensure_workspace(db: &DatabaseConnection, id: &str, plan: &str) -> Result<()> {
    let row = workspace::ActiveModel {
        id: Set(id.to_string()),
        name: Set(id.to_string()),
        plan: Set(plan.to_string()),
        created_at: Set(Utc::now()),
    };
    workspace::Entity::insert(row)
        .on_conflict(OnConflict::column(workspace::Column::Id).update_column(workspace::Column::Plan).to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}
